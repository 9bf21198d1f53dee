"""Run bundlelint in-process for tests and pick findings apart.

``lint`` goes through the public API (``bundlelint.lint``), so rules are driven by the same
pipeline as the command line: early hashing, prefetch, rule order and pool shutdown included."""

from __future__ import annotations

from pathlib import Path

import bundlelint
from bundlelint.engine import Report
from bundlelint.findings import Finding
from bundlelint.options import Options
from bundlelint.rules import load_registry
from fixtures import test_ca

REGISTRY = load_registry(plugins=False)
#: The throwaway test CA's root, trusted in addition to Apple's (as --trust-anchor does).
TEST_OPTIONS = Options(extra_trust_anchors=(test_ca.root().der,))


def lint(path: Path, select: tuple[str, ...] = ("ALL",), options: Options = TEST_OPTIONS) -> Report:
    return bundlelint.lint(path, select=select, options=options, registry=REGISTRY)


def by_rule(report: Report, rule_id: str) -> list[Finding]:
    return [f for f in report.findings if f.rule_id == rule_id]


def rule_ids(report: Report) -> set[str]:
    return {f.rule_id for f in report.findings}
