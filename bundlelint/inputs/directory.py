"""A bundle directory on disk, walked once; symlinks are reported, never followed."""

from __future__ import annotations

import heapq
import os
import stat
from collections.abc import Iterator
from operator import attrgetter
from pathlib import Path
from typing import BinaryIO

from bundlelint.inputs.safeopen import (
    DIRECTORY_FLAGS,
    NOFOLLOW,
    FileIdentity,
    open_binary,
    read_head,
)
from bundlelint.inputs.source import SNIFF_BYTES, LocalFile, RawEntry

#: Entries nested deeper than this many directories are reported, not walked.
MAX_DEPTH = 64

_NAME = attrgetter("name")
_S_IFMT, _S_IFREG = 0o170000, stat.S_IFREG
#: ``tuple.__new__``: builds a named tuple from all its fields without the Python-level
#: ``__new__`` that namedtuple generates (the walk makes several per path of the input).
_new_tuple = tuple.__new__
#: Whether directories can be listed and their files opened through a directory descriptor.
_BY_DIR_FD = (os.scandir in os.supports_fd and os.open in os.supports_dir_fd
              and os.readlink in os.supports_dir_fd and hasattr(os, "O_DIRECTORY"))


def why(exc: OSError) -> str:
    """The reason an ``OSError`` gives, for an UNREADABLE entry."""
    return exc.strerror or str(exc)


class DirectorySource:
    """A bundle directory on disk. Symlinks are reported, never followed; every file is
    opened through ``safeopen`` and must be the file the walk saw."""

    is_container = False

    def __init__(self, root: Path) -> None:
        self.root = root
        self.name = root.name
        self._root = os.fspath(root)
        #: relpath -> the identity the walk saw, for every regular file.
        self._identities: dict[str, FileIdentity] = {}

    def walk(self) -> Iterator[RawEntry]:
        root = self._root
        pending = [""]  # a heap: the smallest relpath is walked next (a stable, sorted order)
        while pending:
            rel = heapq.heappop(pending)
            directory = f"{root}/{rel}" if rel else root
            dir_fd: int | None = None
            try:
                if _BY_DIR_FD:
                    # Files are then opened relative to their directory: one path component
                    # to resolve per file instead of the whole path (measured 10% of a walk).
                    flags = DIRECTORY_FLAGS | (NOFOLLOW if rel else 0)
                    dir_fd = os.open(directory, flags)
                with os.scandir(directory if dir_fd is None else dir_fd) as it:
                    children = sorted(it, key=_NAME)
            except OSError as exc:
                if dir_fd is not None:
                    os.close(dir_fd)
                yield RawEntry(rel, False, False, False, 0, 0, None, b"", why(exc))
                continue
            try:
                prefix = f"{rel}/" if rel else ""
                if prefix.count("/") >= MAX_DEPTH:
                    for child in children:
                        yield RawEntry(prefix + child.name, False, False, False, 0, 0, None, b"",
                                       f"nested deeper than {MAX_DEPTH} levels: not walked")
                    continue
                entry = self._entry
                for child in children:
                    yield entry(child, prefix + child.name, pending, dir_fd)
            finally:
                if dir_fd is not None:
                    os.close(dir_fd)

    def _entry(self, child: os.DirEntry[str], relpath: str, pending: list[str],
               dir_fd: int | None) -> RawEntry:
        try:
            st = child.stat(follow_symlinks=False)
            mode = st.st_mode
            if mode & _S_IFMT == _S_IFREG:  # stat.S_ISREG without the call: once per file
                identity = _new_tuple(FileIdentity, (st.st_dev, st.st_ino))
                # The head is read from the file the listing saw, or not at all.
                head = read_head(child.path, SNIFF_BYTES, dir_fd=dir_fd, expect=identity)
                self._identities[relpath] = identity
                return _new_tuple(RawEntry, (relpath, False, True, False, st.st_size, mode, None,
                                             head, None, None, identity))
            if stat.S_ISDIR(mode):
                heapq.heappush(pending, relpath)
                return RawEntry(relpath, True, False, False, 0, mode, None, b"")
            if stat.S_ISLNK(mode):
                target = os.readlink(child.path, dir_fd=dir_fd)
                return RawEntry(relpath, False, False, True, 0, mode, target, b"")
            # FIFO, socket, device: never opened (opening a FIFO would block)
            return RawEntry(relpath, False, False, False, 0, mode, None, b"")
        except OSError as exc:
            return RawEntry(relpath, False, False, False, 0, 0, None, b"", why(exc))

    def open(self, relpath: str) -> BinaryIO:
        """The file at ``relpath``, refused if it is no longer the regular file the walk saw
        (a symlink, FIFO or other file swapped in since)."""
        return open_binary(f"{self._root}/{relpath}", expect=self._identities.get(relpath))

    def local_file(self, relpath: str) -> LocalFile | None:
        path = f"{self._root}/{relpath}" if relpath else self._root
        return LocalFile(path, self._identities.get(relpath))
