"""Rule metadata and the small API every rule is written against.

One ``RuleMeta`` per rule holds everything a user reads about it: the summary, the fixed doc
sections, the fix command template, the Apple notary messages it answers, and what happens if a
finding is ignored (its ``Consequence``) with the ``Evidence`` for it. ``explain``, the ``rules``
listing, the JSON and SARIF reporters, the docs and the README table all read this one object.

Severity is never written by a rule: it follows from the consequence by one policy
(``SEVERITY_POLICY``, documented in docs/consequences.md). Apple acting on it (the notary
rejects, codesign refuses, Gatekeeper blocks, the app is killed or cannot start) is an error;
"it may fail at run time" is a warning; advice is info.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bundlelint.findings import Applicability, Finding, Fix, Location, Severity
from bundlelint.options import Options
from bundlelint.shellquote import fill_template

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
    "BL8": "disk images, installer packages and stapled tickets",
}


class Consequence(enum.Enum):
    """What happens if a finding of a rule is ignored. The value is the sentence users read."""

    NOTARY_REJECTS = "the notary rejects the upload"
    CODESIGN_REFUSES = "codesign refuses to sign"
    GATEKEEPER_BLOCKS = "Gatekeeper blocks the first launch"
    CANNOT_START = "the app is killed or cannot start"
    MAY_FAIL = "it may fail at run time"
    ADVICE = "advice"
    # Not Apple's verdicts: bundlelint's own, and said so wherever they are shown.
    NOT_CHECKED = "bundlelint could not check it, so nothing in it is vouched for"
    EXPECTATION_BROKEN = "the build differs from what your configuration expects"

    @property
    def key(self) -> str:
        """The stable machine name (JSON, SARIF): ``notary-rejects``, ``may-fail``..."""
        return self.name.lower().replace("_", "-")

    @property
    def is_apples(self) -> bool:
        """Whether Apple's tools or OS act on it (so Apple's evidence must back it)."""
        return self in APPLE_ACTIONS

    @property
    def severity(self) -> Severity:
        return SEVERITY_POLICY[self]


#: Consequences that are something Apple's tools or the OS do.
APPLE_ACTIONS = frozenset({
    Consequence.NOTARY_REJECTS, Consequence.CODESIGN_REFUSES, Consequence.GATEKEEPER_BLOCKS,
    Consequence.CANNOT_START,
})

#: The one severity policy. The two bundlelint verdicts are errors because a lint that could
#: not look, or a build that broke the user's own stated expectation, must fail a CI gate.
SEVERITY_POLICY: Mapping[Consequence, Severity] = {
    Consequence.NOTARY_REJECTS: Severity.ERROR,
    Consequence.CODESIGN_REFUSES: Severity.ERROR,
    Consequence.GATEKEEPER_BLOCKS: Severity.ERROR,
    Consequence.CANNOT_START: Severity.ERROR,
    Consequence.MAY_FAIL: Severity.WARNING,
    Consequence.ADVICE: Severity.INFO,
    Consequence.NOT_CHECKED: Severity.ERROR,
    Consequence.EXPECTATION_BROKEN: Severity.ERROR,
}


class EvidenceKind(enum.Enum):
    """Where a claim about Apple's behaviour comes from."""

    APPLE_SOURCE = "apple-source"  # Apple's open source: text names the function and error
    APPLE_DOC = "apple-doc"  # an Apple documentation page (or Apple DTS forum answer)
    NOTARY_MESSAGE = "notary-message"  # text is Apple's exact message, where is a public log
    TOOLCHAIN = "toolchain"  # a toolchain's public source, docs or issue tracker (Go, Metal...)
    POLICY = "policy"  # bundlelint's own policy, documented in docs/consequences.md

    @property
    def is_external(self) -> bool:
        """Whether it is a fact someone else published, not bundlelint's own decision."""
        return self is not EvidenceKind.POLICY


