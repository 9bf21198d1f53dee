"""BL820-BL829 (installer packages) and BL840-BL844 (stapled tickets): each fires on a package
built with the mistake, stays quiet on a correct one, and the real packages agree."""

from __future__ import annotations

import hashlib
import io
import plistlib
from pathlib import Path

from appbuilder import developer_id_like, make_app
from lintutil import by_rule, lint, rule_ids
from samples import container

from bundlelint.parsers.macho import parse_macho_bytes
from bundlelint.parsers.xar import read_xar
from fixtures import test_ca
from fixtures import xar_builder as xb
from fixtures.appledouble_builder import FINDER_INFO, PROVENANCE_ONLY, build_appledouble

ROOT = Path(__file__).resolve().parent.parent

TOOL = developer_id_like(identifier="com.example.tool")
PACKAGE_RULES = {f"BL82{i}" for i in range(10)} | {f"BL84{i}" for i in range(5)}


def _cdhashes(macho: bytes) -> list[tuple[int, bytes]]:
    out = []
    for sl in parse_macho_bytes(macho).slices:
        assert sl.signature is not None
        out += [(cd.hash_type, cd.cdhash) for cd in sl.signature.code_directories]
    return out


def _payload(extra: list[xb.CpioSpec] | None = None) -> bytes:
    entries = [xb.CpioSpec(".", mode=0o40755), xb.CpioSpec("./usr", mode=0o40755),
               xb.CpioSpec("./usr/local/bin/tool", TOOL, mode=0o100755), *(extra or [])]
    return xb.gzip_payload(xb.cpio_odc(entries))


def _package(*, signing: xb.Signing | None = None, ticket: str | None = "good",
             tail: bytes = b"", payload: bytes | None = None, scripts: bool = False,
             corrupt_checksum: bool = False) -> bytes:
    files = [xb.XarFile("PackageInfo", xb.package_info(install_location="/",
                                                        scripts=("postinstall",) if scripts
                                                        else ()), encoding="gzip"),
             xb.XarFile("Payload", _payload() if payload is None else payload)]
    if scripts:
        files.append(xb.XarFile("Scripts", xb.gzip_payload(xb.cpio_odc(
            [xb.CpioSpec("./postinstall", b"#!/bin/sh\nexit 0\n", mode=0o100755)]))))
    data = xb.build_xar(files, signing=signing, corrupt_checksum=corrupt_checksum)
    if ticket is None:
        return data + tail
    checksum = read_xar(io.BytesIO(data), path="t").stored_checksum
    assert checksum is not None
    hashes = {"good": [(1, checksum), *_cdhashes(TOOL)],
              "other": [(1, b"\x42" * 20), *_cdhashes(TOOL)],
              "no-code": [(1, checksum)],
              "corrupt": [(1, checksum), *_cdhashes(TOOL)]}[ticket]
    built = xb.build_ticket(hashes, corrupt=ticket == "corrupt")
    return data + tail + xb.ticket_trailer(built)


def _installer() -> xb.Signing:
    return xb.Signing(rsa=test_ca.developer_id_installer_leaf(),
                      cms=test_ca.developer_id_installer_leaf(), chain=xb.installer_chain())


def _write(tmp_path: Path, data: bytes, name: str = "Tool.pkg") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _ids(tmp_path: Path, data: bytes) -> set[str]:
    return rule_ids(lint(_write(tmp_path, data))) & PACKAGE_RULES


def test_correct_package_is_quiet(tmp_path: Path) -> None:
    report = lint(_write(tmp_path, _package(signing=_installer())))
    assert rule_ids(report) & PACKAGE_RULES == set()
    assert [f for f in report.findings if f.severity.value == "error"] == []


def test_payload_code_is_linted_with_package_paths(tmp_path: Path) -> None:
    unsigned = xb.gzip_payload(xb.cpio_odc([
        xb.CpioSpec("./tool", developer_id_like(identifier="x")[:4096] + b"\0" * 16,
                    mode=0o100755)]))
    report = lint(_write(tmp_path, _package(signing=_installer(), payload=unsigned,
                                            ticket=None)))
    paths = {f.location.path for f in report.findings}
    assert any(p.startswith("Tool.pkg/Payload/tool") for p in paths), paths


