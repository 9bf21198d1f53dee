"""The consequence model (issue 11): every rule says what happens if its finding is ignored,
with evidence, and its severity follows from that by one policy, shown everywhere."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from lintutil import REGISTRY

from bundlelint.cli import main
from bundlelint.errors import RegistryError
from bundlelint.findings import Severity
from bundlelint.reporters.rules_doc import (
    REGENERATE_CONSEQUENCES,
    consequences_markdown,
    explain_text,
    meta_to_dict,
    rule_page_markdown,
)
from bundlelint.reporters.sarif import rule_descriptor
from bundlelint.rules import Registry
from bundlelint.rules.base import (
    SEVERITY_POLICY,
    Consequence,
    Evidence,
    EvidenceKind,
    Rule,
    RuleMeta,
    policy,
)

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "bundlelint" / "reporters" / "schema" / "report-v1.schema.json"


def test_the_one_policy_is_the_documented_one() -> None:
    errors = {Consequence.NOTARY_REJECTS, Consequence.CODESIGN_REFUSES,
              Consequence.GATEKEEPER_BLOCKS, Consequence.CANNOT_START}
    for consequence in errors:
        assert SEVERITY_POLICY[consequence] is Severity.ERROR
    assert SEVERITY_POLICY[Consequence.MAY_FAIL] is Severity.WARNING
    assert SEVERITY_POLICY[Consequence.ADVICE] is Severity.INFO
    assert set(SEVERITY_POLICY) == set(Consequence)


@pytest.mark.parametrize("rule", list(REGISTRY), ids=lambda r: r.meta.id)
def test_every_rule_has_a_consequence_and_evidence(rule: Rule) -> None:
    meta = rule.meta
    assert isinstance(meta.consequence, Consequence)
    assert meta.evidence and all(isinstance(e, Evidence) for e in meta.evidence)
    assert meta.severity is SEVERITY_POLICY[meta.consequence]
    for evidence in meta.evidence:
        assert evidence.text.strip() and evidence.where.strip()
        if evidence.kind is EvidenceKind.POLICY:
            assert evidence.where == "docs/consequences.md"
        else:
            assert evidence.where.startswith("https://"), evidence
        if evidence.kind is EvidenceKind.APPLE_SOURCE:
            # pinned to a release tag, never a moving branch
            assert "/apple-oss-distributions/" in evidence.where
            assert "/blob/main/" not in evidence.where
    if meta.consequence.is_apples:
        assert any(e.kind is not EvidenceKind.POLICY for e in meta.evidence)


def test_a_rule_without_consequence_or_evidence_is_refused() -> None:
    good = REGISTRY.meta("BL201")
    with pytest.raises(TypeError):
        RuleMeta(id="BL998", slug="x", summary="s", what="w", why="y",  # type: ignore[call-arg]
                 how_to_fix="h")
    for broken in (replace(good, id="BL998", evidence=()),
                   replace(good, id="BL998", consequence="error"),  # type: ignore[arg-type]
                   replace(good, id="BL998", evidence=(policy("we think so"),))):
        registry = Registry()
        with pytest.raises(RegistryError, match="BL998"):
            registry.register(Rule(meta=broken, check=lambda ctx: iter(())))
    # our own verdicts may rest on our policy alone
    Registry().register(Rule(meta=replace(good, id="BL998", consequence=Consequence.NOT_CHECKED,
                                          evidence=(policy("we decided"),)),
                             check=lambda ctx: iter(())))


def test_severity_is_never_stated_beside_the_consequence() -> None:
    with pytest.raises(TypeError):
        RuleMeta(id="BL998", slug="x", severity=Severity.ERROR,  # type: ignore[call-arg]
                 consequence=Consequence.ADVICE, evidence=(policy("p"),), summary="s",
                 what="w", why="y", how_to_fix="h")


def test_explain_docs_json_and_sarif_show_consequence_and_evidence(
        capsys: pytest.CaptureFixture[str]) -> None:
    meta = REGISTRY.meta("BL407")
    text = explain_text(meta)
    assert "If ignored: it may fail at run time (so: warning)." in text
    assert "Evidence" in text and "Loader::resolveSymbol" in text
    page = rule_page_markdown(meta)
    assert "- If ignored: it may fail at run time" in page and "## Evidence" in page
    data = meta_to_dict(meta)
    assert data["consequence"] == "may-fail" and data["severity"] == "warning"
    assert {e["kind"] for e in data["evidence"]} == {"apple-source", "policy"}
    props = rule_descriptor(meta)["properties"]
    assert props["consequence"] == "may-fail"
    assert props["evidence"] == data["evidence"]
    assert rule_descriptor(meta)["defaultConfiguration"]["level"] == "warning"

    assert main(["explain", "BL201"]) == 0
    out = capsys.readouterr().out
    assert "If ignored: the notary rejects the upload (so: error)." in out
    assert "Notary message: The binary is not signed." in out

    assert main(["rules", "--format", "json"]) == 0
    rules = json.loads(capsys.readouterr().out)
    assert all(r["consequence"] and r["evidence"] for r in rules)


def test_json_findings_carry_the_consequence_and_the_schema_lists_every_one(
        capsys: pytest.CaptureFixture[str]) -> None:
    schema = json.loads(SCHEMA.read_text())
    allowed = schema["properties"]["findings"]["items"]["properties"]["consequence"]["enum"]
    assert set(allowed) == {c.key for c in Consequence} | {None}
    main(["--format", "json", str(ROOT / "fixtures" / "demo" / "Demo.app")])
    doc = json.loads(capsys.readouterr().out)
    by_rule = {f["rule_id"]: f["consequence"] for f in doc["findings"]}
    assert by_rule["BL201"] == "notary-rejects"
    assert by_rule["BL407"] == "may-fail"


def test_docs_consequences_md_is_in_sync() -> None:
    committed = (ROOT / "docs" / "consequences.md").read_text(encoding="utf-8")
    assert committed == consequences_markdown(REGISTRY), (
        f"docs/consequences.md is stale; run `{REGENERATE_CONSEQUENCES}`")
    for rule in REGISTRY:
        assert f"| {rule.meta.id} | {rule.meta.slug} | {rule.meta.consequence.value} |" in committed


#: Severities re-judged with the model (issue 11, item 2). Each was an error or a warning on
#: main before; the evidence in the rule's metadata says why it is what it is now.
REJUDGED = {
    "BL102": Consequence.MAY_FAIL,  # dyld gives such a binary an implicit macOS platform
    "BL106": Consequence.MAY_FAIL,  # dyld has no minimum-OS gate: "Symbol not found" at worst
    "BL216": Consequence.MAY_FAIL,  # Apple's verifier still accepts SHA-1; no notary log says no
    "BL224": Consequence.GATEKEEPER_BLOCKS,  # the Apple-root pinning part is our policy
    "BL303": Consequence.MAY_FAIL,  # DER requirement announced for iOS 15-era OSes
    "BL304": Consequence.ADVICE, "BL305": Consequence.ADVICE, "BL306": Consequence.ADVICE,
    "BL307": Consequence.ADVICE, "BL308": Consequence.ADVICE, "BL603": Consequence.ADVICE,
    "BL405": Consequence.MAY_FAIL,
    "BL407": Consequence.MAY_FAIL,  # notarized: minos 26.0 with LSMinimumSystemVersion 14.0
    "BL501": Consequence.MAY_FAIL, "BL502": Consequence.MAY_FAIL, "BL503": Consequence.MAY_FAIL,
    "BL601": Consequence.ADVICE,  # Go 1.12 point releases write SDK 10.9
    "BL602": Consequence.ADVICE,  # Fyne, Wails and Gio do not compile without cgo
    "BL703": Consequence.MAY_FAIL,  # ditto writes ._ entries for ordinary extended attributes
    "BL705": Consequence.ADVICE,
    "BL706": Consequence.NOT_CHECKED,
}


@pytest.mark.parametrize("rule_id", sorted(REJUDGED))
def test_rejudged_severity(rule_id: str) -> None:
    meta = REGISTRY.meta(rule_id)
    assert meta.consequence is REJUDGED[rule_id]
    assert meta.severity is SEVERITY_POLICY[REJUDGED[rule_id]]


def test_bl224_says_the_apple_root_pinning_is_our_policy() -> None:
    meta = REGISTRY.meta("BL224")
    assert any(e.kind is EvidenceKind.POLICY and "Apple's pinned roots" in e.text
               for e in meta.evidence)
    assert "bundlelint's policy" in meta.why
