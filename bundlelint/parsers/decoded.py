"""Random access to compressed data in place: a xar member's encoded bytes, an installer
payload (gzip or pbzx), without writing anything anywhere and with memory bounded by a chunk.

Why: an installer package's payload is one compressed cpio stream of everything the package
installs (hundreds of megabytes for an app). The linter needs a few files out of it (Mach-O
headers, Info.plist) in any order. Three kinds of source:

- ``FileRange``: stored bytes, read in place.
- ``InflateStream``: zlib or gzip (``wbits``), or bzip2 / LZMA without checkpoints. While it
  decodes forward it records checkpoints (zlib's ``copy()`` of the inflater, about 40 KB each)
  every ``SPACING`` bytes of output, so a backward seek costs at most ``SPACING`` bytes of
  decoding. Output past ``max_size`` or past ``max_ratio`` times the input consumed (once
  ``RATIO_MIN_OUTPUT`` bytes came out) stops with a ``ParseError``: a decompression bomb is cut
  off after bounded work.
- ``PbzxStream``: Apple's pbzx payload: a ``pbzx`` magic and chunk size, then chunks of
  (u64 BE uncompressed size, u64 BE stored length, data), the data an xz stream or, when its
  length equals the uncompressed size, stored (docs/formats.md 13.1). The
  chunk table gives random access; one decoded chunk is cached.
"""

from __future__ import annotations

import bisect
import bz2
import io
import lzma
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from bundlelint.errors import ParseError

#: Output between two inflater checkpoints.
SPACING = 4 * 1024 * 1024
#: The most checkpoints kept (then the spacing doubles: memory stays bounded).
MAX_CHECKPOINTS = 256
#: Compressed bytes read at a time.
READ_SIZE = 64 * 1024
#: A stream is judged by its ratio once it has produced this much.
RATIO_MIN_OUTPUT = 1024 * 1024
#: The default ceiling on output per byte of input (zip inputs use the same default).
MAX_RATIO = 1000.0
#: The largest pbzx chunk accepted (Apple writes 16 MiB chunks).
MAX_PBZX_CHUNK = 64 * 1024 * 1024
PBZX_MAGIC = b"pbzx"
XZ_MAGIC = b"\xfd7zXZ\x00"


class ByteSource(Protocol):
    """Bytes addressable by position: a file range or a decoded stream."""

    fmt: str
    path: str
    base: int  # absolute offset in the file of the first stored byte (for error offsets)

    def read_at(self, pos: int, n: int) -> bytes:
        """Up to ``n`` bytes at ``pos``; fewer only at the end."""
        ...

    def known_size(self) -> int | None:
        """The decoded size if known without decoding everything, else None."""
        ...


class FileRange:
    """``length`` bytes of ``fh`` at ``offset``, read in place."""

    def __init__(self, fh: BinaryIO, offset: int, length: int, *, fmt: str, path: str) -> None:
        self.fh = fh
        self.base = offset
        self.length = length
        self.fmt = fmt
        self.path = path

    def read_at(self, pos: int, n: int) -> bytes:
        if pos >= self.length or n <= 0:
            return b""
        self.fh.seek(self.base + pos)
        want = min(n, self.length - pos)
        data = self.fh.read(want)
        if len(data) != want:
            raise ParseError(self.fmt, self.path, self.base + pos + len(data),
                             f"file ends {want - len(data)} bytes early")
        return data

    def known_size(self) -> int | None:
        return self.length


class _Decoder(Protocol):
    @property
    def eof(self) -> bool: ...

    @property
    def unused_data(self) -> bytes: ...

    def decompress(self, data: bytes, max_length: int = ...) -> bytes: ...


@dataclass
class _Cursor:
    out_pos: int
    in_pos: int
    decoder: _Decoder
    pending: bytes  # input read but not yet consumed by the decoder
    done: bool = False
    buf: bytes = b""  # the last decoded piece: it ends at out_pos


