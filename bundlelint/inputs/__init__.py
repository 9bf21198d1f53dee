"""The input layer: every way bundlelint reads what it inspects, behind one small interface.

A ``Source`` (``inputs.source``) lists the paths of one input as ``RawEntry`` values and opens
its regular files read-only; the bundle model (``bundlelint.bundle``) classifies what a source
lists and never touches the file system itself. Sources: a bundle directory
(``inputs.directory``), a single file (``inputs.single``), a ``.zip`` read in place
(``inputs.zip`` over ``inputs.zipstream``), and the archives nested in any of them
(``inputs.nested``). ``inputs.dispatch.open_source`` picks the source for a path given on the
command line. Every file of a bundle on disk is opened through ``inputs.safeopen``: no symlink
followed, no FIFO waited on, regular files only, the file checked after the open to be the one
the walk saw.

This package imports parsers and the small shared modules only, never the bundle model.
"""
