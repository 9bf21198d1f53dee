"""CMS parsing and verification: real Developer ID binaries, the test CA, tampering, hostile."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from realbins import fetch

from bundlelint.analysis.cms import (
    APPLE_ROOTS,
    ChainStatus,
    CmsVerification,
    LeafKind,
    SignatureState,
    verify_signature,
)
from bundlelint.bundle import open_input
from bundlelint.errors import ParseError
from bundlelint.options import Options
from bundlelint.parsers.cms import parse_cms
from fixtures import test_ca
from fixtures.cms_signer import SIGNING_TIME, cdhash, cms_callable, make_cms
from fixtures.macho_builder import MachOSpec, build_fat, build_macho
from fixtures.requirements_encoder import developer_id_designated, requirements_blob
from fixtures.signer import CS_RUNTIME, sign_macho

TEAM = "ABCDE12345"
ANCHORED = Options(extra_trust_anchors=(test_ca.root().der,))
APPLE_ROOT = "B0B1730ECBC7FF4505142C49F1295E6EDA6BCAED7E2C68C5BE91B5A11001F024"


def signed(tmp_path: Path, name: str = "app", *, hash_types: tuple[int, ...] = (2,),
           team: str | None = TEAM, fat: bool = False, **cms_kwargs: Any) -> Path:
    unsigned = build_macho(MachOSpec(code_size=40000))
    if fat:
        unsigned = build_fat([unsigned, build_macho(MachOSpec(arch="x86_64", code_size=30000))])
    data = sign_macho(unsigned, identifier="com.example.app", flags=CS_RUNTIME, team_id=team,
                      hash_types=hash_types,
                      requirements=requirements_blob(
                          {3: developer_id_designated("com.example.app", TEAM)}),
                      cms=cms_callable(**cms_kwargs))
    path = tmp_path / name
    path.write_bytes(data)
    return path


def verify_all(path: Path, options: Options = ANCHORED) -> list[CmsVerification]:
    bundle = open_input(path)
    return [verify_signature(bundle, entry, sl, options)
            for entry, macho in bundle.machos() for sl in macho.slices]


# --- real binaries --------------------------------------------------------------------------

REAL = [
    ("sentry-cli-darwin-universal", "97JCY7859U", "GetSentry LLC", 2),
    ("bun-1.3.12-darwin-arm64", "7FRXF46ZSN", "Jarred Sumner", 1),
    ("node-10-darwin-x64", "HX7739G8FX", "Node.js Foundation", 1),
]


@pytest.mark.realbin
@pytest.mark.parametrize(("name", "team", "org", "slices"), REAL)
def test_real_developer_id_signatures_verify_fully(name: str, team: str, org: str,
                                                   slices: int) -> None:
    results = verify_all(fetch(name), Options())
    assert len(results) == slices
    for v in results:
        assert v.state is SignatureState.CERTIFICATE
        assert v.problems == () and v.signature_valid
        assert v.message_digest_matches is True
        assert v.cdhashes_v1_match is True and v.cdhashes_v2_match is True
        assert v.chain is not None and v.chain.status is ChainStatus.APPLE_ROOT
        assert v.chain.anchor_name == "Apple Root CA"
        assert v.chain.certificates[-1].sha256 == APPLE_ROOT
        assert v.authority == (f"Developer ID Application: {org} ({team})",
                               "Developer ID Certification Authority", "Apple Root CA")
        assert v.leaf_kind is LeafKind.DEVELOPER_ID_APPLICATION
        assert v.team_id == team == v.cd_team_id and v.team_id_matches is True
        assert v.signing_time is not None
        ts = v.timestamp
        assert ts is not None and ts.valid, ts.problems if ts else None
        assert ts.imprint_matches
        assert ts.chain.names[1:] == ("Apple Timestamp Certification Authority", "Apple Root CA")
        assert abs((ts.gen_time - v.signing_time).total_seconds()) < 60
        assert v.designated_requirement is not None and team in v.designated_requirement


@pytest.mark.realbin
def test_node10_signs_both_code_directories() -> None:
    (v,) = verify_all(fetch("node-10-darwin-x64"), Options())
    signer = v.cms.signer if v.cms else None
    assert signer is not None and signer.cdhashes_v1 is not None
    assert len(signer.cdhashes_v1) == 2
    assert [alg for alg, _ in signer.cdhashes_v2 or ()] == ["sha1", "sha256"]
    assert v.signing_time == dt.datetime(2021, 4, 6, 13, 58, 40, tzinfo=dt.UTC)


@pytest.mark.parametrize(("name", "kind", "leaf"), [
    ("bun-0.5.6-darwin-arm64-appledev", LeafKind.APPLE_DEVELOPMENT,
     "Apple Development: Jarred Sumner (3N4ZYUM325)"),
    ("bun-1.0.7-darwin-arm64-appledist", LeafKind.APPLE_DISTRIBUTION,
     "Apple Distribution: Jarred Sumner (7FRXF46ZSN)"),
])
@pytest.mark.realbin
def test_real_non_developer_id_leaf_kinds(name: str, kind: LeafKind, leaf: str) -> None:
    (v,) = verify_all(fetch(name), Options())
    assert v.leaf_kind is kind and v.authority[0] == leaf
    assert v.chain is not None and v.chain.status is ChainStatus.APPLE_ROOT
    assert v.problems == () and v.timestamp is not None and v.timestamp.valid


@pytest.mark.realbin
def test_adhoc_and_linker_signed_have_nothing_to_verify() -> None:
    for name in ("pyzmq-libzmq-adhoc", "esbuild-darwin-arm64"):
        for v in verify_all(fetch(name), Options()):
            assert v.state is SignatureState.ADHOC and v.chain is None and v.problems == ()


def test_pinned_roots_are_the_formats_md_values() -> None:
    assert set(APPLE_ROOTS) == {
        APPLE_ROOT,
        "C2B9B042DD57830E7D117DAC55AC8AE19407D38E41D88F3215BC3A890444A050",
        "63343ABFB89A6A03EBB57E9B3F5FA7BE7C4F5C756F3017B3A8C488C3653E9179",
    }


# --- the test CA --------------------------------------------------------------------------

def test_fixture_signature_verifies_with_the_extra_anchor(tmp_path: Path) -> None:
    (v,) = verify_all(signed(tmp_path, hash_types=(1, 2)))
    assert v.problems == () and v.leaf_kind is LeafKind.DEVELOPER_ID_APPLICATION
    assert v.chain is not None and v.chain.status is ChainStatus.EXTRA_ANCHOR
    assert v.authority == (f"Developer ID Application: Test Team ({TEAM})",
                           "Developer ID Certification Authority", "Test Root CA")
    assert v.team_id == TEAM and v.team_id_matches
    assert v.signing_time == SIGNING_TIME
    assert v.timestamp is not None and v.timestamp.valid and v.timestamp.gen_time == SIGNING_TIME
    assert v.cdhashes_v1_match and v.cdhashes_v2_match and v.message_digest_matches


def test_without_the_anchor_the_test_root_is_not_trusted(tmp_path: Path) -> None:
    (v,) = verify_all(signed(tmp_path), Options())
    assert v.chain is not None and v.chain.status is ChainStatus.UNTRUSTED_ROOT
    assert "not a pinned Apple root" in v.chain.problems[0]
    assert v.problems == ()  # the CMS itself is fine; only trust is missing
    assert v.timestamp is not None and not v.timestamp.chain.trusted


def test_extra_anchor_does_not_make_other_certificates_developer_id(tmp_path: Path) -> None:
    path = signed(tmp_path, leaf=test_ca.apple_development_leaf(),
                  chain=(test_ca.apple_development_leaf(), test_ca.wwdr_ca(), test_ca.root()))
    (v,) = verify_all(path)
    assert v.chain is not None and v.chain.trusted
    assert v.leaf_kind is LeafKind.APPLE_DEVELOPMENT


def test_rsa_signer(tmp_path: Path) -> None:
    leaf = test_ca.developer_id_leaf(TEAM, "Test Team", use_rsa=True)
    (v,) = verify_all(signed(tmp_path, leaf=leaf))
    assert v.cms is not None and v.cms.signer is not None
    assert v.cms.signer.signature_algorithm == "rsassa_pkcs1v15"
    assert v.problems == () and v.chain is not None and v.chain.trusted


def test_universal_binary_each_slice_verified(tmp_path: Path) -> None:
    results = verify_all(signed(tmp_path, fat=True))
    assert [v.arch for v in results] == ["arm64", "x86_64"]
    assert all(v.problems == () for v in results)
    digests = {v.cms.signer.message_digest for v in results if v.cms and v.cms.signer}
    assert len(digests) == 2  # each slice's CMS signs its own CodeDirectory


def test_verification_is_cached(tmp_path: Path) -> None:
    bundle = open_input(signed(tmp_path))
    entry, macho = next(iter(bundle.machos()))
    first = verify_signature(bundle, entry, macho.slices[0], ANCHORED)
    assert verify_signature(bundle, entry, macho.slices[0], ANCHORED) is first
    assert verify_signature(bundle, entry, macho.slices[0], Options()) is not first


# --- tampering ------------------------------------------------------------------------------

def test_flipping_a_byte_of_the_code_directory_after_signing(tmp_path: Path) -> None:
    path = signed(tmp_path)
    data = bytearray(path.read_bytes())
    bundle = open_input(path)
    _, macho = next(iter(bundle.machos()))
    cd = macho.slices[0].signature.primary  # type: ignore[union-attr]
    assert cd is not None
    data[cd.offset + cd.hash_offset] ^= 0xFF  # first code-page hash
    path.write_bytes(bytes(data))
    (v,) = verify_all(path)
    assert v.message_digest_matches is False
    assert v.cdhashes_v1_match is False and v.cdhashes_v2_match is False
    assert v.signature_problem is None  # the signature over the attributes is still intact
    assert any("messageDigest" in p for p in v.problems)


@pytest.mark.parametrize(("kwargs", "expect"), [
    ({"corrupt_signature": True}, "signer's signature does not verify"),
    ({"message_digest": b"\0" * 32}, "messageDigest"),
    ({"v1_cdhashes": [b"\1" * 20]}, "hash agility V1"),
    ({"v2_hashes": [("sha256", b"\2" * 32)]}, "hash agility V2"),
])
def test_each_cms_defect_is_named(tmp_path: Path, kwargs: dict[str, Any], expect: str) -> None:
    (v,) = verify_all(signed(tmp_path, **kwargs))
    assert len(v.problems) == 1 and expect in v.problems[0]


def test_cert_from_another_team(tmp_path: Path) -> None:
    other = test_ca.developer_id_leaf("ZZZZZ99999", "Other Team")
    (v,) = verify_all(signed(tmp_path, leaf=other))
    assert v.problems == () and v.team_id == "ZZZZZ99999" and v.cd_team_id == TEAM
    assert v.team_id_matches is False


def test_chain_defects(tmp_path: Path) -> None:
    leaf = test_ca.developer_id_leaf()
    (v,) = verify_all(signed(tmp_path, "a", chain=(leaf, test_ca.root())))
    assert v.chain is not None and v.chain.status is ChainStatus.INCOMPLETE
    assert "Developer ID Certification Authority" in v.chain.problems[0]
    # The leaf's issuer name matches, but the key does not: a forged link.
    rogue = test_ca.rogue_developer_id_leaf()
    (v,) = verify_all(signed(tmp_path, "b", leaf=rogue,
                             chain=(rogue, test_ca.other_root())))
    assert v.chain is not None and v.chain.status is ChainStatus.UNTRUSTED_ROOT
    assert v.leaf_kind is not LeafKind.DEVELOPER_ID_APPLICATION  # no Developer ID CA above it


def test_timestamp_defects(tmp_path: Path) -> None:
    (v,) = verify_all(signed(tmp_path, "a", timestamp=False))
    assert v.timestamp is None and v.timestamp_problem is None and v.problems == ()
    (v,) = verify_all(signed(tmp_path, "b", timestamp_imprint=b"\0" * 32))
    assert v.timestamp is not None and not v.timestamp.imprint_matches
    assert "messageImprint" in v.timestamp.problems[0]
    (v,) = verify_all(signed(tmp_path, "c", tsa_chain=(test_ca.tsa(),)))
    assert v.timestamp is not None and v.timestamp.chain.status is ChainStatus.INCOMPLETE


# --- hostile bytes --------------------------------------------------------------------------

def _real_cms() -> bytes:
    cds = [b"\xfa\xde\x0c\x02" + b"\0" * 0x21 + b"\x02" + b"\0" * 20]
    return make_cms(cds)


@pytest.mark.parametrize("data", [
    b"\x30",
    b"\x30\x80" + b"\0" * 10,
    b"garbage that is not DER at all",
    b"\x30\x03\x06\x01\x00",
    bytes(64),
    b"\xff" * 100,
])
def test_garbage_is_a_parse_error(data: bytes) -> None:
    with pytest.raises(ParseError) as info:
        parse_cms(data, path="x", base=0x2000)
    assert info.value.path == "x" and info.value.offset == 0x2000


def test_truncated_cms_at_many_lengths_is_a_parse_error() -> None:
    blob = _real_cms()
    assert parse_cms(blob).signer is not None
    for cut in list(range(0, 64)) + list(range(64, len(blob), 37)):
        with pytest.raises(ParseError):
            parse_cms(blob[:cut])


def test_hostile_cms_in_a_signature_is_reported_not_raised(tmp_path: Path) -> None:
    data = sign_macho(build_macho(MachOSpec()), identifier="x", flags=0, team_id=TEAM,
                      cms=b"\x30\x82\xff\xff" + b"\x06" * 40)
    path = tmp_path / "bad"
    path.write_bytes(data)
    (v,) = verify_all(path)
    assert v.state is SignatureState.UNPARSEABLE and v.parse_error is not None
    assert v.parse_error.path.endswith("bad") and v.parse_error.offset == v.offset
    assert v.problems


def test_cdhash_helper_matches_bundlelint(tmp_path: Path) -> None:
    bundle = open_input(signed(tmp_path, hash_types=(1, 2)))
    _, macho = next(iter(bundle.machos()))
    sig = macho.slices[0].signature
    assert sig is not None
    assert [cdhash(cd.raw) for cd in sig.code_directories] == \
        [cd.cdhash for cd in sig.code_directories]