@dataclass(frozen=True)
class Evidence:
    """One piece of evidence for a rule's consequence: ``kind``, what it shows (``text``: a
    function and error code, a quoted sentence, the exact notary message) and ``where`` it can
    be read (a public source path in a repository, a URL)."""

    kind: EvidenceKind
    text: str
    where: str

    def __str__(self) -> str:
        return f"[{self.kind.value}] {self.text} ({self.where})"


#: The Apple open-source releases our source evidence was read in (tags of
#: github.com/apple-oss-distributions/<project>).
APPLE_RELEASES = {"Security": "Security-61901.0.87.0.1", "dyld": "dyld-1378", "ld64": "ld64-956.6",
                  "copyfile": "copyfile-224", "xar": "xar-503"}
CODESIGNING_LIB = "OSX/libsecurity_codesigning/lib/"


def source(project: str, path: str, function: str, what: str) -> Evidence:
    """Evidence from Apple's open source: ``function`` in ``path`` of ``project`` (Security,
    dyld, ld64, copyfile) at the release in ``APPLE_RELEASES`` does ``what``. A bare file name in
    Security means libsecurity_codesigning's lib/ directory."""
    if project == "Security" and "/" not in path:
        path = CODESIGNING_LIB + path
    url = (f"https://github.com/apple-oss-distributions/{project}/blob/"
           f"{APPLE_RELEASES[project]}/{path}")
    return Evidence(EvidenceKind.APPLE_SOURCE, f"{function}: {what}", url)


def doc(url: str, what: str) -> Evidence:
    """Evidence from an Apple documentation page."""
    return Evidence(EvidenceKind.APPLE_DOC, what, url)


def notary(message: str, seen_in: str) -> Evidence:
    """Apple's exact notary ``message``, ``seen_in`` a public log or Apple's page quoting it."""
    return Evidence(EvidenceKind.NOTARY_MESSAGE, message, seen_in)


def toolchain(what: str, where: str) -> Evidence:
    """Evidence from a toolchain's public source, documentation or issue tracker."""
    return Evidence(EvidenceKind.TOOLCHAIN, what, where)


def policy(what: str) -> Evidence:
    """bundlelint's own decision, not Apple's: said so wherever it is shown."""
    return Evidence(EvidenceKind.POLICY, what, "docs/consequences.md")


@dataclass(frozen=True, kw_only=True)
class RuleMeta:
    """Everything about a rule except its check.

    Doc sections are fixed (ruff's habit): ``what`` it checks, ``why`` Apple or the OS cares,
    ``how_to_fix``. ``fix_command`` is a template with ``{placeholders}`` filled per finding.
    ``notary_messages`` are Apple's exact strings this rule answers; ``notary_patterns`` are
    regular expressions for messages where Apple varies a path or an entitlement name.
    ``consequence`` says what happens if a finding is ignored and ``evidence`` why we believe
    it; the severity follows from the consequence (``SEVERITY_POLICY``), never stated twice.
    """

    id: str
    slug: str
    consequence: Consequence
    evidence: tuple[Evidence, ...]
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
    def severity(self) -> Severity:
        """The default severity, derived from the consequence by the one policy."""
        return self.consequence.severity

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
        if not isinstance(self.consequence, Consequence):
            raise ValueError(f"rule {self.id}: consequence must be a Consequence")
        if not isinstance(self.evidence, tuple) or not self.evidence or not all(
            isinstance(e, Evidence) and e.text.strip() and e.where.strip() for e in self.evidence
        ):
            raise ValueError(f"rule {self.id}: evidence must be a non-empty tuple of Evidence")
        if self.consequence.is_apples and not any(e.kind.is_external for e in self.evidence):
            raise ValueError(
                f"rule {self.id}: '{self.consequence.value}' needs published evidence (Apple's "
                "source or documentation, a notary message), not only bundlelint's policy"
            )


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
        filled with ``placeholders``: raw values, each shell-quoted here (``fill_template``);
        a template whose placeholders are not all given is shown as written (with its
        ``{names}``) rather than failing. A hand-built ``command`` quotes its own values with
        ``bundlelint.shellquote``."""
        if command is None and self.meta.fix_command is not None:
            command = fill_template(self.meta.fix_command, **placeholders)
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
