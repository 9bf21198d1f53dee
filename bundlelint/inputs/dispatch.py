"""Which source reads a path given on the command line."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from bundlelint.inputs.directory import DirectorySource
from bundlelint.inputs.nested import NestedArchiveSource
from bundlelint.inputs.single import SingleFileSource
from bundlelint.inputs.source import Source
from bundlelint.inputs.zip import ZipSource, looks_like_zip
from bundlelint.options import Options


class OpenedInput(NamedTuple):
    """A source, and the input as fix commands should name it."""

    source: Source
    input_path: str


def open_source(path: Path, options: Options | None = None) -> OpenedInput:
    """The source for ``path``: a directory, a ``.zip`` (by name or magic: read in place, its
    app named as if unzipped beside it), or any other single file. Zips and jars nested in a
    directory or zip input add their Mach-O members (``NestedArchiveSource``).

    Raises ``FileNotFoundError`` / ``PermissionError`` for inputs that cannot be read at all.
    """
    if path.is_symlink() and not path.exists():
        raise FileNotFoundError(f"{path} is a dangling symlink")
    if path.is_dir():
        return OpenedInput(NestedArchiveSource(DirectorySource(path), options), str(path))
    if path.is_file() and looks_like_zip(path):
        zsrc = ZipSource(path, options)
        return OpenedInput(NestedArchiveSource(zsrc, options), str(path.parent / zsrc.name))
    if path.is_file():
        return OpenedInput(SingleFileSource(path), str(path))
    if path.exists():
        raise OSError(f"{path} is not a regular file or directory")
    raise FileNotFoundError(f"{path} does not exist")
