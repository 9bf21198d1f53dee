"""Metal library headers of the input, read once per file.

Why an analysis: rules about ``.metallib`` files need the header bytes and the file's real
size, and rules never read bytes. Only the 88-byte header is read, whatever the file's size.
"""

from __future__ import annotations

from collections.abc import Iterator

from bundlelint.bundle import Bundle, Entry, EntryKind
from bundlelint.errors import ParseError
from bundlelint.parsers.metallib import FORMAT, HEADER_SIZE, MetalLibrary, parse_metallib


def metal_library(bundle: Bundle, entry: Entry) -> MetalLibrary | ParseError:
    """The parsed header of ``entry``, or the ``ParseError`` that explains why not."""

    def compute() -> MetalLibrary | ParseError:
        skipped = bundle.skip_error(entry)
        if skipped is not None:
            return skipped
        try:
            with bundle.open_entry(entry) as fh:
                header = fh.read(HEADER_SIZE)
            return parse_metallib(header, entry.size, entry.display)
        except ParseError as err:
            return err
        except OSError as err:
            return ParseError(FORMAT, entry.display, None, f"cannot read: {err}")

    return bundle.memo("metallib", entry.relpath, compute)


def metal_libraries(bundle: Bundle) -> Iterator[tuple[Entry, MetalLibrary | ParseError]]:
    """Every file classified as a metallib (by its ``MTLB`` magic), with its header; files over
    ``--max-file-size`` are left out (BL008 reports them)."""
    for entry in bundle.entries_of(EntryKind.METALLIB):
        if not bundle.skipped(entry):
            yield entry, metal_library(bundle, entry)
