"""Zip input: linted in place through the bundle model, nothing extracted, nothing written."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest
from appbuilder import developer_id_like, make_app
from lintutil import by_rule, lint, rule_ids
from ziputil import listing, unix_info, zip_tree

from bundlelint.bundle import EntryKind, open_input
from bundlelint.inputs import zip as zip_input
from bundlelint.inputs.zip import ZipSource
from fixtures.macho_builder import MH_DYLIB, MachOSpec, build_macho

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo" / "Demo.app"


def summary(findings: object) -> set[tuple[str, str, str | None, str]]:
    return {(f.rule_id, f.location.path, f.location.arch, f.message)
            for f in findings}  # type: ignore[attr-defined]


def test_zip_of_the_demo_gives_the_same_findings_as_the_directory(tmp_path: Path) -> None:
    archive = zip_tree(DEMO, tmp_path / "Demo.zip")
    from_dir, from_zip = lint(DEMO), lint(archive)
    assert summary(from_zip.findings) == summary(from_dir.findings)
    assert len(from_zip.findings) == 5 and from_zip.input_name == "Demo.app"
    bundle = open_input(archive)
    exe = bundle.entry("Contents/MacOS/demo")
    assert exe is not None and exe.kind is EntryKind.MACHO and exe.mode & 0o111
    assert bundle.archive is not None and bundle.archive.app_name == "Demo.app"


def test_nothing_is_extracted_or_written(tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # above the in-memory limit the member is spooled (to an anonymous temporary file)
    monkeypatch.setattr(zip_input, "IN_MEMORY_LIMIT", 1024 * 1024)
    big = developer_id_like() + os.urandom(3 * 1024 * 1024) + bytes(4)
    app = make_app(tmp_path / "src", files={"Contents/Resources/big.bin": b"x",
                                            "Contents/MacOS/big": big})
    archive = zip_tree(app, tmp_path / "Sample.zip")
    tmp = tmp_path / "tmp"  # where tempfile would spool: our own, so others' files don't count
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    before_here, before_tmp = listing(tmp_path), listing(tmp)
    bundle = open_input(archive)
    entry = bundle.entry("Contents/MacOS/big")
    assert entry is not None and entry.kind is EntryKind.MACHO
    with bundle.open_entry(entry) as fh:
        fh.seek(len(big) - 4)
        assert fh.read() == b"\0\0\0\0"
        fh.seek(0)
        assert fh.read(4) == big[:4]
    lint(archive)
    assert listing(tmp_path) == before_here
    assert listing(tmp) == before_tmp


def test_zipped_command_line_tool_is_linted_as_a_single_file(tmp_path: Path) -> None:
    archive = tmp_path / "tool.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(unix_info("tool", stat.S_IFREG | 0o755), build_macho(MachOSpec()))
    report = lint(archive)
    assert report.input_name == "tool"
    assert {(f.rule_id, f.location.path) for f in report.findings} == {("BL201", "tool")}


def test_symlink_out_of_the_app_in_a_zip_is_reported(tmp_path: Path) -> None:
    app = make_app(tmp_path / "src")
    (app / "Contents" / "Resources").mkdir()
    (app / "Contents" / "Resources" / "passwd").symlink_to("/etc/passwd")
    (app / "Contents" / "Resources" / "up").symlink_to("../../../outside")
    report = lint(zip_tree(app, tmp_path / "Sample.zip"))
    assert {(f.location.path, f.message) for f in by_rule(report, "BL004")} == {
        ("Sample.app/Contents/Resources/passwd", "symlink points outside the bundle: "
         "-> /etc/passwd"),
        ("Sample.app/Contents/Resources/up", "symlink points outside the bundle: "
         "-> ../../../outside"),
    }


def jar_with(members: dict[str, bytes]) -> bytes:
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_unsigned_dylib_inside_a_nested_jar_fires_bl201(tmp_path: Path) -> None:
    unsigned = build_macho(MachOSpec(filetype=MH_DYLIB))
    signed = developer_id_like(MachOSpec(filetype=MH_DYLIB), identifier="libok")
    jar = jar_with({"META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\n",
                    "native/libfoo.dylib": unsigned, "native/libok.dylib": signed,
                    "com/example/Main.class": b"\xca\xfe\xba\xbe" + bytes(60)})
    app = make_app(tmp_path / "src", files={"Contents/Resources/lib.jar": jar})
    for target in (app, zip_tree(app, tmp_path / "Sample.zip")):
        report = lint(target)
        assert [(f.location.path, f.location.arch) for f in by_rule(report, "BL201")] == [
            ("Sample.app/Contents/Resources/lib.jar/native/libfoo.dylib", "arm64")]
        bundle = open_input(target)
        nested = [e.relpath for e in bundle.entries if "lib.jar/" in e.relpath]
        # only code becomes an entry: the class file (CAFEBABE, like a fat header) does not
        assert nested == ["Contents/Resources/lib.jar/native/libfoo.dylib",
                          "Contents/Resources/lib.jar/native/libok.dylib"]


def test_corrupt_and_truncated_zips_are_findings_not_tracebacks(tmp_path: Path) -> None:
    good = zip_tree(make_app(tmp_path / "src"), tmp_path / "Sample.zip").read_bytes()
    cases = {
        "garbage.zip": b"PK\x03\x04" + bytes(100),
        "truncated.zip": good[: len(good) // 2],
        "empty.zip": b"",
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        report = lint(path)
        assert "BL701" in rule_ids(report), name
        assert "BL003" not in rule_ids(report), name
    # a member whose data is damaged after the central directory was written: BL001/BL402
    damaged = bytearray(good)
    at = bytes(damaged).find(b"Contents/Info.plist") + len("Contents/Info.plist")
    damaged[at : at + 8] = b"\xff" * 8
    path = tmp_path / "damaged.zip"
    path.write_bytes(bytes(damaged))
    proc = subprocess.run([sys.executable, "-m", "bundlelint", "--no-color", str(path)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_zip_source_name_is_the_app_and_junk_is_not_walked(tmp_path: Path) -> None:
    app = make_app(tmp_path / "src")
    archive = zip_tree(app, tmp_path / "Sample.zip",
                       extra={"__MACOSX/Sample.app/._Contents": b"\0\5\26\7", ".DS_Store": b"x"})
    source = ZipSource(archive)
    assert source.name == "Sample.app"
    assert {r.relpath for r in source.walk()} == {
        "Contents", "Contents/MacOS", "Contents/MacOS/app", "Contents/Info.plist"}
