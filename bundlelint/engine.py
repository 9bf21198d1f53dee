"""The engine: run the selected rules over a bundle and collect their findings.

A ``ParseError`` escaping a rule becomes a finding of the parse-error rule (with file and offset),
and a crashing rule becomes an internal-error finding that names it; the other rules still run.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from bundlelint.bundle import Bundle
from bundlelint.errors import FileSkipped, ParseError, UsageError
from bundlelint.findings import Finding, Location, Severity
from bundlelint.options import Options
from bundlelint.rules import Registry
from bundlelint.rules.base import Rule, RuleContext

PARSE_ERROR_RULE = "BL001"
INTERNAL_ERROR_RULE = "BL003"
#: Rules that run and report whatever the selection (``--select``, ``--ignore``, per-path
#: ignores): their findings say the report is incomplete (a file over --max-file-size was not
#: read), and a selection chooses checks, it must not make an unchecked file pass silently.
#: Their severity can still be overridden in the configuration.
ALWAYS_REPORTED = frozenset({"BL008"})


@dataclass(frozen=True, kw_only=True)
class Selection:
    """Which rules run and how severe their findings are: the single place that decides."""

    select: tuple[str, ...] = ("ALL",)
    ignore: tuple[str, ...] = ()
    severity_overrides: dict[str, Severity] = field(default_factory=dict)
    fail_on: Severity = Severity.ERROR
    #: (glob, codes) pairs: findings of ``codes`` at a path matching the glob are dropped.
    #: Globs match the path relative to the input root (see ``bundlelint.paths``).
    per_path_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def validate(self, registry: Registry) -> None:
        """Every code named must match at least one rule (a typo is a usage error)."""
        path_codes = [c for _, codes in self.per_path_ignores for c in codes]
        for code in (*self.select, *self.ignore, *self.severity_overrides, *path_codes):
            if registry.code(code) is None:
                raise UsageError(f"unknown rule code {code!r} (see `bundlelint rules`)")

    def resolved(self, registry: Registry) -> Selection:
        """This selection with every rule slug replaced by its rule ID (after ``validate``):
        findings print the slug, so users select and ignore by it too."""
        def ids(codes: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(registry.code(c) or c for c in codes)

        return replace(
            self, select=ids(self.select), ignore=ids(self.ignore),
            severity_overrides={registry.resolve(k): v
                                for k, v in self.severity_overrides.items()},
            per_path_ignores=tuple((glob, ids(codes)) for glob, codes in self.per_path_ignores),
        )

    def enabled(self, rule: Rule) -> bool:
        return self.enabled_names(_names(rule))

    def enabled_names(self, names: tuple[str, ...]) -> bool:
        """Whether a rule known by ``names`` (its ID, then its old IDs) is selected."""
        return self._matches(names, self.select) and not self._matches(names, self.ignore)

    @staticmethod
    def _matches(names: tuple[str, ...], codes: Iterable[str]) -> bool:
        for code in codes:
            code = code.upper()
            if code == "ALL" or any(n.startswith(code) for n in names):
                return True
        return False

    def ignored_at(self, names: tuple[str, ...], path: str, input_name: str) -> bool:
        """Whether a per-path ignore covers the rule known by ``names`` at ``path``."""
        from bundlelint.paths import path_matches

        return any(
            self._matches(names, codes) and path_matches(glob, path, input_name)
            for glob, codes in self.per_path_ignores
        )

    def severity_for(self, rule_id: str, default: Severity) -> Severity:
        return self.severity_overrides.get(rule_id, default)


@dataclass(frozen=True)
class Report:
    """The outcome of linting one input: ``findings`` sorted by path, architecture, severity
    (most severe first) and rule."""

    input_name: str
    findings: tuple[Finding, ...]
    rules_run: tuple[str, ...]
    #: How many findings a baseline excused (they are not in ``findings``): reports say so, so
    #: that a baseline never makes an input read as cleaner than it is.
    baselined: int = 0
    #: The lowest severity that fails the report (``--fail-on``).
    fail_on: Severity = Severity.ERROR
    #: The input's signing tree as ``inspect`` builds it (``analysis.inspection
    #: .signing_tree_record``), when the caller asked for it: the HTML report draws it above
    #: the findings. Plain JSON-ready data.
    tree: Mapping[str, Any] | None = None

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    @property
    def failed(self) -> bool:
        """Whether a finding is at or above ``fail_on`` (the command line exits 1)."""
        return any(f.severity >= self.fail_on for f in self.findings)

    @property
    def has_internal_error(self) -> bool:
        return any(f.rule_id == INTERNAL_ERROR_RULE for f in self.findings)


def run_rules(
    bundle: Bundle, registry: Registry, selection: Selection, options: Options | None = None,
    order: Callable[[Rule], int] | None = None,
) -> Report:
    """Run every enabled rule over ``bundle``; never raises for a problem in the input.

    ``order`` ranks rules for execution (lower first, ID order within a rank): the check
    command runs rules that wait for the hashing workers last. The report does not depend on it:
    findings are sorted, and ``rules_run`` is in ID order."""
    options = options or Options()
    selection = selection.resolved(registry)
    findings: list[Finding] = []
    enabled = [rule for rule in registry
               if selection.enabled(rule) or rule.meta.id in ALWAYS_REPORTED]
    ran = [rule.meta.id for rule in enabled]
    if order is not None:
        enabled.sort(key=order)  # stable: ID order within a rank
    for rule in enabled:
        ctx = RuleContext(bundle=bundle, meta=rule.meta, options=options)
        try:
            findings.extend(rule.check(ctx))
        except FileSkipped:
            pass  # a file over --max-file-size: BL008 reports every one, whatever is selected
        except ParseError as err:
            findings.append(_parse_error_finding(registry, err))
        except Exception as exc:  # a bug in a rule must not hide the other rules' findings
            findings.append(_internal_error_finding(registry, rule, bundle, exc))
    adjusted = []
    seen: set[tuple[str, str, str | None, str]] = set()
    for finding in findings:
        owner = registry.get(finding.rule_id)
        names = _names(owner) if owner is not None else (finding.rule_id,)
        if finding.rule_id not in ALWAYS_REPORTED and (
            not selection.enabled_names(names)
            or selection.ignored_at(names, finding.location.path, bundle.name)
        ):
            continue
        key = (finding.rule_id, finding.location.path, finding.location.arch, finding.message)
        if key in seen:
            continue
        seen.add(key)
        severity = selection.severity_for(finding.rule_id, finding.severity)
        adjusted.append(replace(finding, severity=severity) if severity != finding.severity
                        else finding)
    adjusted.sort(key=Finding.sort_key)
    return Report(input_name=bundle.name, findings=tuple(adjusted), rules_run=tuple(ran),
                  fail_on=selection.fail_on)


@dataclass(frozen=True)
class InputProblem:
    """An input that could not be read at all (exit status 2): ``path`` is its name as
    reports show it, ``given`` the path as given."""

    path: str
    reason: str
    given: str = ""


def _names(rule: Rule) -> tuple[str, ...]:
    return (rule.meta.id, *rule.meta.aliases)


def _parse_error_finding(registry: Registry, err: ParseError) -> Finding:
    meta = registry.meta(PARSE_ERROR_RULE)
    return Finding(
        rule_id=meta.id,
        severity=meta.severity,
        location=Location(path=err.path, offset=err.offset),
        message=f"invalid {err.format}: {err.reason}",
        evidence={"format": err.format},
    )


def _internal_error_finding(
    registry: Registry, rule: Rule, bundle: Bundle, exc: Exception
) -> Finding:
    meta = registry.meta(INTERNAL_ERROR_RULE)
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" ({frame.filename}:{frame.lineno})" if frame else ""
    return Finding(
        rule_id=meta.id,
        severity=meta.severity,
        location=Location(path=bundle.name),
        message=f"rule {rule.meta.id} ({rule.meta.slug}) crashed: "
        f"{type(exc).__name__}: {exc}{where}",
        evidence={"rule": rule.meta.id, "exception": type(exc).__name__},
    )
