"""Hostile input: every malformed file gives a ParseError that names the file and the offset of
the structure that is wrong -- never another exception.

Problems in the Mach-O container raise ``ParseError``; problems inside the code signature are
recorded on ``slice.signature_error`` (the rest of the slice still parses). Mutations are applied
to a real Go darwin/arm64 binary, at offsets taken from parsing it, so the tests follow whatever
layout the toolchain produces.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bundlelint.errors import ParseError
from bundlelint.parsers.macho import MachOFile, Slice, parse_macho, parse_macho_bytes, sniff_macho

# CodeDirectory field offsets (docs/formats.md 2.4).
CD_LENGTH = 0x04
CD_VERSION = 0x08
CD_HASH_OFFSET = 0x10
CD_IDENT_OFFSET = 0x14
CD_N_CODE_SLOTS = 0x1C
CD_HASH_SIZE = 0x24
CD_HASH_TYPE = 0x25
CD_PAGE_SIZE = 0x27


@dataclass(frozen=True)
class Layout:
    """Where things are in the pristine Go binary (all offsets absolute)."""

    data: bytes
    parsed: Slice
    sig: int  # SuperBlob
    sig_len: int
    cd: int  # primary CodeDirectory
    cd_len: int


@pytest.fixture(scope="module")
def go(go_hello_arm64: Path) -> Layout:
    data = go_hello_arm64.read_bytes()
    (sl,) = parse_macho_bytes(data, str(go_hello_arm64)).slices
    assert sl.signature is not None and sl.code_signature is not None
    cd = sl.signature.code_directories[0]
    return Layout(data, sl, sl.signature.offset, sl.signature.length, cd.offset, len(cd.raw))


def parse_file(tmp_path: Path, data: bytes, name: str = "hostile") -> tuple[str, MachOFile]:
    path = tmp_path / name
    path.write_bytes(data)
    with path.open("rb") as fh:
        return str(path), parse_macho(fh, len(data), str(path))


def expect_error(tmp_path: Path, data: bytes, offset: int, *words: str) -> ParseError:
    path = tmp_path / "hostile"
    path.write_bytes(data)
    with pytest.raises(ParseError) as info, path.open("rb") as fh:
        parse_macho(fh, len(data), str(path))
    err = info.value
    assert err.path == str(path)
    assert err.offset == offset, f"{err} (expected offset {offset:#x})"
    for word in words:
        assert word.lower() in err.reason.lower(), err.reason
    return err


def expect_signature_error(tmp_path: Path, data: bytes, offset: int, *words: str,
                           slice_index: int = 0) -> ParseError:
    path, parsed = parse_file(tmp_path, data)
    sl = parsed.slices[slice_index]
    assert sl.signature is None
    err = sl.signature_error
    assert isinstance(err, ParseError), "expected a signature error"
    assert err.path == path
    assert err.offset == offset, f"{err} (expected offset {offset:#x})"
    for word in words:
        assert word.lower() in err.reason.lower(), err.reason
    return err


def patched(data: bytes, *edits: tuple[int, str, int]) -> bytes:
    """Apply ``(offset, struct format, value)`` edits."""
    out = bytearray(data)
    for offset, fmt, value in edits:
        struct.pack_into(fmt, out, offset, value)
    return bytes(out)


# --- too short / not Mach-O ---------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"\xcf\xfa\xed"], ids=["empty", "3-bytes"])
def test_too_short(tmp_path: Path, data: bytes) -> None:
    expect_error(tmp_path, data, 0, "too short")


@pytest.mark.parametrize(
    "data",
    [b"\x7fELF\x02\x01\x01\x00" + bytes(56), b"MZ\x90\x00" + bytes(60), bytes(64)],
    ids=["elf", "pe", "zeros"],
)
def test_wrong_magic(tmp_path: Path, data: bytes) -> None:
    expect_error(tmp_path, data, 0, "magic")


def test_java_class_file(tmp_path: Path) -> None:
    """CAFEBABE, minor 0, major 0x34 (Java 8): the major version lands on nfat_arch."""
    data = bytes.fromhex("cafebabe00000034") + b"\x00\x10\x0a\x00\x03" + bytes(200)
    assert not sniff_macho(data[:8])
    expect_error(tmp_path, data, 4, "nfat_arch")


# --- the thin Go binary, truncated at every structure boundary ----------------------------------


def _truncation_points(go: Layout) -> list[int]:
    sl = go.parsed
    points = {0, 1, 3, 4, 7, 8, 16, 20, 24, 28, 31, 32}
    for lc in sl.load_commands:
        points.update({lc.offset, lc.offset + 4, lc.offset + 8, lc.offset + lc.size // 2,
                       lc.offset + lc.size - 1})
    end_of_cmds = 32 + sl.sizeofcmds
    points.update({end_of_cmds, end_of_cmds + 1})
    for seg in sl.segments:
        points.update({seg.fileoff, seg.fileoff + 1})
        for sect in seg.sections:
            if sect.offset:
                points.update({sect.offset, sect.offset + 1, sect.offset + sect.size - 1})
    sig = go.sig
    points.update({sig - 1, sig, sig + 4, sig + 8, sig + 12, sig + 16, sig + 20})
    for blob in go.parsed.signature.blobs if go.parsed.signature else ():
        points.update({blob.offset, blob.offset + 4, blob.offset + blob.length - 1})
    cd = go.cd
    points.update(cd + off for off in (8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 0x38, 0x40,
                                       0x58, go.cd_len // 2, go.cd_len - 1))
    points.update({sig + go.sig_len - 1, sig + go.sig_len, len(go.data) - 1})
    return sorted(p for p in points if 0 <= p < len(go.data))


def _expected_for_truncation(go: Layout, n: int) -> tuple[str, int]:
    """``("error" | "signature", offset)`` the parser should report for ``data[:n]``."""
    sl = go.parsed
    if n < 32:
        return "error", 0  # magic (n < 4) or mach_header_64 incomplete
    if n < 32 + sl.sizeofcmds:
        return "error", 20  # sizeofcmds claims more than the file holds
    # Section contents past the end of the file: the segment command that points there.
    for seg, lc in zip(sl.segments, [c for c in sl.load_commands if c.cmd == 0x19], strict=True):
        for sect in seg.sections:
            if sect.offset > n:
                return "error", lc.offset
    # LC_CODE_SIGNATURE runs past the end: blame its dataoff (+8) if that is past the end
    # too, else its datasize (+12).
    assert sl.code_signature is not None
    lc = next(c for c in sl.load_commands if c.cmd == 0x1D)
    return "signature", lc.offset + (8 if sl.code_signature.dataoff >= n else 12)


def test_truncated_everywhere(go: Layout, tmp_path: Path) -> None:
    points = _truncation_points(go)
    assert len(points) > 100
    for n in points:
        kind, offset = _expected_for_truncation(go, n)
        if kind == "error":
            expect_error(tmp_path, go.data[:n], offset)
        else:
            expect_signature_error(tmp_path, go.data[:n], offset, "LC_CODE_SIGNATURE")


def test_superblob_truncated_everywhere(go: Layout) -> None:
    """The SuperBlob alone, cut at every boundary with its length field shrunk to match (so the
    LC_CODE_SIGNATURE check cannot catch it first): the blob parser names the right field."""
    from bundlelint.parsers.codesign import parse_embedded_signature

    whole = go.data[go.sig : go.sig + go.sig_len]
    cd = go.cd - go.sig
    points = sorted({*range(0, 24), cd, cd + 4, cd + 8, cd + 12, cd + 0x28, cd + 0x2C, cd + 0x30,
                     cd + 0x58, cd + go.cd_len // 2, cd + go.cd_len - 1})
    for n in points:
        data = bytearray(whole[:n])
        if n >= 8:
            struct.pack_into(">I", data, 4, n)
        if n < 4:
            want = 0  # magic
        elif n < 8:
            want = 4  # length
        elif n < 12:
            want = 8  # count is cut off
        elif n < 20:
            want = 8  # count: one index entry does not fit
        elif n < cd + 8:
            want = 16  # blob 0 offset: the blob header is outside the SuperBlob
        else:
            want = cd + 4  # CodeDirectory length runs past the SuperBlob end
        with pytest.raises(ParseError) as info:
            parse_embedded_signature(bytes(data), path="sig", base=go.sig)
        assert info.value.path == "sig"
        assert info.value.offset == go.sig + want, f"cut at {n}: {info.value}"


# --- lying header fields and load commands ------------------------------------------------------


def test_ncmds_huge(go: Layout, tmp_path: Path) -> None:
    expect_error(tmp_path, patched(go.data, (16, "<I", 0xFFFFFF)), 16, "ncmds")


def test_sizeofcmds_past_eof(go: Layout, tmp_path: Path) -> None:
    expect_error(tmp_path, patched(go.data, (20, "<I", len(go.data))), 20, "sizeofcmds")


def test_sizeofcmds_inside_a_big_file_is_still_capped(go: Layout, tmp_path: Path) -> None:
    # A file big enough to hold what sizeofcmds claims: the claim is refused before the read,
    # never trusted with an allocation the size of the file.
    from bundlelint.parsers.macho import MAX_LOAD_COMMAND_BYTES

    claim = MAX_LOAD_COMMAND_BYTES + 8
    big = go.data + bytes(claim)
    expect_error(tmp_path, patched(big, (20, "<I", claim)), 20, "sizeofcmds", "limit")


def test_ncmds_zero_with_commands(go: Layout, tmp_path: Path) -> None:
    """ncmds = 0 but sizeofcmds still covers the commands: macholib's byte count check."""
    with pytest.raises(ParseError) as info:
        parse_macho_bytes(patched(go.data, (16, "<I", 0)), "x")
    assert info.value.offset is not None and info.value.offset < 32 + go.parsed.sizeofcmds


