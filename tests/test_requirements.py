"""Code-requirement decoding: the docs/formats.md test vector, every opcode and match type via an
independent encoder, real signatures, and hostile blobs."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from realbins import fetch

from bundlelint.errors import ParseError
from bundlelint.parsers.macho import parse_macho_bytes
from bundlelint.parsers.requirements import (
    MAX_DEPTH,
    format_cf_date,
    format_value,
    parse_requirement,
    parse_requirements,
)
from fixtures import requirements_encoder as enc
from fixtures.requirements_encoder import (
    AnchorHash,
    And,
    CDHash,
    CertField,
    CertOid,
    Ident,
    InfoKeyValue,
    KeyField,
    Match,
    Named,
    Not,
    Or,
    Platform,
    Simple,
    TrustedCert,
    Unknown,
)

VECTOR = bytes.fromhex(
    "fade0c01000000b0000000010000000300000014fade0c000000009c0000000100000006000000020000000f"
    "636f6d2e6578616d706c652e61707000000000060000000f000000060000000e000000010000000a2a864886"
    "f76364060206000000000000000000060000000e000000000000000a2a864886f7636406010d000000000000"
    "0000000b000000000000000a7375626a6563742e4f550000000000010000000a41424344453132333435"
    "0000"
)
VECTOR_TEXT = (
    'designated => identifier "com.example.app" and anchor apple generic and certificate '
    "1[field.1.2.840.113635.100.6.2.6] /* exists */ and certificate "
    "leaf[field.1.2.840.113635.100.6.1.13] /* exists */ and certificate leaf[subject.OU] = "
    "ABCDE12345\n"
)


def test_formats_md_vector() -> None:
    assert len(VECTOR) == 176
    reqs = parse_requirements(VECTOR)
    assert reqs.text == VECTOR_TEXT
    assert reqs.designated is not None and reqs.designated.type == 3


def test_encoder_reproduces_the_vector() -> None:
    tree = enc.developer_id_designated("com.example.app", "ABCDE12345")
    assert enc.requirements_blob({3: tree}) == VECTOR
    assert enc.set_text({3: tree}) == VECTOR_TEXT


H20 = bytes(range(20))
EVERY_OP: list[tuple[enc.Expr, str]] = [
    (Simple(0), "never"),
    (Simple(1), "always"),
    (Ident(b"bun"), "identifier bun"),
    (Ident(b"com.x"), 'identifier "com.x"'),
    (Simple(3), "anchor apple"),
    (AnchorHash(-1, H20), f'certificate root = H"{H20.hex()}"'),
    (AnchorHash(2, H20), f'certificate 2 = H"{H20.hex()}"'),
    (InfoKeyValue(b"CFBundleVersion", b"1.0"), 'info[CFBundleVersion] = "1.0"'),
    (And(Simple(1), Simple(0)), "always and never"),
    (Or(Simple(1), Simple(0)), "always or never"),
    (CDHash(H20), f'cdhash H"{H20.hex()}"'),
    (Not(Simple(3)), "! anchor apple"),
    (KeyField(10, b"CFBundleShortVersionString", Match(3, b"1.")),
     'info[CFBundleShortVersionString] = "1."*'),
    (CertField(0, b"subject.CN", Match(2, b"Team")), "certificate leaf[subject.CN] ~ Team"),
    (TrustedCert(-1), "certificate root trusted"),
    (Simple(13), "anchor trusted"),
    (CertOid(14, 1, "1.2.840.113635.100.6.2.6", Match(0)),
     "certificate 1[field.1.2.840.113635.100.6.2.6] /* exists */"),
    (Simple(15), "anchor apple generic"),
    (KeyField(16, b"com.apple.security.app-sandbox", Match(1, b"true")),
     'entitlement["com.apple.security.app-sandbox"] = "true"'),
    (CertOid(17, 0, "1.2.840.113635.100.5.1", Match(14)),
     "certificate leaf[policy.1.2.840.113635.100.5.1] absent "),
    (Named(18, b"developer"), "anchor apple developer"),
    (Named(19, b"my code"), '("my code")'),
    (Platform(2), "platform = 2"),
    (Simple(21), "notarized"),
    (CertOid(22, 0, "1.2.840.113635.100.6.1.33", Match(13, 0)),
     "certificate leaf[timestamp.1.2.840.113635.100.6.1.33] >= <2001-01-01 00:00:00 +0000>"),
    (Simple(23), "legacy"),
]


@pytest.mark.parametrize(("expr", "expected"), EVERY_OP, ids=[t for _, t in EVERY_OP])
def test_every_opcode(expr: enc.Expr, expected: str) -> None:
    assert enc.text(expr) == expected  # the encoder's own printer agrees with the table
    assert parse_requirement(enc.requirement_blob(expr)) == expected


MATCHES = [
    (Match(0), " /* exists */"),
    (Match(1, b"v"), " = v"),
    (Match(2, b"v"), " ~ v"),
    (Match(3, b"v"), " = v*"),
    (Match(4, b"v"), " = *v"),
    (Match(5, b"v"), " < v"),
    (Match(6, b"v"), " > v"),
    (Match(7, b"v"), " <= v"),
    (Match(8, b"v"), " >= v"),
    (Match(9, 86400), " = <2001-01-02 00:00:00 +0000>"),
    (Match(10, 725760000), " < <2024-01-01 00:00:00 +0000>"),
    (Match(11, -86400), " > <2000-12-31 00:00:00 +0000>"),
    (Match(12, 1), " <= <2001-01-01 00:00:01 +0000>"),
    (Match(13, 0), " >= <2001-01-01 00:00:00 +0000>"),
    (Match(14), " absent "),
]


@pytest.mark.parametrize(("match", "suffix"), MATCHES, ids=[str(m.op) for m, _ in MATCHES])
def test_every_match_type(match: Match, suffix: str) -> None:
    expr = CertField(0, b"subject.OU", match)
    assert parse_requirement(enc.requirement_blob(expr)) == f"certificate leaf[subject.OU]{suffix}"


def test_dates_use_the_2001_epoch_not_unix() -> None:
    assert format_cf_date(0) == "<2001-01-01 00:00:00 +0000>"
    assert format_cf_date(978307200) == "<2032-01-02 00:00:00 +0000>"
    assert format_cf_date(2**62).startswith("<CFAbsoluteTime")


@pytest.mark.parametrize(("raw", "dot_okay", "expected"), [
    (b"ABCDE12345", False, "ABCDE12345"),
    (b"7FRXF46ZSN", False, '"7FRXF46ZSN"'),  # starts with a digit
    (b"com.example", False, '"com.example"'),
    (b"subject.OU", True, "subject.OU"),
    (b"anchor", False, '"anchor"'),  # keyword
    (b"say \"hi\" \\o/", False, '"say \\"hi\\" \\\\o/"'),
    (b"\x00\xff", False, "0x00ff"),
    (b"", False, '""'),
])
def test_quoting(raw: bytes, dot_okay: bool, expected: str) -> None:
    assert format_value(raw, dot_okay=dot_okay) == expected


def test_parentheses_follow_precedence() -> None:
    expr = And(Or(Simple(1), Simple(0)), Not(Or(Simple(3), Simple(15))))
    text = parse_requirement(enc.requirement_blob(expr))
    assert text == "(always or never) and ! (anchor apple or anchor apple generic)"
    assert text == enc.text(expr)


def test_skippable_unknown_opcodes_are_stepped_over() -> None:
    expr = And(Unknown(0x40000063, b"abcde"), Or(Unknown(0x80000064, b""), Simple(1)))
    assert parse_requirement(enc.requirement_blob(expr)) == enc.text(expr)
    assert "/* opcode 99 */" in enc.text(expr)


def test_multiple_requirement_types_print_in_index_order() -> None:
    reqs = {1: Simple(15), 3: Ident(b"app"), 5: Simple(0)}
    assert parse_requirements(enc.requirements_blob(reqs)).text == enc.set_text(reqs)


_leaf = st.one_of(
    st.sampled_from([Simple(op) for op in (0, 1, 3, 13, 15, 21, 23)]),
    st.binary(max_size=24).map(Ident),
    st.builds(CertField, st.integers(-1, 4), st.binary(max_size=12),
              st.builds(Match, st.sampled_from(range(1, 9)), st.binary(max_size=12))),
    st.builds(CertOid, st.sampled_from([14, 17, 22]), st.integers(-1, 3),
              st.sampled_from(["1.2.840.113635.100.6.2.6", "2.5.29.37", "1.3.6.1.4.1.311"]),
              st.one_of(st.builds(Match, st.just(0)),
                        st.builds(Match, st.sampled_from(range(9, 14)),
                                  st.integers(-(2**34), 2**34)))),
    st.builds(KeyField, st.sampled_from([10, 16]), st.binary(max_size=16),
              st.builds(Match, st.just(14))),
    st.builds(CDHash, st.binary(min_size=20, max_size=20)),
    st.builds(Platform, st.integers(0, 100)),
)
_exprs = st.recursive(
    _leaf,
    lambda inner: st.one_of(st.builds(And, inner, inner), st.builds(Or, inner, inner),
                            st.builds(Not, inner)),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(_exprs)
def test_round_trip_against_the_encoder(expr: enc.Expr) -> None:
    assert parse_requirement(enc.requirement_blob(expr)) == enc.text(expr)


@pytest.mark.parametrize(("name", "team"), [
    ("sentry-cli-darwin-universal", "97JCY7859U"),
    ("bun-1.3.12-darwin-arm64", "7FRXF46ZSN"),
    ("node-10-darwin-x64", "HX7739G8FX"),
])
@pytest.mark.realbin
def test_real_designated_requirements(name: str, team: str) -> None:
    macho = parse_macho_bytes(fetch(name).read_bytes(), name)
    for sl in macho.slices:
        assert sl.signature is not None and sl.signature.requirements is not None
        cd = sl.signature.primary
        assert cd is not None
        reqs = parse_requirements(sl.signature.requirements)
        dr = reqs.designated
        assert dr is not None
        # What codesign derives for Developer ID code (SEC drmaker.cpp), printed its way.
        expected = enc.text(enc.developer_id_designated(cd.identifier, team))
        assert dr.text == expected
        assert team in dr.text and cd.identifier in dr.text
        assert reqs.text == f"designated => {expected}\n"


@pytest.mark.realbin
def test_real_apple_development_requirement() -> None:
    macho = parse_macho_bytes(fetch("bun-0.5.6-darwin-arm64-appledev").read_bytes(), "bun")
    sig = macho.slices[0].signature
    assert sig is not None and sig.requirements is not None
    assert parse_requirements(sig.requirements).text == (
        'designated => identifier bun and anchor apple generic and certificate '
        'leaf[subject.CN] = "Apple Development: Jarred Sumner (3N4ZYUM325)" and certificate '
        '1[field.1.2.840.113635.100.6.2.1] /* exists */\n')


def test_empty_requirement_set_from_adhoc_signature() -> None:
    reqs = parse_requirements(bytes.fromhex("fade0c010000000c00000000"))
    assert reqs.requirements == () and reqs.text == "" and reqs.designated is None


# --- hostile input ------------------------------------------------------------------------

def _set_with(req_blob: bytes) -> bytes:
    return struct.pack(">IIIII", 0xFADE0C01, 20 + len(req_blob), 1, 3, 20) + req_blob


def test_truncated_at_every_length_is_a_parse_error_never_a_crash() -> None:
    for cut in range(len(VECTOR)):
        data = VECTOR[:cut]
        with pytest.raises(ParseError) as info:
            parse_requirements(data, path="x", base=0x1000)
        assert info.value.path == "x" and info.value.offset is not None
        assert 0x1000 <= info.value.offset <= 0x1000 + len(VECTOR)


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "needs 4 bytes"),
    (bytes.fromhex("fade0c02000000100000000000000000"), "magic"),
    (struct.pack(">III", 0xFADE0C01, 0xFFFFFFF0, 0), "length"),
    (struct.pack(">III", 0xFADE0C01, 12, 0x10000000), "count"),
    (struct.pack(">IIIII", 0xFADE0C01, 20, 1, 3, 0xFFFFFFF0), "offset"),
    (_set_with(struct.pack(">III", 0xFADE0C00, 0x7FFFFFFF, 1)), "length"),
    (_set_with(struct.pack(">IIII", 0xFADE0C00, 16, 2, 1)), "kind"),
    (_set_with(struct.pack(">IIII", 0xFADE0C00, 16, 1, 99)), "unknown requirement opcode"),
    (_set_with(struct.pack(">IIIII", 0xFADE0C00, 20, 1, 2, 0xFFFFFFFF)), "identifier length"),
    (_set_with(struct.pack(">IIIIiII", 0xFADE0C00, 28, 1, 11, 0, 0, 77)), "match operation"),
    (_set_with(struct.pack(">IIII", 0xFADE0C00, 16, 1, 6)), "opcode"),  # and with no operands
])
def test_hostile_requirements(data: bytes, reason: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_requirements(data, path="hostile")
    assert reason in info.value.reason


def test_deep_nesting_is_refused_not_a_recursion_error() -> None:
    body = struct.pack(">I", 9) * (MAX_DEPTH + 10) + struct.pack(">I", 1)  # ! ! ! ... always
    blob = struct.pack(">III", 0xFADE0C00, 12 + len(body), 1) + body
    with pytest.raises(ParseError) as info:
        parse_requirement(blob)
    assert "nests deeper" in info.value.reason
    ok = struct.pack(">I", 9) * (MAX_DEPTH - 1) + struct.pack(">I", 1)
    text = parse_requirement(struct.pack(">III", 0xFADE0C00, 12 + len(ok), 1) + ok)
    assert text == "! " * (MAX_DEPTH - 1) + "always"
