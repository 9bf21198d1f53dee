"""Zip archives built the way attackers build them: overlapping members (David Fifield's "better
zip bomb"), compressed sizes that lie, ambiguous names. Each is reported by one finding that
names the archive and the offset; nothing is inflated past the limits or written anywhere."""

from __future__ import annotations

import io
import json
import os
import random
import stat
import struct
import subprocess
import sys
import textwrap
import zipfile
import zlib
from pathlib import Path

import pytest
from appbuilder import make_app
from lintutil import by_rule, lint, rule_ids
from ziputil import (
    RawMember,
    central_record,
    deflated,
    end_record,
    local_header,
    raw_zip,
    zip_tree,
)

from bundlelint.bundle import open_input
from bundlelint.inputs import zip as zip_input
from fixtures.macho_builder import MachOSpec, build_macho

REPO = Path(__file__).resolve().parent.parent
INFO = (b'<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict>'
        b"<key>CFBundleExecutable</key><string>app</string></dict></plist>")


# --- 9: overlapping members -------------------------------------------------------------------


def _quote(block: bytes) -> bytes:
    """A deflate stored block (BFINAL=0) carrying ``block`` verbatim: how Fifield's members
    "quote" the local headers that follow them so that each one's data runs through them."""
    return b"\x00" + struct.pack("<HH", len(block), len(block) ^ 0xFFFF)


def fifield_bomb(count: int, kernel_plain: bytes, *, deflate: bool) -> tuple[bytes, list[int]]:
    """Fifield's overlapping construction (https://www.bamsoftware.com/hacks/zipbomb/): every
    member's local header is followed by the headers of the members after it (quoted by stored
    deflate blocks when compressed) and then one shared kernel, so each member's data overlaps
    all the following ones. Returns the archive and its local-header offsets."""
    method = 8 if deflate else 0
    kernel = deflated(kernel_plain) if deflate else kernel_plain
    names = [f"Sample.app/Contents/Resources/f{i:03d}".encode() for i in range(count)]
    headers: list[bytes] = [b""] * count
    plain_tail = kernel_plain  # what member i inflates to: the headers after it, the kernel
    packed_tail = kernel  # member i's data: those headers (quoted) and the kernel
    for i in reversed(range(count)):
        headers[i] = local_header(names[i], method, zlib.crc32(plain_tail), len(packed_tail),
                                  len(plain_tail))
        plain_tail = headers[i] + plain_tail
        packed_tail = (_quote(headers[i]) if deflate else b"") + headers[i] + packed_tail
    body = bytearray()
    offsets = []
    for i, header in enumerate(headers):
        offsets.append(len(body))
        body += header
        if deflate and i + 1 < count:
            body += _quote(headers[i + 1])
    body += kernel
    directory = bytearray()
    for i, header in enumerate(headers):
        _sig, _v, _f, _m, _t, _d, crc, csize, usize, _n, _e = struct.unpack_from(
            "<4s5H3L2H", header)
        directory += central_record(names[i], method, crc, csize, usize, offsets[i],
                                    stat.S_IFREG | 0o644)
    return bytes(body + directory + end_record(count, len(directory), len(body))), offsets


@pytest.mark.parametrize("deflate", [False, True], ids=["stored", "deflate"])
def test_overlapping_members_are_refused_naming_the_offset(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, deflate: bool) -> None:
    kernel = random.Random(9).randbytes(1024 * 1024)  # incompressible: ratio ~1:1 declared
    data, offsets = fifield_bomb(100, kernel, deflate=deflate)
    bomb = tmp_path / "Sample.zip"
    bomb.write_bytes(data)
    with zipfile.ZipFile(bomb) as zf:  # a valid zip: every member reads back, CRC and all
        infos = zf.infolist()
        assert zf.read(infos[-1]) == kernel and zf.read(infos[-2]).endswith(kernel)
        declared = sum(i.file_size for i in infos)
        assert declared > 100 * len(kernel) > 50 * len(data)  # 100x amplification
    measured: list[str] = []
    real_measure = getattr(zip_input, "measure", None)
    monkeypatch.setattr(zip_input, "measure",
                        lambda fh, member, **kw: measured.append(member.name)
                        or real_measure(fh, member, **kw), raising=False)
    report = lint(bomb)
    [finding] = by_rule(report, "BL707")
    assert finding.location.path == "Sample.zip"
    assert finding.location.offset == offsets[1]
    assert "has overlapping members (a zip bomb): member " \
        f"'Sample.app/Contents/Resources/f001' (local header at offset {offsets[1]}) lies " \
        "inside member 'Sample.app/Contents/Resources/f000'" in finding.message
    assert rule_ids(report) == {"BL707"}  # one cause, one finding; nothing inside judged
    assert measured == []  # not one member streamed
    assert open_input(bomb).entries == ()


