"""A single file given on the command line (a bare Mach-O, or something that is not)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from bundlelint.inputs.safeopen import FileIdentity, identity_of, open_binary, open_fd
from bundlelint.inputs.source import SNIFF_BYTES, LocalFile, RawEntry


class SingleFileSource:
    """One file, named as the user named it. A link the user typed is resolved once, here
    (they named it on purpose); every open after that is of the resolved path, never through
    a link, and must be the file the walk saw."""

    is_container = False

    def __init__(self, path: Path) -> None:
        self.path = Path(os.path.realpath(path))
        self.name = path.name
        self._identity: FileIdentity | None = None

    def walk(self) -> Iterator[RawEntry]:
        fd = open_fd(self.path)
        try:
            st = os.fstat(fd)
            head = os.read(fd, SNIFF_BYTES)
        finally:
            os.close(fd)
        self._identity = identity_of(st)
        yield RawEntry("", False, True, False, st.st_size, st.st_mode, None, head,
                       identity=self._identity)

    def open(self, relpath: str) -> BinaryIO:
        if relpath:
            raise FileNotFoundError(f"{relpath}: a single-file input has no members")
        return open_binary(self.path, expect=self._identity)

    def local_file(self, relpath: str) -> LocalFile | None:
        return LocalFile(os.fspath(self.path), self._identity) if not relpath else None
