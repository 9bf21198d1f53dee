"""BL70x archive rules: each fires on a zip with its defect and stays quiet on a ditto-like zip."""

from __future__ import annotations

import os
import shutil
import stat
import struct
import tempfile
import unicodedata
import zipfile
from pathlib import Path

import pytest
from appbuilder import make_app
from lintutil import REGISTRY, by_rule, lint, rule_ids
from ziputil import listing, make_framework, unix_info, zip_tree

from bundlelint.bundle import open_input
from bundlelint.engine import Selection, run_rules
from bundlelint.findings import Finding
from bundlelint.options import Options
from fixtures.appledouble_builder import FINDER_INFO, PROVENANCE_ONLY, build_appledouble

DITTO = "ditto -c -k --keepParent Sample.app Sample.zip"
ARCHIVE_RULES = {f"BL70{i}" for i in range(1, 9)}


@pytest.fixture
def app(tmp_path: Path) -> Path:
    app = make_app(tmp_path / "src")
    make_framework(app)
    return app


def test_ditto_like_zip_is_quiet(app: Path, tmp_path: Path) -> None:
    report = lint(zip_tree(app, tmp_path / "Sample.zip"))
    assert not rule_ids(report) & ARCHIVE_RULES
    assert not rule_ids(report) & {"BL001", "BL003", "BL007"}


def test_directory_input_is_quiet(app: Path) -> None:
    assert not rule_ids(lint(app)) & ARCHIVE_RULES


FW = "Sample.app/Contents/Frameworks/Foo.framework"


def test_framework_symlinks_stored_as_files(app: Path, tmp_path: Path) -> None:
    report = lint(zip_tree(app, tmp_path / "Sample.zip", keep_symlinks=False))
    [finding] = by_rule(report, "BL012")  # one finding for the framework, not one per link
    assert finding.location.path == FW
    assert finding.message == (
        "these should be symlinks: Versions/Current -> A (is a file containing 'A'), "
        "Foo -> Versions/Current/Foo (is a file containing 'Versions/Current/Foo'), "
        "Resources -> Versions/Current/Resources (is a file containing "
        "'Versions/Current/Resources'); a tool stored the links as files holding their text")
    assert finding.fix is not None and finding.fix.command == DITTO


def test_zip_r_without_y_stores_copies_of_link_targets(app: Path, tmp_path: Path) -> None:
    # Info-ZIP's `zip -r` follows links: Versions/Current becomes a full copy of Versions/A and
    # the root Foo and Resources copies of their targets (validateFrameworkRoot refuses them).
    archive = zip_tree(app, tmp_path / "Sample.zip", follow_symlinks=True)
    with zipfile.ZipFile(archive) as zf:
        stored = set(zf.namelist())
    assert f"{FW}/Versions/Current/Resources/Info.plist" in stored and f"{FW}/Foo" in stored
    report = lint(archive)
    [finding] = by_rule(report, "BL012")
    assert finding.location.path == FW
    assert finding.message == (
        "these should be symlinks: Versions/Current -> A (is a directory), "
        "Foo -> Versions/Current/Foo (is a file), Resources -> Versions/Current/Resources "
        "(is a directory); a tool that does not keep symlinks (cp -r, zip without -y, an "
        "artifact upload) copied what they point at")


def test_copied_framework_links_in_a_directory(app: Path, tmp_path: Path) -> None:
    # The same zip unpacked: a directory input with the copies (and no link at all).
    fw = app / "Contents/Frameworks/Foo.framework"
    for link in ("Versions/Current", "Resources"):
        (fw / link).unlink()
        shutil.copytree(fw / "Versions/A" / link.rpartition("/")[2].replace("Current", ""),
                        fw / link)
    (fw / "Foo").unlink()
    shutil.copy(fw / "Versions/A/Foo", fw / "Foo")
    [finding] = by_rule(lint(app), "BL012")
    assert finding.location.path == FW
    assert ("Versions/Current -> A (is a directory), Foo -> Versions/Current/Foo (is a file), "
            "Resources -> Versions/Current/Resources (is a directory)") in finding.message
    assert finding.fix is not None and finding.fix.command is not None
    assert "ln -s A Versions/Current && ln -s Versions/Current/Foo Foo" in finding.fix.command
    make_framework(app, "Bar")  # links intact: quiet
    assert [f.location.path for f in by_rule(lint(app), "BL012")] == [FW]


