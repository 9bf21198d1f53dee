"""A parser's file tree (``parsers.volume.Volume``) as an input: ``inputs.volume.VolumeSource``,
and the recognition of containers by content in ``inputs.dispatch``.

The trees here are real HFS+ volumes built by ``fixtures/hfsplus_builder.py`` and read by
``parsers.hfsplus``; every rule must judge an app inside one exactly as the same app on disk,
with paths shown through the container (``MyApp.dmg/MyApp.app/Contents/MacOS/x``).
"""

from __future__ import annotations

import io
import os
import plistlib
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest
from appbuilder import DEFAULT_INFO, make_app
from lintutil import REGISTRY, TEST_OPTIONS, by_rule, lint
from samples import container

from bundlelint.bundle import Bundle, EntryKind, open_input
from bundlelint.engine import Report, Selection, run_rules
from bundlelint.errors import ParseError
from bundlelint.inputs import containers
from bundlelint.inputs.containers import ContainerFile, ContainerFormat, is_udif, is_xar
from bundlelint.inputs.source import Source
from bundlelint.inputs.volume import Mount, VolumeSource
from bundlelint.parsers.hfsplus import HFSPlusVolume
from bundlelint.parsers.volume import Node, NodeKind
from fixtures.hfsplus_builder import Dir, File, Symlink, build_hfsplus
from fixtures.macho_builder import MachOSpec, build_macho

#: An unsigned executable: BL201 fires on it wherever it is.
UNSIGNED = build_macho(MachOSpec())
INFO = plistlib.dumps({**DEFAULT_INFO, "CFBundleExecutable": "app"})
RESOURCE = b"resource text " * 2000  # compressible: stored with decmpfs below


def _app_entries(prefix: str = "") -> list[Dir | File | Symlink]:
    p = f"{prefix}/" if prefix else ""
    return [Dir(f"{p}MyApp.app"), Dir(f"{p}MyApp.app/Contents"),
            Dir(f"{p}MyApp.app/Contents/MacOS"), Dir(f"{p}MyApp.app/Contents/Resources"),
            File(f"{p}MyApp.app/Contents/Info.plist", INFO),
            File(f"{p}MyApp.app/Contents/MacOS/app", UNSIGNED, mode=0o755,
                 compression="zlib-rsrc"),
            File(f"{p}MyApp.app/Contents/Resources/notes.txt", RESOURCE,
                 compression="lzvn-inline"),
            Symlink(f"{p}MyApp.app/Contents/Resources/leak", "/etc/passwd")]


def _volume(image: bytes) -> HFSPlusVolume:
    return HFSPlusVolume(io.BytesIO(image), path="MyApp.dmg")


def _lint_source(source: Source) -> tuple[Bundle, Report]:
    bundle = Bundle(source)
    return bundle, run_rules(bundle, REGISTRY, Selection(), TEST_OPTIONS)


def _findings(report: Report, strip: str = "") -> set[tuple[str, str, str]]:
    return {(f.rule_id, f.location.path.removeprefix(strip), f.message)
            for f in report.findings}


def test_an_app_in_a_volume_is_judged_as_the_same_app_on_disk(tmp_path: Path) -> None:
    source = VolumeSource("MyApp.dmg", [Mount("", _volume(build_hfsplus(_app_entries())))])
    bundle, in_image = _lint_source(source)
    app = make_app(tmp_path, name="MyApp.app", executable=UNSIGNED, info=INFO,
                   files={"Contents/Resources/notes.txt": RESOURCE})
    os.symlink("/etc/passwd", app / "Contents/Resources/leak")
    on_disk = lint(app)
    # Every finding is the same, its path shown through the container.
    assert all(f.location.path.startswith("MyApp.dmg/MyApp.app") for f in in_image.findings)
    assert _findings(in_image, "MyApp.dmg/") == _findings(on_disk)
    assert by_rule(in_image, "BL201")  # the unsigned executable, read through decmpfs
    assert by_rule(in_image, "BL004")  # the link out of the bundle: listed, never followed
    # The container's root is not a bundle: the app is the outermost one.
    assert [bd.relpath for bd in bundle.bundle_dirs] == ["MyApp.app"]
    assert bundle.root_bundle is None and bundle.main_executable is None
    exe = bundle.entry("MyApp.app/Contents/MacOS/app")
    assert exe is not None and exe.kind is EntryKind.MACHO
    assert exe.display == "MyApp.dmg/MyApp.app/Contents/MacOS/app"
    notes = bundle.entry("MyApp.app/Contents/Resources/notes.txt")
    assert notes is not None
    with bundle.open_entry(notes) as fh:
        assert fh.read() == RESOURCE  # decompressed as macOS reads it


def test_several_trees_are_mounted_under_their_prefixes() -> None:
    first = _volume(build_hfsplus(_app_entries()))
    second = _volume(build_hfsplus([Dir("Tools"), File("Tools/helper", UNSIGNED, mode=0o755)]))
    source = VolumeSource("Disk.dmg", [Mount("Install", first), Mount("Data/Extra", second)])
    bundle, report = _lint_source(source)
    relpaths = [e.relpath for e in bundle.entries]
    assert relpaths[:2] == ["Install", "Install/MyApp.app"]
    assert {"Data", "Data/Extra", "Data/Extra/Tools/helper"} <= set(relpaths)
    assert {f.location.path for f in by_rule(report, "BL201")} == {
        "Disk.dmg/Install/MyApp.app/Contents/MacOS/app", "Disk.dmg/Data/Extra/Tools/helper"}
    # Outside every bundle of a container nothing is sealed as data: no misplaced code.
    assert not by_rule(report, "BL017")


