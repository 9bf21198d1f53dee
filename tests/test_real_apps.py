"""Real notarized apps that nobody on this project wrote: Apple accepted them, so bundlelint
must report no error on them (a false error on notarized code is a bug).

The apps come from the disk images in ``../shared/samples/containers/`` (public, pinned by
sha256; their sources are listed in that folder's SOURCES.md) and are unpacked with 7-Zip,
a test-only tool (Debian package ``7zip``, which ``.ci/run`` installs). Where the samples or
``7zz`` are absent the tests skip and say which.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
from lintutil import by_rule, lint
from samples import CONTAINERS as SAMPLES

from bundlelint.bundle import open_input
from bundlelint.findings import Severity

ROOT = Path(__file__).resolve().parent.parent
#: JuhFlow.app: a Swift arm64 app, Developer ID (Team T457T7F9C5), hardened runtime, on an
#: APFS disk image that is notarized and stapled (JuhLabs/juhradial-mx, juhflow/JuhFlow.dmg).
JUHFLOW_DMG = SAMPLES / "01-juhflow-devid-notarized-apfs.dmg"
JUHFLOW_SHA256 = "bd2846bb4e6e5bef7827924a8fa7ba69426b645d3c10ac49e0b1bc288bd31fcc"
JUHFLOW_TEAM = "T457T7F9C5"
CS_RUNTIME = 0x10000


def _extract(archive: Path, into: Path, sevenzip: str) -> None:
    # -sns-: extended attributes (com.apple.provenance) are not written out as extra
    # "name:attribute" files, which would be files the app's seal does not know.
    subprocess.run([sevenzip, "x", "-y", "-sns-", f"-o{into}", str(archive)], check=True,
                   capture_output=True)


def _unpack_app(dmg: Path, into: Path, name: str) -> Path:
    """``name`` from the disk image, extracted with 7zz; 7-Zip opens the APFS volume inside
    the UDIF image directly, and otherwise leaves the partition image to extract again."""
    if not dmg.is_file():
        pytest.skip(f"{dmg} is absent: the shared samples folder is not next to the repository "
                    "(set BUNDLELINT_SAMPLES to its path)")
    sevenzip = shutil.which("7zz")
    if sevenzip is None:
        pytest.skip("7zz is not installed (Debian package 7zip)")
    assert hashlib.sha256(dmg.read_bytes()).hexdigest() == JUHFLOW_SHA256
    _extract(dmg, into, sevenzip)
    for _ in range(2):
        found = sorted(p for p in into.rglob(name) if p.is_dir())
        if found:
            return found[0]
        inner = sorted(p for p in into.rglob("*") if p.is_file()
                       and p.suffix.lower() in (".apfs", ".hfs", ".hfsx", ".img"))
        if not inner:
            break
        _extract(inner[0], into / "inner", sevenzip)
    pytest.fail(f"{name} not found in what 7zz extracted from {dmg.name}")


@pytest.fixture(scope="module")
def juhflow(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _unpack_app(JUHFLOW_DMG, tmp_path_factory.mktemp("juhflow"), "JuhFlow.app")


def test_juhflow_is_what_the_sample_says(juhflow: Path) -> None:
    # The facts the no-false-error test below leans on, read through our own model.
    bundle = open_input(juhflow)
    main = bundle.main_executable
    assert main is not None and main.relpath == "Contents/MacOS/JuhFlowGUI"
    [arm64] = bundle.macho(main).slices
    assert arm64.arch == "arm64" and arm64.signature is not None
    cd = arm64.signature.primary
    assert cd is not None and cd.team_id == JUHFLOW_TEAM and cd.flags & CS_RUNTIME
    assert bundle.entry("Contents/_CodeSignature/CodeResources") is not None


def test_notarized_juhflow_has_no_error_findings(juhflow: Path) -> None:
    report = lint(juhflow)
    errors = [(f.rule_id, f.location.path, f.message) for f in report.findings
              if f.severity is Severity.ERROR]
    assert errors == []
    # Its binary's minos (26.0) is above LSMinimumSystemVersion (14.0): a real fact Apple
    # accepted (dyld has no minimum-OS gate), still reported, once, and not as an error.
    [minos] = by_rule(report, "BL407")
    assert "LSMinimumSystemVersion 14.0" in minos.message and "26.0" in minos.message
    # Its signature and seal verify: no integrity or seal finding of any severity.
    assert not [f for f in report.findings if f.rule_id.startswith(("BL21", "BL23"))]
