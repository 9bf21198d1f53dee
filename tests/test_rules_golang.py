"""BL6xx (Go) and the Go-specific BL202 fix: each rule fires on a fixture with its defect,
stays quiet without it, and agrees with real Go binaries."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest
from appbuilder import developer_id_like, make_app
from lintutil import by_rule, lint

from bundlelint.parsers.gobuildinfo import MAGIC, MODINFO_END, MODINFO_START
from bundlelint.parsers.macho import parse_macho_bytes
from fixtures.macho_builder import LC_SEGMENT_64, MachOSpec, build_macho
from fixtures.signer import CS_ADHOC, CS_LINKER_SIGNED, sign_macho

GO_VMADDR = 0x300000000


def _uvarint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _data_segment(fileoff: int, size: int) -> bytes:
    """A RW ``__DATA`` segment whose ``__go_buildinfo`` section maps ``fileoff``."""
    section = struct.pack("<16s16sQQIIIIIIII", b"__go_buildinfo", b"__DATA", GO_VMADDR, size,
                          fileoff, 4, 0, 0, 0, 0, 0, 0)
    return struct.pack("<II16sQQQQiiII", LC_SEGMENT_64, 72 + 80, b"__DATA", GO_VMADDR, size,
                       fileoff, size, 3, 3, 1, 0) + section


def go_spec(version: str = "go1.22.5", modinfo: str = "", **kwargs: Any) -> MachOSpec:
    """A Mach-O spec whose __text starts with an inline Go build-info blob, mapped by a
    ``__DATA,__go_buildinfo`` section (so the slice reads as Go, as the linker writes it)."""
    mod = MODINFO_START + modinfo.encode() + MODINFO_END if modinfo else b""
    blob = (MAGIC + bytes([8, 2]) + b"\0" * 16 + _uvarint(len(version)) + version.encode()
            + _uvarint(len(mod)) + mod)
    blob = blob.ljust((len(blob) + 15) // 16 * 16, b"\0")
    probe = MachOSpec(code=blob, extra_commands=(_data_segment(0, len(blob)),), **kwargs)
    text = parse_macho_bytes(build_macho(probe)).slices[0].section("__TEXT", "__text")
    assert text is not None
    return MachOSpec(code=blob, extra_commands=(_data_segment(text.offset, len(blob)),),
                     **kwargs)


def fyne_modinfo(cgo: bool, module: str = "fyne.io/fyne/v2", version: str = "v2.5.0") -> str:
    return (f"path\texample.com/app\nmod\texample.com/app\t(devel)\t\n"
            f"dep\t{module}\t{version}\th1:abc=\n"
            f"build\tCGO_ENABLED={1 if cgo else 0}\nbuild\tGOOS=darwin\n")


def _file(tmp_path: Path, data: bytes, name: str = "tool") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    path.chmod(0o755)
    return path


# --- BL601 ---------------------------------------------------------------------------------


def test_bl601_fires_for_old_go_with_acceptable_sdk(tmp_path: Path) -> None:
    path = _file(tmp_path, developer_id_like(go_spec("go1.12.5")))
    report = lint(path)
    [finding] = by_rule(report, "BL601")
    assert "go1.12.5" in finding.message and finding.evidence["sdk"] == "14.0"
    assert not by_rule(report, "BL101")


def test_bl601_leaves_old_sdk_to_bl101(tmp_path: Path) -> None:
    spec = go_spec("go1.11.13", build_version=None, version_min=((10, 7, 0), (10, 7, 0)))
    report = lint(_file(tmp_path, developer_id_like(spec)))
    assert not by_rule(report, "BL601")
    [bl101] = by_rule(report, "BL101")
    assert "10.7" in bl101.message


def test_bl601_quiet_for_current_go(tmp_path: Path, go_hello_arm64: Path) -> None:
    assert not by_rule(lint(_file(tmp_path, developer_id_like(go_spec("go1.13")))), "BL601")
    assert not by_rule(lint(go_hello_arm64), "BL601")


# --- BL602 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("module", "name"), [
    ("fyne.io/fyne/v2", "Fyne"),
    ("gioui.org", "Gio"),
    ("github.com/wailsapp/wails/v2", "Wails"),
])
def test_bl602_fires_for_cgo_toolkits_without_cgo(tmp_path: Path, module: str,
                                                  name: str) -> None:
    exe = developer_id_like(go_spec(modinfo=fyne_modinfo(False, module)))
    app = make_app(tmp_path, executable=exe)
    [finding] = by_rule(lint(app), "BL602")
    assert finding.evidence["toolkit"] == name and finding.evidence["version"] == "v2.5.0"
    assert "cannot open a window" in finding.message
    assert finding.fix is not None and finding.fix.command is not None
    assert finding.fix.command.startswith("CGO_ENABLED=1 GOOS=darwin GOARCH=arm64 go build")


def test_bl602_quiet_with_cgo_and_for_ebitengine(tmp_path: Path) -> None:
    with_cgo = developer_id_like(go_spec(modinfo=fyne_modinfo(True)))
    ebiten = developer_id_like(go_spec(modinfo=fyne_modinfo(
        False, "github.com/hajimehoshi/ebiten/v2", "v2.10.0")))
    assert not by_rule(lint(_file(tmp_path, with_cgo, "a")), "BL602")
    assert not by_rule(lint(_file(tmp_path, ebiten, "b")), "BL602")


def test_bl602_on_real_builds(go_fyne_nocgo_arm64: Path, go_fyne_cgo_arm64: Path) -> None:
    [finding] = by_rule(lint(go_fyne_nocgo_arm64), "BL602")
    assert finding.location.arch == "arm64" and "fyne.io/fyne/v2 v2.5.0" in finding.message
    assert not by_rule(lint(go_fyne_cgo_arm64), "BL602")


# --- BL603 ---------------------------------------------------------------------------------


def test_bl603_fires_on_jit_entitlement_of_go_gui_app(tmp_path: Path) -> None:
    exe = developer_id_like(go_spec(modinfo=fyne_modinfo(True)), entitlements={
        "com.apple.security.cs.allow-jit": True,
        "com.apple.security.cs.allow-unsigned-executable-memory": True,
        "com.apple.security.network.client": True})
    [finding] = by_rule(lint(make_app(tmp_path, executable=exe)), "BL603")
    assert finding.evidence["entitlements"] == ("com.apple.security.cs.allow-jit,"
                                                "com.apple.security.cs.allow-unsigned-"
                                                "executable-memory")
    assert "Fyne v2.5.0" in finding.message
    assert finding.fix is not None and "--entitlements" in (finding.fix.command or "")


def test_bl603_quiet_without_those_entitlements_or_for_non_go(tmp_path: Path) -> None:
    go_ok = developer_id_like(go_spec(), entitlements={"com.apple.security.network.client": True})
    not_go = developer_id_like(MachOSpec(), entitlements={"com.apple.security.cs.allow-jit": True})
    assert not by_rule(lint(_file(tmp_path, go_ok, "a")), "BL603")
    assert not by_rule(lint(_file(tmp_path, not_go, "b")), "BL603")


# --- BL202 for Go --------------------------------------------------------------------------


def test_bl202_gives_go_fix_for_go_binary(go_hello_arm64: Path) -> None:
    [finding] = by_rule(lint(go_hello_arm64), "BL202")
    assert "(Go binary built by go1.27.3)" in finding.message
    assert finding.fix is not None and "After `go build`" in finding.fix.text
    assert finding.evidence == {"flags": "0x20002", "identifier": "a.out",
                                "kind": "linker-signed"}


def test_bl202_keeps_generic_fix_for_non_go(tmp_path: Path) -> None:
    data = sign_macho(build_macho(MachOSpec()), identifier="tool",
                      flags=CS_ADHOC | CS_LINKER_SIGNED, linker_signed_layout=True)
    [finding] = by_rule(lint(_file(tmp_path, data)), "BL202")
    assert "Go binary" not in finding.message
    assert finding.fix is not None and "go build" not in finding.fix.text


@pytest.mark.realbin
def test_real_go_binaries_agree() -> None:
    from realbins import fetch

    esbuild = lint(fetch("esbuild-darwin-arm64"))
    [adhoc] = by_rule(esbuild, "BL202")
    assert "(Go binary built by go1.26.5)" in adhoc.message
    lefthook = lint(fetch("lefthook-darwin-arm64"))
    assert "(Go binary built by go1.27.0)" in by_rule(lefthook, "BL202")[0].message
    for report in (esbuild, lefthook):
        assert not [f for f in report.findings if f.rule_id.startswith("BL6")]