@pytest.mark.parametrize("which", [0, 1, "uuid", -1])
def test_cmdsize_zero(go: Layout, tmp_path: Path, which: int | str) -> None:
    cmds = go.parsed.load_commands
    lc = next(c for c in cmds if c.cmd == 0x1B) if which == "uuid" else cmds[int(which)]
    expect_error(tmp_path, patched(go.data, (lc.offset + 4, "<I", 0)), lc.offset + 4, "cmdsize")


@pytest.mark.parametrize("which", [0, 3, -1])
def test_cmdsize_past_sizeofcmds(go: Layout, tmp_path: Path, which: int) -> None:
    lc = go.parsed.load_commands[which]
    end = 32 + go.parsed.sizeofcmds
    data = patched(go.data, (lc.offset + 4, "<I", end - lc.offset + 8))
    expect_error(tmp_path, data, lc.offset + 4, "cmdsize")


def test_cmdsize_not_enough_for_command(go: Layout, tmp_path: Path) -> None:
    """LC_UUID squeezed to 16 bytes (it needs 24); later commands moved up to stay contiguous."""
    sl = go.parsed
    idx = next(i for i, c in enumerate(sl.load_commands) if c.cmd == 0x1B)
    lc = sl.load_commands[idx]
    data = bytearray(go.data)
    end = 32 + sl.sizeofcmds
    tail = bytes(data[lc.offset + 24 : end])
    data[lc.offset + 16 : end] = tail + bytes(8)
    struct.pack_into("<I", data, lc.offset + 4, 16)
    struct.pack_into("<I", data, 20, sl.sizeofcmds - 8)
    expect_error(tmp_path, bytes(data), lc.offset + 4, "cmdsize")


