"""Which source reads a path given on the command line.

Containers are recognised by content, never by name (``inputs.containers``: a disk image by its
UDIF trailer, an installer package by its xar header).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from bundlelint.inputs.containers import (
    MAGIC_BYTES,
    ContainerFile,
    container_format,
    open_container,
)
from bundlelint.inputs.directory import DirectorySource
from bundlelint.inputs.nested import NestedArchiveSource
from bundlelint.inputs.safeopen import identity_of, open_binary, read_tail
from bundlelint.inputs.single import SingleFileSource
from bundlelint.inputs.source import Source
from bundlelint.inputs.zip import ZipSource, looks_like_zip
from bundlelint.options import Options


class OpenedInput(NamedTuple):
    """A source, and the input as fix commands should name it."""

    source: Source
    input_path: str


def open_source(path: Path, options: Options | None = None) -> OpenedInput:
    """The source for ``path``: a directory, a container recognised by content (a disk image,
    an installer package), a ``.zip`` (by name or magic: read in place, its app named as if
    unzipped beside it), or any other single file. Zips and jars nested in any of them add
    their Mach-O members (``NestedArchiveSource``).

    Raises ``FileNotFoundError`` / ``PermissionError`` for inputs that cannot be read at all.
    """
    options = options or Options()
    if path.is_symlink() and not path.exists():
        raise FileNotFoundError(f"{path} is a dangling symlink")
    if path.is_dir():
        return OpenedInput(NestedArchiveSource(DirectorySource(path), options), str(path))
    if path.is_file():
        head, tail = read_tail(path, MAGIC_BYTES, follow=True)  # the path the user typed
        fmt = container_format(head, tail)
        if fmt is not None:
            real = os.path.realpath(path)
            fh = open_binary(real)
            st = os.fstat(fh.fileno())
            file = ContainerFile(fh, st.st_size, path.name, real, identity_of(st), options)
            return OpenedInput(NestedArchiveSource(open_container(fmt, file), options),
                               str(path))
        if looks_like_zip(path):
            zsrc = ZipSource(path, options)
            return OpenedInput(NestedArchiveSource(zsrc, options), str(path.parent / zsrc.name))
        return OpenedInput(SingleFileSource(path), str(path))
    if path.exists():
        raise OSError(f"{path} is not a regular file or directory")
    raise FileNotFoundError(f"{path} does not exist")
