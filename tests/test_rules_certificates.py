"""Rules BL220-BL225 (CMS signature) and BL303-BL308 (DER mismatch, weakening entitlements):
a fixture that fires each, one that keeps it quiet, and real binaries that agree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lintutil import REGISTRY, by_rule
from realbins import fetch

from bundlelint.bundle import open_input
from bundlelint.engine import Report, Selection, run_rules
from bundlelint.options import Options
from bundlelint.rules.certificates import NO_TIMESTAMP, NOT_DEVELOPER_ID, SIGNATURE_INVALID
from fixtures import test_ca
from fixtures.cms_signer import cms_callable
from fixtures.der_entitlements import der_payload
from fixtures.macho_builder import MachOSpec, build_macho
from fixtures.signer import CS_ADHOC, CS_RUNTIME, sign_macho

TEAM = "ABCDE12345"
ANCHORED = Options(extra_trust_anchors=(test_ca.root().der,))
CERT_RULES = ("BL220", "BL221", "BL222", "BL223", "BL224", "BL225")
WEAKENING = {
    "BL304": "com.apple.security.cs.allow-jit",
    "BL305": "com.apple.security.cs.allow-unsigned-executable-memory",
    "BL306": "com.apple.security.cs.disable-library-validation",
    "BL307": "com.apple.security.cs.allow-dyld-environment-variables",
    "BL308": "com.apple.security.cs.disable-executable-page-protection",
}
OURS = (*CERT_RULES, "BL303", *WEAKENING)


def lint(path: Path, options: Options = ANCHORED) -> Report:
    return run_rules(open_input(path), REGISTRY, Selection(select=OURS), options)


def make(tmp_path: Path, name: str = "app", *, cms: Any = None, team: str | None = TEAM,
         entitlements: dict[str, Any] | None = None, der: bytes | None = None,
         flags: int = CS_RUNTIME, **cms_kwargs: Any) -> Path:
    data = sign_macho(build_macho(MachOSpec(code_size=30000)), identifier="com.example.app",
                      flags=flags, team_id=team, entitlements=entitlements,
                      der_entitlements=der,
                      cms=cms if cms is not None else cms_callable(**cms_kwargs))
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_good_fixture_is_quiet_for_every_rule(tmp_path: Path) -> None:
    ents = {"com.apple.security.network.client": True}
    report = lint(make(tmp_path, entitlements=ents, der=der_payload(ents)))
    assert not report.findings


def test_without_the_anchor_only_the_chain_rules_fire(tmp_path: Path) -> None:
    report = lint(make(tmp_path), Options())
    assert {f.rule_id for f in report.findings} == {"BL221", "BL224"}
    (chain,) = by_rule(report, "BL221")
    assert "not a pinned Apple root" in chain.message
    assert "TSA chain" in by_rule(report, "BL224")[0].message


@pytest.mark.parametrize("name", [
    "sentry-cli-darwin-universal", "bun-1.3.12-darwin-arm64", "node-10-darwin-x64",
])
@pytest.mark.realbin
def test_real_developer_id_binaries_are_quiet(name: str) -> None:
    report = lint(fetch(name), Options())
    assert not [f for f in report.findings if f.rule_id in (*CERT_RULES, "BL303")]


@pytest.mark.parametrize(("name", "leaf"), [
    ("bun-0.5.6-darwin-arm64-appledev", "Apple Development: Jarred Sumner (3N4ZYUM325)"),
    ("bun-1.0.7-darwin-arm64-appledist", "Apple Distribution: Jarred Sumner (7FRXF46ZSN)"),
])
@pytest.mark.realbin
def test_bl220_fires_on_real_apple_development_and_distribution(name: str, leaf: str) -> None:
    report = lint(fetch(name), Options())
    (finding,) = by_rule(report, "BL220")
    assert f'"{leaf}"' in finding.message and finding.location.arch == "arm64"
    assert {f.rule_id for f in report.findings} & set(CERT_RULES) == {"BL220"}


def test_bl220_fires_on_an_apple_development_fixture(tmp_path: Path) -> None:
    leaf = test_ca.apple_development_leaf()
    report = lint(make(tmp_path, leaf=leaf, chain=(leaf, test_ca.wwdr_ca(), test_ca.root())))
    (finding,) = by_rule(report, "BL220")
    assert "Apple Development: Test Person" in finding.message
    assert finding.fix is not None and finding.fix.command is not None
    assert finding.fix.command.startswith("codesign --force --options runtime --timestamp")


def test_bl221_fires_on_an_incomplete_chain(tmp_path: Path) -> None:
    leaf = test_ca.developer_id_leaf()
    (finding,) = by_rule(lint(make(tmp_path, chain=(leaf, test_ca.root()))), "BL221")
    assert "incomplete" in finding.message and "Developer ID Certification Authority" in \
        finding.message


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"corrupt_signature": True}, "signature does not verify"),
    ({"message_digest": b"\0" * 32}, "messageDigest"),
    ({"v1_cdhashes": [b"\1" * 20]}, "V1"),
])
def test_bl222_fires_on_each_cms_defect(tmp_path: Path, kwargs: dict[str, Any],
                                        words: str) -> None:
    report = lint(make(tmp_path, **kwargs))
    (finding,) = by_rule(report, "BL222")
    assert words in finding.message
    assert {f.rule_id for f in report.findings} == {"BL222"}


def test_bl222_fires_on_a_cd_changed_after_signing(tmp_path: Path) -> None:
    path = make(tmp_path)
    bundle = open_input(path)
    _, macho = next(iter(bundle.machos()))
    cd = macho.slices[0].signature.primary  # type: ignore[union-attr]
    assert cd is not None
    data = bytearray(path.read_bytes())
    data[cd.offset + cd.hash_offset + 3] ^= 0x55
    path.write_bytes(bytes(data))
    (finding,) = by_rule(lint(path), "BL222")
    assert "messageDigest" in finding.message and "V1" in finding.message


def test_bl222_reports_unparseable_cms_with_offset(tmp_path: Path) -> None:
    report = lint(make(tmp_path, cms=b"\x30\x84\x7f\xff\xff\xff garbage", flags=CS_RUNTIME))
    (finding,) = by_rule(report, "BL222")
    assert finding.location.offset is not None and "malformed CMS" in finding.message
    assert not [f for f in report.findings if f.rule_id.startswith("BL00")]


def test_bl223_fires_without_a_timestamp(tmp_path: Path) -> None:
    report = lint(make(tmp_path, timestamp=False))
    (finding,) = by_rule(report, "BL223")
    assert "no secure timestamp" in finding.message and "2024-05-01" in finding.message
    assert {f.rule_id for f in report.findings} == {"BL223"}


def test_bl224_fires_on_a_timestamp_of_another_signature(tmp_path: Path) -> None:
    report = lint(make(tmp_path, timestamp_imprint=b"\7" * 32))
    (finding,) = by_rule(report, "BL224")
    assert "messageImprint" in finding.message
    assert {f.rule_id for f in report.findings} == {"BL224"}


def test_bl225_fires_on_a_cert_from_another_team(tmp_path: Path) -> None:
    report = lint(make(tmp_path, leaf=test_ca.developer_id_leaf("ZZZZZ99999", "Other")))
    (finding,) = by_rule(report, "BL225")
    assert "ABCDE12345" in finding.message and "ZZZZZ99999" in finding.message
    assert {f.rule_id for f in report.findings} == {"BL225"}


@pytest.mark.realbin
def test_certificate_rules_stay_quiet_on_adhoc_and_linker_signed(tmp_path: Path) -> None:
    report = lint(make(tmp_path, cms=b"", flags=CS_ADHOC, team=None))
    assert not report.findings
    for name in ("pyzmq-libzmq-adhoc", "esbuild-darwin-arm64", "lefthook-darwin-arm64"):
        assert not lint(fetch(name)).findings


def test_notary_messages_are_mapped() -> None:
    metas = {rule_id: REGISTRY.meta(rule_id) for rule_id in OURS}
    assert NOT_DEVELOPER_ID in metas["BL220"].notary_messages
    assert NOT_DEVELOPER_ID in metas["BL221"].notary_messages
    assert SIGNATURE_INVALID in metas["BL222"].notary_messages
    assert NO_TIMESTAMP in metas["BL223"].notary_messages
    assert NO_TIMESTAMP in metas["BL224"].notary_messages
    assert all(metas[i].severity.value == "info" for i in WEAKENING)


# --- entitlements ---------------------------------------------------------------------------

def test_bl303_fires_when_xml_and_der_disagree(tmp_path: Path) -> None:
    xml = {"com.apple.security.network.client": True}
    der = der_payload({"com.apple.security.network.client": True,
                       "com.apple.security.get-task-allow": True})
    (finding,) = by_rule(lint(make(tmp_path, entitlements=xml, der=der)), "BL303")
    assert "get-task-allow is in the DER entitlements only" in finding.message


def test_bl303_fires_on_undecodable_der(tmp_path: Path) -> None:
    (finding,) = by_rule(lint(make(tmp_path, entitlements={}, der=b"\x70\x05\x02")), "BL303")
    assert "do not decode" in finding.message and finding.location.offset is not None


@pytest.mark.realbin
def test_bl303_real_binaries_agree() -> None:
    for name in ("bun-1.3.12-darwin-arm64", "sentry-cli-darwin-universal"):
        assert by_rule(lint(fetch(name), Options()), "BL303") == []


@pytest.mark.parametrize(("rule_id", "key"), sorted(WEAKENING.items()))
def test_weakening_entitlement_fires_alone(tmp_path: Path, rule_id: str, key: str) -> None:
    ents = {key: True, "com.apple.security.network.client": True}
    report = lint(make(tmp_path, entitlements=ents, der=der_payload(ents)))
    (finding,) = by_rule(report, rule_id)
    assert key in finding.message
    assert "Metal" not in finding.message  # not a Go binary: no Go/Metal note (issue 11)
    assert {f.rule_id for f in report.findings} == {rule_id}
    quiet = lint(make(tmp_path, "off", entitlements={key: False}))
    assert by_rule(quiet, rule_id) == []


@pytest.mark.realbin
def test_weakening_entitlements_on_real_bun_and_node() -> None:
    for name in ("bun-1.3.12-darwin-arm64", "node-10-darwin-x64"):
        report = lint(fetch(name), Options())
        assert {f.rule_id for f in report.findings} == set(WEAKENING), name
    assert not set(WEAKENING) & {f.rule_id for f in
                                 lint(fetch("sentry-cli-darwin-universal")).findings}
