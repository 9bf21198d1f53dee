"""xar, cpio, payload, PackageInfo/Distribution and ticket parsers: real packages against 7-Zip,
fixture packages of every kind, and hostile packages that must give an offset."""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import zlib
from pathlib import Path

import pytest
from samples import CONTAINERS as SAMPLES
from samples import container

from bundlelint.errors import ParseError
from bundlelint.parsers.cpio import CpioVolume
from bundlelint.parsers.decoded import FileRange, open_payload
from bundlelint.parsers.pkginfo import parse_distribution, parse_package_info
from bundlelint.parsers.ticket import parse_ticket
from bundlelint.parsers.volume import NodeKind
from bundlelint.parsers.xar import XarVolume, read_xar, verify_data
from fixtures import xar_builder as xb

ROOT = Path(__file__).resolve().parent.parent
SCANLINE = "09-scanline-2.3-devid-stapled.pkg"
TASKS = "12-tasks-explorer-unsigned-distribution.pkg"
MUNKI = "13-munki-kickstart-payloadfree.pkg"
SHA256 = {
    SCANLINE: "4ad94c762c675ec4e70920cbdf538aa9e67f3ebd6ec13303ea0c0c4179123b06",
    TASKS: "8fa4fff39a6cdea368e0110905253d7fb9e26e36bbe053704330fe9f24f7db6a",
    MUNKI: "74d6b16628034c4ff790e1be710d7e11d289ee1529c0cab1052d6d8b33daf2de",
}


def sample(name: str) -> Path:
    path = container(name)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == SHA256[name]
    return path


def sevenzip() -> str:
    found = shutil.which("7zz")
    if found is None:
        pytest.skip("7zz is not installed (Debian package 7zip)")
    return found


def seven_listing(path: Path) -> dict[str, tuple[str, int | None]]:
    """Path -> (type, size) from ``7zz l -slt``."""
    out = subprocess.run([sevenzip(), "l", "-slt", "-txar", str(path)], check=True,
                         capture_output=True, text=True).stdout
    listing: dict[str, tuple[str, int | None]] = {}
    for block in out.split("\n\n"):
        fields = dict(line.split(" = ", 1) for line in block.splitlines() if " = " in line)
        if "Type" in fields and "Path" in fields and "Size" in fields and \
                fields["Path"] != str(path) and not fields["Path"].startswith("[TOC]"):
            size = fields["Size"]
            listing[fields["Path"]] = (fields["Type"], int(size) if size else None)
    return listing


def open_sample(name: str) -> tuple[io.BufferedReader, XarVolume]:
    fh = open(sample(name), "rb")  # noqa: SIM115 - closed by the caller's fixture scope
    return fh, XarVolume(read_xar(fh, path=name), fh)


@pytest.mark.parametrize("name", [SCANLINE, TASKS, MUNKI])
def test_real_package_lists_what_7zip_lists(name: str) -> None:
    fh, volume = open_sample(name)
    with fh:
        ours = {n.path: ("directory" if n.kind is NodeKind.DIRECTORY else "file",
                         None if n.kind is NodeKind.DIRECTORY else n.size)
                for n in volume.walk()}
        assert ours == seven_listing(SAMPLES / name)
        archive = volume.archive
        assert archive.checksum_matches is True
        for entry in archive.entries:
            if entry.data is not None:
                assert verify_data(fh, entry.data, path=name, what=entry.path) == []


def test_scanline_header_signatures_and_ticket() -> None:
    fh, volume = open_sample(SCANLINE)
    with fh:
        archive = volume.archive
        assert (archive.header.size, archive.header.version, archive.header.checksum_name) == \
            (28, 1, "sha1")
        assert [(s.style, s.extended, len(s.certificates)) for s in archive.signatures] == \
            [("RSA", False, 3), ("CMS", True, 3)]
        assert archive.rsa_signature is not None and archive.rsa_signature.size == 256
        assert archive.tail_size == 1728
        assert archive.ticket is not None and archive.ticket.terminator_found
        ticket = parse_ticket(archive.ticket.data, path=SCANLINE, base=archive.ticket.offset)
        assert archive.notarization_digest is not None
        kind, digest = archive.notarization_digest
        assert kind == 1 and ticket.covers(digest)
        assert [h.hash_type for h in ticket.hashes] == [1, 2, 2]
        assert len(ticket.certificates) == 2
        info = parse_package_info(volume.read("PackageInfo", 1 << 20), path=SCANLINE)
        assert (info.identifier, info.version, info.install_location) == \
            ("ch.boatlaun.scanline", "2.3", "/")


