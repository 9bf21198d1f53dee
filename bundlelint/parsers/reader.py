"""One bounds-checked reader for every binary format bundlelint parses.

Every count and offset read from a file is untrusted. ``Reader`` refuses any read that would go
past the bytes it was given and reports the absolute offset, so a lying length field becomes a
``ParseError`` instead of an exception from ``struct`` or a huge allocation.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from bundlelint.errors import ParseError

_U32_BE = struct.Struct(">I")
_U32_LE = struct.Struct("<I")
_U64_BE = struct.Struct(">Q")
_U64_LE = struct.Struct("<Q")


class Reader:
    """A view of ``data[start:end]`` that reports errors with absolute offsets.

    ``base`` is the absolute offset of ``data[0]`` in the file named ``path``, so nested readers
    over slices of a file still report positions a user can find with a hex editor.
    """

    __slots__ = ("base", "data", "end", "fmt", "path", "start")

    def __init__(
        self,
        data: bytes | memoryview,
        *,
        fmt: str,
        path: str = "",
        base: int = 0,
        start: int = 0,
        end: int | None = None,
    ) -> None:
        self.data = data
        self.fmt = fmt
        self.path = path
        self.base = base
        self.start = start
        self.end = len(data) if end is None else end

    def __len__(self) -> int:
        return self.end - self.start

    def error(self, offset: int, reason: str) -> ParseError:
        """A ParseError at ``offset`` (relative to this view's start)."""
        return ParseError(self.fmt, self.path, self.base + self.start + offset, reason)

    def check(self, offset: int, size: int, what: str) -> None:
        """Raise unless ``[offset, offset + size)`` lies inside this view."""
        if offset < 0 or size < 0 or offset + size > len(self):
            raise self.error(
                max(offset, 0),
                f"{what} needs {size} bytes at offset {offset:#x} but only "
                f"{max(len(self) - max(offset, 0), 0)} remain",
            )

    def bytes(self, offset: int, size: int, what: str) -> bytes:
        self.check(offset, size, what)
        a = self.start + offset
        return bytes(self.data[a : a + size])

    def u8(self, offset: int, what: str) -> int:
        self.check(offset, 1, what)
        return self.data[self.start + offset]

    def u32be(self, offset: int, what: str) -> int:
        self.check(offset, 4, what)
        return int(_U32_BE.unpack_from(self.data, self.start + offset)[0])

    def u32le(self, offset: int, what: str) -> int:
        self.check(offset, 4, what)
        return int(_U32_LE.unpack_from(self.data, self.start + offset)[0])

    def u64be(self, offset: int, what: str) -> int:
        self.check(offset, 8, what)
        return int(_U64_BE.unpack_from(self.data, self.start + offset)[0])

    def u64le(self, offset: int, what: str) -> int:
        self.check(offset, 8, what)
        return int(_U64_LE.unpack_from(self.data, self.start + offset)[0])

    def unpack(self, st: struct.Struct, offset: int, what: str) -> Sequence[int]:
        self.check(offset, st.size, what)
        return st.unpack_from(self.data, self.start + offset)

    def cstring(self, offset: int, what: str, limit: int = 4096) -> str:
        """A NUL-terminated string starting at ``offset``; it must end inside the view."""
        self.check(offset, 1, what)
        a = self.start + offset
        stop = min(self.end, a + limit)
        raw = bytes(self.data[a:stop])
        nul = raw.find(b"\0")
        if nul < 0:
            raise self.error(offset, f"{what} is not NUL-terminated within {stop - a} bytes")
        return raw[:nul].decode("utf-8", errors="replace")

    def sub(self, offset: int, size: int, what: str, fmt: str | None = None) -> Reader:
        """A nested view of ``size`` bytes at ``offset``, bounds-checked now."""
        self.check(offset, size, what)
        return Reader(
            self.data,
            fmt=fmt or self.fmt,
            path=self.path,
            base=self.base,
            start=self.start + offset,
            end=self.start + offset + size,
        )
