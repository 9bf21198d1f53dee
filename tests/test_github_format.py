"""--format github: one workflow command per finding, escaped by the runner's rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from appbuilder import sealed_app

from bundlelint.cli import main
from bundlelint.reporters.github import escape_data, escape_property
from fixtures.macho_builder import MachOSpec, build_macho

IDENTITY = '"Developer ID Application: YOUR NAME (TEAMID)"'


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["--format", "github", *args])
    out, _ = capsys.readouterr()
    return code, out


def test_exact_annotation_for_a_bare_binary(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "tool"
    path.write_bytes(build_macho(MachOSpec(arch="x86_64")))
    code, out = run(capsys, str(path))
    assert code == 1
    assert out == (
        "::error file=tool,title=BL201 unsigned-code::[x86_64] x86_64 slice (EXECUTE) is not "
        "signed%0Afix: codesign --force --options runtime --timestamp --sign "
        f"{IDENTITY} {path}\n"
    )


def test_one_line_per_finding_with_bundle_relative_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = sealed_app(tmp_path, exe_mode=0o644, info_overrides={"CFBundlePackageType": "BNDL"})
    code, out = run(capsys, str(app))
    assert code == 1
    assert out == (
        "::warning file=Sample.app/Contents/Info.plist,title=BL406 package-type-not-appl::"
        "CFBundlePackageType is 'BNDL', expected 'APPL'%0Afix: plutil -replace "
        f"CFBundlePackageType -string APPL {app}/Contents/Info.plist\n"
        "::error file=Sample.app/Contents/MacOS/app,title=BL404 bundle-executable-invalid::"
        "the bundle executable lacks the execute bit (mode 644)%0Afix: chmod +x "
        f"{app}/Contents/MacOS/app\n"
    )


def test_info_severity_is_a_notice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "bundlelint.toml"
    config.write_text('severity = { BL406 = "info" }\n')
    app = sealed_app(tmp_path, info_overrides={"CFBundlePackageType": "BNDL"})
    code, out = run(capsys, "--config", str(config), str(app))
    assert code == 0
    assert out.startswith("::notice file=Sample.app/Contents/Info.plist,title=BL406 "
                          "package-type-not-appl::")
    assert out.count("\n") == 1


def test_clean_bundle_prints_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, str(sealed_app(tmp_path))) == (0, "")


def test_property_separators_in_the_file_name_are_escaped(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "a,b:c%d"
    path.write_bytes(build_macho(MachOSpec(arch="x86_64")))
    _, out = run(capsys, str(path))
    assert out.startswith("::error file=a%2Cb%3Ac%25d,title=BL201 unsigned-code::")


def test_escaping_rules() -> None:
    assert escape_data("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext: a,b"
    assert escape_property("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext%3A a%2Cb"