def test_scanline_payload_matches_7zip_extraction(tmp_path: Path) -> None:
    fh, volume = open_sample(SCANLINE)
    with fh:
        subprocess.run([sevenzip(), "x", "-y", "-sns-", "-txar", f"-o{tmp_path}",
                        str(SAMPLES / SCANLINE), "Payload"], check=True, capture_output=True)
        extracted = (tmp_path / "Payload").read_bytes()
        assert volume.read("Payload", 1 << 24) == extracted
        kind, decoded = open_payload(volume.source("Payload"))
        assert kind == "gzip"
        cpio = CpioVolume(decoded)
        nodes = {n.path: n for n in cpio.walk()}
        assert cpio.format == "odc"
        (tmp_path / "payload").mkdir()
        subprocess.run([sevenzip(), "x", "-y", f"-o{tmp_path / 'payload'}", str(tmp_path /
                        "Payload")], check=True, capture_output=True)
        inner = next((tmp_path / "payload").iterdir())  # 7zz unpacks the gzip to one file
        subprocess.run([sevenzip(), "x", "-y", f"-o{tmp_path / 'tree'}", str(inner)],
                       check=True, capture_output=True)
        tree = tmp_path / "tree"
        theirs = {str(p.relative_to(tree)): p for p in tree.rglob("*")}
        assert set(theirs) == set(nodes)
        for path, node in nodes.items():
            if node.kind is NodeKind.FILE:
                assert cpio.read(path) == theirs[path].read_bytes()


def test_product_archive_payloads_and_distribution() -> None:
    fh, volume = open_sample(TASKS)
    with fh:
        dist = parse_distribution(volume.read("Distribution", 1 << 20), path=TASKS)
        assert {r.path for r in dist.pkg_refs} == {
            "contents.pkg", "tasksexplorerd.pkg", "commacosinternalstasksexplorerd.pkg"}
        assert dist.has_javascript and dist.installation_check
        info = parse_package_info(volume.read("tasksexplorerd.pkg/PackageInfo", 1 << 20),
                                  path=TASKS)
        assert info.scripts == (("postinstall", "./postinstall"),)
        _kind, scripts = open_payload(volume.source("tasksexplorerd.pkg/Scripts"))
        assert [n.path for n in CpioVolume(scripts).walk()] == ["postinstall"]
        _kind, payload = open_payload(volume.source("contents.pkg/Payload"))
        cpio = CpioVolume(payload)
        nodes = list(cpio.walk())
        contents = parse_package_info(volume.read("contents.pkg/PackageInfo", 1 << 20),
                                      path=TASKS)
        # pkgbuild counts the payload's entries, the root "." included.
        assert len(nodes) + 1 == contents.number_of_files == 413
        files = [n for n in nodes if n.kind is NodeKind.FILE]
        plist = next(n.path for n in files if n.path.endswith("Sparkle.framework/Resources/"
                                                              "Info.plist"))
        assert cpio.read(plist).startswith(b"<?xml")


def test_junk_tail_is_measured_not_mistaken_for_a_ticket() -> None:
    fh, volume = open_sample(MUNKI)
    with fh:
        assert volume.archive.tail_size == 2747  # as 7-Zip says: "Tail Size = 2747"
        assert volume.archive.ticket is None
        assert volume.archive.problems == ()


# --- fixtures ---------------------------------------------------------------------------------

APP_CPIO = [xb.CpioSpec(".", mode=0o40755), xb.CpioSpec("./App.app", mode=0o40755),
            xb.CpioSpec("./App.app/Contents/Info.plist", b"<plist/>"),
            xb.CpioSpec("./App.app/Contents/._Info.plist", b"\0\x05\x16\x07"),
            xb.CpioSpec("./App.app/Contents/link", b"Info.plist", mode=0o120755)]


