"""BL240 (Team ID), BL310 (entitlements), BL410 (bundle identifier): expectations from config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from appbuilder import TEAM, developer_id_like, make_app, universal
from lintutil import REGISTRY, by_rule
from realbins import fetch

from bundlelint.bundle import open_input
from bundlelint.engine import Report, Selection, run_rules
from bundlelint.options import Options
from bundlelint.rules.expectations import DEEP_NOTE, same
from fixtures.macho_builder import MachOSpec

CAMERA = "com.apple.security.device.camera"
SERVER = "com.apple.security.network.server"
JIT = "com.apple.security.cs.allow-jit"
EXE = "Contents/MacOS/app"


def lint(path: Path, **options: Any) -> Report:
    return run_rules(open_input(path), REGISTRY, Selection(select=("BL240", "BL310", "BL410")),
                     Options(**options))


# --- BL240 team-id-unexpected ---------------------------------------------------------------

def test_team_id_other_than_expected_fires(tmp_path: Path) -> None:
    report = lint(make_app(tmp_path), expected_team_id="ZZZZZ99999")
    [finding] = by_rule(report, "BL240")
    assert finding.location.path == "Sample.app/Contents/MacOS/app"
    assert finding.location.arch == "arm64"
    assert finding.message == f"arm64 slice is signed with Team ID {TEAM}, expected ZZZZZ99999"
    assert finding.fix is not None and "codesign" in (finding.fix.command or "")


def test_team_id_quiet_when_expected_or_unset(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    assert by_rule(lint(app, expected_team_id=TEAM), "BL240") == []
    assert by_rule(lint(app), "BL240") == []


def test_team_id_missing_from_certificate_signature(tmp_path: Path) -> None:
    app = make_app(tmp_path, executable=developer_id_like(team_id=None))
    [finding] = by_rule(lint(app, expected_team_id=TEAM), "BL240")
    assert finding.message == f"arm64 slice is signed with no Team ID, expected {TEAM}"


def test_team_id_leaves_adhoc_code_to_bl202(tmp_path: Path) -> None:
    app = make_app(tmp_path, executable=developer_id_like(cms=None, team_id=None))
    assert by_rule(lint(app, expected_team_id=TEAM), "BL240") == []


def test_team_id_checks_every_slice_of_a_universal_file(tmp_path: Path) -> None:
    exe = universal(developer_id_like(team_id="OTHER12345"),
                    developer_id_like(MachOSpec(arch="x86_64")))
    report = lint(make_app(tmp_path, executable=exe), expected_team_id=TEAM)
    assert [(f.location.arch, f.message) for f in by_rule(report, "BL240")] == [
        ("arm64", f"arm64 slice is signed with Team ID OTHER12345, expected {TEAM}")
    ]


# --- BL310 entitlements-unexpected ----------------------------------------------------------

def ents_app(tmp_path: Path, entitlements: dict[str, Any] | None) -> Path:
    return make_app(tmp_path, executable=developer_id_like(entitlements=entitlements))


def test_entitlements_equal_are_quiet(tmp_path: Path) -> None:
    app = ents_app(tmp_path, {CAMERA: True, SERVER: True})
    report = lint(app, expected_entitlements={EXE: {SERVER: True, CAMERA: True}})
    assert by_rule(report, "BL310") == []
    assert by_rule(lint(app), "BL310") == []  # option not set


def test_entitlements_dropped_by_deep_resign(tmp_path: Path) -> None:
    """What `codesign --deep` leaves behind: the main executable signed with no entitlements."""
    app = ents_app(tmp_path, None)
    [finding] = by_rule(lint(app, expected_entitlements={EXE: {CAMERA: True, SERVER: True}}),
                        "BL310")
    assert finding.message == (
        f"arm64 slice carries no entitlements: missing {CAMERA}, {SERVER} ({DEEP_NOTE})"
    )
    assert "--entitlements" in (finding.fix.command if finding.fix else "")


def test_entitlements_missing_extra_and_different_are_named(tmp_path: Path) -> None:
    app = ents_app(tmp_path, {CAMERA: False, JIT: True})
    [finding] = by_rule(lint(app, expected_entitlements={EXE: {CAMERA: True, SERVER: True}}),
                        "BL310")
    assert finding.message == (
        "arm64 slice's embedded entitlements differ from the expected ones: "
        f"missing {SERVER}; extra {JIT}; different {CAMERA} (expected true, embedded false) "
        f"({DEEP_NOTE})"
    )
    assert finding.evidence == {"missing": SERVER, "extra": JIT}


def test_entitlements_true_is_not_one() -> None:
    assert not same(True, 1) and not same(1, True) and same(True, True)
    assert same({"a": [1, "x"]}, {"a": [1, "x"]}) and not same({"a": [1]}, {"a": [True]})


def test_entitlements_for_a_path_that_is_not_there(tmp_path: Path) -> None:
    report = lint(ents_app(tmp_path, None),
                  expected_entitlements={"Contents/MacOS/Renamed": {CAMERA: True}})
    [finding] = by_rule(report, "BL310")
    assert finding.location.path == "Sample.app/Contents/MacOS/Renamed"
    assert finding.message == ("expected-entitlements names Contents/MacOS/Renamed, but it is "
                               "no such file in Sample.app")


# --- BL410 bundle-identifier-unexpected -----------------------------------------------------

def test_bundle_identifier_differs(tmp_path: Path) -> None:
    app = make_app(tmp_path, info_overrides={"CFBundleIdentifier": "com.example.app.debug"})
    [finding] = by_rule(lint(app, expected_bundle_identifier="com.example.app"), "BL410")
    assert finding.location.path == "Sample.app/Contents/Info.plist"
    assert finding.message == ("CFBundleIdentifier is 'com.example.app.debug', expected "
                               "'com.example.app'")
    assert finding.fix is not None
    assert finding.fix.command == (
        f"plutil -replace CFBundleIdentifier -string com.example.app {app}/Contents/Info.plist"
    )


def test_bundle_identifier_quiet_when_equal_unset_or_missing(tmp_path: Path) -> None:
    app = make_app(tmp_path / "a")
    assert by_rule(lint(app, expected_bundle_identifier="com.example.app"), "BL410") == []
    assert by_rule(lint(app), "BL410") == []
    bare = make_app(tmp_path / "b", drop_info_keys=("CFBundleIdentifier",))
    assert by_rule(lint(bare, expected_bundle_identifier="com.example.app"), "BL410") == []


# --- a real Developer ID binary agrees ------------------------------------------------------

@pytest.mark.realbin
def test_sentry_cli_team_and_empty_entitlements() -> None:
    """sentry-cli (FACTS.md): universal, Developer ID team 97JCY7859U, empty XML entitlements
    in both slices."""
    path = fetch("sentry-cli-darwin-universal")
    assert by_rule(lint(path, expected_team_id="97JCY7859U"), "BL240") == []
    wrong = by_rule(lint(path, expected_team_id="ABCDE12345"), "BL240")
    assert sorted(f.location.arch or "" for f in wrong) == ["arm64", "x86_64"]
    assert all("Team ID 97JCY7859U, expected ABCDE12345" in f.message for f in wrong)
    assert by_rule(lint(path, expected_entitlements={".": {}}), "BL310") == []
    missing = by_rule(lint(path, expected_entitlements={path.name: {JIT: True}}), "BL310")
    assert len(missing) == 2
    assert all(f"missing {JIT}" in f.message for f in missing)
