"""DER entitlements (slot 7, blob 0xFADE7172) and their comparison with the XML entitlements.

Why: since macOS 12 the kernel reads entitlements from the DER blob, not the XML one, while the
notary and most humans read the XML. codesign writes both from one plist; if they disagree (a
tool patched one, or re-signed with a stale blob) the app runs with rights nobody reviewed.

Shape, confirmed on bun 1.3.12 and sentry-cli 3.8.0 (and what rcodesign writes)::

    [APPLICATION 16] {  INTEGER 1,  dict  }         -- 70 len 02 01 01 b0 len ...
    dict    = [CONTEXT 16] constructed { SEQUENCE { UTF8String key, value } ... }  (keys sorted)
    value   = BOOLEAN | INTEGER | UTF8String | SEQUENCE OF value (array) | dict

OCTET STRING (plist data), REAL and GeneralizedTime are decoded too, in case a signer emits
them. TLVs are decoded with asn1crypto's parser; nesting is limited to ``MAX_DEPTH``, the
same limit every plist value is held to (``bundlelint.options.MAX_VALUE_DEPTH``), and the
decoded dict passes the same bounds check as the XML side (``parsers.plist``).
"""

from __future__ import annotations

import datetime as _dt
import math
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from asn1crypto import core, parser

from bundlelint.errors import ParseError
from bundlelint.options import MAX_VALUE_DEPTH
from bundlelint.parsers.plist import check_value_bounds

CSMAGIC_EMBEDDED_DER_ENTITLEMENTS = 0xFADE7172
MAX_DEPTH = MAX_VALUE_DEPTH
_FMT = "DER entitlements"

_UNIVERSAL, _APPLICATION, _CONTEXT = 0, 1, 2
_BOOLEAN, _INTEGER, _OCTET_STRING, _REAL, _UTF8, _SEQUENCE, _GENTIME = 1, 2, 4, 9, 12, 16, 24


@dataclass(frozen=True)
class DerEntitlements:
    """The decoded DER entitlements dict. ``offset`` is the blob's absolute file offset."""

    offset: int
    version: int
    values: dict[str, Any]


def parse_der_entitlements(blob: bytes, *, path: str = "", base: int = 0) -> DerEntitlements:
    """Decode a whole 0xFADE7172 blob (8-byte header included)."""
    if len(blob) < 8:
        raise ParseError(_FMT, path, base, f"blob is {len(blob)} bytes, shorter than its header")
    magic = int.from_bytes(blob[:4], "big")
    length = int.from_bytes(blob[4:8], "big")
    if magic != CSMAGIC_EMBEDDED_DER_ENTITLEMENTS:
        raise ParseError(_FMT, path, base, f"magic is {magic:#010x}, expected 0xfade7172")
    if length < 8 or length > len(blob):
        raise ParseError(_FMT, path, base + 4, f"length {length:#x} is outside 8..{len(blob):#x}")
    decoder = _Decoder(blob[8:length], path, base + 8)
    cls, constructed, tag, _contents, start, end = decoder.tlv(0, len(decoder.data))
    if (cls, tag, constructed) != (_APPLICATION, 16, True):
        raise decoder.error(0, "top level is not [APPLICATION 16] constructed")
    if end != len(decoder.data):
        raise decoder.error(end, f"{len(decoder.data) - end} bytes follow the DER value")
    vcls, _, vtag, vcontents, _vstart, vend = decoder.tlv(start, end)
    if (vcls, vtag) != (_UNIVERSAL, _INTEGER):
        raise decoder.error(start, "version is not an INTEGER")
    version = int.from_bytes(vcontents, "big", signed=True) if vcontents else 0
    dcls, dcons, dtag, _, dstart, dend = decoder.tlv(vend, end)
    if (dcls, dtag, dcons) != (_CONTEXT, 16, True):
        raise decoder.error(vend, "entitlements are not a [CONTEXT 16] dictionary")
    if dend != end:
        raise decoder.error(dend, "data follows the entitlements dictionary")
    values = decoder.dictionary(dstart, dend, 1)
    check_value_bounds(values, length, _FMT, path, base)
    return DerEntitlements(offset=base, version=version, values=values)


