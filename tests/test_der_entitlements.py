"""DER entitlements: real blobs, an independent encoder, semantic comparison, hostile bytes."""

from __future__ import annotations

import plistlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from realbins import fetch

from bundlelint.errors import ParseError
from bundlelint.parsers.der_entitlements import (
    MAX_DEPTH,
    entitlements_differences,
    parse_der_entitlements,
)
from bundlelint.parsers.macho import parse_macho_bytes
from fixtures.der_entitlements import der_blob

SENTRY_EMPTY = bytes.fromhex("fade7172" "0000000f" "7005020101b000")


def test_sentry_empty_dict() -> None:
    assert parse_der_entitlements(SENTRY_EMPTY).values == {}
    assert der_blob({}) == SENTRY_EMPTY


@pytest.mark.realbin
@pytest.mark.parametrize("name", ["bun-1.3.12-darwin-arm64", "sentry-cli-darwin-universal"])
def test_real_der_matches_xml(name: str) -> None:
    macho = parse_macho_bytes(fetch(name).read_bytes(), name)
    for sl in macho.slices:
        sig = sl.signature
        assert sig is not None and sig.der_entitlements is not None
        assert sig.entitlements is not None and sig.entitlements.values is not None
        der = parse_der_entitlements(sig.der_entitlements).values
        assert der == sig.entitlements.values
        assert entitlements_differences(sig.entitlements.values, der) == ()
        # our encoder writes byte-for-byte what codesign wrote
        assert der_blob(sig.entitlements.values) == sig.der_entitlements
    if name.startswith("bun"):
        assert len(der) == 5 and der["com.apple.security.cs.allow-jit"] is True


_keys = st.text(min_size=1, max_size=12)
_values = st.recursive(
    st.one_of(st.booleans(), st.integers(-(2**70), 2**70), st.text(max_size=20),
              st.binary(max_size=10)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(_keys, inner, max_size=4)),
    max_leaves=15,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_keys, _values, max_size=6))
def test_round_trip(ents: dict[str, object]) -> None:
    decoded = parse_der_entitlements(der_blob(ents)).values
    assert entitlements_differences(ents, decoded) == ()


def test_differences_are_semantic_and_typed() -> None:
    xml = {"a": True, "b": 1, "c": ["x"], "d": {"e": "f"}, "only-xml": True}
    der = {"d": {"e": "f"}, "c": ["x"], "b": True, "a": True, "only-der": False}
    diffs = entitlements_differences(xml, der)
    assert diffs == (
        "b is 1 in XML but true in DER",
        "only-der is in the DER entitlements only",
        "only-xml is in the XML entitlements only",
    )
    assert entitlements_differences({"k": [1, 2]}, {"k": [2, 1]}) != ()
    xml_doc = plistlib.loads(plistlib.dumps({"z": True, "a": ["q"]}))
    assert entitlements_differences(xml_doc, {"a": ["q"], "z": True}) == ()


def _blob(payload_hex: str) -> bytes:
    payload = bytes.fromhex(payload_hex)
    return bytes.fromhex("fade7172") + (8 + len(payload)).to_bytes(4, "big") + payload


def _nested(depth: int) -> bytes:
    inner = bytes.fromhex("0101ff")
    for _ in range(depth):
        inner = bytes([0x30, len(inner)]) + inner if len(inner) < 0x80 else \
            bytes([0x30, 0x81, len(inner)]) + inner
    return inner


@pytest.mark.parametrize(("blob", "reason"), [
    (b"", "shorter than its header"),
    (bytes.fromhex("fade7171" "0000000f" "7005020101b000"), "magic"),
    (bytes.fromhex("fade7172" "000000ff" "7005020101b000"), "length"),
    (bytes.fromhex("fade7172" "0000000f" "3005020101b000"), "APPLICATION 16"),
    (bytes.fromhex("fade7172" "0000000f" "7005040101b000"), "version"),
    (bytes.fromhex("fade7172" "0000000f" "7005020101a000"), "CONTEXT 16"),
    (bytes.fromhex("fade7172" "0000000e" "7006020101b000"), "bad DER"),
    (bytes.fromhex("fade7172" "00000014" "700a020101b0053003020100"), "key is not"),
    (_blob("700a020101b00530030c0161"), "missing"),
    (_blob("700c020101b00730050c01610500"), "unsupported"),
    (_blob("700c020101b00730050c01610100"), "not one byte"),
    (_blob("700e020101b00930070c0261ff0101ff"), "not valid UTF-8"),
])
def test_hostile(blob: bytes, reason: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_der_entitlements(blob, path="x", base=0x400)
    assert reason in info.value.reason
    assert info.value.offset is not None and info.value.offset >= 0x400


def test_truncation_everywhere_is_a_parse_error() -> None:
    blob = der_blob({"a": [1, {"b": "c"}], "d": True})
    for cut in range(len(blob)):
        truncated = blob[:cut]
        if cut >= 8:  # keep the header honest so the DER itself is cut
            truncated = truncated[:4] + cut.to_bytes(4, "big") + truncated[8:]
        with pytest.raises(ParseError):
            parse_der_entitlements(truncated)


def test_nesting_limit() -> None:
    deep = der_blob({"k": []})
    payload_inner = _nested(MAX_DEPTH + 5)
    body = bytes([0x30, len(payload_inner) + 3]) + bytes.fromhex("0c016b") + payload_inner
    dict_ = bytes([0xB0, 0x81, len(body)]) + body
    outer = bytes.fromhex("020101") + dict_
    payload = bytes([0x70, 0x81, len(outer)]) + outer
    blob = deep[:4] + (8 + len(payload)).to_bytes(4, "big") + payload
    with pytest.raises(ParseError) as info:
        parse_der_entitlements(blob)
    assert "nest deeper" in info.value.reason