def test_unsigned_package_bl820(tmp_path: Path) -> None:
    report = lint(_write(tmp_path, _package(ticket=None)))
    (finding,) = by_rule(report, "BL820")
    assert finding.severity.value == "error"
    assert finding.fix.command is not None and "productsign" in finding.fix.command
    assert "BL844" not in rule_ids(report)


def test_application_certificate_bl821(tmp_path: Path) -> None:
    leaf = test_ca.developer_id_application_rsa_leaf()
    signing = xb.Signing(rsa=leaf, chain=[leaf, test_ca.developer_id_ca(), test_ca.root()])
    report = lint(_write(tmp_path, _package(signing=signing, ticket=None)))
    (finding,) = by_rule(report, "BL821")
    assert "Developer ID Application" in finding.message and finding.location.offset
    assert "BL822" not in rule_ids(report) and "BL823" not in rule_ids(report)


def test_other_certificate_bl822(tmp_path: Path) -> None:
    leaf = test_ca.apple_development_leaf()
    signing = xb.Signing(cms=leaf, chain=[leaf, test_ca.wwdr_ca(), test_ca.root()])
    report = lint(_write(tmp_path, _package(signing=signing, ticket=None)))
    (finding,) = by_rule(report, "BL822")
    assert "Apple Development" in finding.message


def test_bad_rsa_signature_and_untrusted_chain_bl823(tmp_path: Path) -> None:
    signing = _installer()
    signing.corrupt_rsa = True
    assert "BL823" in _ids(tmp_path, _package(signing=signing))
    rogue = test_ca.developer_id_installer_leaf()
    only_leaf = xb.Signing(rsa=rogue, chain=[rogue])  # no intermediate: chain incomplete
    report = lint(_write(tmp_path, _package(signing=only_leaf), "b.pkg"))
    assert any("chain" in f.message for f in by_rule(report, "BL823"))


def test_damaged_archive_bl824(tmp_path: Path) -> None:
    report = lint(_write(tmp_path, _package(corrupt_checksum=True, ticket=None)))
    (finding,) = by_rule(report, "BL824")
    assert "Checksums do not match" in finding.message and finding.location.offset


def test_trailing_junk_bl825_but_not_a_ticket(tmp_path: Path) -> None:
    assert "BL825" in _ids(tmp_path, _package(ticket=None, tail=b"\0" * 100))
    assert "BL825" not in _ids(tmp_path, _package(signing=_installer()))


def test_payload_appledouble_bl826(tmp_path: Path) -> None:
    fork = build_appledouble({"com.apple.FinderInfo": FINDER_INFO}, resource_fork=b"rsrc")
    quiet = build_appledouble(PROVENANCE_ONLY)
    payload = _payload([xb.CpioSpec("./usr/local/bin/._tool", fork),
                        xb.CpioSpec("./usr/local/bin/._other", quiet)])
    report = lint(_write(tmp_path, _package(signing=_installer(), payload=payload,
                                            ticket=None)))
    (finding,) = by_rule(report, "BL826")
    assert finding.location.path.endswith("Payload/usr/local/bin/._tool")


def test_scripts_bl827(tmp_path: Path) -> None:
    report = lint(_write(tmp_path, _package(signing=_installer(), scripts=True)))
    (finding,) = by_rule(report, "BL827")
    assert "postinstall" in finding.message and finding.severity.value == "info"


def test_unreadable_payload_bl828_and_package_bl829(tmp_path: Path) -> None:
    broken = xb.gzip_payload(xb.cpio_odc([xb.CpioSpec("./a", b"x" * 10)]))[:-12] + b"\xff" * 3
    report = lint(_write(tmp_path, _package(payload=broken, ticket=None)))
    assert by_rule(report, "BL828")
    bad = _write(tmp_path, b"xar!" + b"\0\x1c\0\x01" + (1 << 40).to_bytes(8, "big") + b"\0" * 12,
                 "bad.pkg")
    (finding,) = by_rule(lint(bad), "BL829")
    assert finding.location.offset == 8