def test_segment_nsects_lie(go: Layout, tmp_path: Path) -> None:
    """A segment whose nsects disagrees with its cmdsize is blamed on that segment command."""
    text = next(c for c in go.parsed.load_commands if c.cmd == 0x19 and c.size > 72)
    data = patched(go.data, (text.offset + 64, "<I", 1))  # nsects
    expect_error(tmp_path, data, text.offset, "segment size")


def test_two_id_dylibs(tmp_path: Path, zig_dylib_arm64: Path) -> None:
    """Turning LC_LOAD_DYLIB into a second LC_ID_DYLIB: blamed on the second one."""
    data = zig_dylib_arm64.read_bytes()
    (sl,) = parse_macho_bytes(data).slices
    load = next(c for c in sl.load_commands if c.cmd == 0xC)
    expect_error(tmp_path, patched(data, (load.offset, "<I", 0xD)), load.offset, "id")


# --- fat headers --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fat(fat_go_hello: Path) -> bytes:
    return fat_go_hello.read_bytes()


@pytest.mark.parametrize("nfat", [0, 40, 0x7FFFFFFF, 0xFFFFFFFF])
def test_nfat_arch_absurd(fat: bytes, tmp_path: Path, nfat: int) -> None:
    expect_error(tmp_path, patched(fat, (4, ">I", nfat)), 4, "nfat_arch")