class _Decoder:
    """Decodes the value tree; positions are relative to ``data`` (absolute = base + pos)."""

    def __init__(self, data: bytes, path: str, base: int) -> None:
        self.data = data
        self.path = path
        self.base = base

    def error(self, pos: int, reason: str) -> ParseError:
        return ParseError(_FMT, self.path, self.base + pos, reason)

    def tlv(self, pos: int, end: int) -> tuple[int, bool, int, bytes, int, int]:
        """(class, constructed, tag, contents, contents start, value end) of the TLV at pos."""
        if pos >= end:
            raise self.error(pos, "a DER value is missing")
        try:
            cls, method, tag, header, contents, trailer = parser.parse(
                self.data[pos:end], strict=False)
        except ValueError as exc:
            raise self.error(pos, f"bad DER: {exc}") from None
        if trailer:
            raise self.error(pos, "indefinite-length encoding is not DER")
        start = pos + len(header)
        return cls, method == 1, tag, contents, start, start + len(contents)

    def dictionary(self, pos: int, end: int, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        while pos < end:
            cls, cons, tag, _, start, stop = self.tlv(pos, end)
            if (cls, tag, cons) != (_UNIVERSAL, _SEQUENCE, True):
                raise self.error(pos, "dictionary entry is not a SEQUENCE")
            kcls, _, ktag, kcontents, _, kend = self.tlv(start, stop)
            if (kcls, ktag) != (_UNIVERSAL, _UTF8):
                raise self.error(start, "dictionary key is not a UTF8String")
            key = self.utf8(kcontents, start)
            value, vend = self.value(kend, stop, depth)
            if vend != stop:
                raise self.error(vend, f"dictionary entry {key!r} has extra data")
            if key in out:
                raise self.error(pos, f"dictionary key {key!r} appears twice")
            out[key] = value
            pos = stop
        return out

    def utf8(self, contents: bytes, pos: int) -> str:
        try:
            return contents.decode("utf-8")
        except UnicodeDecodeError:
            raise self.error(pos, "UTF8String is not valid UTF-8") from None

    def value(self, pos: int, end: int, depth: int) -> tuple[Any, int]:
        if depth > MAX_DEPTH:
            raise self.error(pos, f"values nest deeper than {MAX_DEPTH}")
        cls, cons, tag, contents, start, stop = self.tlv(pos, end)
        if cls == _CONTEXT and tag == 16 and cons:
            return self.dictionary(start, stop, depth + 1), stop
        if cls != _UNIVERSAL:
            raise self.error(pos, f"unexpected tag class {cls} number {tag}")
        if tag == _SEQUENCE and cons:
            items = []
            at = start
            while at < stop:
                item, at = self.value(at, stop, depth + 1)
                items.append(item)
            return items, stop
        if cons:
            raise self.error(pos, f"universal tag {tag} must not be constructed")
        if tag == _BOOLEAN:
            if len(contents) != 1:
                raise self.error(pos, "BOOLEAN is not one byte")
            return contents != b"\0", stop
        if tag == _INTEGER:
            if not contents:
                raise self.error(pos, "INTEGER is empty")
            return int.from_bytes(contents, "big", signed=True), stop
        if tag == _UTF8:
            return self.utf8(contents, start), stop
        if tag == _OCTET_STRING:
            return bytes(contents), stop
        try:
            if tag == _REAL:
                return decode_real(bytes(contents)), stop
            if tag == _GENTIME:
                return core.GeneralizedTime.load(self.data[pos:stop]).native, stop
        except (ValueError, TypeError, OverflowError) as exc:
            raise self.error(pos, f"bad value: {exc}") from None
        raise self.error(pos, f"unsupported universal tag {tag}")


def decode_real(contents: bytes) -> float:
    """An ASN.1 REAL (X.690 8.5): asn1crypto 1.5 has no decoder for it (its ``Real`` has no
    ``.native``), so fuzzing found a crash there. Raises ``ValueError`` when malformed."""
    if not contents:
        return 0.0
    first = contents[0]
    if first & 0x80:  # binary encoding: sign, base, scale, exponent, mantissa
        sign = -1.0 if first & 0x40 else 1.0
        base = {0: 2, 1: 8, 2: 16}.get((first >> 4) & 0x3)
        if base is None:
            raise ValueError("REAL uses a reserved base")
        scale = (first >> 2) & 0x3
        exp_len = (first & 0x3) + 1
        at = 1
        if exp_len == 4:
            if len(contents) < 2:
                raise ValueError("REAL exponent length is missing")
            exp_len = contents[1]
            at = 2
        if exp_len == 0 or len(contents) < at + exp_len:
            raise ValueError("REAL exponent is truncated")
        exponent = int.from_bytes(contents[at : at + exp_len], "big", signed=True)
        mantissa = int.from_bytes(contents[at + exp_len :], "big")
        if abs(exponent) > 4096:
            raise ValueError("REAL exponent is out of range")
        return float(sign * mantissa * (2**scale) * float(base) ** exponent)
    if first & 0x40:  # special values
        specials = {0x40: float("inf"), 0x41: float("-inf"), 0x42: float("nan"), 0x43: -0.0}
        if first not in specials or len(contents) != 1:
            raise ValueError(f"unknown special REAL {first:#x}")
        return specials[first]
    text = contents[1:].decode("ascii").strip().replace(",", ".")  # ISO 6093 NR1/NR2/NR3
    return float(text)


def entitlements_differences(xml: Mapping[str, Any], der: Mapping[str, Any]) -> tuple[str, ...]:
    """Human-readable differences between the XML and DER dicts (empty: they agree).

    Compared by meaning, not bytes: key order does not matter, but types do (``true`` is not
    ``1``), as they do to the kernel.
    """
    out: list[str] = []
    for key in sorted(set(xml) | set(der)):
        if key not in der:
            out.append(f"{key} is in the XML entitlements only")
        elif key not in xml:
            out.append(f"{key} is in the DER entitlements only")
        elif not _same(xml[key], der[key]):
            out.append(f"{key} is {_show(xml[key])} in XML but {_show(der[key])} in DER")
    return tuple(out)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    if isinstance(a, float) or isinstance(b, float):
        if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
            return False
        return math.isclose(float(a), float(b)) or (math.isnan(a) and math.isnan(b))
    if isinstance(a, _dt.datetime) and isinstance(b, _dt.datetime):
        na = a if a.tzinfo else a.replace(tzinfo=_dt.UTC)
        nb = b if b.tzinfo else b.replace(tzinfo=_dt.UTC)
        return na == nb
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (str, bytes)) and type(a) is type(b):
        return a == b
    return False


_SHORT = reprlib.Repr()
_SHORT.maxlevel = 3
_SHORT.maxstring = _SHORT.maxother = 60


def _show(v: Any) -> str:
    """A short form of ``v`` for a message: never longer than 60 characters, and built
    without walking more of ``v`` than it shows."""
    if isinstance(v, bool):
        return "true" if v else "false"
    text = _SHORT.repr(v)
    return text if len(text) <= 60 else text[:57] + "..."