@pytest.mark.parametrize("writer", [xb.cpio_odc, xb.cpio_newc])
@pytest.mark.parametrize("compress", ["gzip", "pbzx", "pbzx-stored", "none"])
def test_fixture_payloads_round_trip(writer: object, compress: str) -> None:
    cpio = writer(APP_CPIO)  # type: ignore[operator]
    payload = {"gzip": xb.gzip_payload, "pbzx": xb.pbzx_payload,
               "pbzx-stored": lambda c: xb.pbzx_payload(c, store=True),
               "none": lambda c: c}[compress](cpio)
    data = xb.build_xar([xb.XarFile("PackageInfo", xb.package_info(), encoding="gzip"),
                         xb.XarFile("Payload", payload)])
    fh = io.BytesIO(data)
    volume = XarVolume(read_xar(fh, path="t.pkg"), fh)
    kind, decoded = open_payload(volume.source("Payload"))
    assert kind == {"pbzx-stored": "pbzx"}.get(compress, compress)
    cpio_volume = CpioVolume(decoded)
    nodes = [(n.path, n.kind, n.link_target) for n in cpio_volume.walk()]
    assert nodes == [("App.app", NodeKind.DIRECTORY, None),
                     ("App.app/Contents", NodeKind.DIRECTORY, None),
                     ("App.app/Contents/Info.plist", NodeKind.FILE, None),
                     ("App.app/Contents/._Info.plist", NodeKind.FILE, None),
                     ("App.app/Contents/link", NodeKind.SYMLINK, "Info.plist")]
    assert cpio_volume.open("App.app/Contents/Info.plist").read() == b"<plist/>"


def test_gzip_payload_random_access_over_checkpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    from bundlelint.parsers import decoded

    monkeypatch.setattr(decoded, "SPACING", 4096)
    blobs = [bytes([i]) * 3000 + os.urandom(500) for i in range(40)]
    cpio = xb.cpio_odc([xb.CpioSpec(f"./f{i}", b) for i, b in enumerate(blobs)])
    source = FileRange(io.BytesIO(xb.gzip_payload(cpio)), 0, len(xb.gzip_payload(cpio)),
                       fmt="t", path="t")
    _kind, stream = open_payload(source)
    volume = CpioVolume(stream)
    list(volume.walk())
    for i in (39, 3, 20, 0, 38):  # backwards and forwards
        assert volume.read(f"f{i}") == blobs[i]


def test_newc_hard_link_takes_data_from_the_last_link() -> None:
    cpio = xb.cpio_newc([xb.CpioSpec("./a", b"", ino=7, nlink=2),
                         xb.CpioSpec("./b", b"shared", ino=7, nlink=2)])
    volume = CpioVolume(FileRange(io.BytesIO(cpio), 0, len(cpio), fmt="t", path="t"))
    assert volume.read("a") == volume.read("b") == b"shared"


def test_product_archive_fixture_with_ticket_tail() -> None:
    ticket = xb.build_ticket([(1, b"\x11" * 20)])
    data = xb.build_xar([xb.XarFile("Distribution", xb.distribution([("com.a", "a.pkg")])),
                         xb.XarFile("a.pkg/PackageInfo", xb.package_info(), encoding="gzip"),
                         xb.XarFile("a.pkg/Payload", xb.gzip_payload(xb.cpio_odc(APP_CPIO)))],
                        tail=xb.ticket_trailer(ticket))
    archive = read_xar(io.BytesIO(data), path="t.pkg")
    assert [e.path for e in archive.entries] == ["Distribution", "a.pkg", "a.pkg/PackageInfo",
                                                 "a.pkg/Payload"]
    assert archive.ticket is not None and archive.ticket.data == ticket
    parsed = parse_ticket(archive.ticket.data, base=archive.ticket.offset)
    assert parsed.covers(b"\x11" * 32) and not parsed.covers(b"\x22" * 20)


# --- hostile ----------------------------------------------------------------------------------


def _error(data: bytes) -> ParseError:
    with pytest.raises(ParseError) as info:
        read_xar(io.BytesIO(data), path="evil.pkg")
    assert info.value.offset is not None
    return info.value


def _plain() -> bytes:
    return xb.build_xar([xb.XarFile("Payload", b"x" * 100)])


def test_toc_length_past_the_end() -> None:
    good = _plain()
    toc = zlib.decompress(good[28:28 + int.from_bytes(good[8:16], "big")])
    err = _error(xb.assemble(toc, b"", toc_length=10_000_000))
    assert err.offset == 8 and "claims 10000000 bytes" in err.reason


def test_zlib_bomb_toc_is_cut_off() -> None:
    bomb = zlib.compress(b"<xar>" + b" " * (80 * 1024 * 1024), 9)
    err = _error(xb.assemble(b"", b"", toc_compressed=bomb, toc_uncompressed=1000))
    assert "decompression bomb" in err.reason


def test_toc_declared_too_large_is_refused_before_inflating() -> None:
    err = _error(xb.assemble(b"<xar><toc/></xar>", b"", toc_uncompressed=1 << 40))
    assert err.offset == 16


