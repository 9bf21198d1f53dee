"""``bundlelint inspect``: codesign -dvvv's facts, offline, in text and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from appbuilder import make_app

from bundlelint.cli import main
from fixtures.sealer import seal_bundle

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo" / "Demo.app"


def _inspect(capsys: pytest.CaptureFixture[str], *args: str) -> dict:  # type: ignore[type-arg]
    assert main(["inspect", "--format", "json", *args]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_sealed_app_signed_by_test_ca(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = make_app(tmp_path, files={"Contents/Resources/a.txt": b"hello"})
    seal_bundle(app, entitlements={"com.apple.security.cs.allow-jit": True})
    doc = _inspect(capsys, str(app))
    assert doc["seals"] == [{"bundle": "Sample.app", "code_resources":
                             "Sample.app/Contents/_CodeSignature/CodeResources",
                             "version": "v2", "sealed_files": 1, "issues": 0, "error": None}]
    [exe] = doc["files"]
    assert exe["format"] == "app bundle with Mach-O thin (arm64)"
    [sl] = exe["slices"]
    assert sl["authority"] == ["Developer ID Application: Test Team (ABCDE12345)",
                               "Developer ID Certification Authority", "Test Root CA"]
    assert sl["certificate_kind"] == "Developer ID Application"
    assert sl["team_id"] == sl["certificate_team_id"] == "ABCDE12345"
    assert sl["chain"] == "rooted at an extra trust anchor"
    assert sl["timestamp"] is not None
    assert sl["entitlements"] == {"com.apple.security.cs.allow-jit": True}
    [cd] = sl["code_directories"]
    assert cd["flag_names"] == ["runtime"] and cd["pages_bad"] == 0
    assert cd["special_slots_status"]["Info.plist"] == "matches"
    assert cd["special_slots_status"]["CodeResources"] == "matches"


def test_demo_text_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(DEMO)]) == 0
    out = capsys.readouterr().out
    assert "Format=app bundle with Mach-O universal (arm64 x86_64)" in out
    assert "flags=0x20002(adhoc,linker-signed)" in out
    assert "Identifier=a.out" in out and "Signature=adhoc (linker-signed)" in out
    unsigned = "[x86_64] EXECUTE platform=macOS minos=13.0 sdk=26.2\n    code object is not signed"
    assert unsigned in out


def test_unreadable_path_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(tmp_path / "missing.app")]) == 2
    assert "cannot read" in capsys.readouterr().err


@pytest.mark.realbin
def test_developer_id_universal_json_carries_team_and_leaf(
        capsys: pytest.CaptureFixture[str]) -> None:
    from realbins import fetch

    doc = _inspect(capsys, str(fetch("sentry-cli-darwin-universal")))
    [f] = doc["files"]
    assert [sl["arch"] for sl in f["slices"]] == ["x86_64", "arm64"]
    for sl in f["slices"]:
        assert sl["team_id"] == "97JCY7859U"
        assert sl["authority"][0] == "Developer ID Application: GetSentry LLC (97JCY7859U)"
        assert sl["authority"][-1] == "Apple Root CA"
        assert sl["chain"] == "rooted at a pinned Apple root"
        assert sl["timestamp"].startswith("20")
        assert sl["requirements"].startswith("designated => identifier ")
        assert sl["code_directories"][0]["pages_bad"] == 0
