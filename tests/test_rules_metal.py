"""BL501-BL505 Metal libraries: each metallib fixture fires its rule; a valid macOS library in
Resources, sealed, keeps every rule quiet."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from appbuilder import make_app
from lintutil import by_rule, lint

from fixtures.metallib_builder import (
    PLATFORM_IOS,
    TARGET_IOS,
    MetallibSpec,
    build_metallib,
)
from fixtures.sealer import seal_bundle

METAL_RULES = ("BL501", "BL502", "BL503", "BL505")
RES = "Contents/Resources/default.metallib"


def _app(tmp_path: Path, data: bytes, where: str = RES, **kwargs: object) -> Path:
    return make_app(tmp_path, files={where: data}, **kwargs)  # type: ignore[arg-type]


def _metal(report: object) -> list[tuple[str, str]]:
    return sorted((f.rule_id, f.message) for f in report.findings  # type: ignore[attr-defined]
                  if f.rule_id.startswith("BL5"))


def test_valid_macos_metallib_in_resources_is_quiet(tmp_path: Path) -> None:
    app = _app(tmp_path, build_metallib())
    seal_bundle(app)
    assert _metal(lint(app)) == []


def test_bl501_truncated(tmp_path: Path) -> None:
    full = build_metallib()
    app = _app(tmp_path, build_metallib(MetallibSpec(truncate_to=len(full) - 10)))
    findings = by_rule(lint(app), "BL501")
    messages = {f.message for f in findings}
    assert f"declares a file size of {len(full)} bytes but the file has {len(full) - 10}" in \
        messages
    assert any(m.startswith("bitcode at ") and "runs past the end" in m for m in messages)
    assert {f.location.offset for f in findings} == {16, 24 + 16 * 3}


def test_bl501_declared_size_lie_and_short_header(tmp_path: Path) -> None:
    app = _app(tmp_path / "a", build_metallib(MetallibSpec(declared_size=1 << 40)))
    [finding] = by_rule(lint(app), "BL501")
    assert finding.location.offset == 16 and "1099511627776" in finding.message
    short = _app(tmp_path / "b", b"MTLB" + b"\0" * 20)
    [finding] = by_rule(lint(short), "BL501")
    assert finding.location.offset == 0 and "shorter than the 88-byte" in finding.message


def test_bl502_ios_platform(tmp_path: Path) -> None:
    app = _app(tmp_path, build_metallib(MetallibSpec(platform=PLATFORM_IOS, target_os=TARGET_IOS,
                                                     target_os_version=(17, 0))))
    [finding] = by_rule(lint(app), "BL502")
    assert finding.message == ("built for iOS (platform field 0x0001, target OS byte 0x82), "
                               "not macOS")
    assert not by_rule(lint(app), "BL503")  # an iOS version is not compared with macOS


def test_bl503_target_newer_than_minimum(tmp_path: Path) -> None:
    app = _app(tmp_path, build_metallib(MetallibSpec(target_os_version=(15, 0))))
    [finding] = by_rule(lint(app), "BL503")
    assert finding.message == "targets macOS 15.0 but the app declares LSMinimumSystemVersion 11.0"
    assert finding.fix is not None and "-mmacosx-version-min=11.0" in (finding.fix.command or "")


def test_bl503_quiet_when_minimum_is_high_enough(tmp_path: Path) -> None:
    app = _app(tmp_path, build_metallib(MetallibSpec(target_os_version=(15, 0))),
               info_overrides={"LSMinimumSystemVersion": "15.0"})
    assert not by_rule(lint(app), "BL503")


@pytest.mark.parametrize("where", ["Contents/MacOS/default.metallib",
                                   "Contents/Frameworks/shaders.metallib"])
def test_bl016_metallib_in_code_location(tmp_path: Path, where: str) -> None:
    app = _app(tmp_path, build_metallib(), where=where)
    [finding] = by_rule(lint(app), "BL016")
    assert finding.location.path == f"Sample.app/{where}"
    assert finding.fix is not None and finding.fix.command is not None
    name = where.rsplit("/", 1)[1]
    assert f"Sample.app/Contents/Resources/{name}" in finding.fix.command
    assert " ln -s " not in finding.fix.command  # Metal finds it in Resources: no link back


FW = "Contents/Frameworks/Shaders.framework/Versions/A/"


@pytest.mark.parametrize("where", [
    FW + "Resources/default.metallib",  # the framework's Resources: a resource
    FW + "Libraries/default.metallib",  # rules2 '^.*': a resource outside Resources
    "Contents/MacOS/app.dSYM/Contents/Resources/x.metallib",  # '.*\\.dSYM($|/)' weight 11
    "Contents/SharedSupport/default.metallib",  # not a nested-code directory
    "Contents/Resources/Flat.bundle/default.metallib",  # flat bundle: no nested rules
])
def test_bl016_metallib_quiet_where_codesign_seals_a_resource(tmp_path: Path, where: str) -> None:
    # bundlediskrep.cpp BundleDiskRep::defaultResourceRules: only files directly in the
    # resource base and under MacOS, Frameworks, PlugIns, ... are nested code.
    app = _app(tmp_path, build_metallib(), where=where)
    if where.startswith(FW):
        os.symlink("A", app / "Contents/Frameworks/Shaders.framework/Versions/Current")
    assert not by_rule(lint(app), "BL016")


def test_bl016_metallib_fires_directly_in_a_framework_version(tmp_path: Path) -> None:
    # '^[^/]+$' nested: a file beside the framework's binary is nested code.
    app = _app(tmp_path, build_metallib(), where=FW + "default.metallib")
    [finding] = by_rule(lint(app), "BL016")
    assert finding.location.path == f"Sample.app/{FW}default.metallib"


def test_bl505_added_after_signing(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    seal_bundle(app)
    (app / RES).parent.mkdir(parents=True, exist_ok=True)
    (app / RES).write_bytes(build_metallib())
    [finding] = by_rule(lint(app), "BL505")
    assert finding.message.startswith("Metal library was added after signing")
    assert finding.location.path == f"Sample.app/{RES}"


def test_bl505_changed_after_signing(tmp_path: Path) -> None:
    app = _app(tmp_path, build_metallib())
    seal_bundle(app)
    (app / RES).write_bytes(build_metallib(MetallibSpec(version=(2, 8))))
    [finding] = by_rule(lint(app), "BL505")
    assert "changed after signing" in finding.message


def test_bl505_quiet_without_any_seal(tmp_path: Path) -> None:
    # An unsigned bundle has no seal to compare with; the signature rules report that.
    assert not by_rule(lint(_app(tmp_path, build_metallib())), "BL505")