@pytest.mark.parametrize("doc,needle", [
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
     b"<xar><toc>&b;</toc></xar>", "declares an entity"),
    (b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "file:///etc/passwd"><xar><toc>&ext;</toc></xar>',
     "entity"),
    (b"<xar><toc>" + b"<file>" * 200 + b"</file>" * 200 + b"</toc></xar>", "nested deeper"),
])
def test_xml_tricks_are_refused_with_an_offset(doc: bytes, needle: str) -> None:
    err = _error(xb.assemble(doc, b""))
    assert needle in err.reason and err.offset == 28
    assert re.search(r"byte \d+|line \d+", err.reason)


def test_heap_offsets_past_the_end_and_overlapping() -> None:
    data = xb.build_xar([xb.XarFile("a", b"A" * 50), xb.XarFile("b", b"B" * 50, offset=40),
                         xb.XarFile("c", b"C" * 10, offset=1 << 40)])
    archive = read_xar(io.BytesIO(data), path="evil.pkg")
    reasons = [p.reason for p in archive.problems]
    assert any("overlaps" in r for r in reasons)
    c = archive.entry("c")
    assert c is not None and c.error is not None and "past the end" in c.error
    assert any(p.offset == c.data.absolute_offset for p in archive.problems if c.data)
    nodes = {n.path: n for n in XarVolume(archive, io.BytesIO(data)).walk()}
    assert nodes["c"].error is not None


def test_checksum_mismatch_and_style_mismatch_are_problems() -> None:
    archive = read_xar(io.BytesIO(xb.build_xar([xb.XarFile("a", b"A")], corrupt_checksum=True)),
                       path="t.pkg")
    assert archive.checksum_matches is False
    archive = read_xar(io.BytesIO(xb.build_xar([xb.XarFile("a", b"A")],
                                               checksum_style="sha256")), path="t.pkg")
    assert any("Checksum style mismatch" in p.reason for p in archive.problems)


def test_cpio_with_huge_sizes_gives_the_header_offset() -> None:
    cpio = xb.cpio_odc([xb.CpioSpec("./a", b"x" * 10),
                        xb.CpioSpec("./big", b"y", size=8 ** 11 - 1)])
    payload = xb.gzip_payload(cpio)
    volume = CpioVolume(open_payload(FileRange(io.BytesIO(payload), 0, len(payload), fmt="t",
                                               path="t"))[1])
    with pytest.raises(ParseError) as info:
        list(volume.walk())
    assert "Payload byte 90:" in info.value.reason and "claims" in info.value.reason


def test_cpio_bomb_is_cut_off_by_ratio() -> None:
    cpio = xb.cpio_odc([xb.CpioSpec("./zeros", b"\0" * (64 * 1024 * 1024))])
    payload = xb.gzip_payload(cpio)
    volume = CpioVolume(open_payload(FileRange(io.BytesIO(payload), 0, len(payload), fmt="t",
                                               path="t"))[1])
    with pytest.raises(ParseError) as info:
        list(volume.walk())
    assert "decompression bomb" in info.value.reason


def test_cpio_dotdot_names_are_renamed_and_reported() -> None:
    cpio = xb.cpio_odc([xb.CpioSpec("./../../etc/evil", b"x")])
    volume = CpioVolume(FileRange(io.BytesIO(cpio), 0, len(cpio), fmt="t", path="t"))
    nodes = list(volume.walk())
    assert all(".." not in n.path.split("/") for n in nodes)
    assert nodes[-1].error is not None


@pytest.mark.parametrize("cut", [0, 3, 15, 40, 200, 1000])
def test_truncated_tickets_give_an_offset(cut: int) -> None:
    ticket = xb.build_ticket([(2, b"\x01" * 20)])
    with pytest.raises(ParseError) as info:
        parse_ticket(ticket[:cut] if cut < 1000 else ticket[:16] + b"\x00" * 5, base=100)
    assert info.value.offset is not None and info.value.offset >= 100


def test_ticket_signature_may_be_followed_by_zero_padding_only() -> None:
    ticket = xb.build_ticket([(2, b"\x03" * 20)])
    padded = parse_ticket(ticket + b"\0\0")  # as in the disk image sample's BlobWrapper
    assert padded.signature == parse_ticket(ticket).signature
    with pytest.raises(ParseError) as info:
        parse_ticket(ticket + b"\0junk", base=10)
    assert info.value.offset == 10 + len(ticket)
