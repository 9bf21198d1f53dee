"""The engine's guarantees and the registry's validation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from appbuilder import developer_id_like
from lintutil import TEST_OPTIONS

from bundlelint.bundle import open_input
from bundlelint.engine import Selection, run_rules
from bundlelint.errors import ParseError, RegistryError, UsageError
from bundlelint.findings import Finding, Severity
from bundlelint.rules import Registry, load_registry
from bundlelint.rules.base import Consequence, Rule, RuleContext, RuleMeta, notary, rule

META_FIELDS = {"summary": "s", "what": "w", "why": "y", "how_to_fix": "h"}


def _meta(rule_id: str, slug: str = "sample-rule", **extra: object) -> RuleMeta:
    return RuleMeta(id=rule_id, slug=slug, consequence=Consequence.NOTARY_REJECTS,
                    evidence=(notary("x", "https://example.invalid/log"),),
                    **META_FIELDS, **extra)  # type: ignore[arg-type]


def test_every_builtin_rule_has_complete_metadata() -> None:
    registry = load_registry(plugins=False)
    assert len(registry) >= 18
    for r in registry:
        r.meta.validate()
        assert r.meta.family != "plugin", r.meta.id
        assert r.meta.summary[0].isupper() and not r.meta.summary.endswith(".")


@pytest.mark.parametrize("bad_id", ["bl101", "B1", "BL1234", "BL 01", ""])
def test_malformed_ids_are_rejected(bad_id: str) -> None:
    registry = Registry()
    with pytest.raises(RegistryError, match="must look like"):
        registry.register(Rule(meta=_meta(bad_id), check=lambda ctx: ()))


def test_duplicate_id_is_an_error_not_an_override() -> None:
    registry = load_registry(plugins=False)
    with pytest.raises(RegistryError, match="BL201 is already registered"):
        registry.register(Rule(meta=_meta("BL201"), check=lambda ctx: ()), "plugin x")


def test_alias_answers_for_renamed_rule() -> None:
    registry = Registry()
    registry.register(Rule(meta=_meta("XY123", aliases=("XY001",)), check=lambda ctx: ()))
    found = registry.get("xy001")
    assert found is not None and found.id == "XY123"
    with pytest.raises(RegistryError):
        registry.register(Rule(meta=_meta("XY001"), check=lambda ctx: ()))


def test_crashing_rule_becomes_internal_error_and_others_still_run(tmp_path: Path) -> None:
    registry = load_registry(plugins=False)

    @rule(_meta("ZZ900", slug="crashes"))
    def crashes(ctx: RuleContext) -> Iterator[Finding]:
        raise ZeroDivisionError("boom")
        yield  # pragma: no cover

    registry.register(crashes, "test")
    path = tmp_path / "tool"
    path.write_bytes(developer_id_like(flags=0))  # BL203 fires on it
    report = run_rules(open_input(path), registry, Selection())
    [internal] = [f for f in report.findings if f.rule_id == "BL003"]
    assert "ZZ900 (crashes) crashed: ZeroDivisionError: boom" in internal.message
    assert report.has_internal_error
    assert any(f.rule_id == "BL203" for f in report.findings)


def test_escaping_parse_error_becomes_bl001_with_offset(tmp_path: Path) -> None:
    registry = load_registry(plugins=False)

    @rule(_meta("ZZ901", slug="raises-parse-error"))
    def raises(ctx: RuleContext) -> Iterator[Finding]:
        raise ParseError("widget", "thing.bin", 0x40, "bad widget")
        yield  # pragma: no cover

    registry.register(raises, "test")
    path = tmp_path / "tool"
    path.write_bytes(developer_id_like())
    report = run_rules(open_input(path), registry, Selection())
    [finding] = [f for f in report.findings if f.rule_id == "BL001"]
    assert finding.location.path == "thing.bin" and finding.location.offset == 0x40
    assert not report.has_internal_error


def test_selection_prefixes_ignore_and_overrides(tmp_path: Path) -> None:
    registry = load_registry(plugins=False)
    path = tmp_path / "tool"
    path.write_bytes(developer_id_like(flags=0, entitlements={
        "com.apple.security.get-task-allow": True}))
    opts = TEST_OPTIONS
    everything = run_rules(open_input(path), registry, Selection(), opts)
    assert {f.rule_id for f in everything.findings} == {"BL203", "BL301"}
    only_sig = run_rules(open_input(path), registry, Selection(select=("BL2",)), opts)
    assert {f.rule_id for f in only_sig.findings} == {"BL203"}
    ignored = run_rules(open_input(path), registry, Selection(ignore=("BL301",)), opts)
    assert {f.rule_id for f in ignored.findings} == {"BL203"}
    lowered = run_rules(open_input(path), registry,
                        Selection(severity_overrides={"BL301": Severity.INFO}), opts)
    assert {f.rule_id: f.severity for f in lowered.findings}["BL301"] is Severity.INFO


def test_unknown_code_in_selection_is_usage_error() -> None:
    with pytest.raises(UsageError, match="BL999"):
        Selection(select=("BL999",)).validate(load_registry(plugins=False))


def test_a_bare_string_where_a_tuple_belongs_is_rejected() -> None:
    """notary_patterns="^x" would make every character a pattern ("^" matches anything)."""
    registry = Registry()
    with pytest.raises(RegistryError, match="notary_patterns must be a tuple of strings"):
        registry.register(Rule(meta=_meta("XY124", notary_patterns="^x"), check=lambda ctx: ()))


def test_execution_order_changes_when_rules_run_not_the_report(tmp_path: Path) -> None:
    calls: list[str] = []

    def make(rule_id: str) -> Rule:
        def check(ctx: RuleContext) -> Iterator[Finding]:
            calls.append(rule_id)
            yield ctx.finding(path=ctx.bundle.name, message=f"from {rule_id}")
        return Rule(meta=_meta(rule_id, slug=f"rule-{rule_id.lower()}"), check=check)

    registry = Registry()
    for rule_id in ("XY100", "XY200", "XY300"):
        registry.register(make(rule_id))
    path = tmp_path / "tool"
    path.write_bytes(developer_id_like())
    bundle = open_input(path)
    selection = Selection(select=("ALL",))
    plain = run_rules(bundle, registry, selection, TEST_OPTIONS)
    assert calls == ["XY100", "XY200", "XY300"]
    calls.clear()
    last_first = run_rules(bundle, registry, selection, TEST_OPTIONS,
                           order=lambda r: -int(r.meta.id[2:]))
    assert calls == ["XY300", "XY200", "XY100"]
    assert last_first == plain  # same findings in the same order, same rules_run


def test_hashing_rules_run_last_seal_before_code_pages() -> None:
    from bundlelint.analysis import hashing

    registry = load_registry(plugins=False)
    stages = {r.meta.id: hashing.hash_stage(r.check) for r in registry}
    assert stages["BL230"] == stages["BL236"] == 1  # the seal: file digests, started first
    assert stages["BL210"] == stages["BL216"] == 2  # code pages, scheduled last
    assert stages["BL201"] == stages["BL220"] == stages["BL505"] == 0
