"""Decompressing one UDIF chunk to exactly the size its table entry claims.

Why a module of its own: each codec has its own way to be told "no more than N bytes" and its
own way to lie, and the disk-image reader should only see "these bytes, or an error". Every
decoder here is asked for at most ``expected + 1`` bytes, so a chunk that inflates past its
claimed size (a decompression bomb) is caught after one byte too many, never after the
whole expansion; a chunk that ends short is an error too. See docs/formats.md, "Disk images
(UDIF)", for the kinds.
"""

from __future__ import annotations

import bz2
import lzma
import zlib
from collections.abc import Callable
from typing import Protocol

from bundlelint.errors import ParseError
from bundlelint.parsers.adc import AdcError, adc_decompress
from bundlelint.parsers.decmpfs import lzfse_raw_size

KIND_ZERO = 0x00000000
KIND_RAW = 0x00000001
KIND_IGNORE = 0x00000002
KIND_COMMENT = 0x7FFFFFFE
KIND_ADC = 0x80000004
KIND_ZLIB = 0x80000005
KIND_BZIP2 = 0x80000006
KIND_LZFSE = 0x80000007
KIND_LZMA = 0x80000008
KIND_TERMINATOR = 0xFFFFFFFF

KIND_NAMES = {
    KIND_ZERO: "zero",
    KIND_RAW: "raw",
    KIND_IGNORE: "ignore",
    KIND_COMMENT: "comment",
    KIND_ADC: "ADC",
    KIND_ZLIB: "zlib",
    KIND_BZIP2: "bzip2",
    KIND_LZFSE: "LZFSE",
    KIND_LZMA: "LZMA",
    KIND_TERMINATOR: "terminator",
}
COMPRESSED_KINDS = frozenset({KIND_ADC, KIND_ZLIB, KIND_BZIP2, KIND_LZFSE, KIND_LZMA})
#: The LZMA (xz) decoder may use at most this much memory for its dictionary: an xz header
#: can ask for up to 4 GiB. hdiutil's chunks are about 1 MiB, so their dictionaries are small.
LZMA_MEMLIMIT = 64 * 1024 * 1024


class ChunkError(ValueError):
    """A chunk does not decode to its claimed size; ``offset`` is relative to the chunk's
    compressed data when the decoder knows it, else 0."""

    def __init__(self, reason: str, offset: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.offset = offset


def kind_name(kind: int) -> str:
    return KIND_NAMES.get(kind, f"unknown kind {kind:#010x}")


def decompress(kind: int, data: bytes, expected: int) -> bytes:
    """The ``expected`` bytes that chunk ``data`` of ``kind`` decodes to, or ChunkError."""
    decoder = _DECODERS.get(kind)
    if decoder is None:
        raise ChunkError(f"chunk kind {kind:#010x} is not a compression bundlelint reads")
    out = decoder(data, expected)
    if len(out) > expected:
        raise ChunkError(f"{kind_name(kind)} chunk decodes to more than the {expected} bytes its "
                         "table entry claims (a decompression bomb or a lying table)")
    if len(out) < expected:
        raise ChunkError(f"{kind_name(kind)} chunk decodes to {len(out)} bytes, its table entry "
                         f"claims {expected}")
    return out


class _Decompressor(Protocol):
    @property
    def eof(self) -> bool: ...

    def decompress(self, data: bytes, max_length: int, /) -> bytes: ...


def _whole_stream(decoder: _Decompressor, errors: tuple[type[Exception], ...], name: str,
                  data: bytes, expected: int, *, corrupt: str = "is corrupt") -> bytes:
    """At most ``expected + 1`` bytes of one compressed stream, which must have ended (its end
    marker read) unless it gave more than ``expected`` (the caller judges the size): a corrupt
    or cut stream is a ``ChunkError``."""
    try:
        out = decoder.decompress(data, expected + 1)
    except errors as exc:
        raise ChunkError(f"{name} data {corrupt}: {exc}") from None
    if len(out) <= expected and not decoder.eof:
        raise ChunkError(f"{name} stream ends before its end marker")
    return out


def _zlib(data: bytes, expected: int) -> bytes:
    return _whole_stream(zlib.decompressobj(), (zlib.error,), "zlib", data, expected)


def _bzip2(data: bytes, expected: int) -> bytes:
    return _whole_stream(bz2.BZ2Decompressor(), (OSError, EOFError, ValueError), "bzip2", data,
                         expected)


def _lzma(data: bytes, expected: int) -> bytes:
    # ULMO chunks are xz streams (magic fd 37 7a 58 5a 00); FORMAT_AUTO also takes .lzma.
    decoder = lzma.LZMADecompressor(format=lzma.FORMAT_AUTO, memlimit=LZMA_MEMLIMIT)
    return _whole_stream(decoder, (lzma.LZMAError,), "LZMA", data, expected,
                         corrupt="is corrupt or needs too much memory")


def _adc(data: bytes, expected: int) -> bytes:
    try:
        return adc_decompress(data, expected)
    except AdcError as exc:
        raise ChunkError(f"ADC data is corrupt: {exc.reason}", exc.offset) from None


def _lzfse(data: bytes, expected: int) -> bytes:
    # The binding sizes its output from the stream's first block header and doubles it until
    # the stream fits: every block header is checked against the chunk size first (one owner
    # of that walk: parsers/decmpfs.lzfse_raw_size, docs/formats.md 8.2).
    fail = ParseError("LZFSE", "", 0, "LZFSE chunk")
    try:
        declared = lzfse_raw_size(data, expected, fail)
    except ParseError as err:
        raise ChunkError(err.reason, err.offset or 0) from None
    if declared != expected:
        raise ChunkError(f"LZFSE block headers declare {declared} bytes, the chunk table "
                         f"claims {expected}")
    if expected == 0:
        return b""
    try:
        # The reference implementation's binding, imported only when an image uses LZFSE.
        import lzfse  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:  # pragma: no cover - a dependency; only a broken install lacks it
        raise ChunkError("the lzfse package is not installed: LZFSE chunks cannot be "
                         "read") from None
    try:
        out: bytes = lzfse.decompress(data)
    except Exception as exc:  # the binding raises its own error type for corrupt data
        raise ChunkError(f"LZFSE data is corrupt: {type(exc).__name__}") from None
    return out


_DECODERS: dict[int, Callable[[bytes, int], bytes]] = {
    KIND_ZLIB: _zlib,
    KIND_BZIP2: _bzip2,
    KIND_LZMA: _lzma,
    KIND_ADC: _adc,
    KIND_LZFSE: _lzfse,
}
