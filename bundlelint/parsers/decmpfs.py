"""``decmpfs``: files macOS stores compressed (HFS+ and APFS), read as macOS reads them.

A compressed file has the ``UF_COMPRESSED`` flag, an empty data fork and a
``com.apple.decmpfs`` extended attribute: a 16-byte little-endian header (magic ``cmpf``,
compression type, uncompressed size; xnu ``bsd/sys/decmpfs.h``, ``decmpfs_disk_header``)
followed, for the inline types, by the compressed bytes. The resource-fork types keep the data
in the file's resource fork, in 64 KiB chunks so a reader can seek. The layouts are in
docs/formats.md 9.6: xnu defines only type 1 and leaves the others to Apple's closed
AppleFSCompression, so they are stated as The Sleuth Kit (``tsk/fs/decmpfs.cpp``) and 7-Zip
(``HfsHandler.cpp``) read them, and checked here against fixtures and real images.

``open_decompressed`` returns a seekable stream that holds one decompressed chunk at a time:
memory is bounded by the 64 KiB chunk, never by the file size the header claims.
"""

from __future__ import annotations

import importlib
import io
import struct
import zlib
from dataclasses import dataclass
from types import ModuleType
from typing import BinaryIO, Protocol

from bundlelint.errors import ParseError
from bundlelint.parsers import lzvn
from bundlelint.parsers.randomaccess import RandomAccessReader

FORMAT = "decmpfs"
XATTR_NAME = "com.apple.decmpfs"
MAGIC = 0x636D7066  # 'cmpf', stored little-endian ("fpmc" on disk)
HEADER_SIZE = 16
CHUNK = 0x10000  # every resource-fork chunk decompresses to 64 KiB (the last one to the rest)

TYPE_UNCOMPRESSED_INLINE = 1  # xnu CMP_Type1
TYPE_ZLIB_INLINE = 3
TYPE_ZLIB_RSRC = 4
TYPE_LZVN_INLINE = 7
TYPE_LZVN_RSRC = 8
TYPE_LZFSE_INLINE = 11
TYPE_LZFSE_RSRC = 12
NAMES = {1: "uncompressed (inline)", 3: "zlib (inline)", 4: "zlib (resource fork)",
         7: "LZVN (inline)", 8: "LZVN (resource fork)", 11: "LZFSE (inline)",
         12: "LZFSE (resource fork)"}
SUPPORTED = frozenset(NAMES)
RSRC_TYPES = frozenset((TYPE_ZLIB_RSRC, TYPE_LZVN_RSRC, TYPE_LZFSE_RSRC))
#: An inline attribute is at most a few KiB (the attribute B-tree's inline limit); a claimed
#: size above this for inline data is a lie or a bomb, whatever the compressor could do.
INLINE_MAX = 1 << 24
#: Resource forks address chunks with u32 offsets, so a file has at most 4 GiB / 8 chunks.
MAX_SIZE = (1 << 32) // 8 * CHUNK
#: The first data byte that marks an inline payload or a chunk as stored, not compressed.
ZLIB_STORED = 0x0F  # low nibble
LZVN_STORED = 0x06  # LZVN's end-of-stream opcode: no LZVN stream starts with it

_HEADER = struct.Struct("<IIQ")
_U32LE = struct.Struct("<I")
_RSRC_HEADER = struct.Struct(">IIII")


class ByteSource(Protocol):
    """Random access to a fork or attribute: ``read_at`` returns exactly ``size`` bytes or
    raises ``ParseError``; ``where`` maps a logical offset to an absolute one for messages."""

    size: int

    def read_at(self, offset: int, size: int) -> bytes: ...

    def where(self, offset: int) -> int: ...


@dataclass(frozen=True)
class DecmpfsHeader:
    compression_type: int
    uncompressed_size: int
    #: The attribute's bytes after the 16-byte header (the inline payload).
    payload: bytes

    @property
    def in_resource_fork(self) -> bool:
        return self.compression_type in RSRC_TYPES

    @property
    def method(self) -> str:
        return NAMES.get(self.compression_type, f"type {self.compression_type}")


def parse_header(data: bytes, *, path: str = "", base: int = 0) -> DecmpfsHeader:
    """The ``com.apple.decmpfs`` attribute value; ``base`` is its absolute offset."""
    if len(data) < HEADER_SIZE:
        raise ParseError(FORMAT, path, base, f"attribute is {len(data)} bytes, the header "
                         f"needs {HEADER_SIZE}")
    magic, ctype, size = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise ParseError(FORMAT, path, base, f"magic {magic:#010x} is not 'cmpf'")
    return DecmpfsHeader(ctype, size, bytes(data[HEADER_SIZE:]))