def test_appledouble_and_ds_store(app: Path, tmp_path: Path) -> None:
    extra = {"__MACOSX/Sample.app/._Contents": b"\0\5\26\7",
             "__MACOSX/Sample.app/Contents/._Info.plist": b"\0\5\26\7",
             "Sample.app/Contents/Resources/._icon.icns": build_appledouble(
                 finder_info=FINDER_INFO),
             "Sample.app/Contents/.DS_Store": b"Bud1", ".DS_Store": b"Bud1"}
    report = lint(zip_tree(app, tmp_path / "Sample.zip", extra=extra))
    assert {(f.location.path, f.message) for f in by_rule(report, "BL703")} == {
        ("Sample.zip/__MACOSX", "__MACOSX/ holds 2 AppleDouble entries (e.g. "
         "__MACOSX/Sample.app/._Contents, __MACOSX/Sample.app/Contents/._Info.plist)"),
        ("Sample.app/Contents/Resources/._icon.icns",
         "AppleDouble file gives icon.icns non-zero Finder info (com.apple.FinderInfo): "
         "detritus codesign refuses once unpacked"),
    }
    # Regular .DS_Store files are omitted by the default seal rules: nothing to report.
    assert not by_rule(report, "BL704")
    assert not by_rule(report, "BL705")  # junk beside the single app is not a second item


def _ditto_doubles(app: Path, tmp_path: Path, doubles: dict[str, bytes]) -> list[Finding]:
    """BL703's findings on a zip of ``app`` with ``._`` entries beside their files, as
    ``ditto -c -k --keepParent`` writes them (the app folder's own one at the top level)."""
    return by_rule(lint(zip_tree(app, tmp_path / "Sample.zip", extra=doubles)), "BL703")


def test_bl703_ditto_xattr_only_entries_are_quiet(app: Path, tmp_path: Path) -> None:
    # A downloaded tree: every file carries com.apple.provenance (and quarantine); ditto writes a
    # ._ entry for each. codesign allows those attributes (resources.cpp hashFile).
    xattrs = {**PROVENANCE_ONLY, "com.apple.quarantine": b"0083;6543;Safari;"}
    doubles = {"._Sample.app": build_appledouble(xattrs),
               "Sample.app/Contents/._Info.plist": build_appledouble(xattrs),
               "Sample.app/Contents/MacOS/._app": build_appledouble(PROVENANCE_ONLY),
               # All-zero FinderInfo, even stored as an attribute, is not restored: quiet.
               "Sample.app/Contents/._MacOS": build_appledouble(
                   {"com.apple.FinderInfo": bytes(32)})}
    assert _ditto_doubles(app, tmp_path, doubles) == []


@pytest.mark.parametrize(("double", "named"), [
    (build_appledouble(PROVENANCE_ONLY, resource_fork=b"\0\0\1\0rsrc"),
     ["com.apple.ResourceFork"]),
    (build_appledouble(PROVENANCE_ONLY, finder_info=FINDER_INFO), ["com.apple.FinderInfo"]),
    (build_appledouble({"com.apple.ResourceFork": b"rsrc"}), ["com.apple.ResourceFork"]),
    (build_appledouble(finder_info=FINDER_INFO, resource_fork=b"r"),
     ["com.apple.ResourceFork", "com.apple.FinderInfo"]),
], ids=["fork", "finder-info", "fork-as-xattr", "both"])
def test_bl703_resource_fork_or_finder_info_fires(app: Path, tmp_path: Path, double: bytes,
                                                  named: list[str]) -> None:
    [finding] = _ditto_doubles(app, tmp_path, {"Sample.app/Contents/._Info.plist": double})
    assert finding.location.path == "Sample.app/Contents/._Info.plist"
    assert finding.severity.value == "warning"
    assert finding.evidence["attributes"] == ", ".join(named)
    for name in named:
        assert name in finding.message
    assert finding.fix is not None and finding.fix.command == DITTO


def test_bl703_top_level_double_beside_the_app_is_judged_too(app: Path, tmp_path: Path) -> None:
    [finding] = _ditto_doubles(app, tmp_path, {"._Sample.app": build_appledouble(
        finder_info=FINDER_INFO)})
    assert finding.location.path == "Sample.zip/._Sample.app"
    assert "com.apple.FinderInfo" in finding.message


