"""BL4xx rules over Info.plist, each with a firing and a quiet bundle."""

from __future__ import annotations

import plistlib
from pathlib import Path

import pytest
from appbuilder import developer_id_like, make_app, sealed_app, universal
from lintutil import by_rule, lint

from fixtures.macho_builder import MachOSpec


def test_default_app_is_clean(tmp_path: Path) -> None:
    assert lint(sealed_app(tmp_path)).findings == ()


def test_bl401_missing_info_plist(tmp_path: Path) -> None:
    [finding] = by_rule(lint(make_app(tmp_path, write_info=False)), "BL401")
    assert finding.location.path == "Sample.app/Contents/Info.plist"


def test_bl401_fires_for_nested_app_too(tmp_path: Path) -> None:
    app = make_app(tmp_path, files={
        "Contents/Helpers/Helper.app/Contents/MacOS/helper": developer_id_like(),
    })
    [finding] = by_rule(lint(app), "BL401")
    assert finding.location.path == "Sample.app/Contents/Helpers/Helper.app/Contents/Info.plist"


@pytest.mark.parametrize("data", [b"<?xml version='1.0'?><plist><dict><key>a</key>",
                                  b"bplist00garbage", plistlib.dumps(["not", "a", "dict"])])
def test_bl402_invalid_info_plist(tmp_path: Path, data: bytes) -> None:
    report = lint(make_app(tmp_path, info=data))
    [finding] = by_rule(report, "BL402")
    assert finding.location.path == "Sample.app/Contents/Info.plist"
    assert not by_rule(report, "BL401")


def test_bl402_quiet_on_binary_plist(tmp_path: Path) -> None:
    from appbuilder import DEFAULT_INFO

    data = plistlib.dumps(DEFAULT_INFO, fmt=plistlib.FMT_BINARY)
    assert lint(sealed_app(tmp_path, info=data)).findings == ()


def test_bl403_key_missing(tmp_path: Path) -> None:
    report = lint(make_app(tmp_path, drop_info_keys=("CFBundleExecutable",)))
    [finding] = by_rule(report, "BL403")
    assert "missing" in finding.message
    assert finding.fix is not None and finding.fix.command is not None
    assert "plutil -replace CFBundleExecutable -string app" in finding.fix.command


def test_bl403_names_no_file(tmp_path: Path) -> None:
    report = lint(make_app(tmp_path, info_overrides={"CFBundleExecutable": "other"}))
    [finding] = by_rule(report, "BL403")
    assert finding.message == "CFBundleExecutable is 'other' but Contents/MacOS/ holds app"


def test_bl403_case_only_mismatch_has_its_own_message(tmp_path: Path) -> None:
    report = lint(make_app(tmp_path, exe_name="App"))
    [finding] = by_rule(report, "BL403")
    assert "differ only in case" in finding.message
    assert finding.evidence == {"CFBundleExecutable": "app", "file": "App"}


def test_bl404_not_macho(tmp_path: Path) -> None:
    report = lint(make_app(tmp_path, executable=b"#!/bin/sh\nexec python3 app.py\n"))
    [finding] = by_rule(report, "BL404")
    assert "not a Mach-O" in finding.message


def test_bl404_no_execute_bit(tmp_path: Path) -> None:
    report = lint(make_app(tmp_path, exe_mode=0o644))
    [finding] = by_rule(report, "BL404")
    assert "execute bit" in finding.message and "644" in finding.message
    assert finding.fix is not None and finding.fix.command is not None
    assert finding.fix.command.startswith("chmod +x ")


@pytest.mark.parametrize(("value", "bad"), [("com.example.my_app", "_"),
                                            ("com.example.my app", " ")])
def test_bl405_invalid_identifier(tmp_path: Path, value: str, bad: str) -> None:
    report = lint(make_app(tmp_path, info_overrides={"CFBundleIdentifier": value}))
    [finding] = by_rule(report, "BL405")
    assert repr(bad) in finding.message


def test_bl405_missing_identifier(tmp_path: Path) -> None:
    report = lint(make_app(tmp_path, drop_info_keys=("CFBundleIdentifier",)))
    assert "missing" in by_rule(report, "BL405")[0].message


def test_bl405_quiet_on_hyphens(tmp_path: Path) -> None:
    report = lint(make_app(tmp_path, info_overrides={"CFBundleIdentifier": "com.ex-ample.a1"}))
    assert not by_rule(report, "BL405")


def test_bl406_package_type(tmp_path: Path) -> None:
    report = lint(make_app(tmp_path, info_overrides={"CFBundlePackageType": "FMWK"}))
    [finding] = by_rule(report, "BL406")
    assert finding.severity.value == "warning"
    assert "'FMWK'" in finding.message


def test_bl407_minimum_system_version_below_minos(tmp_path: Path) -> None:
    exe = universal(developer_id_like(MachOSpec(arch="x86_64", build_version=(1, (10, 13, 0),
                                                                              (14, 0, 0)))),
                    developer_id_like(MachOSpec(arch="arm64", build_version=(1, (11, 0, 0),
                                                                             (14, 0, 0)))))
    report = lint(make_app(tmp_path, executable=exe,
                           info_overrides={"LSMinimumSystemVersion": "10.13"}))
    [finding] = by_rule(report, "BL407")
    assert finding.location.arch == "arm64"
    assert "requires macOS 11.0" in finding.message and "10.13" in finding.message
    assert finding.severity.value == "error"


def test_bl407_quiet_when_equal(tmp_path: Path) -> None:
    report = lint(make_app(tmp_path, info_overrides={"LSMinimumSystemVersion": "11.0"}))
    assert not by_rule(report, "BL407")


def test_bl407_unparseable_version(tmp_path: Path) -> None:
    report = lint(make_app(tmp_path, info_overrides={"LSMinimumSystemVersion": "eleven"}))
    [finding] = by_rule(report, "BL407")
    assert "not a version number" in finding.message