def unsupported_reason(header: DecmpfsHeader) -> str | None:
    """Why this header cannot be read here (an unknown type, LZFSE without its module)."""
    if header.compression_type not in SUPPORTED:
        return f"decmpfs compression type {header.compression_type} is not supported"
    if header.compression_type in (TYPE_LZFSE_INLINE, TYPE_LZFSE_RSRC) and _lzfse() is None:
        return "LZFSE-compressed file: the 'lzfse' Python module is not installed"
    if header.uncompressed_size > MAX_SIZE:
        return f"decmpfs size {header.uncompressed_size} is over the format's limit"
    if not header.in_resource_fork and header.uncompressed_size > INLINE_MAX:
        return (f"inline decmpfs data claims {header.uncompressed_size} bytes, over the "
                f"{INLINE_MAX} this reader accepts for an attribute")
    return None


def _lzfse() -> ModuleType | None:
    try:
        return importlib.import_module("lzfse")
    except ImportError:
        return None


def lzfse_raw_size(data: bytes, limit: int, fail: ParseError) -> int:
    """The bytes an LZFSE stream's block headers promise (Apple's reference, ``lzfse_internal.h``:
    ``bvx-`` stored, ``bvxn`` LZVN, ``bvx2`` compressed, ``bvx$`` end; docs/formats.md 9.6),
    checked against ``limit`` *before* the decoder runs, so a small chunk cannot make the
    binding allocate gigabytes. ``bvx1`` (never written by Apple's encoder) is refused."""

    def error(at: int, reason: str) -> ParseError:
        return ParseError(fail.format, fail.path, (fail.offset or 0) + at, reason)

    pos = total = 0
    while True:
        magic = data[pos : pos + 4]
        if magic == b"bvx$":
            return total
        if len(data) < pos + 8:
            raise error(pos, "LZFSE stream ends without its end-of-stream block")
        raw, = _U32LE.unpack_from(data, pos + 4)
        if magic == b"bvx-":
            length = 8 + raw
        elif magic == b"bvxn" and len(data) >= pos + 12:
            length = 12 + _U32LE.unpack_from(data, pos + 8)[0]
        elif magic == b"bvx2" and len(data) >= pos + 32:
            v0, v1, v2 = struct.unpack_from("<QQQ", data, pos + 8)
            header = v2 & 0xFFFFFFFF
            if header < 32:
                raise error(pos, f"LZFSE block header size {header} is too small")
            length = header + ((v0 >> 20) & 0xFFFFF) + ((v1 >> 40) & 0xFFFFF)
        else:
            raise error(pos, f"LZFSE block magic {magic!r} is not supported")
        total += raw
        if total > limit:
            raise error(pos, f"LZFSE blocks promise more than the expected {limit} bytes")
        pos += length
        if pos > len(data):
            raise error(pos - length, "LZFSE block runs past the end of its data")


def _lzfse_decode(data: bytes, size: int, fail: ParseError) -> bytes:
    lzfse_raw_size(data, size, fail)
    module = _lzfse()
    if module is None:
        raise ParseError(fail.format, fail.path, fail.offset,
                         "LZFSE data: the 'lzfse' Python module is not installed")
    try:
        out = module.decompress(data)
    except Exception as exc:  # the binding raises its own lzfse.error
        raise ParseError(fail.format, fail.path, fail.offset, f"LZFSE data is corrupt: {exc}") \
            from None
    if not isinstance(out, bytes) or len(out) != size:
        raise fail
    return out


def _zlib_decode(data: bytes, size: int, fail: ParseError) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, size + 1)
    except zlib.error as exc:
        raise ParseError(fail.format, fail.path, fail.offset, f"zlib data is corrupt: {exc}") \
            from None
    # Only the length is checked: 7-Zip (HfsHandler.cpp) notes zlib chunks written without
    # the Adler-32 trailer, which macOS reads all the same.
    if len(out) != size:
        raise fail
    return out


def decode_block(ctype: int, data: bytes, size: int, *, path: str, base: int) -> bytes:
    """One inline payload or one chunk, stored or compressed with ``ctype``'s codec, that
    must decode to exactly ``size`` bytes."""
    wrong = ParseError(FORMAT, path, base, f"{NAMES.get(ctype, ctype)} data does not "
                       f"decode to the expected {size} bytes")
    if ctype == TYPE_UNCOMPRESSED_INLINE:
        if len(data) < size:
            raise wrong
        return data[:size]
    if not data:
        if size == 0:
            return b""
        raise wrong
    if ctype in (TYPE_ZLIB_INLINE, TYPE_ZLIB_RSRC):
        if data[0] & 0x0F == ZLIB_STORED:
            stored = data[1 : 1 + size]
            if len(stored) != size:
                raise wrong
            return stored
        return _zlib_decode(data, size, wrong)
    if data[0] == LZVN_STORED:
        stored = data[1 : 1 + size]
        if len(stored) != size:
            raise wrong
        return stored
    if ctype in (TYPE_LZVN_INLINE, TYPE_LZVN_RSRC):
        return lzvn.decode(data, size, path=path, base=base)
    if ctype in (TYPE_LZFSE_INLINE, TYPE_LZFSE_RSRC):
        return _lzfse_decode(data, size, wrong)
    raise ParseError(FORMAT, path, base, f"decmpfs compression type {ctype} is not supported")


