"""BL2xx and BL3xx rules: each fires on a fixture with its defect and stays quiet without it."""

from __future__ import annotations

from pathlib import Path

from appbuilder import TEAM, TEST_CMS, developer_id_like, make_app, universal
from lintutil import by_rule, lint, rule_ids

from fixtures.macho_builder import MH_DYLIB, MachOSpec, build_macho
from fixtures.signer import CS_ADHOC, CS_LINKER_SIGNED, CS_RUNTIME, sign_macho


def _file(tmp_path: Path, data: bytes, name: str = "tool") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    path.chmod(0o755)
    return path


def test_bl201_fires_on_unsigned_slice(tmp_path: Path) -> None:
    path = _file(tmp_path, build_macho(MachOSpec(arch="x86_64")))
    [finding] = by_rule(lint(path), "BL201")
    assert finding.location.arch == "x86_64"
    assert finding.location.path == "tool"
    assert finding.fix is not None and finding.fix.command is not None
    assert "--options runtime --timestamp" in finding.fix.command
    assert "--deep" not in finding.fix.command
    assert finding.fix.command.endswith(str(path))


def test_bl201_quiet_on_signed_file(tmp_path: Path) -> None:
    assert not by_rule(lint(_file(tmp_path, developer_id_like())), "BL201")


def test_bl201_names_nested_dylib_in_bundle(tmp_path: Path) -> None:
    lib = build_macho(MachOSpec(filetype=MH_DYLIB, id_dylib="@rpath/libfoo.dylib"))
    app = make_app(tmp_path, files={"Contents/Frameworks/libfoo.dylib": lib})
    [finding] = by_rule(lint(app), "BL201")
    assert finding.location.path == "Sample.app/Contents/Frameworks/libfoo.dylib"
    assert finding.fix is not None and finding.fix.command is not None
    # a nested dylib is signed on its own, without the app's entitlements
    assert "--entitlements" not in finding.fix.command
    assert finding.fix.command.endswith("Contents/Frameworks/libfoo.dylib")


def test_bl202_fires_on_adhoc_and_says_so(tmp_path: Path) -> None:
    data = sign_macho(build_macho(MachOSpec()), identifier="tool", flags=CS_ADHOC | CS_RUNTIME)
    [finding] = by_rule(lint(_file(tmp_path, data)), "BL202")
    assert "ad hoc" in finding.message and "0x10002" in finding.message
    assert finding.evidence["kind"] == "adhoc"


def test_bl202_fires_on_linker_signature_and_names_go_only_for_go(tmp_path: Path) -> None:
    data = sign_macho(build_macho(MachOSpec()), identifier="a.out",
                      flags=CS_ADHOC | CS_LINKER_SIGNED, linker_signed_layout=True, cms=None)
    [finding] = by_rule(lint(_file(tmp_path, data)), "BL202")
    # not a Go binary (no build info): the linker is named, Go is not (issue 11)
    assert "linker" in finding.message and "Go" not in finding.message
    assert finding.evidence["flags"] == "0x20002"
    assert finding.evidence["identifier"] == "a.out"


def test_bl202_quiet_with_certificate_signature(tmp_path: Path) -> None:
    assert not by_rule(lint(_file(tmp_path, developer_id_like())), "BL202")


def test_bl203_fires_on_executable_without_runtime(tmp_path: Path) -> None:
    data = developer_id_like(flags=0)
    [finding] = by_rule(lint(_file(tmp_path, data)), "BL203")
    assert finding.location.arch == "arm64"
    assert "0x10000" in finding.message


def test_bl203_quiet_on_dylib_without_runtime(tmp_path: Path) -> None:
    spec = MachOSpec(filetype=MH_DYLIB, id_dylib="@rpath/libx.dylib")
    data = sign_macho(build_macho(spec), identifier="libx", flags=0, team_id=TEAM, cms=TEST_CMS)
    assert not by_rule(lint(_file(tmp_path, data, "libx.dylib")), "BL203")


