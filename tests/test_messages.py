"""Messages that state Apple's and the toolkits' facts correctly (issue 11, item 2, "Messages"):
each assertion failed on the messages bundlelint printed before."""

from __future__ import annotations

from pathlib import Path

from appbuilder import developer_id_like, make_app
from lintutil import REGISTRY, by_rule, lint
from test_rules_golang import fyne_modinfo, go_spec

from fixtures.macho_builder import MH_DYLIB, MachOSpec

JIT = {"com.apple.security.cs.allow-jit": True}


def _tool(tmp_path: Path, data: bytes, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    path.chmod(0o755)
    return path


def test_go_renderer_note_only_on_go_binaries_and_with_each_toolkits_facts(
        tmp_path: Path) -> None:
    not_go = developer_id_like(MachOSpec(), entitlements=JIT)
    [finding] = by_rule(lint(_tool(tmp_path, not_go, "c-tool")), "BL304")
    assert "Go" not in finding.message and "Metal" not in finding.message
    toolkits = (("fyne.io/fyne/v2", "v2.5.0", "Fyne draws with OpenGL via go-gl"),
                ("github.com/wailsapp/wails/v2", "v2.9.0", "Wails draws with WKWebView"),
                ("gioui.org", "v0.7.0", "Gio draws with Metal"),
                ("github.com/hajimehoshi/ebiten/v2", "v2.8.0", "Ebitengine draws with Metal"))
    for module, version, drawn in toolkits:
        go = developer_id_like(go_spec(modinfo=fyne_modinfo(True, module, version)),
                               entitlements=JIT)
        app = make_app(tmp_path / module.replace("/", "_"), executable=go)
        report = lint(app)
        [jit] = by_rule(report, "BL304")
        assert drawn in jit.message and "Go generates no code at run time" in jit.message
        [unneeded] = by_rule(report, "BL603")
        assert drawn in unneeded.message and "renders with Metal" not in unneeded.message
    meta = REGISTRY.meta("BL304")
    assert "Metal" not in meta.why  # the rule's own text is not about Go at all


def test_entitlements_on_library_code_are_themselves_the_problem(tmp_path: Path) -> None:
    # BL020 owns entitlements on library code; BL304 judges executables only
    lib = developer_id_like(MachOSpec(filetype=MH_DYLIB), entitlements=JIT)
    report = lint(_tool(tmp_path, lib, "libx.dylib"))
    assert not by_rule(report, "BL304")
    [finding] = by_rule(report, "BL020")
    assert "a library gets none of them" in finding.message
    assert finding.fix is not None and "without --entitlements" in finding.fix.text


def test_bl202_says_how_ld64_and_go_name_the_linker_identifier() -> None:
    why = REGISTRY.meta("BL202").why
    assert "ld64 names the identifier after the output file" in why
    assert "Go's internal linker always writes `a.out`" in why


def test_bl102_fix_for_go_says_the_internal_linker_ignores_the_deployment_target(
        tmp_path: Path) -> None:
    meta = REGISTRY.meta("BL102")
    assert "go build" not in (meta.fix_command or "")  # MACOSX_DEPLOYMENT_TARGET=... go build
    go = developer_id_like(go_spec(build_version=None))
    [finding] = by_rule(lint(_tool(tmp_path, go, "gotool")), "BL102")
    assert finding.fix is not None
    assert "Go's internal linker ignores MACOSX_DEPLOYMENT_TARGET" in finding.fix.text
    assert (finding.fix.command or "").startswith("go version -m ")
    c_tool = developer_id_like(MachOSpec(build_version=None))
    [other] = by_rule(lint(_tool(tmp_path, c_tool, "ctool")), "BL102")
    assert other.fix is not None and "Go" not in other.fix.text


def test_bl101_go_hint_only_for_go_binaries(tmp_path: Path) -> None:
    old = {"build_version": None, "version_min": ((10, 6, 0), (10, 7, 0))}
    [c_finding] = by_rule(lint(_tool(tmp_path, developer_id_like(MachOSpec(**old)), "c")),
                          "BL101")
    assert c_finding.fix is not None and "go version" not in (c_finding.fix.command or "")
    assert "Go" not in c_finding.fix.text
    go = developer_id_like(go_spec(version="go1.11.13", **old))
    [go_finding] = by_rule(lint(_tool(tmp_path, go, "g")), "BL101")
    assert go_finding.fix is not None and "Go release" in go_finding.fix.text
    assert (go_finding.fix.command or "").startswith("go version -m ")


def test_bl303_dates_the_der_requirement_to_ios_15_not_macos_12() -> None:
    why = REGISTRY.meta("BL303").why
    assert "iOS 15" in why and "macOS 12" not in why


def test_bl306_says_the_entitlement_is_for_third_party_plugins() -> None:
    assert "third-party plug-ins" in REGISTRY.meta("BL306").why


def test_bl106_and_bl407_say_dyld_has_no_minimum_os_gate() -> None:
    for rule_id in ("BL106", "BL407"):
        why = REGISTRY.meta(rule_id).why
        assert "no minimum-OS gate" in why and "Symbol not found" in why