def test_declared_data_running_into_the_central_directory_is_refused(tmp_path: Path) -> None:
    member = RawMember(name=b"Sample.app/Contents/Info.plist", data=INFO,
                       compress_size=len(INFO) + 40)  # its data would cover the directory
    archive = tmp_path / "Sample.zip"
    archive.write_bytes(raw_zip([member]))
    [finding] = by_rule(lint(archive), "BL707")
    assert finding.location.offset == 0
    assert "past the start of the central directory at offset" in finding.message


# --- 10: lying compressed sizes ---------------------------------------------------------------


def lying_archive(path: Path, zeros: int, lie: int) -> tuple[int, int]:
    """An app whose executable (a Mach-O header then ``zeros`` zero bytes) is deflated, and
    whose headers declare ``lie`` times its real compressed size: the real stream is followed
    by random junk up to the declared size, so the member still has a span of its own and the
    declared ratio passes. Returns (real compressed size, declared)."""
    head = build_macho(MachOSpec())
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    crc = zlib.crc32(head)
    parts = [packer.compress(head)]
    block = bytes(1024 * 1024)
    left = zeros
    while left:
        piece = block[: min(left, len(block))]
        parts.append(packer.compress(piece))
        crc = zlib.crc32(piece, crc)
        left -= len(piece)
    parts.append(packer.flush())
    stream = b"".join(parts)
    declared = len(stream) * lie
    junk = random.Random(10).randbytes(declared - len(stream))
    members = [
        RawMember(name=b"Sample.app/Contents/Info.plist", data=INFO),
        RawMember(name=b"Sample.app/Contents/MacOS/app", data=stream + junk, method=8,
                  file_size=len(head) + zeros, crc=crc, mode=stat.S_IFREG | 0o755),
    ]
    path.write_bytes(raw_zip(members))
    return len(stream), declared


def test_a_lying_compressed_size_is_measured_on_the_real_stream(tmp_path: Path) -> None:
    archive = tmp_path / "Sample.zip"
    real, declared = lying_archive(archive, 64 * 1024 * 1024, 6)
    assert (64 * 1024 * 1024) / declared < 200  # the declared ratio passes the limit
    report = lint(archive)
    [finding] = by_rule(report, "BL707")
    assert "has a member whose real compressed data inflates past the limit: " \
        f"'Sample.app/Contents/MacOS/app' (its central directory declares {declared} " \
        "compressed bytes" in finding.message
    assert "over the 200:1 limit" in finding.message
    data_at = archive.read_bytes().find(b"\xcf\xfa\xed\xfe")  # never: the data is deflated
    assert data_at == -1
    assert finding.location.offset is not None
    assert finding.location.offset < 30 + len(INFO) + 60 + 30 + real  # stopped in the stream
    assert rule_ids(report) == {"BL707"}


_CHILD = textwrap.dedent("""
    import json, os, resource, runpy, sys
    tmp = os.environ["TMPDIR"]
    touched = []

    def hook(event, args):
        if event in ("tempfile.mkstemp", "tempfile.mkdtemp"):
            touched.append(event)
        elif event == "open" and isinstance(args[0], (str, bytes)):
            path = os.fsdecode(args[0])
            if path.startswith(tmp):
                touched.append(path)

    sys.addaudithook(hook)
    sys.argv = ["bundlelint", "--format", "json", sys.argv[1]]
    try:
        runpy.run_module("bundlelint", run_name="__main__")
    except SystemExit:
        pass
    finally:
        # The peak of this process image: ru_maxrss would also count the parent's peak
        # (Linux keeps it across execve, and a vfork child runs in the parent's memory).
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
        try:
            with open("/proc/self/status") as status:
                rss = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
        except (OSError, StopIteration):
            pass
        sys.stderr.write("\\nSTATS " + json.dumps({"rss_kib": rss, "touched": touched}) + "\\n")
""")