def _zlib(wbits: int) -> Callable[[], _Decoder]:
    return lambda: zlib.decompressobj(wbits)


DECODERS: dict[str, Callable[[], _Decoder]] = {
    "zlib": _zlib(15),
    "gzip": _zlib(31),
    "bzip2": bz2.BZ2Decompressor,
    "xz": lzma.LZMADecompressor,
}


class InflateStream:
    """The decoded bytes of ``source`` (``kind`` one of ``DECODERS``), at any position."""

    def __init__(self, source: ByteSource, kind: str, *, max_size: int | None = None,
                 max_ratio: float = MAX_RATIO, what: str = "data") -> None:
        self.source = source
        self.kind = kind
        self.fmt = source.fmt
        self.path = source.path
        self.base = source.base
        self.max_size = max_size
        self.max_ratio = max_ratio
        self.what = what
        self._new = DECODERS[kind]
        self._copyable = kind in ("zlib", "gzip")
        self._checkpoints: list[_Cursor] = [_Cursor(0, 0, self._new(), b"")]
        self._spacing = SPACING
        self._cursor: _Cursor | None = None
        self._size: int | None = None

    def known_size(self) -> int | None:
        return self._size

    def _error(self, in_pos: int, reason: str) -> ParseError:
        return ParseError(self.fmt, self.path, self.source.base + in_pos, reason)

    def _clone(self, cp: _Cursor) -> _Cursor:
        if not self._copyable:
            return _Cursor(0, 0, self._new(), b"")
        decoder = cp.decoder.copy()  # type: ignore[attr-defined]
        return _Cursor(cp.out_pos, cp.in_pos, decoder, cp.pending, cp.done)

    def _step(self, cur: _Cursor, max_out: int) -> bytes:
        """Decode up to ``max_out`` more bytes at ``cur`` (b"" at the end of the stream)."""
        while not cur.done:
            if cur.decoder.eof:
                rest = cur.decoder.unused_data + cur.pending
                cur.pending = b""
                # gzip allows several members one after the other; anything else ends here.
                if self.kind == "gzip" and rest[:2] == b"\x1f\x8b":
                    cur.decoder = self._new()
                    cur.pending = rest
                    continue
                cur.done = True
                break
            feed = cur.pending
            if not feed and getattr(cur.decoder, "needs_input", True):
                feed = self.source.read_at(cur.in_pos, READ_SIZE)
                cur.in_pos += len(feed)
                if not feed:
                    raise self._error(cur.in_pos, f"the compressed {self.what} ends before "
                                      f"its {self.kind} stream does (after {cur.out_pos} "
                                      "decoded bytes)")
            try:
                out = cur.decoder.decompress(feed, max_out)
            except (zlib.error, OSError, lzma.LZMAError, EOFError, ValueError) as exc:
                raise self._error(cur.in_pos - len(feed),
                                  f"the {self.kind} stream of the {self.what} is corrupt "
                                  f"after {cur.out_pos} decoded bytes: {exc}") from None
            tail = getattr(cur.decoder, "unconsumed_tail", None)
            cur.pending = tail if tail is not None else b""
            if out:
                cur.out_pos += len(out)
                consumed = max(cur.in_pos - len(cur.pending), 1)
                if self.max_size is not None and cur.out_pos > self.max_size:
                    raise self._error(cur.in_pos - len(cur.pending),
                                      f"the {self.what} decodes to more than its declared "
                                      f"{self.max_size} bytes")
                if cur.out_pos > RATIO_MIN_OUTPUT and cur.out_pos > self.max_ratio * consumed:
                    raise self._error(cur.in_pos - len(cur.pending),
                                      f"the {self.what} inflates {cur.out_pos} bytes from "
                                      f"{consumed} ({cur.out_pos // consumed}:1, over the "
                                      f"{self.max_ratio:g}:1 limit): a decompression bomb")
                return out
        if self._size is None:
            self._size = cur.out_pos
        return b""

    def _remember(self, cur: _Cursor) -> None:
        if not self._copyable or cur.done:
            return
        if cur.out_pos - self._checkpoints[-1].out_pos < self._spacing:
            return
        self._checkpoints.append(_Cursor(cur.out_pos, cur.in_pos,
                                         cur.decoder.copy(),  # type: ignore[attr-defined]
                                         cur.pending))
        if len(self._checkpoints) > MAX_CHECKPOINTS:
            self._checkpoints = self._checkpoints[::2]
            self._spacing *= 2

    def read_at(self, pos: int, n: int) -> bytes:
        if n <= 0 or (self._size is not None and pos >= self._size):
            return b""
        cur = self._cursor
        if cur is None or pos < cur.out_pos - len(cur.buf):
            keys = [c.out_pos for c in self._checkpoints]
            cur = self._clone(self._checkpoints[bisect.bisect_right(keys, pos) - 1])
        out = bytearray()
        while len(out) < n:
            at = pos + len(out)
            if at < cur.out_pos:  # inside the last decoded piece
                lo = at - (cur.out_pos - len(cur.buf))
                out += cur.buf[lo:lo + n - len(out)]
                continue
            piece = self._step(cur, max(READ_SIZE * 4, min(n, SPACING)))
            self._remember(cur)
            if not piece:
                break
            cur.buf = piece
        self._cursor = cur
        return bytes(out)

    def read_all(self, limit: int) -> bytes:
        """Everything, refusing more than ``limit`` bytes."""
        data = self.read_at(0, limit + 1)
        if len(data) > limit:
            raise self._error(0, f"the {self.what} decodes to more than {limit} bytes")
        return data


