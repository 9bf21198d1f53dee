"""Differential tests: ``bundlelint.parsers.macho`` against LIEF on real binaries.

LIEF (a C++ Mach-O parser) is the independent oracle for everything in the load commands. It
does not decode code signatures (``binary.code_signature.content`` is the raw SuperBlob), so the
CodeDirectory fields are decoded here from those raw bytes with ``struct`` -- deliberately not
with our parser.

``assert_matches_lief(path)`` is the reusable entry point: other test modules (real third-party
binaries, new fixtures) can call it on any Mach-O file.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bundlelint.parsers.macho import (
    MachOFile,
    Slice,
    Version,
    arch_name,
    parse_macho,
    parse_macho_bytes,
    sniff_macho,
)

lief = pytest.importorskip("lief")
lief.logging.disable()

_T = lief.MachO.LoadCommand.TYPE

#: LIEF command type -> our DylibReference.kind.
_LIEF_DYLIB_KINDS = {
    _T.LOAD_DYLIB: "load",
    _T.LOAD_WEAK_DYLIB: "weak",
    _T.REEXPORT_DYLIB: "reexport",
    _T.LAZY_LOAD_DYLIB: "lazy",
    _T.LOAD_UPWARD_DYLIB: "upward",
}
_LIEF_VERSION_MIN = {
    _T.VERSION_MIN_MACOSX: ("LC_VERSION_MIN_MACOSX", 1),
    _T.VERSION_MIN_IPHONEOS: ("LC_VERSION_MIN_IPHONEOS", 2),
    _T.VERSION_MIN_TVOS: ("LC_VERSION_MIN_TVOS", 3),
    _T.VERSION_MIN_WATCHOS: ("LC_VERSION_MIN_WATCHOS", 4),
}


# --- an independent decoder for the raw signature bytes LIEF hands us ---------------------------


@dataclass(frozen=True)
class RawCD:
    slot: int
    offset: int  # inside the SuperBlob
    length: int
    version: int
    flags: int
    hash_offset: int
    identifier: str
    team_id: str | None
    n_special: int
    n_code: int
    code_limit: int
    hash_size: int
    hash_type: int
    page_size_log2: int


def decode_superblob(sig: bytes) -> tuple[list[tuple[int, int, int, int]], list[RawCD]]:
    """``[(slot, offset, magic, length)]`` and the CodeDirectories of an embedded signature."""
    magic, _length, count = struct.unpack_from(">III", sig, 0)
    assert magic == 0xFADE0CC0, f"SuperBlob magic {magic:#x}"
    index = []
    cds = []
    for i in range(count):
        slot, off = struct.unpack_from(">II", sig, 12 + 8 * i)
        bmagic, blen = struct.unpack_from(">II", sig, off)
        index.append((slot, off, bmagic, blen))
        if bmagic != 0xFADE0C02:
            continue
        cd = sig[off : off + blen]
        (version, flags, hash_offset, ident_offset, n_special, n_code, limit) = struct.unpack_from(
            ">7I", cd, 8
        )
        hash_size, hash_type, _platform, page = struct.unpack_from(">4B", cd, 36)
        team = None
        if version >= 0x20200:
            (team_offset,) = struct.unpack_from(">I", cd, 0x30)
            if team_offset:
                team = cd[team_offset : cd.index(b"\0", team_offset)].decode()
        if version >= 0x20300:
            (limit64,) = struct.unpack_from(">Q", cd, 0x38)
            limit = limit64 or limit
        ident = cd[ident_offset : cd.index(b"\0", ident_offset)].decode()
        cds.append(
            RawCD(slot, off, blen, version, flags, hash_offset, ident, team, n_special, n_code,
                  limit, hash_size, hash_type, page)
        )
    return index, cds


# --- the oracle's view and ours, normalised to plain data ---------------------------------------


def _v(parts: Any) -> Version:
    major, minor, patch = [*list(parts), 0, 0, 0][:3]
    return Version(int(major), int(minor), int(patch))


def _uuid(raw: Any) -> str:
    b = bytes(raw)
    return "-".join((b[:4].hex(), b[4:6].hex(), b[6:8].hex(), b[8:10].hex(), b[10:].hex())).upper()


def lief_slice_facts(binary: Any) -> dict[str, Any]:
    h = binary.header
    commands = list(binary.commands)
    facts: dict[str, Any] = {
        "offset": int(binary.fat_offset),
        "cputype": int(h.cpu_type),
        "cpusubtype": int(h.cpu_subtype),
        "filetype": int(h.file_type),
        "flags": int(h.flags),
        "ncmds": int(h.nb_cmds),
        "sizeofcmds": int(h.sizeof_cmds),
        "load_commands": [(int(c.command), int(c.command_offset), int(c.size)) for c in commands],
        "segments": [
            (
                s.name,
                int(s.virtual_address),
                int(s.virtual_size),
                int(s.file_offset),
                int(s.file_size),
                [(x.name, x.segment_name, int(x.offset), int(x.size)) for x in s.sections],
            )
            for s in binary.segments
        ],
    }
    build_versions = []
    dylibs = []
    id_dylib = None
    rpaths = []
    for c in commands:
        if c.command == _T.BUILD_VERSION:
            build_versions.append(("LC_BUILD_VERSION", int(c.platform), _v(c.minos), _v(c.sdk)))
        elif c.command in _LIEF_VERSION_MIN:
            name, platform = _LIEF_VERSION_MIN[c.command]
            build_versions.append((name, platform, _v(c.version), _v(c.sdk)))
        elif c.command in _LIEF_DYLIB_KINDS:
            dylibs.append((_LIEF_DYLIB_KINDS[c.command], c.name, _v(c.current_version),
                           _v(c.compatibility_version)))
        elif c.command == _T.ID_DYLIB:
            id_dylib = (c.name, _v(c.current_version), _v(c.compatibility_version))
        elif c.command == _T.RPATH:
            rpaths.append(c.path)
    facts["build_versions"] = build_versions
    facts["dylibs"] = dylibs
    facts["id_dylib"] = id_dylib
    facts["rpaths"] = rpaths
    facts["uuid"] = _uuid(binary.uuid.uuid) if binary.has_uuid else None
    if binary.has_code_signature:
        cs = binary.code_signature
        facts["code_signature"] = (int(cs.data_offset), int(cs.data_size))
        facts["signature_bytes"] = bytes(cs.content)
    else:
        facts["code_signature"] = None
        facts["signature_bytes"] = None
    return facts


def our_slice_facts(sl: Slice) -> dict[str, Any]:
    return {
        "offset": sl.offset,
        "cputype": sl.cputype & 0xFFFFFFFF,
        "cpusubtype": sl.cpusubtype,
        "filetype": sl.filetype,
        "flags": sl.flags,
        "ncmds": sl.ncmds,
        "sizeofcmds": sl.sizeofcmds,
        "load_commands": [(lc.cmd, lc.offset, lc.size) for lc in sl.load_commands],
        "segments": [
            (
                s.name,
                s.vmaddr,
                s.vmsize,
                s.fileoff,
                s.filesize,
                [(x.name, x.segment, x.offset, x.size) for x in s.sections],
            )
            for s in sl.segments
        ],
        "build_versions": [
            (bv.command, bv.platform, bv.minos, bv.sdk) for bv in sl.build_versions
        ],
        "dylibs": [
            (d.kind, d.path, d.current_version, d.compatibility_version) for d in sl.dylibs
        ],
        "id_dylib": None
        if sl.id_dylib is None
        else (sl.id_dylib.path, sl.id_dylib.current_version, sl.id_dylib.compatibility_version),
        "rpaths": list(sl.rpaths),
        "uuid": sl.uuid,
        "code_signature": None
        if sl.code_signature is None
        else (sl.code_signature.dataoff, sl.code_signature.datasize),
    }


def _check_signature(path: Path, sl: Slice, raw: bytes) -> None:
    """Our decoded signature against an independent struct decode of LIEF's raw bytes."""
    where = f"{path} [{sl.arch} @ {sl.offset:#x}]"
    assert sl.signature_error is None, f"{where}: {sl.signature_error}"
    sig = sl.signature
    assert sig is not None, where
    assert sl.code_signature is not None
    base = sl.offset + sl.code_signature.dataoff
    assert sig.offset == base, where
    index, raw_cds = decode_superblob(raw)
    assert [(b.slot, b.offset, b.magic, b.length) for b in sig.blobs] == [
        (slot, base + off, magic, length) for slot, off, magic, length in index
    ], where
    ours = {cd.slot: cd for cd in sig.code_directories}
    assert sorted(ours) == sorted(cd.slot for cd in raw_cds), where
    for rc in raw_cds:
        cd = ours[rc.slot]
        got = (cd.offset, len(cd.raw), cd.version, cd.flags, cd.hash_offset, cd.identifier,
               cd.team_id, cd.n_special_slots, cd.n_code_slots, cd.code_limit, cd.hash_size,
               cd.hash_type, cd.page_size_log2)
        want = (base + rc.offset, rc.length, rc.version, rc.flags, rc.hash_offset,
                rc.identifier, rc.team_id, rc.n_special, rc.n_code, rc.code_limit, rc.hash_size,
                rc.hash_type, rc.page_size_log2)
        assert got == want, f"{where} CD slot {rc.slot:#x}"
        assert cd.raw == raw[rc.offset : rc.offset + rc.length], where


