"""What every input source offers: a walk of raw entries and read-only opens.

The bundle model builds everything else (classification, bundles, places) from these values,
so a new container (a disk image, an installer package) is one more ``Source``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, NamedTuple, Protocol

from bundlelint.inputs.safeopen import FileIdentity

#: Bytes of every regular file a source reads during its walk, to judge the file's kind by
#: its magic (Mach-O, metallib, binary plist, zip).
SNIFF_BYTES = 8


class RawEntry(NamedTuple):
    """What a ``Source`` reports for one path, before classification (a named tuple: one is
    made for every path of the input, and a tuple is built in half the time of a frozen
    dataclass)."""

    relpath: str  # POSIX, relative to the input root; "" for a single-file input
    is_dir: bool
    is_file: bool
    is_symlink: bool
    size: int
    mode: int
    symlink_target: str | None
    head: bytes  # the first SNIFF_BYTES bytes of a regular file
    error: str | None = None  # why the entry could not be read (it is then UNREADABLE)
    container: str | None = None  # relpath of the archive this is a member of (nested jar/zip)
    #: The file's device and inode as the walk saw them (files on disk only): every later
    #: open of the file is checked against it (``safeopen``).
    identity: FileIdentity | None = None


class LocalFile(NamedTuple):
    """A file another process can open by itself (hashing workers): its path on disk and the
    identity the walk saw, which the opener checks."""

    path: str
    identity: FileIdentity | None


class Source(Protocol):
    """Read-only access to the files of one input."""

    #: The name findings start with: ``MyApp.app``, or ``MyApp.dmg`` for a container.
    name: str
    #: Whether the input's root is a container (a disk image, an installer package) whose
    #: bundles are inside it, rather than a bundle itself.
    is_container: bool

    def walk(self) -> Iterator[RawEntry]:
        """Every path of the input, parents before children; regular files with their head."""
        ...

    def open(self, relpath: str) -> BinaryIO:
        """A regular file of the walk, read-only and seekable; ``OSError`` if it cannot be
        (or is no longer the file the walk saw)."""
        ...

    def local_file(self, relpath: str) -> LocalFile | None:
        """Where a worker process can open ``relpath`` itself, or ``None`` when only this
        source can read it (a member of an archive or image)."""
        ...
