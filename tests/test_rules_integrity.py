"""BL210-BL216 and BL230-BL236: each fires on a fixture with its defect and stays quiet on a
good one; real binaries agree."""

from __future__ import annotations

import plistlib
import shutil
import struct
from pathlib import Path

import pytest
from appbuilder import developer_id_like, make_app
from lintutil import by_rule, lint, rule_ids
from realbins import fetch

from bundlelint.findings import Severity
from bundlelint.parsers.macho import parse_macho_bytes
from fixtures.macho_builder import MH_DYLIB, MachOSpec
from fixtures.sealer import build_code_resources, seal_bundle

INTEGRITY = {f"BL21{i}" for i in range(10)} | {f"BL23{i}" for i in range(10)}


def integrity(report) -> set[str]:  # type: ignore[no-untyped-def]
    return rule_ids(report) & INTEGRITY


def good_app(tmp_path: Path) -> Path:
    app = make_app(tmp_path, files={
        "Contents/Resources/readme.txt": b"read me",
        "Contents/Frameworks/libhelper.dylib": developer_id_like(
            MachOSpec(filetype=MH_DYLIB), identifier="libhelper"),
    })
    seal_bundle(app)
    return app


def test_good_sealed_app_is_quiet(tmp_path: Path) -> None:
    assert integrity(lint(good_app(tmp_path))) == set()


@pytest.mark.realbin
@pytest.mark.parametrize("name", ["sentry-cli-darwin-universal", "bun-1.3.12-darwin-arm64",
                                  "node-10-darwin-x64", "esbuild-darwin-arm64",
                                  "lefthook-darwin-arm64"])
def test_real_binaries_are_quiet(name: str) -> None:
    assert integrity(lint(fetch(name))) == set()


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.realbin
def test_bl210_real_universal_names_file_arch_and_page(tmp_path: Path) -> None:
    copy = tmp_path / "sentry-cli"
    shutil.copyfile(fetch("sentry-cli-darwin-universal"), copy)
    arm = 15024128
    _flip(copy, arm + 42 * 4096 + 3)
    [finding] = by_rule(lint(copy), "BL210")
    assert finding.location.path == "sentry-cli" and finding.location.arch == "arm64"
    assert finding.location.offset == arm + 42 * 4096
    assert "first bad page 42" in finding.message and "primary CodeDirectory (SHA-256)" in \
        finding.message
    assert "strip" in finding.message


@pytest.mark.realbin
def test_bl210_go_binary_edited_after_linking(tmp_path: Path) -> None:
    copy = tmp_path / "esbuild"
    shutil.copyfile(fetch("esbuild-darwin-arm64"), copy)
    _flip(copy, 5 * 4096 + 100)
    [finding] = by_rule(lint(copy), "BL210")
    assert finding.location.arch == "arm64" and finding.evidence["first_bad_page"] == "5"


def test_bl210_fixture_universal_blames_one_slice(tmp_path: Path) -> None:
    from appbuilder import universal

    from fixtures.macho_builder import build_macho
    from fixtures.signer import sign_macho

    fat = sign_macho(universal(build_macho(MachOSpec(arch="x86_64", code_size=9000)),
                               build_macho(MachOSpec(arch="arm64", code_size=9000))),
                     identifier="fat")
    arm = parse_macho_bytes(fat).slices[1]
    path = tmp_path / "fat"
    path.write_bytes(fat)
    _flip(path, arm.offset + 4096 + 1)
    [finding] = by_rule(lint(path), "BL210")
    assert finding.location.arch == "arm64" and finding.location.offset == arm.offset + 4096


def test_bl211_hostile_code_directory(tmp_path: Path) -> None:
    signed = bytearray(developer_id_like())
    cd = parse_macho_bytes(bytes(signed)).slices[0].signature.primary  # type: ignore[union-attr]
    struct.pack_into(">I", signed, cd.offset + 0x20, 0x7FFFFFF0)  # type: ignore[union-attr]
    path = tmp_path / "bin"
    path.write_bytes(bytes(signed))
    report = lint(path)
    messages = [f.message for f in by_rule(report, "BL211")]
    assert any("nCodeSlots" in m for m in messages)
    assert any("past the end" in m for m in messages)
    assert not by_rule(report, "BL003")  # no crash


def test_bl212_info_plist_edited_after_signing(tmp_path: Path) -> None:
    app = good_app(tmp_path)
    info = app / "Contents/Info.plist"
    values = plistlib.loads(info.read_bytes())
    values["CFBundleShortVersionString"] = "2.0"
    info.write_bytes(plistlib.dumps(values))
    [finding] = by_rule(lint(app), "BL212")
    assert finding.location.path == "Sample.app/Contents/MacOS/app"
    assert "Sample.app/Contents/Info.plist" in finding.message


def test_bl213_requirements_mismatch(tmp_path: Path) -> None:
    reqs = bytes.fromhex("fade0c01" "00000010" "00000000" "00000000")
    signed = developer_id_like(requirements=reqs)
    path = tmp_path / "bin"
    path.write_bytes(signed.replace(reqs, reqs[:-1] + b"\x01"))
    assert rule_ids(lint(path)) >= {"BL213"}
    path.write_bytes(signed)
    assert not by_rule(lint(path), "BL213")


