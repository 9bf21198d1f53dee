"""Findings: small immutable values that every rule yields and every reporter renders."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field


class Severity(enum.Enum):
    """How bad a finding is. Ordered: ``ERROR > WARNING > INFO``."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank >= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank > other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}


class Applicability(enum.Enum):
    """How safe it is to run a fix's command as printed (ruff's grading)."""

    SAFE = "safe"  # run as is; changes nothing but what the finding is about
    UNSAFE = "unsafe"  # works, but review it: placeholders or side effects
    DISPLAY = "display"  # shown for guidance only


@dataclass(frozen=True, kw_only=True)
class Location:
    """Where a finding is: a path that starts with the scanned input's name.

    ``arch`` names a Mach-O slice (``arm64``, ``x86_64``); ``offset`` is a byte offset in the file
    where one helps (parse errors, a bad page).
    """

    path: str
    arch: str | None = None
    offset: int | None = None

    def __str__(self) -> str:
        text = self.path
        if self.arch:
            text += f" [{self.arch}]"
        if self.offset is not None:
            text += f" @ {self.offset:#x}"
        return text


@dataclass(frozen=True, kw_only=True)
class Fix:
    """What to do about a finding: prose, plus the exact command when there is one."""

    text: str
    command: str | None = None
    applicability: Applicability = Applicability.UNSAFE


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One problem found by one rule in one place."""

    rule_id: str
    severity: Severity
    location: Location
    message: str
    fix: Fix | None = None
    evidence: Mapping[str, str] = field(default_factory=dict)

    @property
    def path(self) -> str:
        """The file, starting with the input's name (``Demo.app/Contents/MacOS/demo``)."""
        return self.location.path

    @property
    def arch(self) -> str | None:
        """The Mach-O slice (``arm64``, ``x86_64``), if the finding is about one."""
        return self.location.arch

    @property
    def offset(self) -> int | None:
        """A byte offset in the file, where one helps."""
        return self.location.offset

    def sort_key(self) -> tuple[str, str, int, str, str]:
        return (
            self.location.path,
            self.location.arch or "",
            -self.severity.rank,
            self.rule_id,
            self.message,
        )