def test_a_damaged_compressed_file_is_a_finding_with_its_offset() -> None:
    image = bytearray(build_hfsplus(_app_entries()))
    packed = zlib.compress(UNSIGNED[: 64 * 1024], 9)  # the first decmpfs chunk, as stored
    at = bytes(image).find(packed)
    assert at > 0
    image[at + 2 : at + 40] = bytes(38)  # the deflate stream no longer decodes
    _, report = _lint_source(VolumeSource("MyApp.dmg", [Mount("", _volume(bytes(image)))]))
    messages = [f.message for f in report.findings
                if f.location.path == "MyApp.dmg/MyApp.app/Contents/MacOS/app"]
    assert messages, _findings(report)
    assert any("offset" in m for m in messages), messages


class _LyingVolume:
    """A reader that breaks the Volume contract: an unsafe path, then a failure mid-walk."""

    name = "Lying"

    def walk(self) -> Iterator[Node]:
        yield Node("ok", NodeKind.DIRECTORY, 0, 0o040755)
        yield Node("../escape", NodeKind.FILE, 3, 0o100644)
        yield Node("/abs", NodeKind.FILE, 3, 0o100644)
        raise ParseError("test tree", "Lying", 4096, "catalog node loops")

    def open(self, path: str) -> BinaryIO:
        raise AssertionError(f"nothing may be opened: {path}")


def test_a_reader_that_breaks_the_contract_gives_unreadable_entries() -> None:
    bundle, report = _lint_source(VolumeSource("X.dmg", [Mount("Vol", _LyingVolume())]))
    errors = {e.relpath: e.error for e in bundle.entries if e.kind is EntryKind.UNREADABLE}
    assert errors == {
        "Vol/_/escape": "the reader gave an unsafe path '../escape': not walked",
        "Vol/abs": "the reader gave an unsafe path '/abs': not walked",
        "Vol": "the file tree cannot be read further: catalog node loops (offset 4096)",
    }
    assert not any(".." in e.relpath for e in bundle.entries)
    assert {f.location.path for f in report.findings if f.rule_id == "BL007"} >= {
        "X.dmg/Vol/_/escape", "X.dmg/Vol"}


# --- recognising containers by content ---------------------------------------------------------


def _ends(path: Path) -> tuple[bytes, bytes]:
    data = path.read_bytes()
    return data[: containers.MAGIC_BYTES], data[-containers.MAGIC_BYTES:]


@pytest.mark.parametrize("name", [
    "01-juhflow-devid-notarized-apfs.dmg", "03-itunes-volume-control-2013-hfs.dmg",
    "05-sparkle-testapp-hfs-bzip2-sla.dmg", "06-sparkle-apfs-lzma-adhoc-signed.dmg"])
def test_real_disk_images_are_recognised_by_their_trailer(name: str) -> None:
    head, tail = _ends(container(name))
    assert is_udif(head, tail) and not is_xar(head, tail)


@pytest.mark.parametrize("name", [
    "09-scanline-2.3-devid-stapled.pkg", "12-tasks-explorer-unsigned-distribution.pkg",
    "13-munki-kickstart-payloadfree.pkg"])
def test_real_packages_are_recognised_by_their_header(name: str) -> None:
    head, tail = _ends(container(name))
    assert is_xar(head, tail) and not is_udif(head, tail)


def test_other_files_are_no_container() -> None:
    zeros = bytes(containers.MAGIC_BYTES)
    assert not is_udif(UNSIGNED[:512], UNSIGNED[-512:]) and not is_xar(UNSIGNED[:512], zeros)
    koly_wrong_size = b"koly" + (4).to_bytes(4, "big") + (256).to_bytes(4, "big") + bytes(500)
    assert not is_udif(zeros, koly_wrong_size)
    assert not is_xar(b"xar!\x00\x04" + bytes(20), zeros)  # a header shorter than 28 bytes


TEST_MAGIC = b"TESTVOL!"


def open_test_container(file: ContainerFile) -> Source:
    """A test container format: ``TEST_MAGIC``, padding to 512 bytes, then an HFS+ volume."""
    file.fh.seek(containers.MAGIC_BYTES)
    volume = HFSPlusVolume(io.BytesIO(file.fh.read()), path=file.name)
    return VolumeSource(file.name, [Mount("", volume)])


def test_open_input_dispatches_a_recognised_container_to_its_opener(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    image = tmp_path / "MyApp.img"
    image.write_bytes(TEST_MAGIC.ljust(containers.MAGIC_BYTES, b"\0")
                      + build_hfsplus(_app_entries()))
    monkeypatch.setattr(containers, "CONTAINER_FORMATS", [ContainerFormat(
        "test container", lambda head, tail: head.startswith(TEST_MAGIC),
        "test_volume_source:open_test_container")])
    bundle = open_input(image, TEST_OPTIONS)
    assert bundle.is_container and bundle.name == "MyApp.img"
    report = lint(image)
    assert {f.location.path for f in by_rule(report, "BL201")} == {
        "MyApp.img/MyApp.app/Contents/MacOS/app"}
    # Unrecognised, the same file is a single file that is not Mach-O.
    monkeypatch.setattr(containers, "CONTAINER_FORMATS", [])
    assert [f.location.path for f in by_rule(lint(image), "BL002")] == ["MyApp.img"]