@pytest.mark.parametrize(("data", "offset"), [
    (build_appledouble(PROVENANCE_ONLY)[:0x40], 0x32),  # truncated inside the Finder info
    (b"\0\5\26\7\0\2\0\0" + bytes(16) + b"\0\x09" + bytes(40), 0x42),  # 9 entries: entry 3 is cut
    (b"\0\5\26\7", 0x4),  # no version
    (b"Bud1" + bytes(60), 0x0),  # not AppleDouble at all
], ids=["truncated", "lying-count", "no-version", "not-appledouble"])
def test_bl703_malformed_double_names_file_and_offset(app: Path, tmp_path: Path, data: bytes,
                                                      offset: int) -> None:
    [finding] = _ditto_doubles(app, tmp_path, {"Sample.app/Contents/._Info.plist": data})
    assert finding.location.path == "Sample.app/Contents/._Info.plist"
    assert finding.location.offset == offset
    assert finding.message.startswith("AppleDouble file cannot be parsed: ")


def test_bl703_lying_attribute_offset(app: Path, tmp_path: Path) -> None:
    data = bytearray(build_appledouble(PROVENANCE_ONLY))
    struct.pack_into(">I", data, 0x78, 0x7FFFFFF0)  # attribute 0's data offset
    [finding] = _ditto_doubles(app, tmp_path, {"Sample.app/Contents/._Info.plist": bytes(data)})
    assert finding.location.offset is not None
    assert "attribute 0 data" in finding.message