def test_a_one_gib_lying_member_is_refused_in_bounded_memory_with_no_temporary_file(
        tmp_path: Path) -> None:
    archive = tmp_path / "Sample.zip"
    real, declared = lying_archive(archive, 1024**3, 6)
    assert archive.stat().st_size < 8 * 1024 * 1024 and declared == 6 * real
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(archive)], capture_output=True,
                          text=True, env=env, check=False, timeout=600)
    stats = json.loads(proc.stderr.rsplit("STATS ", 1)[1])
    assert stats["touched"] == []  # no temporary file, not even an unnamed (O_TMPFILE) one
    assert list(tmp.iterdir()) == []
    assert stats["rss_kib"] < 200 * 1024, stats  # the member is 1 GiB
    report = json.loads(proc.stdout)
    found = [f for f in report["findings"] if f["rule_id"] == "BL707"]
    assert len(found) == 1 and "inflates past the limit" in found[0]["message"], proc.stdout
    assert len(report["findings"]) == 1


def test_large_members_are_read_at_random_through_checkpoints(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zip_input, "IN_MEMORY_LIMIT", 1024 * 1024)
    monkeypatch.setattr(zip_input, "MIN_CHECKPOINT_SPACING", 512 * 1024)
    rng = random.Random(11)
    words = [rng.randbytes(rng.randrange(1, 12)) for _ in range(500)]
    blob = build_macho(MachOSpec()) + b" ".join(rng.choice(words) for _ in range(1_200_000))
    app = make_app(tmp_path / "src", files={"Contents/Resources/blob.bin": blob})
    archive = zip_tree(app, tmp_path / "Sample.zip")
    source = zip_input.ZipSource(archive)
    [marks] = source._layout.checkpoints.values()
    assert len(marks) == len(blob) // (512 * 1024)
    with source.open("Contents/Resources/blob.bin") as fh:
        assert not isinstance(fh, io.BytesIO)  # streamed, not held
        for _ in range(40):
            at = rng.randrange(len(blob))
            fh.seek(at)
            assert fh.read(5000) == blob[at : at + 5000]
        fh.seek(-10, io.SEEK_END)
        assert fh.read() == blob[-10:]
        fh.seek(0)
        assert fh.read() == blob


def test_a_member_whose_crc_does_not_match_is_unreadable(tmp_path: Path) -> None:
    members = [RawMember(name=b"Sample.app/Contents/Info.plist", data=INFO),
               RawMember(name=b"Sample.app/Contents/Resources/a.txt", data=b"hello",
                         crc=zlib.crc32(b"hellp"))]
    archive = tmp_path / "Sample.zip"
    archive.write_bytes(raw_zip(members))
    [finding] = by_rule(lint(archive), "BL007")
    assert finding.location.path == "Sample.app/Contents/Resources/a.txt"
    assert "CRC-32" in finding.message


# --- 11: ambiguous names ----------------------------------------------------------------------


def test_duplicate_names_are_reported(tmp_path: Path) -> None:
    exe = build_macho(MachOSpec())
    members = [
        RawMember(name=b"Sample.app/Contents/Info.plist", data=INFO),
        RawMember(name=b"Sample.app/Contents/MacOS/app", data=exe, mode=stat.S_IFREG | 0o755),
        RawMember(name=b"Sample.app/Contents/Info.plist", data=INFO.replace(b"app", b"evil")),
        RawMember(name=b"Sample.app/Contents/MacOS/app", data=b"#!/bin/sh\n",
                  mode=stat.S_IFREG | 0o755),
    ]
    archive = tmp_path / "Sample.zip"
    archive.write_bytes(raw_zip(members))
    found = {(f.location.path, f.location.offset, f.message)
             for f in by_rule(lint(archive), "BL706")}
    second_plist = 30 + len(members[0].name) + len(INFO) + 30 + len(members[1].name) + len(exe)
    assert ("Sample.app/Contents/Info.plist", 0,
            "2 entries are named 'Sample.app/Contents/Info.plist' (local headers at offsets "
            f"0, {second_plist}): unpacking keeps one of them, which one depends on the tool; "
            "bundlelint checked the last") in found
    assert {p for p, _, _ in found} == {"Sample.app/Contents/Info.plist",
                                        "Sample.app/Contents/MacOS/app"}


