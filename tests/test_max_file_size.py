"""``--max-file-size`` bounds every read, and a skipped file is its own finding (issue 15 item 8,
issue 14's bug: a skip was reported as BL001 "invalid Mach-O", and passed silently with
``--select BL2``).

The attack of item 8 is built as described: a sealed app whose sealed resource is a 50 GB sparse
file (``truncate``: no disk space), which took over a minute to hash although the limit was set.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from appbuilder import developer_id_like, make_app
from lintutil import TEST_OPTIONS, by_rule, lint, rule_ids

from bundlelint.analysis.codehash import SlotStatus, verify_code
from bundlelint.analysis.hashing import EarlyHasher
from bundlelint.bundle import open_input
from bundlelint.engine import Selection, run_rules
from bundlelint.rules import load_registry
from fixtures.sealer import seal_bundle

BIG = 50 * 10**9
SKIP = "BL008"
SEAL_RULES = {"BL230", "BL231", "BL232", "BL233", "BL236"}


def _sealed_app_with_huge_resource(tmp_path: Path) -> tuple[Path, Path]:
    app = make_app(tmp_path, files={"Contents/Resources/huge.bin": b"sealed small",
                                    "Contents/Resources/small.txt": b"hello"})
    seal_bundle(app)
    huge = app / "Contents/Resources/huge.bin"
    with huge.open("r+b") as fh:
        fh.truncate(BIG)  # after sealing: a hole of 50 GB, and no longer what was sealed
    assert huge.stat().st_blocks * 512 < 10**6
    return app, huge


def test_huge_sealed_resource_is_skipped_not_hashed(tmp_path: Path) -> None:
    """With --max-file-size, the 50 GB resource is neither hashed (in the walk's early hashing,
    the prefetch or the seal check) nor reported as modified: one BL008 names it. The timeout
    is a hang guard: hashing 50 GB took over a minute; the whole run takes about a second."""
    app, _ = _sealed_app_with_huge_resource(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "bundlelint", "check", "--format", "json", "--max-file-size", "1G",
         str(app)], capture_output=True, text=True, timeout=60, check=False)
    findings = json.loads(proc.stdout)["findings"]
    on_huge = [f for f in findings if f["path"].endswith("huge.bin")]
    assert [f["rule_id"] for f in on_huge] == [SKIP]
    assert str(BIG) in on_huge[0]["message"]
    assert not SEAL_RULES & {f["rule_id"] for f in findings}
    assert proc.returncode == 1  # the report is incomplete: it does not pass


def test_small_change_next_to_the_skipped_file_is_still_found(tmp_path: Path) -> None:
    """Skipping one file does not switch the seal check off for the others."""
    app, _ = _sealed_app_with_huge_resource(tmp_path)
    (app / "Contents/Resources/small.txt").write_bytes(b"HELLO")
    report = lint(app, options=replace(TEST_OPTIONS, max_file_size=1 << 30, jobs=1))
    [modified] = by_rule(report, "BL230")
    assert modified.location.path.endswith("small.txt")
    assert [f.location.path for f in by_rule(report, SKIP)] == [
        "Sample.app/Contents/Resources/huge.bin"]


def test_early_hasher_never_queues_a_file_over_the_limit(tmp_path: Path) -> None:
    app, _ = _sealed_app_with_huge_resource(tmp_path)
    early = EarlyHasher.for_input(str(app), 2, max_file_size=1 << 30)
    assert early is not None
    bundle = open_input(app, replace(TEST_OPTIONS, max_file_size=1 << 30), observer=early.see)
    # what would be hashed: pending, or already submitted to the pool
    queued = {relpath for relpath, _ in early._pending} | set(early._results)
    assert "Contents/Resources/small.txt" in queued
    assert "Contents/Resources/huge.bin" not in queued
    early.adopt(bundle)


@pytest.mark.parametrize("select", ["BL2", "BL1", "ALL"])
def test_skipped_macho_is_bl008_whatever_the_selection(tmp_path: Path, select: str) -> None:
    """A skip is not BL001 ("invalid Mach-O, rebuild from source") and never passes silently:
    BL008 is reported under any --select (and despite --ignore)."""
    exe = tmp_path / "tool"
    exe.write_bytes(developer_id_like())
    proc = subprocess.run(
        [sys.executable, "-m", "bundlelint", "check", "--format", "json", "--select", select,
         "--ignore", "BL008", "--max-file-size", "1K", str(exe)],
        capture_output=True, text=True, timeout=120, check=False)
    ids = [f["rule_id"] for f in json.loads(proc.stdout)["findings"]]
    assert ids == [SKIP], proc.stderr[-2000:]
    assert proc.returncode == 1


def test_every_read_honours_the_limit(tmp_path: Path) -> None:
    """A limit below the size of Info.plist, CodeResources and the executable: each is one
    BL008, and none is reported as malformed (BL001, BL402, BL236), modified or missing (the
    seal and special-slot rules), since none was read."""
    app = make_app(tmp_path, files={"Contents/Resources/a.txt": b"a"})
    seal_bundle(app)
    limit = 64
    skipped = {p.relative_to(tmp_path).as_posix() for p in app.rglob("*")
               if p.is_file() and p.stat().st_size > limit}
    assert {"Sample.app/Contents/Info.plist", "Sample.app/Contents/MacOS/app",
            "Sample.app/Contents/_CodeSignature/CodeResources"} <= skipped
    options = replace(TEST_OPTIONS, max_file_size=limit, jobs=1)
    report = lint(app, options=options)
    assert {f.location.path for f in by_rule(report, SKIP)} == skipped
    assert all(f.rule_id == SKIP for f in report.findings if f.location.path in skipped), \
        [f for f in report.findings if f.location.path in skipped]
    assert not {"BL001", "BL003", "BL402", "BL236"} & rule_ids(report)


def test_special_slot_of_a_skipped_file_is_not_read(tmp_path: Path) -> None:
    """The executable is read; its Info.plist (special slot 1) is over the limit: the slot is
    SKIPPED, not MISSING or DIFFERS, and the seal does not call the executable added."""
    app = make_app(tmp_path, info_overrides={"Padding": "x" * 40_000})
    seal_bundle(app)
    exe_size = (app / "Contents/MacOS/app").stat().st_size
    info_size = (app / "Contents/Info.plist").stat().st_size
    options = replace(TEST_OPTIONS, max_file_size=exe_size + 1, jobs=1)
    assert info_size > exe_size  # the executable is read, Info.plist is not
    bundle = open_input(app, options)
    entry = bundle.entry("Contents/MacOS/app")
    assert entry is not None
    [sl] = verify_code(bundle, entry).slices
    slot1 = sl.code_directories[0].special(1)
    assert slot1 is not None
    assert slot1.status is SlotStatus.SKIPPED
    report = run_rules(bundle, load_registry(plugins=False), Selection(), options)
    # Nothing else: not BL402 (malformed), not a special-slot mismatch, and not the main
    # executable "added after signing" (which file is the main one, the Info.plist says).
    assert [(f.rule_id, f.location.path) for f in report.findings] == [
        (SKIP, "Sample.app/Contents/Info.plist")]
