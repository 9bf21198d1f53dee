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
    #: Zip input: the most the archive may declare uncompressed, and the highest compression
    #: ratio (overall, or of one member of 1 MiB or more). Over either, nothing is inflated.
    max_archive_size: int = 8 * 1024**3
    max_compression_ratio: float = 200.0
    #: Zip input: the most central directory entries read. Python's zipfile keeps an object per
    #: entry (and so does the bundle model), so this bounds memory whatever the archive claims;
    #: the largest app bundles seen have well under 100,000 files.
    max_archive_members: int = 250_000