def test_a_nul_in_a_name_is_reported_not_cut(tmp_path: Path) -> None:
    members = [RawMember(name=b"Sample.app/Contents/Info.plist", data=INFO),
               RawMember(name=b"a\0b/../../etc/passwd", data=b"root::0:0::/:/bin/sh\n")]
    archive = tmp_path / "Sample.zip"
    archive.write_bytes(raw_zip(members))
    with zipfile.ZipFile(archive) as zf:  # what zipfile (and any C-string tool) sees
        assert zf.namelist()[1] == "a"
    report = lint(archive)
    [finding] = by_rule(report, "BL706")
    assert finding.message == ("entry name 'a\\x00b/../../etc/passwd' holds a NUL byte: "
                               "tools that stop there unpack it as 'a', others under the "
                               "whole name")
    assert finding.location.offset == 30 + len(members[0].name) + len(INFO)
    assert all(e.relpath != "a" for e in open_input(archive).entries)


def test_a_local_header_naming_another_file_is_reported(tmp_path: Path) -> None:
    members = [RawMember(name=b"Sample.app/Contents/Info.plist", data=INFO),
               RawMember(name=b"Sample.app/Contents/Resources/a.txt", data=b"x",
                         local_name=b"Sample.app/Contents/MacOS/zzz")]
    archive = tmp_path / "Sample.zip"
    archive.write_bytes(raw_zip(members))
    [finding] = by_rule(lint(archive), "BL706")
    assert "is 'Sample.app/Contents/MacOS/zzz' in its local header at offset" in finding.message


def test_raw_names_match_zipfile_for_honest_archives(tmp_path: Path) -> None:
    app = make_app(tmp_path / "src", files={"Contents/Resources/café.txt": b"x"})
    archive = zip_tree(app, tmp_path / "Sample.zip")
    source = zip_input.ZipSource(archive)
    with zipfile.ZipFile(archive) as zf:
        assert [m.name for m in source.archive.members] == zf.namelist()
    assert all(not m.is_unsafe for m in source.archive.members)


# --- issue 14: one cause, one finding ---------------------------------------------------------


def test_a_zip_of_a_lone_text_file_is_bl705_only(tmp_path: Path) -> None:
    archive = tmp_path / "hello.zip"
    archive.write_bytes(raw_zip([RawMember(name=b"hello.txt", data=b"hello\n")]))
    report = lint(archive)
    assert [(f.rule_id, f.location.path, f.message) for f in report.findings] == [
        ("BL705", "hello.zip", "no .app at the top level (it holds hello.txt)")]


def test_a_truncated_zip_is_bl701_only(tmp_path: Path) -> None:
    good = zip_tree(make_app(tmp_path / "src"), tmp_path / "Sample.zip").read_bytes()
    for cut in (len(good) // 2, len(good) - 10):
        archive = tmp_path / "truncated.zip"
        archive.write_bytes(good[:cut])
        assert rule_ids(lint(archive)) == {"BL701"}, cut


def test_a_forward_seek_resumes_from_the_nearest_checkpoint(tmp_path: Path) -> None:
    from bundlelint.inputs.zipstream import DEFLATED, InflatingStream, MemberData, measure

    blob = random.Random(12).randbytes(64 * 1024) * 96  # 6 MiB, compresses about 16:1
    packed = deflated(blob)
    path = tmp_path / "member.bin"
    path.write_bytes(packed)
    member = MemberData("m", DEFLATED, 0, len(packed), len(blob), zlib.crc32(blob))

    class Counting(io.FileIO):
        consumed = 0

        def read(self, size: int = -1) -> bytes:
            data = super().read(size)
            Counting.consumed += len(data)
            return data

    with Counting(path) as fh:
        marks = measure(fh, member, max_ratio=200, keep=8, spacing=1024 * 1024).checkpoints
        assert [m.out_pos for m in marks] == [i * 1024 * 1024 for i in range(1, 7)]
        stream = InflatingStream(fh, member, marks)
        stream.seek(10)
        assert stream.read(10) == blob[10:20]
        Counting.consumed = 0
        stream.seek(5 * 1024 * 1024 + 100)  # far ahead of the cursor: jump to the 5 MiB mark
        assert stream.read(100) == blob[5 * 1024 * 1024 + 100 :][:100]
        assert Counting.consumed <= len(packed) // 4  # not the 5 MiB in between