@dataclass(frozen=True)
class PbzxChunk:
    out_start: int
    size: int  # decoded size
    in_start: int  # where its data starts in the source
    length: int  # stored length
    compressed: bool


class PbzxStream:
    """The decoded bytes of a pbzx payload (a sequence of xz or stored chunks)."""

    def __init__(self, source: ByteSource, *, what: str = "Payload",
                 max_chunks: int = 1 << 20) -> None:
        self.source = source
        self.fmt = source.fmt
        self.path = source.path
        self.base = source.base
        self.what = what
        head = source.read_at(0, 12)
        if len(head) < 12 or head[:4] != PBZX_MAGIC:
            raise ParseError(self.fmt, self.path, source.base, f"the {what} is not pbzx")
        chunks: list[PbzxChunk] = []
        pos = 12
        out = 0
        while True:
            header = source.read_at(pos, 16)
            if not header:
                break
            if len(header) < 16:
                raise ParseError(self.fmt, self.path, source.base + pos,
                                 f"pbzx chunk header at byte {pos} of the {what} is truncated")
            size = int.from_bytes(header[:8], "big")
            length = int.from_bytes(header[8:], "big")
            if size > MAX_PBZX_CHUNK or length > MAX_PBZX_CHUNK:
                raise ParseError(self.fmt, self.path, source.base + pos,
                                 f"pbzx chunk claims {size} decoded / {length} stored bytes "
                                 f"(more than {MAX_PBZX_CHUNK})")
            known = source.known_size()
            if known is not None and pos + 16 + length > known:
                raise ParseError(self.fmt, self.path, source.base + pos,
                                 f"pbzx chunk of {length} bytes at byte {pos} runs past the "
                                 f"end of the {what} ({known} bytes)")
            magic = source.read_at(pos + 16, 6)
            compressed = magic == XZ_MAGIC
            if not compressed and length != size:
                raise ParseError(self.fmt, self.path, source.base + pos,
                                 f"pbzx chunk at byte {pos} is neither xz nor stored "
                                 f"({length} stored bytes for {size})")
            chunks.append(PbzxChunk(out, size, pos + 16, length, compressed))
            if len(chunks) > max_chunks:
                raise ParseError(self.fmt, self.path, source.base + pos,
                                 f"more than {max_chunks} pbzx chunks")
            out += size
            pos += 16 + length
        self.chunks = tuple(chunks)
        self._starts = [c.out_start for c in chunks]
        self._size = out
        self._cached: tuple[int, bytes] | None = None

    def known_size(self) -> int | None:
        return self._size

    def _chunk(self, index: int) -> bytes:
        if self._cached is not None and self._cached[0] == index:
            return self._cached[1]
        c = self.chunks[index]
        raw = self.source.read_at(c.in_start, c.length)
        if len(raw) != c.length:
            raise ParseError(self.fmt, self.path, self.source.base + c.in_start,
                             f"pbzx chunk {index} is truncated")
        if c.compressed:
            decoder = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
            try:
                data = decoder.decompress(raw, c.size + 1)
            except lzma.LZMAError as exc:
                raise ParseError(self.fmt, self.path, self.source.base + c.in_start,
                                 f"pbzx chunk {index} is not a valid xz stream: {exc}") from None
            if len(data) != c.size:
                raise ParseError(self.fmt, self.path, self.source.base + c.in_start,
                                 f"pbzx chunk {index} decodes to {len(data)}"
                                 f"{'+' if len(data) > c.size else ''} bytes, not the "
                                 f"{c.size} its header declares")
        else:
            data = raw
        self._cached = (index, data)
        return data

    def read_at(self, pos: int, n: int) -> bytes:
        out = bytearray()
        while n > 0 and pos < self._size:
            index = bisect.bisect_right(self._starts, pos) - 1
            data = self._chunk(index)
            offset = pos - self.chunks[index].out_start
            piece = data[offset:offset + n]
            if not piece:
                break
            out += piece
            pos += len(piece)
            n -= len(piece)
        return bytes(out)


