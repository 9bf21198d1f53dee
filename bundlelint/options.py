"""Options that change how rules judge (not which rules run: that is ``engine.Selection``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, kw_only=True)
class Options:
    """Settings from the command line and configuration that rules and analyses read.

    ``extra_trust_anchors`` are DER certificates trusted *in addition to* the pinned Apple roots,
    for test fixtures signed by a throwaway CA; they never replace or widen Apple's roots for
    anything they did not issue.
    """

    extra_trust_anchors: tuple[bytes, ...] = ()
    expected_team_id: str | None = None
    expected_bundle_identifier: str | None = None
    expected_entitlements: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    max_file_size: int | None = None
    jobs: int | None = None