def test_bl703_oversized_double_is_not_read(app: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bundlelint.bundle.MAX_APPLEDOUBLE_BYTES", 64)
    [finding] = _ditto_doubles(app, tmp_path, {"Sample.app/Contents/._Info.plist":
                                               build_appledouble(PROVENANCE_ONLY)})
    assert "over the 64 byte limit" in finding.message and "not read" in finding.message


def test_bl704_only_a_symlinked_ds_store_is_an_error(app: Path, tmp_path: Path) -> None:
    # resources.cpp ResourceBuilder::scan: a regular .DS_Store is omitted ('^(.*/)?\\.DS_Store$'),
    # a symlinked one throws errSecCSDSStoreSymlink.
    (app / "Contents/Resources").mkdir(exist_ok=True)
    os.symlink("../Info.plist", app / "Contents/Resources/.DS_Store")
    (app / "Contents/.DS_Store").write_bytes(b"Bud1")
    for report in (lint(app), lint(zip_tree(app, tmp_path / "Sample.zip"))):
        [finding] = by_rule(report, "BL704")
        assert finding.location.path == "Sample.app/Contents/Resources/.DS_Store"
        assert finding.severity.value == "error"
        assert "errSecCSDSStoreSymlink" in finding.message
        assert finding.fix is not None and finding.fix.command is not None
        assert finding.fix.command.startswith("rm ") and finding.fix.command.split()[1].endswith(
            "Sample.app/Contents/Resources/.DS_Store")


def test_no_single_top_level_app(app: Path, tmp_path: Path) -> None:
    contents_only = tmp_path / "contents.zip"
    with zipfile.ZipFile(contents_only, "w") as zf:
        zf.writestr(unix_info("Contents/Info.plist", stat.S_IFREG | 0o644), b"<plist/>")
        zf.writestr(unix_info("Contents/MacOS/app", stat.S_IFREG | 0o755), b"x" * 64)
    found = by_rule(lint(contents_only), "BL705")
    assert [(f.location.path, f.message) for f in found] == [
        ("contents.zip", "no .app at the top level (it holds Contents)")]
    two = zip_tree(app, tmp_path / "Sample.zip",
                   extra={"Other.app/Contents/Info.plist": b"<plist/>"})
    assert [f.message for f in by_rule(lint(two), "BL705")] == [
        "2 .app bundles at the top level: Other.app, Sample.app"]


def test_unsafe_entry_names_are_reported_and_never_mapped(app: Path, tmp_path: Path) -> None:
    extra = {"../evil.dylib": b"x", "/etc/evil": b"x", "Sample.app/../../up": b"x",
             "Sample.app\\..\\win": b"x"}
    archive = zip_tree(app, tmp_path / "Sample.zip", extra=extra)
    before = listing(tmp_path.parent)
    report = lint(archive)
    assert {f.location.path for f in by_rule(report, "BL706")} == {
        "Sample.zip//etc/evil", "Sample.zip/../evil.dylib", "Sample.zip/Sample.app/../../up",
        "Sample.zip/Sample.app\\..\\win"}
    assert all(".." not in e.relpath.split("/") for e in open_input(archive).entries)
    assert listing(tmp_path.parent) == before


def test_zip_bomb_is_reported_from_the_central_directory_and_never_inflated(
        app: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = zip_tree(app, tmp_path / "Sample.zip",
                    extra={"Sample.app/Contents/Resources/zeros": bytes(32 * 1024 * 1024)})
    inflated: list[str] = []
    real_open = zipfile.ZipFile.open

    def spy(self: zipfile.ZipFile, name: object, *args: object, **kw: object) -> object:
        inflated.append(str(name))
        return real_open(self, name, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    tmp = tmp_path / "tmp"  # where tempfile would spool: our own, so others' files don't count
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    before = listing(tmp_path), listing(tmp)
    report = lint(bomb)
    assert inflated == []  # not one member was opened, let alone inflated
    found = by_rule(report, "BL707")
    assert len(found) == 1 and found[0].location.path == "Sample.zip"
    assert "over the 200:1 limit (max_compression_ratio); its content was not inflated" \
        in found[0].message
    assert "BL003" not in rule_ids(report)
    assert (listing(tmp_path), listing(tmp)) == before


def test_declared_size_over_the_limit_is_refused(app: Path, tmp_path: Path) -> None:
    archive = zip_tree(app, tmp_path / "Sample.zip",
                       extra={"Sample.app/Contents/Resources/huge": b"tiny"})
    data = bytearray(archive.read_bytes())
    name = b"Sample.app/Contents/Resources/huge"
    cd = bytes(data).rfind(b"PK\x01\x02", 0, bytes(data).rfind(name))
    struct.pack_into("<I", data, cd + 24, 0xFFFF0000)  # central directory: uncompressed size
    archive.write_bytes(bytes(data))
    options = Options(max_archive_size=1024 * 1024 * 1024)
    bundle = open_input(archive, options)
    report = run_rules(bundle, REGISTRY, Selection(), options)
    [finding] = by_rule(report, "BL707")
    assert "declares 42949" in finding.message and "max_archive_size" in finding.message


def _many_entries(path: Path, count: int, *, zip64: bool = False,
                  monkeypatch: pytest.MonkeyPatch | None = None) -> Path:
    if zip64:  # zipfile writes zip64 end records past this many entries
        assert monkeypatch is not None
        monkeypatch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 4)
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(count):
            zf.writestr(f"Sample.app/Contents/Resources/f{i}", b"")
    return path


def _refusal(archive: Path, monkeypatch: pytest.MonkeyPatch, members: int) -> str:
    """BL707's message for ``archive`` under ``max_archive_members=members``, asserting that
    zipfile never loaded the central directory and nothing crashed."""
    def refuse(*_args: object, **_kw: object) -> None:
        raise AssertionError("zipfile loaded the central directory")

    monkeypatch.setattr(zipfile.ZipFile, "_RealGetContents", refuse)
    options = Options(max_archive_members=members)
    report = run_rules(open_input(archive, options), REGISTRY, Selection(), options)
    assert "BL003" not in rule_ids(report)
    [finding] = by_rule(report, "BL707")
    return finding.message


@pytest.mark.parametrize("zip64", [False, True])
def test_too_many_entries_are_refused_before_zipfile_loads_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zip64: bool) -> None:
    archive = _many_entries(tmp_path / "Sample.zip", 30, zip64=zip64, monkeypatch=monkeypatch)
    if zip64:
        assert b"PK\x06\x06" in archive.read_bytes()  # the zip64 end record is what is read
    assert "declares 30 entries, over the limit of 20 (max_archive_members)" in _refusal(
        archive, monkeypatch, 20)


def test_a_directory_that_understates_its_entries_is_counted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = _many_entries(tmp_path / "Sample.zip", 30)
    data = bytearray(archive.read_bytes())
    eocd = bytes(data).rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, eocd + 8, 1, 1)  # entries on this disk, in total: "1"
    archive.write_bytes(bytes(data))
    assert "more than 20 central directory records (it declares 1)" in _refusal(
        archive, monkeypatch, 20)