def test_fat_header_truncated(fat: bytes, tmp_path: Path) -> None:
    expect_error(tmp_path, fat[:6], 4)
    with pytest.raises(ParseError) as info:
        parse_macho_bytes(fat[:20], "x")  # one and a half fat_arch entries
    assert info.value.offset is not None and info.value.offset <= 28


def test_fat_slices_overlap(fat: bytes, tmp_path: Path) -> None:
    (first_offset,) = struct.unpack_from(">I", fat, 8 + 8)
    expect_error(tmp_path, patched(fat, (28 + 8, ">I", first_offset + 4096)), 28, "overlaps")


def test_fat_slice_past_eof(fat: bytes, tmp_path: Path) -> None:
    (size,) = struct.unpack_from(">I", fat, 28 + 12)
    expect_error(tmp_path, patched(fat, (28 + 12, ">I", size + 1)), 28, "outside the file")


def test_fat_slice_over_header(fat: bytes, tmp_path: Path) -> None:
    expect_error(tmp_path, patched(fat, (8 + 8, ">I", 16)), 8)


def test_fat_slice_not_macho(fat: bytes, tmp_path: Path) -> None:
    (offset,) = struct.unpack_from(">I", fat, 28 + 8)
    data = patched(fat, (offset, ">I", 0x7F454C46))
    expect_error(tmp_path, data, offset, "magic")


def test_fat_second_slice_bad_signature(fat: bytes, fat_go_hello: Path, tmp_path: Path) -> None:
    """Signature offsets inside a fat file are absolute: slice offset + dataoff + field."""
    parsed = parse_macho_bytes(fat, str(fat_go_hello))
    arm = next(s for s in parsed.slices if s.signature is not None)
    assert arm.signature is not None
    cd = arm.signature.code_directories[0].offset
    idx = parsed.slices.index(arm)
    data = patched(fat, (cd + CD_HASH_TYPE, "B", 99))
    expect_signature_error(tmp_path, data, cd + CD_HASH_TYPE, "hashType", slice_index=idx)


# --- the code signature -------------------------------------------------------------------------


def test_lc_code_signature_past_eof(go: Layout, tmp_path: Path) -> None:
    lc = next(c for c in go.parsed.load_commands if c.cmd == 0x1D)
    data = patched(go.data, (lc.offset + 8, "<I", len(go.data) - 8))  # dataoff: datasize lies
    expect_signature_error(tmp_path, data, lc.offset + 12, "LC_CODE_SIGNATURE")
    data = patched(go.data, (lc.offset + 8, "<I", len(go.data) + 8))  # dataoff past the end
    expect_signature_error(tmp_path, data, lc.offset + 8, "LC_CODE_SIGNATURE")
    data = patched(go.data, (lc.offset + 12, "<I", 0))  # datasize 0
    expect_signature_error(tmp_path, data, lc.offset + 12, "LC_CODE_SIGNATURE")


def test_superblob_bad_magic(go: Layout, tmp_path: Path) -> None:
    expect_signature_error(tmp_path, patched(go.data, (go.sig, ">I", 0xFADE0B02)), go.sig,
                           "magic")


def test_superblob_length_past_end(go: Layout, tmp_path: Path) -> None:
    data = patched(go.data, (go.sig + 4, ">I", 0x7FFFFFFF))
    expect_signature_error(tmp_path, data, go.sig + 4, "length")


@pytest.mark.parametrize("count", [65, 0x10000, 0xFFFFFFFF])
def test_superblob_count_huge(go: Layout, tmp_path: Path, count: int) -> None:
    data = patched(go.data, (go.sig + 8, ">I", count))
    expect_signature_error(tmp_path, data, go.sig + 8, "count")


@pytest.mark.parametrize("offset", [0, 8, 12, 16])
def test_blob_offset_into_index(go: Layout, tmp_path: Path, offset: int) -> None:
    data = patched(go.data, (go.sig + 16, ">I", offset))
    expect_signature_error(tmp_path, data, go.sig + 16, "offset")


def test_blob_offset_past_end(go: Layout, tmp_path: Path) -> None:
    data = patched(go.data, (go.sig + 16, ">I", go.sig_len - 4))
    expect_signature_error(tmp_path, data, go.sig + 16, "offset")


@pytest.mark.parametrize("length", [0, 7, 0x7FFFFFFF])
def test_blob_length_bad(go: Layout, tmp_path: Path, length: int) -> None:
    data = patched(go.data, (go.cd + CD_LENGTH, ">I", length))
    expect_signature_error(tmp_path, data, go.cd + CD_LENGTH, "length")