def test_bl203_quiet_with_runtime(tmp_path: Path) -> None:
    assert not by_rule(lint(_file(tmp_path, developer_id_like())), "BL203")


def test_bl204_names_the_unsigned_x86_64_slice(tmp_path: Path) -> None:
    arm = developer_id_like(MachOSpec(arch="arm64"))
    intel = build_macho(MachOSpec(arch="x86_64"))
    report = lint(_file(tmp_path, universal(intel, arm)))
    [finding] = by_rule(report, "BL204")
    assert finding.location.arch == "x86_64"
    assert finding.message.startswith("x86_64 slice is unsigned while other slices are signed")
    # BL201 blames x86_64 only; the signed arm64 slice is not blamed
    assert [f.location.arch for f in by_rule(report, "BL201")] == ["x86_64"]


def test_bl204_fires_on_different_teams(tmp_path: Path) -> None:
    arm = developer_id_like(MachOSpec(arch="arm64"))
    intel = developer_id_like(MachOSpec(arch="x86_64"), team_id="ZZZZZ99999")
    [finding] = by_rule(lint(_file(tmp_path, universal(intel, arm))), "BL204")
    assert "different teams" in finding.message
    assert "ZZZZZ99999" in finding.message and TEAM in finding.message


def test_bl204_and_bl205_quiet_when_slices_agree(tmp_path: Path) -> None:
    fat = universal(developer_id_like(MachOSpec(arch="x86_64")),
                    developer_id_like(MachOSpec(arch="arm64")))
    report = lint(_file(tmp_path, fat))
    assert not rule_ids(report) & {"BL204", "BL205"}
    assert report.findings == ()


def test_bl205_warns_on_identifier_mismatch_only(tmp_path: Path) -> None:
    fat = universal(developer_id_like(MachOSpec(arch="x86_64"), identifier="tool-x86"),
                    developer_id_like(MachOSpec(arch="arm64"), identifier="tool-arm"))
    report = lint(_file(tmp_path, fat))
    [finding] = by_rule(report, "BL205")
    assert finding.severity.value == "warning"
    assert "'tool-x86'" in finding.message and "'tool-arm'" in finding.message
    assert not by_rule(report, "BL204")


def test_bl301_fires_on_get_task_allow(tmp_path: Path) -> None:
    data = developer_id_like(entitlements={"com.apple.security.get-task-allow": True})
    [finding] = by_rule(lint(_file(tmp_path, data)), "BL301")
    assert "get-task-allow" in finding.message


def test_bl301_quiet_when_false_or_absent(tmp_path: Path) -> None:
    off = developer_id_like(entitlements={"com.apple.security.get-task-allow": False})
    other = developer_id_like(entitlements={"com.apple.security.app-sandbox": True})
    assert not by_rule(lint(_file(tmp_path, off, "a")), "BL301")
    assert not by_rule(lint(_file(tmp_path, other, "b")), "BL301")


def test_fix_for_code_inside_a_jar_signs_it_outside_and_puts_it_back(tmp_path: Path) -> None:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("native/libfoo.dylib",
                    build_macho(MachOSpec(filetype=MH_DYLIB, id_dylib="@rpath/libfoo.dylib")))
    app = make_app(tmp_path, files={"Contents/Resources/lib.jar": buf.getvalue()})
    [finding] = by_rule(lint(app), "BL201")
    assert finding.fix is not None and finding.fix.command is not None
    command = finding.fix.command
    assert command.startswith(f"jar=$(realpath {app}/Contents/Resources/lib.jar) && ")
    assert 'unzip -q "$jar" native/libfoo.dylib -d "$tmp"' in command
    assert '"$tmp"/native/libfoo.dylib' in command
    assert command.endswith('(cd "$tmp" && zip -q "$jar" native/libfoo.dylib)  # then re-sign '
                            "the bundle")
