"""``inspect`` as a signing tree (issue 16): every bundle and Mach-O that codesign signs, nested
as the bundle nests them, numbered in the order ``plan`` signs them (deepest first), each with
its signature state, which parent's seal records it, and whether a ticket is stapled."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from appbuilder import developer_id_like, make_app
from samples import container
from test_layout import _nested_app, _versioned_framework
from test_real_apps import JUHFLOW_DMG, JUHFLOW_TEAM, _unpack_app

from bundlelint.bundle import open_input
from bundlelint.cli import main
from bundlelint.commands.plan import build_plan
from fixtures import test_ca
from fixtures.macho_builder import MachOSpec, build_macho
from fixtures.sealer import seal_bundle

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "fixtures" / "demo" / "Demo.app"


def _cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def _tree(path: Path, *extra: str) -> dict[str, Any]:
    code, out, err = _cli("inspect", "--format", "json", *extra, str(path))
    assert code == 0, err
    tree: dict[str, Any] = json.loads(out)["tree"]
    return tree


def _walk(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node, *(n for child in node["children"] for n in _walk(child))]


def _by_path(tree: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {node["path"]: node for node in _walk(tree)}


def _nested_app_with_everything(tmp_path: Path) -> Path:
    """An app with Kit.framework (executable KitCore), a loose dylib, a helper app in
    Contents/Helpers holding its own framework, and an XPC service."""
    app = make_app(tmp_path)
    _versioned_framework(app, "Kit", "KitCore")
    contents = app / "Contents"
    (contents / "Frameworks" / "libloose.dylib").write_bytes(
        build_macho(MachOSpec(filetype=6, id_dylib="@rpath/libloose.dylib")))
    _nested_app(contents, "Helpers/Helper.app", "helper", "com.example.helper")
    _versioned_framework(contents / "Helpers" / "Helper.app", "Inner", "Inner")
    _nested_app(contents, "XPCServices/Svc.xpc", "svc", "com.example.svc", "XPC!")
    return app


def test_tree_nests_as_the_bundle_and_numbers_as_plan_signs(tmp_path: Path) -> None:
    app = _nested_app_with_everything(tmp_path)
    tree = _tree(app)
    nodes = _by_path(tree)
    name = app.name
    helper = f"{name}/Contents/Helpers/Helper.app"
    inner = f"{helper}/Contents/Frameworks/Inner.framework"
    kit = f"{name}/Contents/Frameworks/Kit.framework"
    # Containment: the helper's framework is its child, not the app's.
    assert [c["path"] for c in nodes[helper]["children"]] == [inner]
    assert {c["path"] for c in tree["children"]} == {
        kit, f"{name}/Contents/Frameworks/libloose.dylib", helper,
        f"{name}/Contents/XPCServices/Svc.xpc"}
    # The framework's code is KitCore, signed through the framework.
    assert nodes[kit]["executable"] == f"{kit}/Versions/A/KitCore"
    assert nodes[kit]["kind"] == ".framework"
    # Numbering is plan's order: every child before its parent, the input last.
    plan = build_plan(open_input(app))
    plan_order = [open_input(app).display(step.path) if step.path else name
                  for step in plan.sign]
    tree_order = [n["path"] for n in sorted(_walk(tree), key=lambda n: n["order"])]
    assert tree_order == plan_order
    assert tree["order"] == len(plan_order)
    assert nodes[inner]["order"] < nodes[helper]["order"]


def test_signature_states_at_a_glance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BUNDLELINT_EXTRA_TRUST_ANCHOR", raising=False)  # conftest trusts it
    app = _nested_app_with_everything(tmp_path)
    anchor = tmp_path / "test-root.der"  # the throwaway test CA, trusted as --trust-anchor
    anchor.write_bytes(test_ca.root().der)
    nodes = _by_path(_tree(app, "--trust-anchor", str(anchor)))
    main_state = nodes[app.name]["signature"]
    # make_app's executable is signed like a release: test-CA CMS, runtime, team, timestamp.
    assert main_state["team_id"] == "ABCDE12345"
    assert main_state["hardened_runtime"] is True
    assert main_state["state"] == "Developer ID Application"  # the test CA's leaf says so
    assert main_state["chain"] == "rooted at an extra trust anchor"
    _, out, _ = _cli("inspect", str(app))  # without the anchor: said on the tree line
    assert "Developer ID Application (ABCDE12345) · chain rooted at a certificate that is not " \
        "an Apple root · hardened runtime · timestamp" in out.splitlines()[0]
    assert nodes[f"{app.name}/Contents/Frameworks/Kit.framework"]["signature"]["state"] == \
        "unsigned"
    demo = _tree(DEMO)
    assert demo["signature"]["state"] == "mixed"
    assert demo["signature"]["slices"] == {"arm64": "linker-signed", "x86_64": "unsigned"}
    assert demo["signature"]["hardened_runtime"] is False
    assert demo["stapled"] is False


def test_sealed_by_and_stale_nested_code(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    _nested_app(app / "Contents", "Helpers/Helper.app", "helper", "com.example.helper")
    seal_bundle(app)  # seals and signs the helper first, then the app
    helper = f"{app.name}/Contents/Helpers/Helper.app"
    sealed = _by_path(_tree(app))[helper]["sealed_by"]
    assert sealed == {"bundle": app.name, "recorded": True, "cdhash_matches": True}
    # Re-sign the helper after the app was sealed: its cdhash no longer matches the seal.
    exe = app / "Contents/Helpers/Helper.app/Contents/MacOS/helper"
    exe.write_bytes(developer_id_like(identifier="com.example.helper", team_id="ZZZZZ99999"))
    sealed = _by_path(_tree(app))[helper]["sealed_by"]
    assert sealed == {"bundle": app.name, "recorded": True, "cdhash_matches": False}
    code, out, _ = _cli("inspect", str(app))
    assert code == 0
    assert "Helper.app  .app · signed 1st of 2 · " in out
    assert "sealed with another cdhash (changed after signing)" in out


def test_stapled_ticket_is_seen_and_checked(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    assert _tree(app)["stapled"] is False
    (app / "Contents" / "CodeResources").write_bytes(b"not a ticket")
    assert _tree(app)["stapled"] is False
    (app / "Contents" / "CodeResources").write_bytes(b"s8ch" + bytes(60))  # a broken ticket
    stapled = _tree(app)["stapled"]
    assert stapled["trusted"] is False and "error" in stapled
    assert "· stapled (unreadable ticket)" in _cli("inspect", str(app))[1].splitlines()[0]


def test_text_tree_draws_guides_and_escapes_names(tmp_path: Path) -> None:
    app = make_app(tmp_path, name="Evil\x1b[2J::x.app")
    _versioned_framework(app, "Kit", "KitCore")
    code, out, _ = _cli("inspect", str(app))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("Evil\\x1b[2J::x.app  .app · signed 2nd of 2 · ")
    assert lines[1].startswith("└── Contents/Frameworks/Kit.framework  .framework · "
                               "signed 1st of 2 · unsigned")
    assert "\x1b" not in out


def test_single_file_is_one_node(tmp_path: Path) -> None:
    tool = tmp_path / "tool"
    tool.write_bytes(build_macho(MachOSpec()))
    tree = _tree(tool)
    assert (tree["kind"], tree["children"], tree["stapled"]) == ("executable", [], None)
    assert tree["signature"]["state"] == "unsigned"


@pytest.fixture(scope="module")
def juhflow(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _unpack_app(JUHFLOW_DMG, tmp_path_factory.mktemp("juhflow-tree"), "JuhFlow.app")


def test_real_notarized_app_tree(juhflow: Path) -> None:
    """JuhFlow, a Developer ID signed, notarized Swift app: the tree says so."""
    tree = _tree(juhflow)
    sig = tree["signature"]
    assert sig["state"] == "Developer ID Application"
    assert sig["team_id"] == JUHFLOW_TEAM
    assert sig["hardened_runtime"] is True and sig["timestamp"] is True
    assert sig["chain"] == "rooted at a pinned Apple root"
    assert tree["path"] == "JuhFlow.app" and tree["order"] == len(_walk(tree))
    assert shutil.which("7zz")  # the fixture extracted it


# --- containers: the level above the code -----------------------------------------------------

def test_notarized_disk_image_is_the_root_with_its_signature_and_ticket() -> None:
    tree = _tree(container("01-juhflow-devid-notarized-apfs.dmg"))
    assert tree["kind"] == "disk image" and tree["order"] == 2
    assert tree["signature"]["state"] == "Developer ID Application"
    assert tree["signature"]["team_id"] == JUHFLOW_TEAM
    assert tree["signature"]["chain"] == "rooted at a pinned Apple root"
    # The ticket in signature slot 0x10002: Apple's signature verifies, it lists the image.
    assert tree["stapled"]["trusted"] is True and tree["stapled"]["lists_this_code"] is True
    [app] = tree["children"]
    assert (app["path"], app["order"]) == ("01-juhflow-devid-notarized-apfs.dmg/JuhFlow.app", 1)
    assert app["signature"]["state"] == "Developer ID Application"


def test_packages_show_the_installer_signature_and_ticket() -> None:
    signed = _tree(container("09-scanline-2.3-devid-stapled.pkg"))
    assert signed["kind"] == "installer package"
    assert signed["signature"]["state"] == "Developer ID Installer"
    assert signed["signature"]["team_id"] == "3M8T4B982V"
    assert signed["stapled"]["trusted"] is True and signed["stapled"]["lists_this_code"] is True
    unsigned = _tree(container("12-tasks-explorer-unsigned-distribution.pkg"))
    assert (unsigned["kind"], unsigned["signature"], unsigned["stapled"]) == (
        "installer package", {"state": "unsigned"}, False)
    assert unsigned["order"] == len(_walk(unsigned))  # productsign comes last
    _, out, _ = _cli("inspect", str(container("12-tasks-explorer-unsigned-distribution.pkg")))
    assert out.splitlines()[0] == ("12-tasks-explorer-unsigned-distribution.pkg  installer "
                                   "package · signed 5th of 5 · unsigned")


def test_a_zip_is_the_level_above_the_app_and_never_signed(tmp_path: Path) -> None:
    app = make_app(tmp_path / "build")
    archive = tmp_path / "Upload.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(app.parent.rglob("*")):
            zf.write(path, path.relative_to(app.parent).as_posix())
    tree = _tree(archive)
    assert (tree["path"], tree["kind"], tree["order"], tree["stapled"]) == (
        "Upload.zip", "zip archive", None, None)
    [inner] = tree["children"]
    assert (inner["path"], inner["kind"], inner["order"]) == ("Sample.app", ".app", 1)
    _, out, _ = _cli("inspect", str(archive))
    assert out.splitlines()[0] == "Upload.zip  zip archive · never signed · not signable"
    assert out.splitlines()[1].startswith("└── Sample.app  .app · signed 1st of 1 · ")


@pytest.mark.parametrize("name", [
    "01-juhflow-devid-notarized-apfs.dmg", "03-itunes-volume-control-2013-hfs.dmg",
    "05-sparkle-testapp-hfs-bzip2-sla.dmg", "06-sparkle-apfs-lzma-adhoc-signed.dmg",
    "09-scanline-2.3-devid-stapled.pkg", "12-tasks-explorer-unsigned-distribution.pkg",
    "13-munki-kickstart-payloadfree.pkg"])
def test_every_container_sample_inspects_as_json_and_text(name: str) -> None:
    """Signing times, timestamps and ticket times are dates in the models: the JSON document
    must still be JSON (it raised TypeError on the signed samples), and its tree's root is the
    container."""
    sample = container(name)
    code, out, err = _cli("inspect", "--format", "json", str(sample))
    assert code == 0, err
    tree = json.loads(out)["tree"]
    assert tree["kind"] == ("disk image" if name.endswith(".dmg") else "installer package")
    assert tree["path"] == name
    code, text, err = _cli("inspect", str(sample))
    assert code == 0, err
    assert text.startswith(f"{name}  {tree['kind']} · ")


def test_an_unreadable_package_is_not_called_unsigned(tmp_path: Path) -> None:
    """A package cut short after its header: its signature could not be read, which is not
    the same as having none (that is BL820's error)."""
    from fixtures import xar_builder as xb

    whole = xb.build_xar([xb.XarFile("PackageInfo", xb.package_info(), encoding="gzip")])
    broken = tmp_path / "Broken.pkg"
    broken.write_bytes(whole[:60])
    tree = _tree(broken)
    assert tree["kind"] == "installer package"
    assert tree["signature"]["state"] == "unreadable" and tree["signature"]["error"]
    assert "· unreadable" in _cli("inspect", str(broken))[1].splitlines()[0]
