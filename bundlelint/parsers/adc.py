"""Apple Data Compression (ADC), the codec of ``UDCO`` disk images (UDIF chunk kind 0x80000004).

Why our own: no maintained Python package decodes it, and the format is three opcodes (a
literal run, and two back-reference forms with a 2- or 3-byte code); see docs/formats.md,
"Disk images (UDIF)". The decoder stops at ``limit`` output bytes, so a chunk cannot expand
past the size its table entry claims.
"""

from __future__ import annotations


class AdcError(ValueError):
    """The ADC stream is malformed; ``offset`` is the input position of the bad opcode."""

    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(reason)
        self.offset = offset
        self.reason = reason


def adc_decompress(data: bytes, limit: int) -> bytes:
    """Decode ``data``; more than ``limit`` output bytes, a truncated opcode or a reference
    before the start of the output raise :class:`AdcError`."""
    out = bytearray()
    pos = 0
    size = len(data)
    while pos < size:
        op = data[pos]
        if op & 0x80:  # literal run: 1..128 bytes follow
            length = (op & 0x7F) + 1
            if pos + 1 + length > size:
                raise AdcError(pos, f"literal run of {length} bytes is cut short")
            if len(out) + length > limit:
                raise AdcError(pos, f"output passes the chunk size of {limit} bytes")
            out += data[pos + 1 : pos + 1 + length]
            pos += 1 + length
            continue
        if op & 0x40:  # three-byte code: length 4..67, 16-bit distance
            if pos + 3 > size:
                raise AdcError(pos, "three-byte code is cut short")
            length = (op & 0x3F) + 4
            distance = (data[pos + 1] << 8 | data[pos + 2]) + 1
            pos += 3
        else:  # two-byte code: length 3..18, 10-bit distance
            if pos + 2 > size:
                raise AdcError(pos, "two-byte code is cut short")
            length = ((op & 0x3C) >> 2) + 3
            distance = ((op & 0x03) << 8 | data[pos + 1]) + 1
            pos += 2
        start = len(out) - distance
        if start < 0:
            raise AdcError(pos, f"back-reference {distance} bytes before the output start")
        if len(out) + length > limit:
            raise AdcError(pos, f"output passes the chunk size of {limit} bytes")
        if distance >= length:
            out += out[start : start + length]
        else:  # overlapping copy repeats the last `distance` bytes
            for i in range(length):
                out.append(out[start + i])
    return bytes(out)