def test_duplicate_slot(go: Layout, tmp_path: Path) -> None:
    """Rebuild the SuperBlob with two index entries that both claim slot 0 (same CD)."""
    # Drop the last code slot so the bigger index still fits in LC_CODE_SIGNATURE's datasize.
    cd = bytearray(go.data[go.cd : go.cd + go.cd_len - 32])
    (n_code,) = struct.unpack_from(">I", cd, CD_N_CODE_SLOTS)
    struct.pack_into(">I", cd, CD_N_CODE_SLOTS, n_code - 1)
    struct.pack_into(">I", cd, CD_LENGTH, len(cd))
    blob = struct.pack(">III", 0xFADE0CC0, 28 + len(cd), 2) + struct.pack(">IIII", 0, 28, 0, 28)
    blob += cd
    (datasize,) = struct.unpack_from("<I", go.data, next(
        c.offset for c in go.parsed.load_commands if c.cmd == 0x1D) + 12)
    assert len(blob) <= datasize  # fits in the padding Go leaves after the SuperBlob
    data = bytearray(go.data)
    data[go.sig : go.sig + len(blob)] = blob
    expect_signature_error(tmp_path, bytes(data), go.sig + 20, "twice")


def test_code_directory_wrong_magic(go: Layout, tmp_path: Path) -> None:
    data = patched(go.data, (go.cd, ">I", 0xFADE7171))
    expect_signature_error(tmp_path, data, go.cd, "magic")


@pytest.mark.parametrize("version", [0, 0x20000, 0x2F000, 0xFFFFFFFF])
def test_code_directory_version(go: Layout, tmp_path: Path, version: int) -> None:
    data = patched(go.data, (go.cd + CD_VERSION, ">I", version))
    expect_signature_error(tmp_path, data, go.cd + CD_VERSION, "version")


@pytest.mark.parametrize("n", [2**31, 2**32 - 1, 10**6])
def test_code_directory_n_code_slots_huge(go: Layout, tmp_path: Path, n: int) -> None:
    data = patched(go.data, (go.cd + CD_N_CODE_SLOTS, ">I", n))
    expect_signature_error(tmp_path, data, go.cd + CD_N_CODE_SLOTS, "nCodeSlots")


@pytest.mark.parametrize("delta", [1, 32, 0x10000, None])
def test_code_directory_hash_offset_past_end(go: Layout, tmp_path: Path,
                                             delta: int | None) -> None:
    value = 0xFFFFFFFF if delta is None else go.cd_len + delta
    data = patched(go.data, (go.cd + CD_HASH_OFFSET, ">I", value))
    expect_signature_error(tmp_path, data, go.cd + CD_HASH_OFFSET, "hashOffset")


def test_code_directory_hashes_shifted_past_end(go: Layout, tmp_path: Path) -> None:
    """hashOffset inside the blob, but the last code slot would run past its end."""
    (hash_offset,) = struct.unpack_from(">I", go.data, go.cd + CD_HASH_OFFSET)
    data = patched(go.data, (go.cd + CD_HASH_OFFSET, ">I", hash_offset + 1))
    expect_signature_error(tmp_path, data, go.cd + CD_N_CODE_SLOTS, "nCodeSlots")


def test_code_directory_ident_no_nul(go: Layout, tmp_path: Path) -> None:
    """identOffset at the last 4 bytes of the CD, which hold no NUL."""
    at = go.cd_len - 4
    data = bytearray(patched(go.data, (go.cd + CD_IDENT_OFFSET, ">I", at)))
    data[go.cd + at : go.cd + go.cd_len] = b"abcd"
    expect_signature_error(tmp_path, bytes(data), go.cd + at, "NUL")


@pytest.mark.parametrize("value", [None, 0xFFFFFFFF])
def test_code_directory_ident_offset_past_end(go: Layout, tmp_path: Path,
                                              value: int | None) -> None:
    data = patched(go.data, (go.cd + CD_IDENT_OFFSET, ">I", value or go.cd_len))
    expect_signature_error(tmp_path, data, go.cd + CD_IDENT_OFFSET, "identOffset")