def test_bl214_code_resources_changed_or_missing(tmp_path: Path) -> None:
    app = good_app(tmp_path)
    (app / "Contents/Resources/new.txt").write_bytes(b"new")
    cr = app / "Contents/_CodeSignature/CodeResources"
    cr.write_bytes(build_code_resources(app))  # re-sealed but the executable not re-signed
    report = lint(app)
    [finding] = by_rule(report, "BL214")
    assert "rewritten after the executable was signed" in finding.message
    assert not by_rule(report, "BL232")  # the new seal covers the new file
    cr.unlink()
    report = lint(app)
    [finding] = by_rule(report, "BL214")
    assert "missing" in finding.message
    assert not by_rule(report, "BL234")  # slot 3 is bound: BL214's business


def test_bl215_entitlements_blob_tampered(tmp_path: Path) -> None:
    signed = developer_id_like(entitlements={"com.apple.security.cs.allow-jit": True,
                                             "note": "aaaa"})
    path = tmp_path / "bin"
    path.write_bytes(signed)
    assert not by_rule(lint(path), "BL215")
    path.write_bytes(signed.replace(b"aaaa", b"aaab"))
    [finding] = by_rule(lint(path), "BL215")
    assert "special slot 5" in finding.message


def test_bl216_sha1_only(tmp_path: Path) -> None:
    path = tmp_path / "bin"
    path.write_bytes(developer_id_like(hash_types=(1,)))
    [finding] = by_rule(lint(path), "BL216")
    assert finding.fix is not None
    path.write_bytes(developer_id_like(hash_types=(1, 2)))
    assert not by_rule(lint(path), "BL216")


def test_bl230_bl231_bl232(tmp_path: Path) -> None:
    app = good_app(tmp_path)
    _flip(app / "Contents/Resources/readme.txt", 0)
    (app / "Contents/Resources/late.txt").write_bytes(b"late")
    report = lint(app)
    [modified] = by_rule(report, "BL230")
    [added] = by_rule(report, "BL232")
    assert modified.location.path == "Sample.app/Contents/Resources/readme.txt"
    assert added.location.path == "Sample.app/Contents/Resources/late.txt"
    assert modified.fix is not None and modified.fix.command is not None
    assert modified.fix.command.endswith("/Sample.app")  # the bundle, not the resource
    (app / "Contents/Resources/readme.txt").unlink()
    [missing] = by_rule(lint(app), "BL231")
    assert missing.location.path == "Sample.app/Contents/Resources/readme.txt"


def test_bl233_nested_code_resigned(tmp_path: Path) -> None:
    app = good_app(tmp_path)
    (app / "Contents/Frameworks/libhelper.dylib").write_bytes(
        developer_id_like(MachOSpec(filetype=MH_DYLIB), identifier="changed"))
    [finding] = by_rule(lint(app), "BL233")
    assert finding.location.path == "Sample.app/Contents/Frameworks/libhelper.dylib"


def test_bl234_executable_signed_but_bundle_not_sealed(tmp_path: Path) -> None:
    app = make_app(tmp_path, files={"Contents/Resources/readme.txt": b"x"})
    [finding] = by_rule(lint(app), "BL234")
    assert "Resources/readme.txt" in finding.message
    assert "errSecCSResourcesNotFound" in finding.message
    assert not by_rule(lint(good_app(tmp_path / "good")), "BL234")


def test_bl234_fires_even_when_the_default_rules_would_seal_nothing(tmp_path: Path) -> None:
    # SecStaticCode::loadResources: a bundle has a resource base, so a signature without
    # CodeResources is errSecCSResourcesNotFound, whatever files the bundle holds.
    [finding] = by_rule(lint(make_app(tmp_path / "bare")), "BL234")
    assert finding.message == (
        "Sample.app has a signed executable but no _CodeSignature/CodeResources: verification "
        "fails (errSecCSResourcesNotFound)")


def test_bl235_stapled_ticket_is_info(tmp_path: Path) -> None:
    app = good_app(tmp_path)
    (app / "Contents/CodeResources").write_bytes(b"\x30\x82ticket")
    report = lint(app)
    [finding] = by_rule(report, "BL235")
    assert finding.severity is Severity.INFO
    assert "bare Mach-O" in finding.message
    assert integrity(report) == {"BL235"}  # the ticket is excluded from the seal
    assert not by_rule(lint(good_app(tmp_path / "unstapled")), "BL235")


def test_bl236_garbage_code_resources(tmp_path: Path) -> None:
    app = good_app(tmp_path)
    cr = app / "Contents/_CodeSignature/CodeResources"
    cr.write_bytes(b"\xff\xfe not a plist")
    report = lint(app)
    [finding] = by_rule(report, "BL236")
    assert finding.location.path == "Sample.app/Contents/_CodeSignature/CodeResources"
    assert not by_rule(report, "BL003") and not by_rule(report, "BL001")
