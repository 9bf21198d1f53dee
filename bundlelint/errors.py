"""Typed errors shared by parsers and the engine.

Parsers never raise bare ``ValueError`` or ``struct.error``: every problem in a file becomes a
``ParseError`` that says which format, which file, at which byte offset, and why. The engine turns
it into a finding, so hostile input produces a report instead of a traceback.
"""

from __future__ import annotations


class ParseError(Exception):
    """A file (or a structure inside it) could not be parsed.

    ``offset`` is an absolute byte offset in ``path`` where known, else ``None``.
    """

    def __init__(self, fmt: str, path: str, offset: int | None, reason: str) -> None:
        self.format = fmt
        self.path = path
        self.offset = offset
        self.reason = reason
        where = f" at offset {offset:#x}" if offset is not None else ""
        super().__init__(f"{path}: invalid {fmt}{where}: {reason}")

    def with_path(self, path: str) -> ParseError:
        """Return a copy that names ``path`` (parsers of in-memory bytes know no path)."""
        return ParseError(self.format, path, self.offset, self.reason)

    def shifted(self, base: int) -> ParseError:
        """Return a copy whose offset is relative to an enclosing structure at ``base``."""
        offset = None if self.offset is None else self.offset + base
        return ParseError(self.format, self.path, offset, self.reason)


class FileSkipped(ParseError):
    """A file was not read at all: it is larger than ``--max-file-size``.

    A ``ParseError`` so that every consumer that cannot get a model for a file already copes;
    it is not a defect of the file, so the parse-error rules pass over it and the skipped-file
    rule (BL008) reports it instead.
    """

    def __init__(self, path: str, size: int, limit: int) -> None:
        super().__init__("file", path, None, f"{size} bytes is over the --max-file-size limit "
                         f"of {limit} bytes: not read")
        self.size = size
        self.limit = limit

    def with_path(self, path: str) -> FileSkipped:
        return FileSkipped(path, self.size, self.limit)

    def shifted(self, base: int) -> FileSkipped:
        return self


class UsageError(Exception):
    """The command line or configuration is wrong (exit status 2)."""


class RegistryError(Exception):
    """A rule could not be registered: malformed or duplicate ID, bad metadata."""