def test_ticket_rules_bl840_to_bl844(tmp_path: Path) -> None:
    assert "BL842" in _ids(tmp_path, _package(signing=_installer(), ticket="other"))
    assert "BL841" in _ids(tmp_path, _package(signing=_installer(), ticket="corrupt"))
    missing = _ids(tmp_path, _package(signing=_installer(), ticket="no-code"))
    assert "BL843" in missing and "BL842" not in missing
    assert "BL844" in _ids(tmp_path, _package(signing=_installer(), ticket=None))
    broken = _package(signing=_installer(), ticket=None) + xb.ticket_trailer(b"s8ch" + b"\1" * 30)
    assert "BL840" in _ids(tmp_path, broken)


def test_ticket_needs_the_test_anchor_to_be_trusted(tmp_path: Path) -> None:
    from bundlelint.options import Options

    path = _write(tmp_path, _package(signing=_installer()))
    report = lint(path, options=Options())  # no test root: not Apple's
    assert by_rule(report, "BL841") and by_rule(report, "BL823")


def test_app_ticket_in_contents_coderesources(tmp_path: Path) -> None:
    exe = developer_id_like()
    good = xb.build_ticket(_cdhashes(exe))
    app = make_app(tmp_path / "a", executable=exe, files={"Contents/CodeResources": good})
    assert rule_ids(lint(app)) & {"BL840", "BL841", "BL842"} == set()
    other = xb.build_ticket([(2, b"\x07" * 20)])
    app = make_app(tmp_path / "b", executable=exe, files={"Contents/CodeResources": other})
    (finding,) = by_rule(lint(app), "BL842")
    assert "main executable" in finding.message


# --- real packages -----------------------------------------------------------------------------


def test_scanline_is_developer_id_installer_stapled_and_clean() -> None:
    path = container("09-scanline-2.3-devid-stapled.pkg")
    assert hashlib.sha256(path.read_bytes()).hexdigest().startswith("4ad94c76")
    report = lint(path)
    assert report.findings == [] or all(f.severity.value != "error" for f in report.findings)
    assert rule_ids(report) & PACKAGE_RULES == set()
    from bundlelint.analysis.package import open_report

    with path.open("rb") as fh:
        checked = open_report(fh, path.name)
    assert [(s.style, s.leaf_kind.value, s.team_id, s.chain.anchor_name)
            for s in checked.signatures] == [
        ("RSA", "Developer ID Installer", "3M8T4B982V", "Apple Root CA"),
        ("CMS", "Developer ID Installer", "3M8T4B982V", "Apple Root CA")]
    assert checked.ticket is not None and checked.ticket.trusted
    assert checked.ticket.chain is not None and \
        checked.ticket.chain.anchor_name == "Apple Root CA - G3"


def test_unsigned_product_archive_is_an_error() -> None:
    report = lint(container("12-tasks-explorer-unsigned-distribution.pkg"))
    (finding,) = by_rule(report, "BL820")
    assert finding.severity.value == "error"
    assert any(f.location.path.startswith("12-tasks-explorer-unsigned-distribution.pkg/"
                                          "contents.pkg/Payload/Applications/Tasks Explorer.app")
               for f in by_rule(report, "BL201"))


def test_junk_tail_package_is_reported_not_crashed() -> None:
    report = lint(container("13-munki-kickstart-payloadfree.pkg"))
    (tail,) = by_rule(report, "BL825")
    assert tail.location.offset == 5045 - 2747
    assert not by_rule(report, "BL003")


def test_info_plist_of_payload_app_is_read(tmp_path: Path) -> None:
    app = make_app(tmp_path, executable=developer_id_like())
    entries = [xb.CpioSpec(".", mode=0o40755)]
    for path in sorted(app.rglob("*")):
        rel = "./Sample.app/" + str(path.relative_to(app)) if path != app else "./Sample.app"
        entries.append(xb.CpioSpec(rel, b"" if path.is_dir() else path.read_bytes(),
                                   mode=0o40755 if path.is_dir() else 0o100755))
    entries.insert(1, xb.CpioSpec("./Sample.app", mode=0o40755))
    payload = xb.pbzx_payload(xb.cpio_odc(entries))
    data = xb.build_xar([xb.XarFile("PackageInfo", xb.package_info(), encoding="gzip"),
                         xb.XarFile("Payload", payload)], signing=_installer())
    report = lint(_write(tmp_path, data, "App.pkg"))
    paths = {f.location.path for f in report.findings}
    assert "BL401" not in rule_ids(report), paths
    assert plistlib.loads((app / "Contents/Info.plist").read_bytes())["CFBundleExecutable"]


