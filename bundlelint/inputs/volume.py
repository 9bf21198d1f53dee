"""Any file tree a parser reads (``parsers.volume.Volume``: an HFS+ or APFS volume of a disk
image, the payload of an installer package) as a ``Source``.

Why one adapter: every container then reaches the bundle model as the same walk of raw entries a
directory gives, so every rule runs on ``MyApp.dmg/MyApp.app/Contents/MacOS/x`` exactly as on the
app on disk. A container with several trees (an APFS container with two volumes, a product
archive) mounts each under its own prefix.

What the adapter adds to a reader: it reads the first ``SNIFF_BYTES`` of every regular file (the
reader is asked for nothing else during the walk), turns a ``ParseError`` during the walk into
an unreadable entry naming the offset (the rest of that tree is not walked: a reader that failed
once is not trusted for more), refuses a path that breaks the Volume contract (absolute, empty,
``.`` or ``..`` components) instead of passing it on, and turns every failure to open a file into
the ``OSError`` the bundle model expects from any source.
"""

from __future__ import annotations

import errno
import io
import stat
from collections.abc import Iterator, Sequence
from typing import BinaryIO, NamedTuple

from bundlelint.errors import ParseError
from bundlelint.inputs.source import SNIFF_BYTES, LocalFile, RawEntry
from bundlelint.parsers.volume import Node, NodeKind, Volume

#: Modes for entries whose reader gave no type bits.
_DEFAULT_MODES = {NodeKind.FILE: stat.S_IFREG | 0o644, NodeKind.DIRECTORY: stat.S_IFDIR | 0o755,
                  NodeKind.SYMLINK: stat.S_IFLNK | 0o755, NodeKind.OTHER: 0}


class Mount(NamedTuple):
    """One file tree of a container, and where its entries appear in the input (``""``: at
    the root; ``"Data"``: as ``Data/...``)."""

    prefix: str
    volume: Volume


def why(err: ParseError) -> str:
    """A parse failure as an entry's error text: the reason and, when known, the offset."""
    return err.reason if err.offset is None else f"{err.reason} (offset {err.offset})"


def _unsafe(path: str) -> bool:
    return any(part in ("", ".", "..") for part in path.split("/"))


class _Failing(io.RawIOBase):
    """A reader's stream whose parse failures while reading (a damaged compressed chunk) are
    the ``OSError`` every reader of a source expects, not an exception of another kind."""

    def __init__(self, inner: BinaryIO, relpath: str) -> None:
        super().__init__()
        self._inner = inner
        self._relpath = relpath

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        try:
            data = self._inner.read(len(buffer))
        except ParseError as err:
            raise OSError(errno.EIO, why(err), self._relpath) from None
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        try:
            return self._inner.seek(offset, whence)
        except ParseError as err:
            raise OSError(errno.EIO, why(err), self._relpath) from None

    def tell(self) -> int:
        return self._inner.tell()

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            super().close()


class VolumeSource:
    """The files of one or more ``Volume`` trees, named ``name`` (a container: its root is not
    a bundle; its bundles are inside)."""

    is_container = True

    def __init__(self, name: str, mounts: Sequence[Mount]) -> None:
        self.name = name
        self.mounts = tuple(mounts)
        #: relpath -> (mount, path inside its volume), for every regular file walked.
        self._files: dict[str, tuple[Volume, str]] = {}

    def walk(self) -> Iterator[RawEntry]:
        for mount in self.mounts:
            yield from self._walk_mount(mount)

    def _walk_mount(self, mount: Mount) -> Iterator[RawEntry]:
        prefix = f"{mount.prefix}/" if mount.prefix else ""
        if mount.prefix:
            parts = mount.prefix.split("/")
            for depth in range(1, len(parts) + 1):
                yield RawEntry("/".join(parts[:depth]), True, False, False, 0,
                               stat.S_IFDIR | 0o755, None, b"")
        nodes = mount.volume.walk()
        while True:
            try:
                node = next(nodes)
            except StopIteration:
                return
            except ParseError as err:
                yield RawEntry(mount.prefix or ".", False, False, False, 0, 0, None, b"",
                               f"the file tree cannot be read further: {why(err)}")
                return
            if not node.path or node.path.startswith("/") or _unsafe(node.path):
                shown = prefix + "/".join(p if p not in ("", ".", "..") else "_"
                                          for p in node.path.strip("/").split("/"))
                yield RawEntry(shown.rstrip("/") or ".", False, False, False, 0, 0, None, b"",
                               f"the reader gave an unsafe path {node.path!r}: not walked")
                continue
            yield self._entry(mount.volume, node, prefix + node.path)

    def _entry(self, volume: Volume, node: Node, relpath: str) -> RawEntry:
        kind = node.kind
        mode = node.mode if stat.S_IFMT(node.mode) else _DEFAULT_MODES[kind] | node.mode
        if node.error is not None:
            return RawEntry(relpath, False, False, False, node.size, mode, None, b"", node.error)
        if kind is NodeKind.DIRECTORY:
            return RawEntry(relpath, True, False, False, 0, mode, None, b"")
        if kind is NodeKind.SYMLINK:
            return RawEntry(relpath, False, False, True, 0, mode, node.link_target, b"")
        if kind is not NodeKind.FILE:
            return RawEntry(relpath, False, False, False, 0, mode, None, b"")
        head = b""
        if node.size:
            try:
                with volume.open(node.path) as fh:
                    head = fh.read(SNIFF_BYTES)
            except ParseError as err:
                return RawEntry(relpath, False, False, False, node.size, mode, None, b"",
                                why(err))
            except OSError as err:
                return RawEntry(relpath, False, False, False, node.size, mode, None, b"",
                                err.strerror or str(err))
        self._files[relpath] = (volume, node.path)
        return RawEntry(relpath, False, True, False, node.size, mode, None, head)

    def open(self, relpath: str) -> BinaryIO:
        where = self._files.get(relpath)
        if where is None:
            raise FileNotFoundError(errno.ENOENT, "not a regular file of the walk", relpath)
        volume, path = where
        try:
            return io.BufferedReader(_Failing(volume.open(path), relpath), 64 * 1024)
        except ParseError as err:
            raise OSError(errno.EIO, why(err), relpath) from None

    def local_file(self, relpath: str) -> LocalFile | None:
        return None  # inside a container: only its reader can read it
