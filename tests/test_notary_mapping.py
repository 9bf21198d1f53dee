"""notary-log never overstates (issue 11, item 3): real logs map to the right rules, an
ambiguous message shows every candidate and --bundle chooses by evidence, a failed job with no
error issue is itself a finding, and the exit status is 1 exactly when an error is reported."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from appbuilder import developer_id_like, make_app
from lintutil import REGISTRY
from samples import NOTARY_LOGS

from bundlelint.analysis.notary import map_log
from bundlelint.cli import main
from bundlelint.parsers.notary import parse_notary_log
from fixtures import test_ca
from fixtures.cms_signer import cms_callable
from fixtures.macho_builder import MachOSpec, build_macho
from fixtures.signer import sign_macho

ROOT = Path(__file__).resolve().parent.parent
#: Real public notary logs (their sources are listed in SOURCES.md beside them).
REAL_LOGS = NOTARY_LOGS
needs_real_logs = pytest.mark.skipif(
    not REAL_LOGS.is_dir(), reason=f"the real notary logs are not here: {REAL_LOGS} is absent")

DEV_ID = "The binary is not signed with a valid Developer ID certificate."
DEV_ID_RULES = ["BL202", "BL220", "BL221"]

#: Each real log: the (rule, Apple severity) of each issue in log order, and the exit status.
REAL_EXPECTED: dict[str, tuple[list[tuple[str, str]], int]] = {
    "01-gon-zip-failure.json": ([("BL201", "error"), ("BL223", "error"), ("BL203", "error")], 1),
    "02-gon-zip-success.json": ([], 0),
    "03-drawer-opener-signature-invalid.json": ([("BL210", "error")] * 5, 1),
    "04-promptbar-not-devid.json": ([("BL202", "error")], 1),
    "05-chemistream-pkg-unsigned-conda.json": (
        [("BL202", "error"), ("BL223", "error"), ("BL203", "error")], 1),
    "07-quickrecorder-not-devid-universal.json": ([("BL202", "error")] * 12, 1),
    "09-rustymagnet-foo-zip-cli.json": (
        [("BL202", "error"), ("BL223", "error"), ("BL203", "error")], 1),
    "12-apple-doc-overnight-texteditor.json": ([("BL210", "error")], 1),
    "14-electron-builder-5376-sdk-older.json": ([("BL101", "error")], 1),
    "17-gon-issue5-warning-fragment.json": ([("BL202", "warning")], 0),
    "21-electron-builder-4825-entitlements-invalid.json": ([("BL302", "error")], 1),
}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["notary-log", "--no-color", *args])
    return code, capsys.readouterr().out


def _all_logs() -> list[Path]:
    return sorted(REAL_LOGS.glob("*.json")) if REAL_LOGS.is_dir() else []


@needs_real_logs
def test_every_real_log_is_expected() -> None:
    assert sorted(p.name for p in _all_logs()) == sorted(REAL_EXPECTED)


@needs_real_logs
@pytest.mark.parametrize("name", sorted(REAL_EXPECTED))
def test_real_log_maps_to_the_right_rules(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    expected, status = REAL_EXPECTED[name]
    code, out = run(capsys, str(REAL_LOGS / name), "--format", "json")
    doc = json.loads(out)
    got = [(i["finding"]["rule_id"], i["finding"]["severity"]) for i in doc["issues"]]
    assert got == expected
    assert code == status
    for item in doc["issues"]:
        assert isinstance(item["candidates"], list) and item["candidates"]
        assert item["finding"]["rule_id"] in item["candidates"]
        # Apple's null docUrl stays null, and nothing turns it into ""
        assert item["apple"]["doc_url"] == item["finding"]["evidence"].get("doc_url")
        assert "" not in item["finding"]["evidence"].values()
        if item["apple"]["message"] == DEV_ID:
            assert item["candidates"] == DEV_ID_RULES
            assert item["chosen_by"] == "first candidate"


def _exit_matches_errors(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, str(path), "--format", "json")
    doc = json.loads(out)
    findings = [i["finding"] for i in doc["issues"]] + ([doc["job"]] if doc["job"] else [])
    has_error = any(f["severity"] == "error" for f in findings)
    assert code == (1 if has_error else 0), path.name
    assert doc["summary"]["errors"] == sum(f["severity"] == "error" for f in findings)
    text_code, text = run(capsys, str(path))
    assert text_code == code
    assert (" error " in text or "  error   " in text) == has_error, path.name


REJECTED_7000 = {
    "logFormatVersion": 1, "jobId": "a7c3b4e2-0000-4000-8000-000000000000",
    "status": "Rejected", "statusSummary": "Team is not yet configured for notarization.",
    "statusCode": 7000, "archiveFilename": "App.zip", "uploadDate": "2023-03-04T10:00:00Z",
    "sha256": "00" * 32, "ticketContents": None, "issues": None,
}
INVALID_INFO = {"id": "x", "status": "Invalid", "message": "Processing complete",
                "name": "a.zip", "createdDate": "2024"}
INVALID_WITH_WARNING_ONLY = {
    "logFormatVersion": 1, "jobId": "j", "status": "Invalid", "statusCode": 4000,
    "statusSummary": "Archive contains critical validation errors", "archiveFilename": "A.zip",
    "issues": [{"severity": "warning", "code": None, "path": "A.zip/A.app/Contents/MacOS/A",
                "message": DEV_ID, "docUrl": None, "architecture": "arm64"}],
}
ACCEPTED_WITH_WARNING = {
    "logFormatVersion": 1, "jobId": "k", "status": "Accepted", "statusCode": 0,
    "statusSummary": "Ready for distribution", "archiveFilename": "A.zip",
    "issues": INVALID_WITH_WARNING_ONLY["issues"],
}
SYNTHETIC = {"rejected-7000.json": REJECTED_7000, "invalid-info.json": INVALID_INFO,
             "invalid-warning-only.json": INVALID_WITH_WARNING_ONLY,
             "accepted-warning.json": ACCEPTED_WITH_WARNING}


@pytest.mark.parametrize("name", sorted(REAL_EXPECTED) + sorted(SYNTHETIC))
def test_exit_status_is_1_exactly_when_an_error_is_reported(
        name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if name in SYNTHETIC:
        path = tmp_path / name
        path.write_text(json.dumps(SYNTHETIC[name]))
    else:
        if not REAL_LOGS.is_dir():
            pytest.skip(f"the real notary logs are not here: {REAL_LOGS} is absent")
        path = REAL_LOGS / name
    _exit_matches_errors(path, capsys)


def test_a_rejected_job_is_a_finding_of_its_own(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "rejected.json"
    path.write_text(json.dumps(REJECTED_7000))
    code, out = run(capsys, str(path), "--format", "json")
    doc = json.loads(out)
    assert code == 1
    assert doc["issues"] == [] and doc["summary"]["errors"] == 1
    job = doc["job"]
    assert job["rule_id"] == "BL791" and job["severity"] == "error"
    assert job["path"] == "App.zip"
    assert "Rejected (status code 7000): Team is not yet configured for notarization." in (
        job["message"])
    assert job["evidence"]["status_code"] == "7000"
    code, text = run(capsys, str(path))
    assert code == 1
    assert "error   BL791 notary-submission-rejected" in text
    assert "Team is not yet configured for notarization." in text
    # an Accepted log, or an Invalid one whose issues already say why, gets no job finding
    accepted = map_log(parse_notary_log(json.dumps(ACCEPTED_WITH_WARNING).encode(), "a"),
                       (r.meta for r in REGISTRY))
    assert accepted.job is None and not accepted.has_errors


def _app_signed_by(tmp_path: Path, leaf: Any | None) -> Path:
    if leaf is None:  # ad hoc: no certificate at all
        exe = sign_macho(build_macho(MachOSpec(arch="arm64")), identifier="com.example.app")
    else:
        exe = developer_id_like(MachOSpec(arch="arm64"), cms=cms_callable(
            leaf=leaf, chain=(leaf, test_ca.wwdr_ca(), test_ca.root())))
    return make_app(tmp_path, executable=exe)


@pytest.mark.parametrize(("leaf", "expected"), [
    (None, "BL202"), (test_ca.apple_development_leaf, "BL220")])
def test_bundle_chooses_among_the_candidates_by_evidence(
        leaf: Any, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = _app_signed_by(tmp_path / "app", leaf() if leaf else None)
    log = {"logFormatVersion": 1, "jobId": "j", "status": "Invalid", "statusCode": 4000,
           "archiveFilename": "Sample.zip",
           "issues": [{"severity": "error", "code": None, "message": DEV_ID, "docUrl": None,
                       "path": "Sample.zip/Sample.app/Contents/MacOS/app",
                       "architecture": "arm64"}]}
    path = tmp_path / "log.json"
    path.write_text(json.dumps(log))

    code, text = run(capsys, str(path))  # without the bundle: every candidate, none chosen
    assert code == 1
    assert ("could be: BL202 adhoc-signature, BL220 not-developer-id, BL221 "
            "certificate-chain-untrusted (Apple's message does not say which") in text

    code, out = run(capsys, str(path), "--bundle", str(app), "--format", "json")
    item = json.loads(out)["issues"][0]
    assert code == 1
    assert item["finding"]["rule_id"] == expected
    assert item["chosen_by"] == "local lint" and item["candidates"] == DEV_ID_RULES
    assert item["finding"]["fix"]["text"] == REGISTRY.meta(expected).how_to_fix
    code, text = run(capsys, str(path), "--bundle", str(app))
    assert f"{expected} chosen because the local lint found it here" in text


def test_fix_text_fits_the_binary_a_go_hint_only_for_go(tmp_path: Path) -> None:
    """The rule-level fix of an SDK issue says nothing about Go; the Go hint is per finding."""
    meta = REGISTRY.meta("BL101")
    assert "Go" not in meta.how_to_fix and "go " not in (meta.fix_command or "")
    log = {"logFormatVersion": 1, "jobId": "j", "status": "Invalid", "archiveFilename": "A.zip",
           "issues": [{"severity": "error", "code": None, "docUrl": None,
                       "message": "The binary uses an SDK older than the 10.9 SDK.",
                       "path": "A.zip/A.app/Contents/Frameworks/libc.dylib",
                       "architecture": "x86_64"}]}
    mapping = map_log(parse_notary_log(json.dumps(log).encode(), "x"),
                      (r.meta for r in REGISTRY))
    fix = mapping.issues[0].finding.fix
    assert fix is not None and "Go" not in fix.text and "go version" not in (fix.command or "")
