"""Code-page and special-slot verification (analysis/codehash.py) on real and fixture binaries."""

from __future__ import annotations

import io
import shutil
import struct
from pathlib import Path

import pytest
from appbuilder import developer_id_like, universal
from realbins import catalogue, fetch

from bundlelint.analysis.codehash import (
    PageSpec,
    SlotStatus,
    verify_code,
    verify_pages,
)
from bundlelint.bundle import open_input
from bundlelint.parsers.macho import parse_macho_bytes
from fixtures.macho_builder import MachOSpec, build_macho
from fixtures.signer import code_slot_hashes, sign_macho


def _verify(path: Path):  # type: ignore[no-untyped-def]
    bundle = open_input(path)
    return verify_code(bundle, bundle.entries[0])


def _assert_clean(result) -> None:  # type: ignore[no-untyped-def]
    assert result.error is None
    assert result.slices
    for sl in result.slices:
        for cd in sl.code_directories:
            assert cd.problems == ()
            assert cd.pages.bad_pages == 0, (sl.arch, cd.slot_label, cd.pages)
            assert cd.pages.pages_checked == cd.n_code_slots == cd.expected_code_slots
            assert not any(s.status.is_problem for s in cd.specials), cd.specials


REAL = {
    # name: [(arch, [(slot, hash_type, page_size)])]
    "sentry-cli-darwin-universal": [("x86_64", [(0, 2, 4096)]), ("arm64", [(0, 2, 4096)])],
    "bun-1.3.12-darwin-arm64": [("arm64", [(0, 2, 16384)])],
    "node-10-darwin-x64": [("x86_64", [(0, 1, 4096), (0x1000, 2, 4096)])],
    "esbuild-darwin-arm64": [("arm64", [(0, 2, 4096)])],
    "lefthook-darwin-arm64": [("arm64", [(0, 2, 4096)])],
    "pyzmq-libzmq-adhoc": [("x86_64", [(0, 2, 4096)]), ("arm64", [(0, 2, 4096)])],
}


@pytest.mark.realbin
@pytest.mark.parametrize("name", sorted(REAL))
def test_real_binaries_verify_clean(name: str) -> None:
    result = _verify(fetch(name))
    _assert_clean(result)
    shape = [(sl.arch, [(cd.slot, cd.hash_type, cd.page_size) for cd in sl.code_directories])
             for sl in result.slices]
    assert shape == REAL[name]


@pytest.mark.realbin
def test_real_special_slots_and_cdhash_match_catalogue() -> None:
    result = _verify(fetch("sentry-cli-darwin-universal"))
    facts = catalogue()["sentry-cli-darwin-universal"]["facts"]["slices"]
    for sl, fact in zip(result.slices, facts, strict=True):
        [cd] = sl.code_directories
        assert cd.cdhash == fact["cd"][0]["cdhash"]
        status = {s.slot: s.status for s in cd.specials}
        # requirements, XML and DER entitlements are hashed and match; no Info.plist or seal
        assert status == {1: SlotStatus.NOT_HASHED, 2: SlotStatus.MATCH,
                          3: SlotStatus.NOT_HASHED, 5: SlotStatus.MATCH, 7: SlotStatus.MATCH}
    node = _verify(fetch("node-10-darwin-x64"))
    [sl] = node.slices
    assert [cd.special(5).status for cd in sl.code_directories] == [SlotStatus.MATCH] * 2  # type: ignore[union-attr]


def _flip(path: Path, offset: int) -> None:
    with open(path, "r+b") as fh:
        fh.seek(offset)
        byte = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([byte[0] ^ 0xFF]))


@pytest.mark.realbin
def test_flipped_byte_in_one_slice_of_real_universal(tmp_path: Path) -> None:
    copy = tmp_path / "sentry-cli"
    shutil.copyfile(fetch("sentry-cli-darwin-universal"), copy)
    arm_offset = 15024128  # the arm64 slice (FACTS.md)
    _flip(copy, arm_offset + 100 * 4096 + 17)
    result = _verify(copy)
    x86, arm = result.slices
    assert x86.arch == "x86_64" and x86.code_directories[0].pages.bad_pages == 0
    pages = arm.code_directories[0].pages
    assert (pages.bad_pages, pages.first_bad_page, pages.first_bad_offset) == (
        1, 100, arm_offset + 100 * 4096)


def test_flipped_byte_in_one_slice_of_fixture_universal(tmp_path: Path) -> None:
    fat = sign_macho(universal(build_macho(MachOSpec(arch="x86_64", code_size=20000)),
                               build_macho(MachOSpec(arch="arm64", code_size=20000))),
                     identifier="fat")
    macho = parse_macho_bytes(fat)
    x86 = macho.slices[0]
    data = bytearray(fat)
    data[x86.offset + 2 * 4096 + 5] ^= 1
    data[x86.offset + 3 * 4096 + 5] ^= 1
    result = _verify(_write(tmp_path, data))
    bad = {sl.arch: sl.code_directories[0].pages for sl in result.slices}
    assert bad["arm64"].bad_pages == 0
    assert (bad["x86_64"].bad_pages, bad["x86_64"].first_bad_page,
            bad["x86_64"].first_bad_offset) == (2, 2, x86.offset + 2 * 4096)


