"""`bundlelint X.dmg`: every app inside the image is linted like an app on disk (paths
``X.dmg/App.app/...``), and the BL80x rules judge the image itself. Each rule has a fixture
that fires it (built the way the mistake is made: an image never signed, signed ad hoc or with
the wrong certificate, changed after signing, encrypted, truncated, or holding no HFS+/APFS
volume), one that keeps it quiet, and the real samples agree."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest
from samples import container

from bundlelint.findings import Severity
from fixtures import test_ca
from fixtures import udif_builder as ub
from fixtures.cms_signer import cms_callable
from tests.appbuilder import TEAM, sealed_app
from tests.lintutil import by_rule, lint, rule_ids

ROOT = Path(__file__).resolve().parent.parent
DISK_IMAGE_RULES = {"BL800", "BL801", "BL802", "BL803", "BL804", "BL805", "BL806"}


@pytest.fixture(scope="module")
def unsigned_dmg(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A clean, sealed Developer ID-like app (test CA) in an HFS+ image, with the
    /Applications link hdiutil users add, not yet signed."""
    folder = tmp_path_factory.mktemp("src") / "Sample"
    folder.mkdir()
    sealed_app(folder)
    (folder / "Applications").symlink_to("/Applications")
    return ub.dmg_of_directory(folder)


def _write(tmp_path: Path, data: bytes, name: str = "Sample.dmg") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _developer_id(image: bytes, **kwargs: object) -> bytes:
    return ub.sign_image(image, identifier="Sample", team_id=TEAM, flags=0,
                         cms=cms_callable(**kwargs))  # type: ignore[arg-type]


def test_the_app_inside_is_linted_with_image_paths(unsigned_dmg: bytes, tmp_path: Path) -> None:
    report = lint(_write(tmp_path, _developer_id(unsigned_dmg)))
    errors = [f for f in report.findings if f.severity is Severity.ERROR]
    assert errors == [], [(f.rule_id, f.path, f.message) for f in errors]
    assert not rule_ids(report) & DISK_IMAGE_RULES


def test_a_defect_inside_is_found_through_the_image(tmp_path: Path) -> None:
    folder = tmp_path / "src"
    folder.mkdir()
    sealed_app(folder, sign={"flags": 0})  # no hardened runtime
    report = lint(_write(tmp_path, _developer_id(ub.dmg_of_directory(folder))))
    (finding,) = by_rule(report, "BL203")
    assert finding.path == "Sample.dmg/Sample.app/Contents/MacOS/app"


def test_unsigned_image_bl803(unsigned_dmg: bytes, tmp_path: Path) -> None:
    (finding,) = by_rule(lint(_write(tmp_path, unsigned_dmg)), "BL803")
    assert finding.severity is Severity.WARNING
    assert finding.path == "Sample.dmg"
    assert finding.fix is not None and finding.fix.command is not None
    assert finding.fix.command.endswith(" Sample.dmg")


def test_adhoc_image_bl804(unsigned_dmg: bytes, tmp_path: Path) -> None:
    report = lint(_write(tmp_path, ub.sign_image(unsigned_dmg, identifier="Sample")))
    assert len(by_rule(report, "BL804")) == 1
    assert not by_rule(report, "BL803") and not by_rule(report, "BL806")


def test_image_signed_with_an_apple_development_certificate_bl805(unsigned_dmg: bytes,
                                                                   tmp_path: Path) -> None:
    leaf = test_ca.apple_development_leaf(team=TEAM)
    signed = _developer_id(unsigned_dmg, leaf=leaf, chain=(leaf, test_ca.wwdr_ca(),
                                                           test_ca.root()))
    (finding,) = by_rule(lint(_write(tmp_path, signed)), "BL805")
    assert "Apple Development" in finding.message
    assert not by_rule(lint(_write(tmp_path, _developer_id(unsigned_dmg), "ok.dmg")), "BL805")


def test_image_changed_after_signing_bl806(unsigned_dmg: bytes, tmp_path: Path) -> None:
    data = bytearray(_developer_id(unsigned_dmg))
    data[600] ^= 0xFF  # a byte of the first chunk: the code hash no longer matches
    findings = by_rule(lint(_write(tmp_path, bytes(data))), "BL806")
    assert findings and findings[0].severity is Severity.ERROR
    assert any("code slot 0" in f.message for f in findings)


def test_encrypted_image_bl801(tmp_path: Path) -> None:
    header = b"encrcdsa" + struct.pack(">I", 2) + bytes(8192)
    (finding,) = by_rule(lint(_write(tmp_path, header)), "BL801")
    assert finding.severity is Severity.ERROR and "encrcdsa" in finding.message


def test_truncated_image_bl800(unsigned_dmg: bytes, tmp_path: Path) -> None:
    data = bytearray(unsigned_dmg)
    data[-512 + 0xE0 : -512 + 0xE8] = struct.pack(">Q", 7)  # the XML plist cut to 7 bytes
    report = lint(_write(tmp_path, bytes(data)))
    (finding,) = by_rule(report, "BL800")
    assert finding.offset is not None and "XML property list" in finding.message
    # The trailer still reads, and the signature covers raw bytes: still judged (unsigned).
    assert len(by_rule(report, "BL803")) == 1
    # The XML plist's offset past the trailer: refused before anything is read there.
    data[-512 + 0xD8 : -512 + 0xE0] = struct.pack(">Q", len(data))
    (past,) = by_rule(lint(_write(tmp_path, bytes(data), "past.dmg")), "BL800")
    assert past.offset == len(data) - 512 + 0xD8


