"""The one interface every file-tree reader offers: HFS+ and APFS volumes inside a disk image,
the cpio payload of an installer package, the table of contents of a xar archive.

Why one interface: the input layer turns any of them into the same walk of entries a
directory gives, so every rule runs on an app inside a ``.dmg`` or a ``.pkg`` exactly as on
the same app on disk. A reader never extracts anything to disk and never reads a file's
content during ``walk`` beyond what it needs to tell what the entry is.

Paths are POSIX, relative to the tree's root, with no leading ``/`` and never ``.`` or
``..`` components (a reader refuses or renames such a name and reports it, it never passes it
on). A reader yields a directory before anything inside it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol


class NodeKind(enum.Enum):
    """What a tree entry is, as ``lstat`` on macOS would say after mounting."""

    FILE = "file"
    DIRECTORY = "directory"
    SYMLINK = "symlink"
    OTHER = "other"  # FIFO, socket, device node: listed, never opened


@dataclass(frozen=True)
class Node:
    """One entry of a file tree.

    ``size`` is the logical size macOS reports (for a ``decmpfs``-compressed file, the
    uncompressed size). ``offset`` is where the entry's record sits in the container (a
    catalog record, an inode, a cpio header), so a finding about it can name a place.
    """

    path: str
    kind: NodeKind
    size: int
    mode: int  # st_mode, type bits included
    link_target: str | None = None  # for SYMLINK only, exactly as stored
    offset: int | None = None
    #: Why the entry cannot be read (corrupt record, unsupported compression, ...); the input
    #: layer reports it as an unreadable entry and never opens it.
    error: str | None = None


class Volume(Protocol):
    """A read-only file tree. ``open`` returns the file's content as macOS would read it
    (compressed files decompressed, hard links resolved); memory stays bounded by a chunk,
    not by the file or the container. Hostile structure raises ``bundlelint.errors.ParseError``
    naming the offset; it never loops and never allocates by an untrusted count."""

    name: str

    def walk(self) -> Iterator[Node]: ...

    def open(self, path: str) -> BinaryIO: ...