def test_inspect_shows_package_signature_and_ticket(tmp_path: Path) -> None:
    from lintutil import TEST_OPTIONS

    from bundlelint.analysis.inspection import inspect_bundle
    from bundlelint.bundle import open_input
    from bundlelint.commands.inspect import render_text

    path = _write(tmp_path, _package(signing=_installer()))
    doc = inspect_bundle(open_input(path, TEST_OPTIONS), TEST_OPTIONS)
    assert [(s["style"], s["kind"], s["team_id"]) for s in doc["package"]["signatures"]] == [
        ("RSA", "Developer ID Installer", "ABCDE12345"),
        ("CMS", "Developer ID Installer", "ABCDE12345")]
    (ticket,) = doc["tickets"]
    assert ticket["trusted"] and ticket["lists_artifact"] and ticket["unlisted_code"] == []
    text = render_text(doc)
    assert "Signature=RSA kind=Developer ID Installer" in text and "lists the package: yes" in text


def test_inspect_real_scanline_shows_team_and_ticket() -> None:
    from bundlelint.analysis.inspection import inspect_bundle
    from bundlelint.bundle import open_input

    doc = inspect_bundle(open_input(container("09-scanline-2.3-devid-stapled.pkg")))
    assert {s["team_id"] for s in doc["package"]["signatures"]} == {"3M8T4B982V"}
    (ticket,) = doc["tickets"]
    assert ticket["trusted"] and ticket["anchor"] == "Apple Root CA - G3"
    assert ticket["unlisted_code"] == [] and len(ticket["hashes"]) == 3


def test_plan_for_a_package_is_productsign_notarize_staple_and_inert(tmp_path: Path) -> None:
    import subprocess

    from bundlelint.bundle import open_input
    from bundlelint.commands.plan import build_package_plan, render_text
    from fuzz.targets import shell_words

    name = "$(touch PWNED);`id`'x.pkg"
    path = _write(tmp_path, _package(ticket=None), name)
    plan = build_package_plan(open_input(path))
    text = render_text(plan)
    assert plan.identity.startswith("Developer ID Installer")
    assert [s.command.split()[0] for s in plan.sign] == ["productsign"]
    assert [c.split()[1] for c in plan.notarize] == ["notarytool", "stapler"]
    words = shell_words(text)
    assert str(path) in words and str(path)[:-4] + "-signed.pkg" in words
    assert subprocess.run(["bash", "-n"], input=text.encode(), check=False).returncode == 0
    assert not (tmp_path / "PWNED").exists()


def test_ticket_of_an_app_inside_a_package_is_checked(tmp_path: Path) -> None:
    exe = developer_id_like()
    app = make_app(tmp_path / "src", executable=exe,
                   files={"Contents/CodeResources": xb.build_ticket([(2, b"\x07" * 20)])})
    entries = [xb.CpioSpec(".", mode=0o40755), xb.CpioSpec("./Sample.app", mode=0o40755)]
    for path in sorted(app.rglob("*")):
        entries.append(xb.CpioSpec("./Sample.app/" + str(path.relative_to(app)),
                                   b"" if path.is_dir() else path.read_bytes(),
                                   mode=0o40755 if path.is_dir() else 0o100755))
    data = xb.build_xar([xb.XarFile("PackageInfo", xb.package_info(), encoding="gzip"),
                         xb.XarFile("Payload", xb.gzip_payload(xb.cpio_odc(entries)))],
                        signing=_installer())
    report = lint(_write(tmp_path, data, "App.pkg"))
    (finding,) = by_rule(report, "BL842")
    assert finding.location.path == "App.pkg/Payload/Applications/Sample.app/Contents/" \
        "CodeResources"


def test_real_stapled_disk_image_ticket_is_apples_and_lists_the_image() -> None:
    from bundlelint.analysis.diskimage import image_ticket
    from bundlelint.bundle import open_input
    from bundlelint.options import Options

    path = container("01-juhflow-devid-notarized-apfs.dmg")
    bundle = open_input(path)
    check = image_ticket(bundle, Options())
    assert check is not None and check.trusted and check.own is not None and check.own.listed
    assert check.unlisted == ()  # JuhFlow's arm64 executable is listed too
    assert rule_ids(lint(path, options=Options())) & {"BL840", "BL841", "BL842", "BL843"} == set()


