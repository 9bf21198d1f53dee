"""Baselines: record findings, then report only new ones; fingerprints survive rebuilds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from appbuilder import developer_id_like, make_app, sealed_app

from bundlelint.baseline import stable_detail
from bundlelint.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--no-color", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_round_trip_reports_only_the_new_finding(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    baseline = tmp_path / "baseline.json"
    old = sealed_app(tmp_path / "v1", sign={"flags": 0})  # BL203
    code, _, err = run(capsys, "--write-baseline", str(baseline), str(old))
    assert code == 0
    assert err == f"bundlelint: recorded 1 finding in {baseline}\n"
    doc = json.loads(baseline.read_text())
    assert doc["version"] == 1
    assert [(e["rule_id"], e["path"], e["arch"]) for e in doc["findings"]] == [
        ("BL203", "Contents/MacOS/app", "arm64")]

    assert run(capsys, "--baseline", str(baseline), str(old)) == (
        0, "No problems found in Sample.app; 1 finding excused by the baseline.\n", "")

    # The next build: same defect, plus a new one (a bad bundle identifier).
    new = sealed_app(tmp_path / "v2", sign={"flags": 0},
                     info_overrides={"CFBundleIdentifier": "bad_id"})
    code, out, _ = run(capsys, "--fail-on", "warning", "--baseline", str(baseline), str(new))
    assert code == 1
    assert "BL405" in out and "BL203" not in out
    assert out.endswith("0 errors, 1 warning, 0 info in 1 file (Sample.app); 1 finding excused "
                        "by the baseline. Run `bundlelint explain RULE` for details.\n")


def test_renamed_bundle_and_shifted_numbers_still_match(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    baseline = tmp_path / "baseline.json"
    run(capsys, "--write-baseline", str(baseline),
        str(sealed_app(tmp_path / "a", name="Demo.app", sign={"flags": 0})))
    # Another name and other CodeDirectory flags (library validation, 0x2000, instead of 0):
    # the message's hex changes, the finding is the same.
    renamed = sealed_app(tmp_path / "b", name="Demo 1.2.app", sign={"flags": 0x2000})
    code, out, _ = run(capsys, "--format", "json", str(renamed))
    assert [f["message"] for f in json.loads(out)["findings"]] == [
        "arm64 executable is signed without the hardened runtime (flags 0x2000 lack 0x10000)"]
    code, out, _ = run(capsys, "--baseline", str(baseline), "--format", "json", str(renamed))
    assert code == 0
    assert json.loads(out)["findings"] == []


def test_count_matters(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One recorded finding excuses one: a second identical one is new."""
    baseline = tmp_path / "b.json"
    app = make_app(tmp_path, executable=developer_id_like(flags=0))
    run(capsys, "--write-baseline", str(baseline), str(app))
    doc = json.loads(baseline.read_text())
    doc["findings"] = []
    baseline.write_text(json.dumps(doc))
    assert run(capsys, "--baseline", str(baseline), str(app))[0] == 1


@pytest.mark.parametrize(("content", "message"), [
    ("not json", "is not JSON"),
    ('{"version": 7, "findings": []}', "has version 7"),
    ('{"version": 1, "findings": [{"rule_id": "BL201"}]}', "findings[0] needs string fields"),
])
def test_bad_baseline_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       content: str, message: str) -> None:
    baseline = tmp_path / "b.json"
    baseline.write_text(content)
    code, out, err = run(capsys, "--baseline", str(baseline), str(make_app(tmp_path)))
    assert (code, out) == (2, "")
    assert message in err


def test_stable_detail() -> None:
    assert stable_detail("arm64 slice (flags 0x20002) at 4096 in Demo.app", "Demo.app") == (
        "arm# slice (flags #) at # in {input}")
