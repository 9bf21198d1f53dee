"""Map Apple's notary log onto bundlelint rules, and compare it with a local lint.

Every issue in the log becomes a ``Finding`` of the rule that answers Apple's message; an
issue no rule answers becomes a finding of BL790 that quotes Apple verbatim, so nothing Apple
said is ever dropped. This module sits below the rules layer, so it takes rule metadata through
the small ``AnswersNotary`` protocol (``RuleMeta`` satisfies it) instead of importing the
registry.

Matching priority (documented for ``bundlelint explain`` and the tests):

1. rules whose ``notary_messages`` contain Apple's exact message (also tried with surrounding
   whitespace stripped); if several do, the lowest rule ID wins;
2. otherwise rules with a ``notary_patterns`` entry that matches (``re.search``); if several do,
   the longest pattern wins (the most specific), then the lowest rule ID;
3. otherwise BL790.

Every rule that answers the message is kept as a candidate. Some messages cannot tell the
candidates apart ("The binary is not signed with a valid Developer ID certificate." is said of
ad-hoc code, of a wrong certificate and of an untrusted chain alike): the finding then names the
first candidate, every output shows them all, and ``choose_by_evidence`` picks the one a local
lint of the same bundle found at the same place. A log whose status is Invalid or Rejected but
none of whose issues is an error (status 7000, "Team is not yet configured for notarization.")
gets one finding for the job itself (BL791), so that the exit status and the report agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Protocol

from bundlelint.findings import Applicability, Finding, Fix, Location, Severity
from bundlelint.layout import BUNDLE_EXTENSIONS
from bundlelint.parsers.notary import NotaryIssue, NotaryLog, TicketItem
from bundlelint.shellquote import fill_template, quote_path

UNRECOGNISED_RULE = "BL790"
JOB_REJECTED_RULE = "BL791"
#: How the rule of a mapped issue was chosen.
ONLY_CANDIDATE = "only candidate"
FIRST_CANDIDATE = "first candidate"
BY_LOCAL_LINT = "local lint"
#: Extensions of the file people upload to the notary: the first path component of an issue.
UPLOAD_EXTENSIONS = (".zip", ".pkg", ".mpkg", ".dmg")


class AnswersNotary(Protocol):
    """The part of ``RuleMeta`` the mapping reads."""

    @property
    def id(self) -> str: ...
    @property
    def severity(self) -> Severity: ...
    @property
    def how_to_fix(self) -> str: ...
    @property
    def fix_command(self) -> str | None: ...
    @property
    def fix_applicability(self) -> Applicability: ...
    @property
    def notary_messages(self) -> tuple[str, ...]: ...
    @property
    def notary_patterns(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class Match:
    """Which rule answers a message, how it was found, and every rule that could have."""

    rule: AnswersNotary
    matched_by: str  # "exact", "pattern" or "none"
    candidates: tuple[str, ...]


class NotaryMatcher:
    """Looks Apple's messages up in the rules' metadata (see the module docstring)."""

    def __init__(self, metas: Iterable[AnswersNotary]) -> None:
        self._metas = sorted(metas, key=lambda m: m.id)
        by_id = {m.id: m for m in self._metas}
        self.by_id = by_id
        if UNRECOGNISED_RULE not in by_id:
            raise KeyError(f"{UNRECOGNISED_RULE} (unrecognised notary issue) is not registered")
        self.fallback = by_id[UNRECOGNISED_RULE]
        self._exact: dict[str, list[AnswersNotary]] = {}
        self._patterns: list[tuple[re.Pattern[str], AnswersNotary]] = []
        for meta in self._metas:
            for message in meta.notary_messages:
                self._exact.setdefault(message, []).append(meta)
            for pattern in meta.notary_patterns:
                self._patterns.append((re.compile(pattern), meta))

    def match(self, message: str) -> Match:
        exact = self._exact.get(message) or self._exact.get(message.strip()) or []
        by_pattern = sorted(
            ((p, m) for p, m in self._patterns if p.search(message)),
            key=lambda pm: (-len(pm[0].pattern), pm[1].id),
        )
        candidates = tuple(dict.fromkeys([m.id for m in exact] + [m.id for _, m in by_pattern]))
        if exact:
            return Match(exact[0], "exact", candidates)
        if by_pattern:
            return Match(by_pattern[0][1], "pattern", candidates)
        return Match(self.fallback, "none", (self.fallback.id,))


def bundle_path(apple_path: str | None, archive_filename: str | None = None) -> str | None:
    """Apple's archive path of an item as the path bundlelint shows for it.

    ``MyApp.zip/MyApp.app/Contents/MacOS/MyApp`` becomes ``MyApp.app/Contents/MacOS/MyApp``;
    ``x.pkg/x.pkg Contents/Payload/Applications/X.app/...`` becomes ``X.app/...``; an archive
    nested in the bundle stays a path component (``.../Resources/lib.jar/native/libfoo.dylib``),
    which is how the bundle model names the members of nested archives. Items outside any
    bundle keep the path below the upload (and below a package's ``Payload``).
    """
    if not apple_path:
        return None
    parts = [p for p in apple_path.split("/") if p not in ("", ".")]
    if not parts:
        return None
    first = parts[0]
    if (archive_filename and first == archive_filename) or first.lower().endswith(
        UPLOAD_EXTENSIONS
    ):
        parts = parts[1:] or parts
    for i, part in enumerate(parts):
        if PurePosixPath(part).suffix in BUNDLE_EXTENSIONS:
            return "/".join(parts[i:])
    if "Payload" in parts[:-1]:
        parts = parts[parts.index("Payload") + 1 :]
    return "/".join(parts)


def relative_to_bundle(path: str) -> str:
    """A display path without its first component (the bundle's own name), so that a bundle
    renamed after upload still compares equal."""
    _, _, rest = path.partition("/")
    return rest


@dataclass(frozen=True)
class MappedIssue:
    """One Apple issue, the finding it became, and the rules that answer its message."""

    issue: NotaryIssue
    finding: Finding
    bundle_path: str | None
    matched_by: str
    candidates: tuple[str, ...]
    chosen_by: str = ONLY_CANDIDATE

    @property
    def ambiguous(self) -> bool:
        """Whether Apple's message fits several rules (all of them are shown)."""
        return len(self.candidates) > 1


@dataclass(frozen=True)
class MappedTicketItem:
    """One ticketContents item with its path as bundlelint shows it."""

    item: TicketItem
    bundle_path: str | None


@dataclass(frozen=True)
class NotaryMapping:
    """A whole log, mapped."""

    log: NotaryLog
    issues: tuple[MappedIssue, ...]
    ticket: tuple[MappedTicketItem, ...] | None
    job: Finding | None = None  # the submission itself, when it failed with no error issue

    @property
    def findings(self) -> tuple[Finding, ...]:
        own = (self.job,) if self.job is not None else ()
        return own + tuple(m.finding for m in self.issues)

    @property
    def has_errors(self) -> bool:
        """Exactly when the report shows an error finding (the exit status follows it)."""
        return any(f.severity is Severity.ERROR for f in self.findings)


def finding_severity(apple_severity: str, rule_severity: Severity) -> Severity:
    """Apple's ``error`` keeps the rule's severity but is at least an error (the notary did
    reject the upload for it); Apple's ``warning`` is a warning. Apple has written nothing
    else; an unknown severity is treated as an error rather than quietly downgraded."""
    if apple_severity.lower() == "warning":
        return Severity.WARNING
    return max(rule_severity, Severity.ERROR)


def map_issue(issue: NotaryIssue, matcher: NotaryMatcher,
              archive_filename: str | None, rule: AnswersNotary | None = None,
              chosen_by: str | None = None) -> MappedIssue:
    """One issue as a finding of the rule that answers it (or of ``rule``, one of the
    candidates, when the caller chose it by evidence)."""
    match = matcher.match(issue.message)
    meta = rule or match.rule
    if chosen_by is None:
        chosen_by = FIRST_CANDIDATE if len(match.candidates) > 1 else ONLY_CANDIDATE
    path = bundle_path(issue.path, archive_filename)
    shown = path or issue.path or archive_filename or "(upload)"
    command = None
    if meta.fix_command is not None:
        command = fill_template(meta.fix_command, target=quote_path(shown))
    # Only what Apple wrote: a null docUrl or architecture is left out, never turned into "";
    # the candidates are a list on the mapped issue, not a joined string here.
    evidence = {
        "apple_severity": issue.severity,
        "apple_message": issue.message,
        "matched_by": match.matched_by,
        "chosen_by": chosen_by,
    }
    optional = {"apple_path": issue.path, "doc_url": issue.doc_url,
                "architecture": issue.architecture,
                "code": None if issue.code is None else str(issue.code)}
    evidence.update({k: v for k, v in optional.items() if v is not None})
    finding = Finding(
        rule_id=meta.id,
        severity=finding_severity(issue.severity, meta.severity),
        location=Location(path=shown, arch=issue.architecture or None),
        message=issue.message,
        fix=Fix(text=meta.how_to_fix, command=command, applicability=meta.fix_applicability),
        evidence=evidence,
    )
    return MappedIssue(issue, finding, path, match.matched_by, match.candidates, chosen_by)


def job_finding(log: NotaryLog, meta: AnswersNotary) -> Finding:
    """The submission itself as a finding: Apple's status, code and summary, verbatim."""
    parts = [f"the notary marked the submission {log.status}"]
    if log.status_code is not None:
        parts.append(f"(status code {log.status_code})")
    text = " ".join(parts)
    if log.status_summary:
        text += f": {log.status_summary}"
    elif log.message:
        text += f": {log.message}"
    evidence = {"apple_status": log.status or ""}
    optional = {"status_code": None if log.status_code is None else str(log.status_code),
                "status_summary": log.status_summary, "job_id": log.job_id}
    evidence.update({k: v for k, v in optional.items() if v is not None})
    return Finding(
        rule_id=meta.id,
        severity=max(meta.severity, Severity.ERROR),
        location=Location(path=log.archive_filename or log.name or log.source),
        message=text,
        fix=Fix(text=meta.how_to_fix, command=None, applicability=meta.fix_applicability),
        evidence=evidence,
    )


def map_log(log: NotaryLog, metas: Iterable[AnswersNotary]) -> NotaryMapping:
    """Every issue of ``log`` as a finding (in log order), its ticket with bundle paths, and a
    finding for the job when Apple failed it without an error issue."""
    matcher = NotaryMatcher(metas)
    issues = tuple(map_issue(i, matcher, log.archive_filename) for i in log.issues)
    ticket = None
    if log.ticket_contents is not None:
        ticket = tuple(MappedTicketItem(t, bundle_path(t.path, log.archive_filename))
                       for t in log.ticket_contents)
    job = None
    if log.is_rejected and not any(m.finding.severity is Severity.ERROR for m in issues):
        job_meta = matcher.by_id.get(JOB_REJECTED_RULE, matcher.fallback)
        job = job_finding(log, job_meta)
    return NotaryMapping(log=log, issues=issues, ticket=ticket, job=job)


def choose_by_evidence(mapping: NotaryMapping, local: Sequence[Finding],
                       metas: Iterable[AnswersNotary]) -> NotaryMapping:
    """The mapping with each ambiguous issue given the candidate rule that a local lint of the
    same bundle found at the same place (the first such candidate in ID order); an issue no
    local finding explains keeps its first candidate, and every candidate stays listed."""
    matcher = NotaryMatcher(metas)
    issues = []
    for mapped in mapping.issues:
        if mapped.ambiguous:
            found = {f.rule_id for f in local
                     if f.rule_id in mapped.candidates and _same_place(mapped, f)}
            chosen = next((rid for rid in mapped.candidates if rid in found), None)
            if chosen is not None:
                mapped = map_issue(mapped.issue, matcher, mapping.log.archive_filename,
                                   rule=matcher.by_id[chosen], chosen_by=BY_LOCAL_LINT)
        issues.append(mapped)
    return NotaryMapping(log=mapping.log, issues=tuple(issues), ticket=mapping.ticket,
                         job=mapping.job)


@dataclass(frozen=True)
class Comparison:
    """Apple's verdict next to a local lint of the same bundle."""

    predicted: tuple[tuple[MappedIssue, Finding], ...]
    missed: tuple[MappedIssue, ...]
    local_only: tuple[Finding, ...]  # local errors Apple did not report


def _same_place(mapped: MappedIssue, local: Finding) -> bool:
    if mapped.bundle_path is None:
        return False
    if not _same_path(mapped.bundle_path, local.location.path):
        return False
    arch = mapped.issue.architecture
    return not arch or not local.location.arch or arch == local.location.arch


def _same_path(apple: str, local: str) -> bool:
    """Whether Apple's item (already through :func:`bundle_path`) is the local finding's file.

    The local path goes through :func:`bundle_path` too, so a file in a disk image
    (``X.dmg/X.app/...``) or a package (``X.pkg/sub.pkg/Payload/Applications/X.app/...``)
    compares as the bundle path Apple's log gives. Apple names a package's payload files
    below the payload's root (``X.pkg/sub.pkg Contents/Payload/tool/bin``), while bundlelint
    shows them below the install location, so outside any bundle a package file matches when
    Apple's path is its trailing components."""
    normal = bundle_path(local) or local
    if relative_to_bundle(apple) == relative_to_bundle(normal):
        return True
    return "Payload" in local.split("/")[:-1] and normal.endswith("/" + apple)


def compare(mapping: NotaryMapping, local: Sequence[Finding]) -> Comparison:
    """Which Apple issues a local finding predicted (a candidate rule, the same
    bundle-relative path, the same architecture where both give one), which it missed, and
    which local errors Apple did not report."""
    predicted: list[tuple[MappedIssue, Finding]] = []
    missed: list[MappedIssue] = []
    used: set[int] = set()
    for mapped in mapping.issues:
        hit = next(
            (i for i, f in enumerate(local)
             if f.rule_id in mapped.candidates and _same_place(mapped, f)),
            None,
        )
        if hit is None:
            missed.append(mapped)
        else:
            used.add(hit)
            predicted.append((mapped, local[hit]))
    local_only = tuple(
        f for i, f in enumerate(local)
        if f.severity is Severity.ERROR and i not in used and not _answers_any(f, mapping)
    )
    return Comparison(tuple(predicted), tuple(missed), local_only)


def _answers_any(local: Finding, mapping: NotaryMapping) -> bool:
    """A local finding that repeats an Apple issue already predicted by another finding (two
    slices, one Apple line) is not 'unreported by Apple'."""
    return any(local.rule_id in m.candidates and _same_place(m, local) for m in mapping.issues)