class Window:
    """``size`` bytes of a source at ``start``."""

    def __init__(self, source: ByteSource, start: int, size: int) -> None:
        self.source = source
        self.start = start
        self.size = size
        self.fmt = source.fmt
        self.path = source.path
        self.base = source.base

    def read_at(self, pos: int, n: int) -> bytes:
        if pos >= self.size:
            return b""
        return self.source.read_at(self.start + pos, min(n, self.size - pos))

    def known_size(self) -> int | None:
        return self.size


class SourceReader(io.RawIOBase):
    """A seekable read-only file object over a ``ByteSource``."""

    def __init__(self, source: ByteSource) -> None:
        super().__init__()
        self.src = source
        self.pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            pos += self.pos
        elif whence == io.SEEK_END:
            size = self.src.known_size()
            if size is None:
                while self.src.read_at(self.pos, 1 << 20):
                    self.pos += 1 << 20
                size = self.src.known_size() or self.pos
            pos += size
        self.pos = max(pos, 0)
        return self.pos

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.src.read_at(self.pos, len(buffer))
        buffer[:len(data)] = data
        self.pos += len(data)
        return len(data)


def open_payload(source: ByteSource, *, what: str = "Payload",
                 max_ratio: float = MAX_RATIO) -> tuple[str, ByteSource]:
    """Sniff ``source`` and return (compression name, decoded bytes): gzip, pbzx, bzip2, xz
    or raw (a cpio archive stored as it is)."""
    head = source.read_at(0, 6)
    if head[:2] == b"\x1f\x8b":
        return "gzip", InflateStream(source, "gzip", max_ratio=max_ratio, what=what)
    if head[:4] == PBZX_MAGIC:
        return "pbzx", PbzxStream(source, what=what)
    if head[:3] == b"BZh":
        return "bzip2", InflateStream(source, "bzip2", max_ratio=max_ratio, what=what)
    if head == XZ_MAGIC:
        return "xz", InflateStream(source, "xz", max_ratio=max_ratio, what=what)
    return "none", source