class _ChunkTable:
    """Where chunk ``i`` lies in the resource fork, read lazily (never the whole table)."""

    def __init__(self, header: DecmpfsHeader, rsrc: ByteSource, path: str) -> None:
        self.rsrc = rsrc
        self.path = path
        self.ctype = header.compression_type
        self.count = -(-header.uncompressed_size // CHUNK)
        if self.ctype == TYPE_ZLIB_RSRC:
            self._zlib_layout()
        else:
            first = _U32LE.unpack(rsrc.read_at(0, 4))[0]
            if first != 4 * (self.count + 1) or first > rsrc.size:
                raise self._error(0, f"chunk table size {first} does not match "
                                  f"{self.count} chunks in a {rsrc.size}-byte resource fork")

    def _error(self, offset: int, reason: str) -> ParseError:
        return ParseError(FORMAT, self.path, self.rsrc.where(offset), reason)

    def _zlib_layout(self) -> None:
        # A classic resource fork (big-endian header) holding one 'cmpf' resource whose data
        # starts with a little-endian block table: count, then (offset, size) pairs relative
        # to the table's start.
        data_offset, _map_offset, data_length, _map_length = _RSRC_HEADER.unpack(
            self.rsrc.read_at(0, 16))
        if data_offset + 8 > self.rsrc.size or data_offset + data_length > self.rsrc.size:
            raise self._error(0, f"resource data at {data_offset} (+{data_length}) is outside "
                              f"the {self.rsrc.size}-byte resource fork")
        self.table = data_offset + 4
        count = _U32LE.unpack(self.rsrc.read_at(self.table, 4))[0]
        if count != self.count:
            raise self._error(self.table, f"block table lists {count} chunks, the file "
                              f"size needs {self.count}")
        if self.table + 4 + 8 * count > self.rsrc.size:
            raise self._error(self.table, f"block table of {count} entries runs past the "
                              "end of the resource fork")

    def span(self, index: int) -> tuple[int, int]:
        """(offset in the resource fork, compressed size) of chunk ``index``."""
        if self.ctype == TYPE_ZLIB_RSRC:
            at = self.table + 4 + 8 * index
            rel, size = struct.unpack("<II", self.rsrc.read_at(at, 8))
            start = self.table + rel
        else:
            at = 4 * index
            start, end = struct.unpack("<II", self.rsrc.read_at(at, 8))
            size = end - start
            if end < start:
                raise self._error(at, f"chunk {index} ends ({end}) before it starts ({start})")
        if start + size > self.rsrc.size or size > CHUNK * 2:
            raise self._error(at, f"chunk {index} ({size} bytes at {start}) lies outside the "
                              f"{self.rsrc.size}-byte resource fork")
        return start, size


class DecompressedStream(RandomAccessReader):
    """A seekable view of a decmpfs file's uncompressed content, one chunk in memory."""

    def __init__(self, header: DecmpfsHeader, rsrc: ByteSource | None, *, path: str,
                 attr_offset: int) -> None:
        super().__init__()
        self.header = header
        self.path = path
        self.size = header.uncompressed_size
        self._cached: tuple[int, bytes] | None = None
        self._rsrc = rsrc
        self._table: _ChunkTable | None = None
        if header.in_resource_fork:
            if rsrc is None:
                raise ParseError(FORMAT, path, attr_offset, "the file has no resource fork")
            self._table = _ChunkTable(header, rsrc, path)
        else:
            data = decode_block(header.compression_type, header.payload, self.size, path=path,
                                base=attr_offset + HEADER_SIZE)
            self._cached = (0, data)

    def _length(self) -> int:
        return self.size

    def _chunk(self, index: int) -> bytes:
        if self._cached is not None and self._cached[0] == index:
            return self._cached[1]
        assert self._table is not None and self._rsrc is not None
        start, size = self._table.span(index)
        want = min(CHUNK, self.size - index * CHUNK)
        data = decode_block(self.header.compression_type, self._rsrc.read_at(start, size),
                            want, path=self.path, base=self._rsrc.where(start))
        self._cached = (index, data)
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._pos >= self.size:
            return 0
        view = memoryview(buffer).cast("B")
        if self._table is None:
            data = self._chunk(0)
            got = data[self._pos : self._pos + len(view)]
        else:
            index, within = divmod(self._pos, CHUNK)
            got = self._chunk(index)[within : within + len(view)]
        view[: len(got)] = got
        self._pos += len(got)
        return len(got)


def open_decompressed(header: DecmpfsHeader, rsrc: ByteSource | None, *, path: str = "",
                      attr_offset: int = 0) -> BinaryIO:
    """The file's content as macOS returns it from ``read``; ``ParseError`` when the header
    or the chunk table lies (decompression errors surface from ``read``)."""
    reason = unsupported_reason(header)
    if reason is not None:
        raise ParseError(FORMAT, path, attr_offset, reason)
    return io.BufferedReader(DecompressedStream(header, rsrc, path=path, attr_offset=attr_offset),
                             buffer_size=CHUNK)
