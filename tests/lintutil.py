"""Run bundlelint in-process for tests and pick findings apart."""

from __future__ import annotations

from pathlib import Path

from bundlelint.bundle import open_input
from bundlelint.engine import Report, Selection, run_rules
from bundlelint.findings import Finding
from bundlelint.options import Options
from bundlelint.rules import load_registry
from fixtures import test_ca

REGISTRY = load_registry(plugins=False)
#: The throwaway test CA's root, trusted in addition to Apple's (as --trust-anchor does).
TEST_OPTIONS = Options(extra_trust_anchors=(test_ca.root().der,))


def lint(path: Path, select: tuple[str, ...] = ("ALL",), options: Options = TEST_OPTIONS) -> Report:
    return run_rules(open_input(path, options), REGISTRY, Selection(select=select), options)


def by_rule(report: Report, rule_id: str) -> list[Finding]:
    return [f for f in report.findings if f.rule_id == rule_id]


def rule_ids(report: Report) -> set[str]:
    return {f.rule_id for f in report.findings}