def assert_matches_lief(path: str | os.PathLike[str]) -> MachOFile:
    """Parse ``path`` with bundlelint and with LIEF and assert they agree; return ours.

    Compared per slice: cputype/subtype, filetype, flags, ncmds, sizeofcmds, every load command
    (cmd, offset, cmdsize) in order, segments (name, vm range, file range) with their sections
    (name, segment, offset, size), build versions (command, platform, minos, sdk), dylibs (kind,
    path, versions), id dylib, rpaths, UUID, LC_CODE_SIGNATURE dataoff/datasize, and the
    SuperBlob index plus every CodeDirectory's fields (decoded here from LIEF's raw bytes).
    """
    path = Path(path)
    size = path.stat().st_size
    with path.open("rb") as fh:
        ours = parse_macho(fh, size, str(path))
    assert ours.path == str(path) and ours.size == size
    fat = lief.MachO.parse(str(path))
    assert fat is not None, f"LIEF cannot parse {path}"
    theirs = [fat.at(i) for i in range(fat.size)]
    assert len(ours.slices) == len(theirs), path
    head = path.read_bytes()[:4]
    assert ours.is_fat == (head in (b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf")), path
    assert sniff_macho(path.read_bytes()[:8]), path
    for sl, binary in zip(ours.slices, theirs, strict=True):
        want = lief_slice_facts(binary)
        got = our_slice_facts(sl)
        raw_sig = want.pop("signature_bytes")
        for key, value in want.items():
            assert got[key] == value, f"{path} [{sl.arch} @ {sl.offset:#x}] {key}"
        assert sl.arch == arch_name(sl.cputype, sl.cpusubtype)
        if raw_sig is not None:
            _check_signature(path, sl, raw_sig)
        else:
            assert sl.signature is None and sl.signature_error is None
    return ours


# --- the built binaries -------------------------------------------------------------------------


def test_built_binary_matches_lief(built_macho: Path) -> None:
    assert_matches_lief(built_macho)


def test_parse_bytes_equals_parse_file(built_macho: Path) -> None:
    data = built_macho.read_bytes()
    with built_macho.open("rb") as fh:
        from_file = parse_macho(fh, len(data), str(built_macho))
    assert parse_macho_bytes(data, str(built_macho)) == from_file


def test_go_hello_arm64_facts(go_hello_arm64: Path) -> None:
    m = assert_matches_lief(go_hello_arm64)
    assert not m.is_fat and m.arch_names == ("arm64",)
    sl = m.slices[0]
    assert sl.filetype_name == "EXECUTE" and sl.is_64bit
    assert [d.path for d in sl.dylibs] == ["/usr/lib/libSystem.B.dylib",
                                           "/usr/lib/libresolv.9.dylib"]
    assert all(d.kind == "load" for d in sl.dylibs)
    assert sl.id_dylib is None and sl.rpaths == ()
    bv = sl.macos_build_version
    assert bv is not None and bv.command == "LC_BUILD_VERSION" and bv.platform_name == "macOS"
    assert bv.minos >= Version(11)
    assert sl.code_signature is not None
    linkedit = next(s for s in sl.segments if s.name == "__LINKEDIT")
    assert sl.code_signature.dataoff + sl.code_signature.datasize <= (
        linkedit.fileoff + linkedit.filesize
    )
    assert sl.section("__TEXT", "__text") is not None
    assert sl.section("__DATA", "__go_buildinfo") is not None


def test_go_hello_amd64_is_unsigned(go_hello_amd64: Path) -> None:
    sl = assert_matches_lief(go_hello_amd64).slices[0]
    assert sl.arch == "x86_64" and sl.cpusubtype & 0xFFFFFF == 3
    assert sl.code_signature is None and sl.signature is None


def test_zig_dylib_and_rpath(zig_dylib_arm64: Path, zig_main_arm64: Path,
                             zig_dylib_x86_64: Path, zig_main_x86_64: Path) -> None:
    for dylib in (zig_dylib_arm64, zig_dylib_x86_64):
        sl = assert_matches_lief(dylib).slices[0]
        assert sl.filetype_name == "DYLIB"
        assert sl.id_dylib is not None and sl.id_dylib.path == "@rpath/libfoo.dylib"
        assert sl.id_dylib.kind == "id"
    for exe in (zig_main_arm64, zig_main_x86_64):
        sl = assert_matches_lief(exe).slices[0]
        assert sl.is_executable
        assert sl.rpaths == ("@executable_path/../Frameworks",)
        assert ("load", "@rpath/libfoo.dylib") in [(d.kind, d.path) for d in sl.dylibs]


def test_cgo_links_libresolv(go_cgo_arm64: Path) -> None:
    sl = assert_matches_lief(go_cgo_arm64).slices[0]
    assert "/usr/lib/libresolv.9.dylib" in [d.path for d in sl.dylibs]


def test_universal_slices_are_the_thin_files(fat_go_hello: Path, go_hello_arm64: Path,
                                             go_hello_amd64: Path) -> None:
    fat = assert_matches_lief(fat_go_hello)
    assert fat.is_fat and fat.fat_magic == 0xCAFEBABE
    assert fat.arch_names == ("arm64", "x86_64")
    data = fat_go_hello.read_bytes()
    for sl, thin_path in zip(fat.slices, (go_hello_arm64, go_hello_amd64), strict=True):
        thin = thin_path.read_bytes()
        assert data[sl.offset : sl.offset + sl.size] == thin
        (alone,) = parse_macho_bytes(thin, str(thin_path)).slices
        # Everything but the position in the file (and absolute signature offsets) is equal.
        assert our_slice_facts(alone) | {"offset": sl.offset} == our_slice_facts(sl)
        if sl.signature is not None:
            assert alone.signature is not None
            assert sl.signature.offset == alone.signature.offset + sl.offset
            assert [cd.raw for cd in sl.signature.code_directories] == [
                cd.raw for cd in alone.signature.code_directories
            ]


def test_fat64_header(go_hello_arm64: Path, go_hello_amd64: Path, tmp_path: Path) -> None:
    """FAT_MAGIC_64 (fat_arch_64 entries) parses to the same slices as FAT_MAGIC.

    LIEF 1.0 does not read FAT_MAGIC_64 at all, so the 32-bit twin is the one checked against it.
    """
    try:
        from fixtures.macho_builder import build_fat
    except ImportError:
        pytest.skip("fixtures.macho_builder is not available")
    parts = [go_hello_arm64.read_bytes(), go_hello_amd64.read_bytes()]
    p32 = tmp_path / "u32"
    p64 = tmp_path / "u64"
    p32.write_bytes(build_fat(parts))
    p64.write_bytes(build_fat(parts, magic64=True))
    m32 = assert_matches_lief(p32)
    m64 = parse_macho_bytes(p64.read_bytes(), "u64")
    assert m64.fat_magic == 0xCAFEBABF
    assert [our_slice_facts(s) for s in m32.slices] == [our_slice_facts(s) for s in m64.slices]


# --- real third-party binaries (tests/realbins) -------------------------------------------------


def _catalogue_names() -> list[str]:
    try:
        from realbins import catalogue
    except Exception:  # the downloader is someone else's and may be absent
        return []
    try:
        return sorted(catalogue())
    except Exception:
        return []


@pytest.mark.realbin
@pytest.mark.parametrize("name", _catalogue_names())
def test_realbin_matches_lief(name: str) -> None:
    from realbins import fetch

    assert_matches_lief(fetch(name))