def test_a_directory_claiming_more_bytes_than_its_entries_need_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import bundlelint.inputs.zip as zip_input

    archive = _many_entries(tmp_path / "Sample.zip", 30)
    monkeypatch.setattr(zip_input, "DIRECTORY_BYTES_PER_MEMBER", 10)  # 40 entries: 400 bytes
    assert "more than 10 bytes for each of the 40 entries allowed" in _refusal(
        archive, monkeypatch, 40)


def test_a_missing_zip64_end_record_leaves_the_32_bit_values(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # zipfile ignores a zip64 locator whose record is not where it expects it; so does the
    # scanner (it must not refuse what zipfile would read).
    import io

    from bundlelint.parsers.zipdir import scan_central_directory

    archive = _many_entries(tmp_path / "Sample.zip", 30, zip64=True, monkeypatch=monkeypatch)
    data = bytearray(archive.read_bytes())
    record = bytes(data).rfind(b"PK\x06\x06")
    data[record : record + 4] = b"XXXX"
    found = scan_central_directory(io.BytesIO(bytes(data)), len(data), "Sample.zip", 100)
    eocd = bytes(data).rfind(b"PK\x05\x06")
    assert found.declared_entries == struct.unpack_from("<H", data, eocd + 10)[0]


def test_entries_within_the_limit_load_normally(tmp_path: Path) -> None:
    archive = _many_entries(tmp_path / "Sample.zip", 30)
    options = Options(max_archive_members=30)
    bundle = open_input(archive, options)
    assert bundle.archive is not None and len(bundle.archive.members) == 30
    assert "BL707" not in rule_ids(run_rules(bundle, REGISTRY, Selection(), options))


def test_mixed_unicode_normalisation(app: Path, tmp_path: Path) -> None:
    nfc = unicodedata.normalize("NFC", "Sample.app/Contents/Resources/café.txt")
    nfd = unicodedata.normalize("NFD", "Sample.app/Contents/Resources/café.txt")
    other = unicodedata.normalize("NFD", "Sample.app/Contents/Resources/über.txt")
    report = lint(zip_tree(app, tmp_path / "Sample.zip",
                           extra={nfc: b"1", nfd: b"2", other: b"3"}))
    messages = sorted(f.message for f in by_rule(report, "BL708"))
    assert len(messages) == 2
    assert messages[0].startswith("1 names are NFC (e.g. ")
    assert "2 are NFD" in messages[0]
    assert messages[1].startswith("the same name is stored in 2 normalisation forms")
    only_nfd = lint(zip_tree(app, tmp_path / "Only.zip", extra={nfd: b"2", other: b"3"}))
    assert not by_rule(only_nfd, "BL708")


def test_every_archive_rule_has_the_ditto_fix_or_says_why_not() -> None:
    for rid in sorted(ARCHIVE_RULES - {"BL704"}):  # BL704: the link is deleted, not re-zipped
        meta = REGISTRY.meta(rid)
        assert meta.fix_command is None or meta.fix_command.startswith(
            "ditto -c -k --keepParent"), rid


def test_a_copied_framework_is_judged_once_not_once_per_copy(tmp_path: Path) -> None:
    # Item "one cause, one finding": an unsigned framework binary zipped with `zip -r` (three
    # copies of it: Versions/A/Foo, Versions/Current/Foo, Foo) is one BL201, on the real one.
    from fixtures.macho_builder import MH_DYLIB, MachOSpec, build_macho

    app = make_app(tmp_path / "src")
    fw = make_framework(app)
    (fw / "Versions/A/Foo").write_bytes(build_macho(MachOSpec(
        filetype=MH_DYLIB, id_dylib="@rpath/Foo.framework/Versions/A/Foo")))
    report = lint(zip_tree(app, tmp_path / "Sample.zip", follow_symlinks=True))
    assert [f.location.path for f in by_rule(report, "BL201")] == [f"{FW}/Versions/A/Foo"]
    assert len(by_rule(report, "BL012")) == 1