_COUNTER = iter(range(1_000_000))


def _write(directory: Path, data: bytes | bytearray) -> Path:
    path = directory / f"bin{next(_COUNTER)}"
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(("hash_types", "page_log2"), [
    ((2,), 12), ((2,), 14), ((1, 2), 12), ((3,), 12), ((4,), 12), ((2, 4), 14), ((2,), 0),
])
def test_every_hash_type_and_page_size(tmp_path: Path, hash_types: tuple[int, ...],
                                      page_log2: int) -> None:
    signed = sign_macho(build_macho(MachOSpec(code_size=40000)), identifier="x",
                        hash_types=hash_types, page_size_log2=page_log2)
    result = _verify(_write(tmp_path, signed))
    _assert_clean(result)
    [sl] = result.slices
    assert [cd.hash_type for cd in sl.code_directories] == list(hash_types)
    # a flipped byte in the second page is found by every CodeDirectory
    broken = bytearray(signed)
    broken[(1 << page_log2) + 9 if page_log2 else 4096] ^= 0x40
    [bad] = _verify(_write(tmp_path, broken)).slices
    for cd in bad.code_directories:
        assert cd.pages.bad_pages == 1
        assert cd.pages.first_bad_page == (1 if page_log2 else 0)


def test_short_last_page_is_hashed_at_its_length() -> None:
    code = bytes(range(256)) * 40 + b"tail"  # 10244 bytes: 2 full pages and 4 bytes
    hashes = b"".join(code_slot_hashes(code, 2, 12))
    spec = PageSpec(hash_type=2, page_size=4096, code_limit=len(code), hashes=hashes,
                    hash_size=32)
    [ok] = verify_pages(io.BytesIO(code + b"junk after the limit"), 0, len(code) + 20, [spec])
    assert (ok.pages_checked, ok.bad_pages) == (3, 0)
    [bad] = verify_pages(io.BytesIO(code[:-1] + b"X"), 0, len(code), [spec])
    assert (bad.bad_pages, bad.first_bad_page, bad.first_bad_offset) == (1, 2, 8192)


def test_small_chunks_give_the_same_answer() -> None:
    code = bytes(range(256)) * 200
    hashes = b"".join(code_slot_hashes(code, 2, 12))
    spec = PageSpec(2, 4096, len(code), hashes, 32)
    broken = bytearray(code)
    broken[4096 * 7 + 1] ^= 1
    [r] = verify_pages(io.BytesIO(bytes(broken)), 0, len(code), [spec], chunk=8192)
    assert (r.bad_pages, r.first_bad_page) == (1, 7)


def test_data_past_eof_counts_as_bad() -> None:
    code = b"\x01" * 9000
    hashes = b"".join(code_slot_hashes(code, 2, 12))
    spec = PageSpec(2, 4096, len(code), hashes, 32)
    [r] = verify_pages(io.BytesIO(code[:5000]), 0, 5000, [spec])
    assert (r.pages_checked, r.bad_pages, r.first_bad_page) == (3, 2, 1)


def _patch_cd(signed: bytes, field: int, value: int) -> bytes:
    cd = parse_macho_bytes(signed).slices[0].signature.primary  # type: ignore[union-attr]
    out = bytearray(signed)
    struct.pack_into(">I", out, cd.offset + field, value)  # type: ignore[union-attr]
    return bytes(out)


def test_hostile_code_limit_and_slot_count_are_reported_not_raised(tmp_path: Path) -> None:
    signed = developer_id_like()
    past_eof = _patch_cd(signed, 0x20, 0x7FFFFFF0)
    [sl] = _verify(_write(tmp_path, past_eof)).slices
    [cd] = sl.code_directories
    assert any("past the end" in p for p in cd.problems)
    assert any("nCodeSlots" in p for p in cd.problems)
    n_code = parse_macho_bytes(signed).slices[0].signature.primary.n_code_slots  # type: ignore[union-attr]
    fewer = _patch_cd(signed, 0x1C, n_code - 1)
    [sl] = _verify(_write(tmp_path, fewer)).slices
    [cd] = sl.code_directories
    assert cd.problems and "nCodeSlots" in cd.problems[0]
    assert cd.pages.bad_pages == 1 and cd.pages.first_bad_page == n_code - 1


def test_special_slot_statuses(tmp_path: Path) -> None:
    ents = {"com.apple.security.cs.allow-jit": True, "note": "aaaa"}
    signed = developer_id_like(entitlements=ents, der_entitlements=b"\x70\x03\x02\x01\x01",
                               info_plist=b"<plist/>")
    [sl] = _verify(_write(tmp_path, signed)).slices
    status = {s.slot: s.status for s in sl.code_directories[0].specials}
    # a standalone file without __info_plist: slot 1 is hashed but nothing is there
    assert status == {1: SlotStatus.MISSING, 2: SlotStatus.MATCH, 3: SlotStatus.NOT_HASHED,
                      5: SlotStatus.MATCH, 7: SlotStatus.MATCH}
    tampered = signed.replace(b"aaaa", b"aaab")
    [sl] = _verify(_write(tmp_path, tampered)).slices
    assert sl.code_directories[0].special(5).status is SlotStatus.DIFFERS  # type: ignore[union-attr]