@pytest.mark.parametrize("hash_type", [0, 6, 99, 255])
def test_code_directory_unknown_hash_type(go: Layout, tmp_path: Path, hash_type: int) -> None:
    data = patched(go.data, (go.cd + CD_HASH_TYPE, "B", hash_type))
    expect_signature_error(tmp_path, data, go.cd + CD_HASH_TYPE, "hashType")


def test_code_directory_hash_size_mismatch(go: Layout, tmp_path: Path) -> None:
    data = patched(go.data, (go.cd + CD_HASH_SIZE, "B", 20))
    expect_signature_error(tmp_path, data, go.cd + CD_HASH_SIZE, "hashSize")


def test_code_directory_page_size_absurd(go: Layout, tmp_path: Path) -> None:
    data = patched(go.data, (go.cd + CD_PAGE_SIZE, "B", 64))
    expect_signature_error(tmp_path, data, go.cd + CD_PAGE_SIZE, "pageSize")


def test_signature_error_keeps_the_rest(go: Layout, tmp_path: Path) -> None:
    """A broken signature leaves the load-command facts intact."""
    data = patched(go.data, (go.cd + CD_HASH_TYPE, "B", 99))
    _, parsed = parse_file(tmp_path, data)
    sl = parsed.slices[0]
    assert sl.signature_error is not None
    assert sl.load_commands == go.parsed.load_commands
    assert sl.dylibs == go.parsed.dylibs and sl.uuid == go.parsed.uuid


# --- property: random damage never escapes as anything but ParseError ----------------------------

_INTERESTING_U32 = [0, 1, 7, 8, 12, 0x7F, 0x80, 0xFF, 0x1000, 0xFFFF, 0x7FFFFFFF, 0x80000000,
                    0xFFFFFFFE, 0xFFFFFFFF]


def _mutation(regions: list[tuple[int, int]]) -> st.SearchStrategy[Callable[[bytearray], None]]:
    """One random edit inside one of ``regions`` (start, end)."""

    def pos() -> st.SearchStrategy[int]:
        return st.sampled_from(regions).flatmap(lambda r: st.integers(r[0], r[1] - 1))

    def flip(at: int, mask: int) -> Callable[[bytearray], None]:
        def apply(buf: bytearray) -> None:
            if at < len(buf):
                buf[at] ^= mask
        return apply

    def put32(at: int, value: int, big: bool) -> Callable[[bytearray], None]:
        def apply(buf: bytearray) -> None:
            at4 = at & ~3
            if at4 + 4 <= len(buf):
                struct.pack_into(">I" if big else "<I", buf, at4, value)
        return apply

    def truncate(at: int) -> Callable[[bytearray], None]:
        def apply(buf: bytearray) -> None:
            del buf[at:]
        return apply

    def insert(at: int, blob: bytes) -> Callable[[bytearray], None]:
        def apply(buf: bytearray) -> None:
            buf[at:at] = blob
        return apply

    return st.one_of(
        st.builds(flip, pos(), st.integers(1, 255)),
        st.builds(put32, pos(), st.sampled_from(_INTERESTING_U32) | st.integers(0, 2**32 - 1),
                  st.booleans()),
        st.builds(truncate, pos()),
        st.builds(insert, pos(), st.binary(min_size=1, max_size=16)),
    )


@pytest.fixture(scope="module")
def fuzz_regions(go: Layout) -> list[tuple[int, int]]:
    """The first 64 KiB (header, load commands, start of __text) and the signature."""
    return [(0, 32 + go.parsed.sizeofcmds), (0, 1 << 16), (go.sig, go.sig + go.sig_len)]


def test_mutations_only_raise_parse_error(go: Layout, fuzz_regions: list[tuple[int, int]]) -> None:
    @settings(max_examples=200, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.lists(_mutation(fuzz_regions), min_size=1, max_size=6))
    def run(edits: list[Callable[[bytearray], None]]) -> None:
        buf = bytearray(go.data)
        for edit in edits:
            edit(buf)
        data = bytes(buf)
        try:
            parsed = parse_macho_bytes(data, "fuzzed")
        except ParseError as err:
            assert err.path == "fuzzed"
            assert err.offset is not None and 0 <= err.offset <= len(data), err
            return
        for sl in parsed.slices:
            err = sl.signature_error
            if err is not None:
                assert isinstance(err, ParseError) and err.path == "fuzzed"
                assert err.offset is not None and 0 <= err.offset <= len(data), err
                assert sl.signature is None

    run()
