"""``bundlelint plan``: inside-out order, frameworks as bundles, entitlements only where they
belong, never --deep, and the notarization and verification commands."""

from __future__ import annotations

import json
import os
import plistlib
from pathlib import Path

import pytest
from appbuilder import developer_id_like, make_app

from bundlelint.bundle import open_input
from bundlelint.cli import main
from bundlelint.commands.plan import build_plan
from fixtures.macho_builder import MH_BUNDLE, MH_DYLIB, MachOSpec

IDENTITY = "Developer ID Application: Example Corp (ABCDE12345)"


def _dylib(name: str) -> bytes:
    return developer_id_like(MachOSpec(filetype=MH_DYLIB, id_dylib=f"@rpath/{name}"),
                             identifier=name)


def _info(executable: str, ident: str) -> bytes:
    return plistlib.dumps({"CFBundleExecutable": executable, "CFBundleIdentifier": ident,
                           "CFBundlePackageType": "APPL"})


def _rich_app(tmp_path: Path) -> Path:
    """An app with a versioned framework (holding a dylib), a loose dylib, a Python extension,
    a helper app whose executable has entitlements, and an XPC service."""
    fw = "Contents/Frameworks/Foo.framework"
    app = make_app(tmp_path, name="MyApp.app", files={
        f"{fw}/Versions/A/Foo": _dylib("Foo"),
        f"{fw}/Versions/A/Resources/Info.plist": _info("Foo", "com.example.foo"),
        f"{fw}/Versions/A/Libraries/libbar.dylib": _dylib("libbar.dylib"),
        "Contents/Frameworks/libfoo.dylib": _dylib("libfoo.dylib"),
        "Contents/Resources/ext.so": developer_id_like(MachOSpec(filetype=MH_BUNDLE),
                                                       identifier="ext"),
        "Contents/Helpers/Helper.app/Contents/MacOS/helper": developer_id_like(
            identifier="com.example.helper",
            entitlements={"com.apple.security.network.client": True}),
        "Contents/Helpers/Helper.app/Contents/Info.plist": _info("helper", "com.example.helper"),
        "Contents/XPCServices/Svc.xpc/Contents/MacOS/svc": developer_id_like(
            identifier="com.example.svc"),
        "Contents/XPCServices/Svc.xpc/Contents/Info.plist": _info("svc", "com.example.svc"),
    })
    os.symlink("A", app / f"{fw}/Versions/Current")
    os.symlink("Versions/Current/Foo", app / f"{fw}/Foo")
    os.symlink("Versions/Current/Resources", app / f"{fw}/Resources")
    return app


def test_inside_out_order(tmp_path: Path) -> None:
    plan = build_plan(open_input(_rich_app(tmp_path)), identity=IDENTITY)
    assert [(s.path, s.kind) for s in plan.sign] == [
        ("Contents/Frameworks/Foo.framework/Versions/A/Libraries/libbar.dylib", "dylib"),
        ("Contents/Frameworks/Foo.framework", ".framework"),
        ("Contents/Frameworks/libfoo.dylib", "dylib"),
        ("Contents/Resources/ext.so", "bundle"),
        ("Contents/Helpers/Helper.app", ".app"),
        ("Contents/XPCServices/Svc.xpc", ".xpc"),
        ("", ".app"),
    ]
    # everything inside a signed container comes before it
    for i, step in enumerate(plan.sign):
        for later in plan.sign[i + 1 :]:
            assert not (step.path and later.path and later.path.startswith(step.path + "/"))


def test_commands_flags_and_entitlements(tmp_path: Path) -> None:
    app = _rich_app(tmp_path)
    plan = build_plan(open_input(app), identity=IDENTITY, keychain_profile="ci-profile")
    for step in plan.sign:
        assert "--options runtime --timestamp" in step.command and "--deep" not in step.command
        assert f"--sign '{IDENTITY}'" in step.command
    by_path = {s.path: s for s in plan.sign}
    # the framework is signed as a bundle, not through Versions/A/Foo
    assert by_path["Contents/Frameworks/Foo.framework"].command.endswith(
        f"{app}/Contents/Frameworks/Foo.framework")
    # entitlements: the app, and the helper that has some today; never a dylib or framework
    with_ents = {s.path: s.entitlements_file for s in plan.sign if s.entitlements_file}
    assert with_ents == {"Contents/Helpers/Helper.app": "Helper.entitlements",
                         "": "MyApp.entitlements"}
    [helper_ents] = [e for e in plan.entitlements if e.name == "Helper.entitlements"]
    assert helper_ents.values == {"com.apple.security.network.client": True}
    assert plan.notarize == (
        f"ditto -c -k --keepParent {app} {tmp_path}/MyApp.zip",
        f"xcrun notarytool submit {tmp_path}/MyApp.zip --keychain-profile ci-profile --wait",
        f"xcrun stapler staple {app}",
    )
    assert plan.verify == (
        f"codesign --verify --deep --strict --verbose=2 {app}",
        f"spctl --assess --type execute -vv {app}",
        f"xcrun stapler validate {app}",
    )


@pytest.mark.toolchain
def test_go_toolkit_app_gets_empty_entitlements(tmp_path: Path, go_fyne_cgo_arm64: Path) -> None:
    from fixtures.signer import CS_RUNTIME, sign_macho

    exe = sign_macho(go_fyne_cgo_arm64.read_bytes(), identifier="com.example.app",
                     flags=CS_RUNTIME, team_id="ABCDE12345", cms=b"\x30\x00",
                     entitlements={"com.apple.security.cs.allow-jit": True,
                                   "com.apple.security.get-task-allow": True,
                                   "com.apple.security.device.camera": True})
    app = make_app(tmp_path, executable=exe)
    plan = build_plan(open_input(app))
    main_ents = plan.entitlements[-1]
    assert main_ents.values == {"com.apple.security.device.camera": True}
    assert "Fyne v2.5.0" in main_ents.source and "removed" in main_ents.source


def test_single_file_plan_has_no_staple(tmp_path: Path) -> None:
    tool = tmp_path / "tool"
    tool.write_bytes(developer_id_like())
    plan = build_plan(open_input(tool))
    assert [s.path for s in plan.sign] == [""]
    assert not any("stapler" in c for c in (*plan.notarize, *plan.verify))
    assert any("cannot be stapled" in n for n in plan.notes)


def test_cli_text_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = _rich_app(tmp_path)
    assert main(["plan", "--identity", IDENTITY, str(app)]) == 0
    text = capsys.readouterr().out
    assert "printf '%s\\n' > MyApp.entitlements" in text and "'<dict/>'" in text
    assert text.index("Foo.framework/Versions/A/Libraries/libbar.dylib") < text.index(
        "Foo.framework\n") < text.index("xcrun notarytool submit")
    assert main(["plan", "--format", "json", str(app)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["sign"][-1]["path"] == "" and doc["entitlements"][-1]["xml"].startswith("<?xml")
    assert main(["plan", str(tmp_path / "missing.app")]) == 2
