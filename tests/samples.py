"""The real samples nobody here made: ``../shared/samples/`` beside the repository, or wherever
``BUNDLELINT_SAMPLES`` points. The one place tests find them, and the one way a test asks for
one: skipped, saying why, when the folder is not there (CI has it; a bare clone does not)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES_ROOT = Path(os.environ.get("BUNDLELINT_SAMPLES") or ROOT.parent / "shared" / "samples")
#: Disk images and installer packages (their SOURCES.md says where each comes from).
CONTAINERS = SAMPLES_ROOT / "containers"
#: ``notarytool log`` output of real submissions.
NOTARY_LOGS = SAMPLES_ROOT / "notary-logs"


def _present(path: Path) -> Path:
    if not path.is_file():
        pytest.skip(f"{path} is absent: the shared samples folder is not next to the "
                    "repository (set BUNDLELINT_SAMPLES to its path)")
    return path


def container(name: str) -> Path:
    """The disk image or package ``name`` from the samples, or skip the test saying why."""
    return _present(CONTAINERS / name)


def notary_log(name: str) -> Path:
    """The real notary log ``name`` from the samples, or skip the test saying why."""
    return _present(NOTARY_LOGS / name)
