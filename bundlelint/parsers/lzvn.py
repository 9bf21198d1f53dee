"""LZVN: the small LZ77 codec macOS uses for ``decmpfs`` compression types 7 and 8.

Apple publishes LZVN's decoder as part of the LZFSE reference implementation
(``src/lzvn_decode_base.c``, ``lzvn_decode``); this is a plain, bounded re-statement of its
opcode table (docs/formats.md 9.7). Every opcode carries a literal length L, a match length M
and a match distance D:

========================  =====================================  =========================
opcode (first byte)       layout                                 L, M, D
========================  =====================================  =========================
``sml_d`` LLMMMDDD        + 1 byte D low                          L 0-3, M 3-10, D < 2^11
``med_d`` 101LLMMM        + u16le ``DDDDDDDDDDDDDDMM``            L 0-3, M 3-34, D < 2^14
``lrg_d`` LLMMM111        + u16le D                               L 0-3, M 3-10, D < 2^16
``pre_d`` LLMMM110        (D of the previous opcode)              L 0-3, M 3-10
``sml_m`` 1111MMMM        match only, previous D                  M 1-15
``lrg_m`` 11110000        + 1 byte, M = byte + 16                 M 16-271
``sml_l`` 1110LLLL        literal only                            L 1-15
``lrg_l`` 11100000        + 1 byte, L = byte + 16                 L 16-271
``eos``   0x06            + 7 bytes: end of stream
``nop``   0x0E, 0x16
========================  =====================================  =========================

Anything else (0x1E-0x3E with low bits 110, 0x70-0x7F, 0xD0-0xDF) is undefined. The literal
follows the opcode bytes; a match copies M bytes from D bytes back, byte by byte (so D < M
repeats). Output never exceeds the size the caller expects: a stream that would write past it,
reads before the start of the output, or ends without ``eos`` is an error.
"""

from __future__ import annotations

from bundlelint.errors import ParseError

FORMAT = "LZVN"
EOS = 0x06


def _kind(op: int) -> str:
    if op == EOS:
        return "eos"
    if op in (0x0E, 0x16):
        return "nop"
    if op >= 0xE0:
        if op == 0xE0:
            return "lrg_l"
        if op < 0xF0:
            return "sml_l"
        return "lrg_m" if op == 0xF0 else "sml_m"
    if 0xA0 <= op < 0xC0:
        return "med_d"
    if 0x70 <= op < 0x80 or 0xD0 <= op < 0xE0:
        return "udef"
    low = op & 7
    if low == 7:
        return "lrg_d"
    if low == 6:
        return "pre_d" if op >= 0x40 else "udef"
    return "sml_d"


_KINDS = tuple(_kind(op) for op in range(256))


def decode(src: bytes, size: int, *, path: str = "", base: int = 0) -> bytes:
    """Decode one LZVN stream that must produce exactly ``size`` bytes.

    ``base`` is the absolute offset of ``src[0]`` for error messages. ``size`` bounds the
    output: the decoder never holds more than that, whatever the stream claims.
    """

    def fail(at: int, reason: str) -> ParseError:
        return ParseError(FORMAT, path, base + at, reason)

    out = bytearray()
    pos = 0
    n = len(src)
    d = 0
    while True:
        if pos >= n:
            raise fail(pos, "stream ends without an end-of-stream opcode")
        op = src[pos]
        kind = _KINDS[op]
        if kind == "eos":
            if n - pos < 8:
                raise fail(pos, "end-of-stream opcode is truncated")
            break
        if kind == "nop":
            pos += 1
            continue
        if kind == "udef":
            raise fail(pos, f"undefined opcode {op:#04x}")
        lit = 0
        match = 0
        if kind == "sml_d":
            if pos + 2 > n:
                raise fail(pos, "opcode is truncated")
            lit, match, d = op >> 6, ((op >> 3) & 7) + 3, ((op & 7) << 8) | src[pos + 1]
            pos += 2
        elif kind == "med_d":
            if pos + 3 > n:
                raise fail(pos, "opcode is truncated")
            word = src[pos + 1] | (src[pos + 2] << 8)
            lit, match, d = (op >> 3) & 3, (((op & 7) << 2) | (word & 3)) + 3, word >> 2
            pos += 3
        elif kind == "lrg_d":
            if pos + 3 > n:
                raise fail(pos, "opcode is truncated")
            lit, match, d = op >> 6, ((op >> 3) & 7) + 3, src[pos + 1] | (src[pos + 2] << 8)
            pos += 3
        elif kind == "pre_d":
            lit, match = op >> 6, ((op >> 3) & 7) + 3
            pos += 1
        elif kind == "sml_m":
            match = op & 0x0F
            pos += 1
        elif kind == "lrg_m":
            if pos + 2 > n:
                raise fail(pos, "opcode is truncated")
            match = src[pos + 1] + 16
            pos += 2
        elif kind == "sml_l":
            lit = op & 0x0F
            pos += 1
        else:  # lrg_l
            if pos + 2 > n:
                raise fail(pos, "opcode is truncated")
            lit = src[pos + 1] + 16
            pos += 2
        if lit:
            if pos + lit > n:
                raise fail(pos, f"literal of {lit} bytes runs past the end of the stream")
            if len(out) + lit > size:
                raise fail(pos, f"output would exceed the expected {size} bytes")
            out += src[pos : pos + lit]
            pos += lit
        if match:
            if d == 0 or d > len(out):
                raise fail(pos, f"match distance {d} points before the start of the output")
            if len(out) + match > size:
                raise fail(pos, f"output would exceed the expected {size} bytes")
            start = len(out) - d
            if d >= match:
                out += out[start : start + match]
            else:  # an overlapping copy repeats the last d bytes
                out += (out[start:] * (match // d + 1))[:match]
    if len(out) != size:
        raise fail(pos, f"stream decodes to {len(out)} bytes, expected {size}")
    return bytes(out)


def encode_literals(data: bytes) -> bytes:
    """A valid LZVN stream holding ``data`` as literals only (for fixtures and tests).

    It exercises the literal opcodes and ``eos``; ``decode`` of it returns ``data``.
    """
    out = bytearray()
    pos = 0
    while pos < len(data):
        chunk = data[pos : pos + 271]
        if len(chunk) >= 16:
            out += bytes((0xE0, len(chunk) - 16))
        else:
            out.append(0xE0 | len(chunk))
        out += chunk
        pos += len(chunk)
    out += bytes((EOS, 0, 0, 0, 0, 0, 0, 0))
    return bytes(out)
