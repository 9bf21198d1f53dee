"""Rule metadata and the small API every rule is written against.

One ``RuleMeta`` per rule holds everything a user reads about it: the summary, the fixed doc
sections, the fix command template and the Apple notary messages it answers. ``explain``, the
``rules`` listing, the JSON and SARIF reporters and the README table all read this one object.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bundlelint.findings import Applicability, Finding, Fix, Location, Severity
from bundlelint.options import Options

if TYPE_CHECKING:
    from bundlelint.bundle import Bundle

RULE_ID_PATTERN = re.compile(r"^[A-Z]{2,4}[0-9]{3}$")
SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")

FAMILIES = {
    "BL0": "input and bundle layout",
    "BL1": "Mach-O",
    "BL2": "code signature",
    "BL3": "entitlements",
    "BL4": "Info.plist",
    "BL5": "Metal",
    "BL6": "Go and cgo",
    "BL7": "archive and notary log",
}


@dataclass(frozen=True, kw_only=True)
class RuleMeta:
    """Everything about a rule except its check.

    Doc sections are fixed (ruff's habit): ``what`` it checks, ``why`` Apple or the OS cares,
    ``how_to_fix``. ``fix_command`` is a template with ``{placeholders}`` filled per finding.
    ``notary_messages`` are Apple's exact strings this rule answers; ``notary_patterns`` are
    regular expressions for messages where Apple varies a path or an entitlement name.
    """

    id: str
    slug: str
    severity: Severity
    summary: str
    what: str
    why: str
    how_to_fix: str
    fix_command: str | None = None
    fix_applicability: Applicability = Applicability.UNSAFE
    references: tuple[str, ...] = ()
    notary_messages: tuple[str, ...] = ()
    notary_patterns: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    @property
    def family(self) -> str:
        return FAMILIES.get(self.id[:3], "plugin")

    def validate(self) -> None:
        """Raise ``ValueError`` naming the problem if this metadata is malformed."""
        if not RULE_ID_PATTERN.match(self.id):
            raise ValueError(f"rule ID {self.id!r} must look like BL123")
        for alias in self.aliases:
            if not RULE_ID_PATTERN.match(alias):
                raise ValueError(f"alias {alias!r} of {self.id} must look like BL123")
        if not SLUG_PATTERN.match(self.slug):
            raise ValueError(f"rule {self.id}: slug {self.slug!r} must be kebab-case")
        for name in ("summary", "what", "why", "how_to_fix"):
            if not getattr(self, name).strip():
                raise ValueError(f"rule {self.id}: doc section {name!r} is empty")
        for name in ("references", "notary_messages", "notary_patterns", "aliases"):
            value = getattr(self, name)
            if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"rule {self.id}: {name} must be a tuple of strings")
        for pattern in self.notary_patterns:
            re.compile(pattern)


CheckFunction = Callable[["RuleContext"], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    """A rule: its metadata plus the function that checks a bundle."""

    meta: RuleMeta
    check: CheckFunction

    @property
    def id(self) -> str:
        return self.meta.id


@dataclass
class RuleContext:
    """What a rule sees: the parsed bundle, and a helper to make findings in its own name."""

    bundle: Bundle
    meta: RuleMeta
    options: Options = field(default_factory=Options)

    def finding(
        self,
        *,
        path: str,
        message: str,
        arch: str | None = None,
        offset: int | None = None,
        fix_text: str | None = None,
        command: str | None = None,
        evidence: Mapping[str, object] | None = None,
        **placeholders: str,
    ) -> Finding:
        """A finding of this rule. The fix command defaults to the metadata's template,
        formatted with ``placeholders``; a template whose placeholders are not all given is
        shown as written (with its ``{names}``) rather than failing."""
        if command is None and self.meta.fix_command is not None:
            try:
                command = self.meta.fix_command.format(**placeholders)
            except (KeyError, IndexError):
                command = self.meta.fix_command
        fix = Fix(
            text=fix_text or self.meta.how_to_fix,
            command=command,
            applicability=self.meta.fix_applicability,
        )
        return Finding(
            rule_id=self.meta.id,
            severity=self.meta.severity,
            location=Location(path=path, arch=arch, offset=offset),
            message=message,
            fix=fix,
            evidence={k: str(v) for k, v in (evidence or {}).items()},
        )


def rule(meta: RuleMeta) -> Callable[[CheckFunction], Rule]:
    """Decorator: turn a check function into a ``Rule`` with ``meta``."""

    def wrap(func: CheckFunction) -> Rule:
        return Rule(meta=meta, check=func)

    return wrap


def iter_rules(namespace: Mapping[str, object]) -> Iterator[Rule]:
    """The ``Rule`` objects defined in a module namespace, in definition order."""
    for value in namespace.values():
        if isinstance(value, Rule):
            yield value