def test_image_without_a_file_system_bl802(tmp_path: Path) -> None:
    data = ub.build_udif(ub.disk_regions(bytes(64 * 1024), "gpt"))
    (finding,) = by_rule(lint(_write(tmp_path, data)), "BL802")
    assert "no HFS+ or APFS" in finding.message


def test_juhflow_image_has_no_error() -> None:
    report = lint(container("01-juhflow-devid-notarized-apfs.dmg"))
    errors = [(f.rule_id, f.path, f.message) for f in report.findings
              if f.severity is Severity.ERROR]
    assert errors == []
    assert not rule_ids(report) & DISK_IMAGE_RULES
    (bl407,) = by_rule(report, "BL407")  # the app's own warning, found through the image
    assert bl407.path == "01-juhflow-devid-notarized-apfs.dmg/JuhFlow.app/Contents/Info.plist"


def test_real_unsigned_and_adhoc_images() -> None:
    for name in ("03-itunes-volume-control-2013-hfs.dmg", "05-sparkle-testapp-hfs-bzip2-sla.dmg"):
        report = lint(container(name), select=("BL8",))
        assert rule_ids(report) == {"BL803"}, name
    report = lint(container("06-sparkle-apfs-lzma-adhoc-signed.dmg"), select=("BL8",))
    assert rule_ids(report) == {"BL804"}
    # The unsigned app inside the bzip2 HFS+ image is found, named by its path in the image.
    inner = by_rule(lint(container("05-sparkle-testapp-hfs-bzip2-sla.dmg")), "BL201")
    assert ("05-sparkle-testapp-hfs-bzip2-sla.dmg/SparkleTestCodeSignApp.app/Contents/MacOS/"
            "Sparkle Test App") in {f.path for f in inner}


def test_plan_for_an_image_signs_inside_out_then_the_image(tmp_path: Path) -> None:
    """`bundlelint plan X.dmg`: the code in the folder the image is made from, inside-out,
    then hdiutil, then the image itself (no --options runtime, no entitlements), notarize and
    staple the image; inert shell even with a hostile app name."""
    import subprocess

    from bundlelint.bundle import open_input
    from bundlelint.commands.plan import build_disk_image_plan, render_text
    from fuzz.targets import shell_words

    folder = tmp_path / "src"
    folder.mkdir()
    sealed_app(folder, name="$(touch PWNED) 'x'.app")
    path = _write(tmp_path, ub.dmg_of_directory(folder), "My App.dmg")
    plan = build_disk_image_plan(open_input(path))
    kinds = [step.kind for step in plan.sign]
    assert kinds == [".app", ".dmg"]
    assert plan.sign[0].path == "$(touch PWNED) 'x'.app"
    image_step = plan.sign[-1].command
    assert "hdiutil create" in image_step and "--options runtime" not in image_step.split("&&")[1]
    assert plan.notarize[0].startswith("xcrun notarytool submit ") and "ditto" not in str(plan)
    assert shell_words(plan.notarize[1] + "\n")[-1] == str(path)
    text = render_text(plan)
    subprocess.run(["bash", "-n"], input=text, text=True, check=True)
    words = shell_words(text)
    assert "My App/$(touch PWNED) 'x'.app" in words


def test_inspect_shows_the_image_signature_and_its_ticket() -> None:
    from bundlelint.analysis.inspection import inspect_bundle
    from bundlelint.bundle import open_input

    doc = inspect_bundle(open_input(container("01-juhflow-devid-notarized-apfs.dmg")))
    dmg = doc["disk_image"]
    assert dmg["scheme"] == "gpt" and dmg["chunk_kinds"] == ["ignore", "zlib"]
    assert [p["filesystem"] for p in dmg["partitions"]] == ["apfs"]
    sig = dmg["signature"]
    assert sig["kind"] == "Developer ID Application" and sig["team_id"] == "T457T7F9C5"
    assert sig["developer_id"] and sig["problems"] == []
    assert sig["authority"][0] == "Developer ID Application: Julian Hermstad Langbach (T457T7F9C5)"
    (ticket,) = [t for t in doc["tickets"] if "slot 0x10002" in t["where"]]
    assert ticket["trusted"] and ticket["lists_artifact"] is True
    assert ticket["unlisted_code"] == []  # the app's cdhash is in the image's ticket too


def test_an_image_replaced_after_it_was_read_is_not_hashed(unsigned_dmg: bytes,
                                                           tmp_path: Path) -> None:
    """The signature's hashes are checked on the file that was walked: a file swapped in at
    the same path afterwards is refused (safeopen), reported as a problem, not a crash."""
    from bundlelint.analysis.diskimage import image_signature
    from bundlelint.bundle import open_input
    from bundlelint.options import Options

    path = _write(tmp_path, ub.sign_image(unsigned_dmg))
    bundle = open_input(path)
    replacement = tmp_path / "other.dmg"
    replacement.write_bytes(path.read_bytes())
    os.replace(replacement, path)
    check = image_signature(bundle, Options())
    assert check is not None
    assert any("cannot be read again" in p for p in check.problems)
