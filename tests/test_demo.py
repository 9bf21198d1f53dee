"""The demo bundle in the repository: what the README's first command shows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from lintutil import lint

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo" / "Demo.app"


def test_demo_findings_are_the_real_defects_of_a_go_build() -> None:
    report = lint(DEMO)
    assert {(f.rule_id, f.location.arch) for f in report.findings} == {
        ("BL201", "x86_64"),  # Go leaves darwin/amd64 unsigned
        ("BL202", "arm64"),  # Go's linker signs darwin/arm64 ad hoc
        ("BL203", "arm64"),
        ("BL204", "x86_64"),
        ("BL407", None),  # Go's minos (both slices) is newer than the declared 10.15
    }
    assert {f.location.path for f in report.findings} == {"Demo.app/Contents/MacOS/demo",
                                                          "Demo.app/Contents/Info.plist"}


def test_readme_first_command_exits_1_and_names_the_fix() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bundlelint", "--no-color", str(DEMO)],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert "4 errors, 1 warning, 0 info in 2 files (Demo.app)" in proc.stdout
    assert "--deep" not in proc.stdout
    assert f"--sign \"Developer ID Application: YOUR NAME (TEAMID)\" {DEMO}\n" in proc.stdout
