"""The test-only builders in fixtures/ produce what they claim.

Every other test trusts these builders, so each claim is checked twice: through bundlelint's own
parser and through LIEF, an independent Mach-O implementation. Hashes are recomputed here with
hashlib, not taken from the signer. The toolchain tests also check the signer against real
linkers: re-signing Go's and zig's output must reproduce their bytes exactly.
"""

from __future__ import annotations

import hashlib
import os
import plistlib
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import lief
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # fixtures/ is not an installed package
    sys.path.insert(0, str(ROOT))

from bundlelint.parsers.codesign import CodeDirectory  # noqa: E402
from bundlelint.parsers.macho import MachOFile, Slice, parse_macho_bytes  # noqa: E402
from fixtures.build_demo import build_demo, find_go  # noqa: E402
from fixtures.macho_builder import (  # noqa: E402
    CPU_TYPE_ARM64,
    CPU_TYPE_X86_64,
    LIBSYSTEM,
    MH_BUNDLE,
    MH_DYLIB,
    MH_EXECUTE,
    DylibSpec,
    MachOSpec,
    build_fat,
    build_macho,
    split_fat,
)
from fixtures.signer import (  # noqa: E402
    EMPTY_REQUIREMENTS,
    SigningError,
    entitlements_blob,
    sign_macho,
)

HASHLIB_NAMES = {1: "sha1", 2: "sha256", 3: "sha256", 4: "sha384"}
HASH_SIZES = {1: 20, 2: 32, 3: 20, 4: 48}
LIEF_FILETYPES = {MH_EXECUTE: "EXECUTE", MH_DYLIB: "DYLIB", MH_BUNDLE: "BUNDLE"}
LIEF_CPUS = {"arm64": "ARM64", "x86_64": "X86_64"}


def parse(data: bytes) -> MachOFile:
    return parse_macho_bytes(data, "<fixture>")


def lief_thin(data: bytes) -> Any:
    """LIEF's view of a thin file (lief.parse accepts a list of ints for in-memory data)."""
    (binary,) = lief_slices(data)
    return binary


def lief_slices(data: bytes) -> list[Any]:
    """Every slice LIEF finds in ``data`` (typed ``Any``: LIEF's stubs make each optional)."""
    fat = lief.MachO.parse(list(data))
    assert fat is not None
    return [fat.at(i) for i in range(fat.size)]


def h(hash_type: int, data: bytes) -> bytes:
    return hashlib.new(HASHLIB_NAMES[hash_type], data).digest()[: HASH_SIZES[hash_type]]


def assert_code_hashes(cd: CodeDirectory, slice_data: bytes) -> None:
    """Recompute every code-slot hash over the slice's pages (short last page at real length)."""
    code = slice_data[: cd.code_limit]
    if cd.page_size_log2 == 0:
        pages = [code]
    else:
        size = 1 << cd.page_size_log2
        pages = [code[i : i + size] for i in range(0, len(code), size)]
    assert cd.n_code_slots == len(pages)
    for i, page in enumerate(pages):
        assert cd.code_slot_hash(i) == h(cd.hash_type, page), f"code slot {i}"


def slice_bytes(data: bytes, sl: Slice) -> bytes:
    return data[sl.offset : sl.offset + sl.size]


# --- macho_builder ---------------------------------------------------------------------------

SPECS = [
    MachOSpec(),
    MachOSpec(arch="x86_64", build_version=None, version_min=((10, 13, 0), (10, 15, 6))),
    MachOSpec(arch="arm64", filetype=MH_DYLIB, build_version=(1, (12, 3, 1), (15, 2, 0)),
              id_dylib="@rpath/libdemo.dylib", rpaths=("@loader_path/../Frameworks",)),
    MachOSpec(arch="x86_64", filetype=MH_BUNDLE, build_version=None, version_min=None,
              dylibs=(LIBSYSTEM, DylibSpec("@rpath/Foo.framework/Versions/A/Foo", "weak",
                                            (2, 1, 0), (2, 0, 0)),
                      DylibSpec("/usr/lib/libz.1.dylib", "reexport")),
              rpaths=("@executable_path/../Frameworks", "/opt/lib"), uuid=bytes(range(16))),
    MachOSpec(arch="arm64", build_version=(2, (17, 0, 0), (18, 0, 0)),
              build_tools=((3, (1115, 7, 3)),), code_signature_size=512, code_size=40000),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.arch}-{s.filetype}")
def test_build_macho_round_trips_through_bundlelint(spec: MachOSpec) -> None:
    data = build_macho(spec)
    macho = parse(data)
    assert not macho.is_fat
    (sl,) = macho.slices
    assert sl.arch == spec.arch
    assert sl.filetype == spec.filetype
    assert sl.size == len(data)
    expected_bv = []
    if spec.build_version is not None:
        platform, minos, sdk = spec.build_version
        expected_bv.append(("LC_BUILD_VERSION", platform, minos, sdk))
    if spec.version_min is not None:
        expected_bv.append(("LC_VERSION_MIN_MACOSX", 1, *spec.version_min))
    got_bv = [(bv.command, bv.platform, (bv.minos.major, bv.minos.minor, bv.minos.patch),
               (bv.sdk.major, bv.sdk.minor, bv.sdk.patch)) for bv in sl.build_versions]
    assert got_bv == expected_bv
    if spec.build_tools:
        tools = sl.build_versions[0].tools
        assert [(t, (v.major, v.minor, v.patch)) for t, v in tools] == list(spec.build_tools)
    assert [(d.kind, d.path) for d in sl.dylibs] == [(d.kind, d.path) for d in spec.dylibs]
    for ref, want in zip(sl.dylibs, spec.dylibs, strict=True):
        assert (ref.current_version.major, ref.current_version.minor,
                ref.current_version.patch) == want.current_version
        assert (ref.compatibility_version.major, ref.compatibility_version.minor,
                ref.compatibility_version.patch) == want.compatibility_version
    assert sl.rpaths == spec.rpaths
    assert sl.uuid is not None
    assert bytes.fromhex(sl.uuid.replace("-", "")) == spec.effective_uuid
    if spec.filetype == MH_DYLIB:
        assert sl.id_dylib is not None and sl.id_dylib.path == spec.effective_id_dylib
    else:
        assert sl.id_dylib is None
    names = [seg.name for seg in sl.segments]
    pagezero = ["__PAGEZERO"] if spec.filetype == MH_EXECUTE else []
    assert names == [*pagezero, "__TEXT", "__LINKEDIT"]
    text = sl.section("__TEXT", "__text")
    assert text is not None
    assert data[text.offset : text.offset + text.size] == spec.text_bytes
    linkedit = sl.segments[-1]
    assert linkedit.fileoff + linkedit.filesize == len(data)
    if spec.code_signature_size:
        assert sl.code_signature is not None
        assert sl.code_signature.datasize == spec.code_signature_size
        assert sl.code_signature.dataoff + spec.code_signature_size == len(data)
    else:
        assert sl.code_signature is None


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.arch}-{s.filetype}")
def test_build_macho_round_trips_through_lief(spec: MachOSpec) -> None:
    data = build_macho(spec)
    binary = lief_thin(data)
    assert binary.header.cpu_type.name == LIEF_CPUS[spec.arch]
    assert binary.header.file_type.name == LIEF_FILETYPES[spec.filetype]
    assert binary.header.nb_cmds == len(binary.commands)
    if spec.build_version is not None:
        platform, minos, sdk = spec.build_version
        bv = binary.build_version
        assert int(bv.platform) == platform
        assert tuple(bv.minos) == minos
        assert tuple(bv.sdk) == sdk
        assert [(int(t.tool), tuple(t.version)) for t in bv.tools] == list(spec.build_tools)
    else:
        assert not binary.has_build_version
    if spec.version_min is not None:
        assert tuple(binary.version_min.version) == spec.version_min[0]
        assert tuple(binary.version_min.sdk) == spec.version_min[1]
    else:
        assert not binary.has_version_min
    libraries = [lib for lib in binary.libraries
                 if lib.command.name != "ID_DYLIB"]
    assert [lib.name for lib in libraries] == [d.path for d in spec.dylibs]
    kinds = {"load": "LOAD_DYLIB", "weak": "LOAD_WEAK_DYLIB", "reexport": "REEXPORT_DYLIB"}
    assert [lib.command.name for lib in libraries] == [kinds[d.kind] for d in spec.dylibs]
    assert [tuple(lib.current_version) for lib in libraries] == [
        d.current_version for d in spec.dylibs]
    assert [r.path for r in binary.rpaths] == list(spec.rpaths)
    assert bytes(binary.uuid.uuid) == spec.effective_uuid
    assert binary.get_section("__text").content.tobytes() == spec.text_bytes
    if spec.filetype == MH_EXECUTE:
        assert binary.main_command.entrypoint == binary.get_section("__text").offset
    if spec.code_signature_size:
        assert binary.code_signature.data_size == spec.code_signature_size
    else:
        assert not binary.has_code_signature


def test_build_macho_rejects_bad_specs() -> None:
    with pytest.raises(ValueError):
        MachOSpec(arch="ppc")
    with pytest.raises(ValueError):
        MachOSpec(dylibs=(DylibSpec("/x", "sideways"),))
    with pytest.raises(ValueError):
        MachOSpec(uuid=b"short")


def test_build_macho_is_deterministic() -> None:
    assert build_macho(SPECS[3]) == build_macho(SPECS[3])
    assert build_macho(SPECS[0]) != build_macho(MachOSpec(rpaths=("@loader_path",)))


@pytest.mark.parametrize("magic64", [False, True])
def test_build_fat_aligns_slices(magic64: bool) -> None:
    arm = build_macho(MachOSpec(arch="arm64", code_size=5000))
    x86 = build_macho(MachOSpec(arch="x86_64", filetype=MH_DYLIB))
    data = build_fat([x86, arm], magic64=magic64)
    assert struct.unpack_from(">I", data)[0] == (0xCAFEBABF if magic64 else 0xCAFEBABE)
    entries = split_fat(data)
    assert [(e[0], e[4]) for e in entries] == [(CPU_TYPE_X86_64, 12), (CPU_TYPE_ARM64, 14)]
    for (_, _, offset, size, align), thin in zip(entries, [x86, arm], strict=True):
        assert offset % (1 << align) == 0
        assert data[offset : offset + size] == thin
    macho = parse(data)
    assert macho.is_fat
    assert macho.arch_names == ("x86_64", "arm64")
    assert [sl.offset for sl in macho.slices] == [e[2] for e in entries]
    assert [sl.filetype for sl in macho.slices] == [MH_DYLIB, MH_EXECUTE]
    if magic64:
        # LIEF 1.0 does not read FAT_MAGIC_64; check each slice on its own instead.
        for sl in macho.slices:
            assert lief_thin(slice_bytes(data, sl)).header.cpu_type.name in LIEF_CPUS.values()
    else:
        slices = lief_slices(data)
        assert [b.header.cpu_type.name for b in slices] == ["X86_64", "ARM64"]
        assert [b.fat_offset for b in slices] == [e[2] for e in entries]


def test_build_fat_honours_explicit_alignment() -> None:
    thin = build_macho(MachOSpec(arch="x86_64"))
    data = build_fat([thin, build_macho(MachOSpec())], aligns=[4, 16])
    entries = split_fat(data)
    assert [e[4] for e in entries] == [4, 16]
    assert entries[0][2] == 48 and entries[1][2] % (1 << 16) == 0


# --- signer ----------------------------------------------------------------------------------

ENTITLEMENTS = {"com.apple.security.cs.allow-jit": True,
                "com.apple.security.application-groups": ["ABCDE12345.group"]}

SIGN_CASES: list[tuple[str, MachOSpec, dict[str, Any]]] = [
    ("adhoc-default", MachOSpec(), {"identifier": "com.example.tool"}),
    ("dual-hash-team-runtime", MachOSpec(arch="x86_64", code_size=20000),
     {"identifier": "com.example.app", "flags": 0x10002, "team_id": "ABCDE12345",
      "entitlements": ENTITLEMENTS, "der_entitlements": b"\x70\x03\x02\x01\x01",
      "info_plist": b"<plist>info</plist>", "code_resources": b"<plist>res</plist>",
      "hash_types": (1, 2), "runtime_version": 0x000E0400}),
    ("no-cms-16k-pages", MachOSpec(filetype=MH_DYLIB, code_size=70000),
     {"identifier": "libdemo", "cms": None, "page_size_log2": 14}),
    ("cms-blob-sha384", MachOSpec(filetype=MH_BUNDLE, code_signature_size=9000),
     {"identifier": "com.example.plugin", "cms": b"\x30\x80fake-der", "hash_types": (4,)}),
    ("custom-requirements-single-page", MachOSpec(code_size=100),
     {"identifier": "x", "requirements": bytes.fromhex("fade0c01 00000014 00000001 00000003"
                                                       " 00000000"), "page_size_log2": 0}),
    ("linker-signed", MachOSpec(code_size=9000),
     {"identifier": "a.out", "linker_signed_layout": True}),
]


@pytest.mark.parametrize(("spec", "kwargs"), [c[1:] for c in SIGN_CASES],
                         ids=[c[0] for c in SIGN_CASES])
def test_signer_output_parses_as_claimed(spec: MachOSpec, kwargs: dict[str, Any]) -> None:
    unsigned = build_macho(spec)
    data = sign_macho(unsigned, **kwargs)
    (sl,) = parse(data).slices
    assert sl.signature_error is None
    sig = sl.signature
    assert sig is not None and sl.code_signature is not None
    assert sl.code_signature.dataoff + sl.code_signature.datasize == len(data)
    assert sl.code_signature.datasize == sig.length
    assert sl.code_signature.dataoff % 16 == 0
    linkedit = sl.segments[-1]
    assert linkedit.name == "__LINKEDIT" and linkedit.fileoff + linkedit.filesize == len(data)

    linker = kwargs.get("linker_signed_layout", False)
    hash_types = kwargs.get("hash_types", (2,))
    flags = kwargs.get("flags", 0x2) | (0x20000 if linker else 0)
    assert [cd.hash_type for cd in sig.code_directories] == list(hash_types)
    assert [cd.slot for cd in sig.code_directories] == [0, *range(0x1000, 0x1000 +
                                                                  len(hash_types) - 1)]
    text = next(seg for seg in sl.segments if seg.name == "__TEXT")
    for cd in sig.code_directories:
        assert cd.identifier == kwargs["identifier"]
        assert cd.flags == flags
        assert cd.team_id == kwargs.get("team_id")
        assert cd.page_size_log2 == kwargs.get("page_size_log2", 12)
        assert cd.version == (0x20500 if "runtime_version" in kwargs else 0x20400)
        assert cd.runtime == kwargs.get("runtime_version")
        assert cd.code_limit == sl.code_signature.dataoff
        assert (cd.exec_seg_base, cd.exec_seg_limit) == (text.fileoff, text.filesize)
        assert cd.exec_seg_flags == (1 if spec.filetype == MH_EXECUTE else 0)
        assert_code_hashes(cd, data)
        # Special slots, recomputed from the stored blobs and the raw inputs.
        if linker:
            assert cd.n_special_slots == 0
            continue
        requirements = kwargs.get("requirements", EMPTY_REQUIREMENTS)
        assert sig.requirements == requirements
        assert cd.special_slot_hash(2) == h(cd.hash_type, requirements)
        expected_n = 2
        if "entitlements" in kwargs:
            blob = entitlements_blob(kwargs["entitlements"])
            assert cd.special_slot_hash(5) == h(cd.hash_type, blob)
            expected_n = 5
        if "der_entitlements" in kwargs:
            assert sig.der_entitlements is not None
            assert sig.der_entitlements[8:] == kwargs["der_entitlements"]
            assert cd.special_slot_hash(7) == h(cd.hash_type, sig.der_entitlements)
            expected_n = 7
        assert cd.n_special_slots == expected_n
        for slot, key in ((1, "info_plist"), (3, "code_resources")):
            if key in kwargs:
                assert cd.special_slot_hash(slot) == h(cd.hash_type, kwargs[key])
            elif slot <= cd.n_special_slots:  # an unused slot below the highest is zero-filled
                assert cd.special_slot_hash(slot) == bytes(cd.hash_size)
    if linker:
        assert [b.slot for b in sig.blobs] == [0]
        assert sig.kind == "linker-signed"
    else:
        assert sig.cms == kwargs.get("cms", b"")
    if "entitlements" in kwargs:
        assert sig.entitlements is not None and sig.entitlements.values == kwargs["entitlements"]
        assert not sig.entitlements.is_binary_plist
        assert plistlib.loads(sig.entitlements.payload) == kwargs["entitlements"]
    else:
        assert sig.entitlements is None

    # LIEF agrees on where the signature is, and sees the same bytes there.
    binary = lief_thin(data)
    assert binary.has_code_signature
    assert binary.code_signature.data_offset == sl.code_signature.dataoff
    assert binary.code_signature.data_size == sl.code_signature.datasize
    assert binary.code_signature.content.tobytes() == data[sl.code_signature.dataoff :]
    assert binary.get_segment("__LINKEDIT").file_size == linkedit.filesize


def test_signer_signs_every_fat_slice_and_keeps_alignment() -> None:
    fat = build_fat([
        build_macho(MachOSpec(arch="x86_64", code_size=6000, code_signature_size=20000)),
        build_macho(MachOSpec(arch="arm64", code_size=30000)),
    ])
    data = sign_macho(fat, identifier="com.example.fat", hash_types=(1, 2))
    entries = split_fat(data)
    macho = parse(data)
    assert macho.arch_names == ("x86_64", "arm64")
    for (_, _, offset, size, align), sl in zip(entries, macho.slices, strict=True):
        assert offset % (1 << align) == 0 and sl.offset == offset and sl.size == size
        assert sl.signature is not None
        assert sl.code_signature is not None
        assert sl.code_signature.dataoff + sl.code_signature.datasize == size
        for cd in sl.signature.code_directories:
            assert cd.identifier == "com.example.fat"
            assert_code_hashes(cd, slice_bytes(data, sl))
    for binary, sl in zip(lief_slices(data), macho.slices, strict=True):
        assert sl.code_signature is not None
        assert binary.code_signature.data_offset == sl.code_signature.dataoff
        assert binary.code_signature.data_size == sl.code_signature.datasize


def test_resigning_replaces_the_signature_in_place() -> None:
    first = sign_macho(build_macho(MachOSpec(code_size=50000)), identifier="short",
                       entitlements=ENTITLEMENTS, hash_types=(1, 2))
    second = sign_macho(first, identifier="a.much.longer.identifier.than.before")
    (a,), (b,) = parse(first).slices, parse(second).slices
    assert a.code_signature is not None and b.code_signature is not None
    assert a.code_signature.dataoff == b.code_signature.dataoff
    assert b.code_signature.dataoff + b.code_signature.datasize == len(second)
    assert b.signature is not None and b.signature.entitlements is None
    (cd,) = b.signature.code_directories
    assert cd.identifier == "a.much.longer.identifier.than.before"
    assert_code_hashes(cd, second)
    assert sign_macho(second, identifier="x") == sign_macho(first, identifier="x")


def test_signer_adds_lc_code_signature_only_when_there_is_room() -> None:
    data = build_macho(MachOSpec(header_pad=0))
    with pytest.raises(SigningError, match="no room"):
        sign_macho(data, identifier="x")
    roomy = build_macho(MachOSpec(header_pad=16))
    (sl,) = parse(sign_macho(roomy, identifier="x")).slices
    assert sl.ncmds == parse(roomy).slices[0].ncmds + 1
    assert sl.signature is not None


def test_signer_refuses_data_after_the_signature() -> None:
    signed = sign_macho(build_macho(MachOSpec()), identifier="x")
    with pytest.raises(SigningError, match="follow"):
        sign_macho(signed + b"trailing", identifier="x")


@settings(max_examples=40, deadline=None)
@given(
    arch=st.sampled_from(["arm64", "x86_64"]),
    code_size=st.integers(min_value=0, max_value=40000),
    linkedit_size=st.integers(min_value=0, max_value=5000),
    page_size_log2=st.sampled_from([0, 9, 12, 14, 16]),
    hash_types=st.lists(st.sampled_from([1, 2, 3, 4]), min_size=1, max_size=3, unique=True),
    identifier=st.text(st.characters(codec="utf-8", exclude_characters="\0"), min_size=1,
                       max_size=40),
)
def test_signer_code_hashes_property(arch: str, code_size: int, linkedit_size: int,
                                     page_size_log2: int, hash_types: list[int],
                                     identifier: str) -> None:
    data = sign_macho(
        build_macho(MachOSpec(arch=arch, code_size=code_size, linkedit_size=linkedit_size)),
        identifier=identifier, hash_types=hash_types, page_size_log2=page_size_log2,
    )
    (sl,) = parse(data).slices
    assert sl.signature is not None
    assert [cd.hash_type for cd in sl.signature.code_directories] == hash_types
    for cd in sl.signature.code_directories:
        assert cd.identifier == identifier
        assert_code_hashes(cd, data)
    assert lief_thin(data).code_signature.data_size == len(data) - sl.signature.offset


# --- real toolchains -------------------------------------------------------------------------

HELLO_GO = 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello") }\n'


def _cache_dir(request: pytest.FixtureRequest, name: str, tmp_path: Path) -> Path:
    """A compiler cache that survives between runs (pytest's cache dir), else under tmp_path."""
    cache = getattr(request.config, "cache", None)  # absent under -p no:cacheprovider
    return Path(cache.mkdir(name)) if cache is not None else tmp_path / name


@pytest.mark.toolchain
def test_go_linker_signature_is_reproduced(tmp_path: Path,
                                           request: pytest.FixtureRequest) -> None:
    (tmp_path / "go.mod").write_text("module example.com/hello\n\ngo 1.22\n")
    (tmp_path / "main.go").write_text(HELLO_GO)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GO", "CGO_"))}
    env.update(GOOS="darwin", GOARCH="arm64", CGO_ENABLED="0", GOENV="off", GOFLAGS="",
               GOTOOLCHAIN="local", GOPROXY="off", GOCACHE=str(_cache_dir(request, "gocache",
                                                                            tmp_path)))
    out = tmp_path / "hello"
    subprocess.run([find_go(), "build", "-trimpath", "-buildvcs=false", "-o", str(out), "."],
                   cwd=tmp_path, env=env, check=True)
    original = out.read_bytes()
    (sl,) = parse(original).slices
    assert sl.signature is not None and sl.signature.kind == "linker-signed"
    assert [b.slot for b in sl.signature.blobs] == [0]  # Go's classic layout: the CD alone
    resigned = sign_macho(original, identifier="a.out", linker_signed_layout=True)
    assert resigned == original


@pytest.mark.toolchain
def test_zig_linker_signature_is_reproduced(tmp_path: Path,
                                            request: pytest.FixtureRequest) -> None:
    source = tmp_path / "hello.c"
    source.write_text('#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n')
    cache = _cache_dir(request, "zigcache", tmp_path)
    env = dict(os.environ, ZIG_GLOBAL_CACHE_DIR=str(cache), ZIG_LOCAL_CACHE_DIR=str(cache))
    out = tmp_path / "hello_zig"
    subprocess.run([sys.executable, "-m", "ziglang", "cc", "-target", "aarch64-macos",
                    str(source), "-o", str(out)], env=env, check=True)
    original = out.read_bytes()
    (sl,) = parse(original).slices
    assert sl.signature is not None and sl.signature.primary is not None
    assert sl.signature.primary.page_size_log2 == 14  # zig uses 16 KiB pages on arm64
    resigned = sign_macho(original, identifier=out.name, linker_signed_layout=True,
                          page_size_log2=14, datasize_align=8)
    assert resigned == original


@pytest.mark.toolchain
def test_demo_build_is_deterministic_and_has_the_documented_defects(
        tmp_path: Path, request: pytest.FixtureRequest) -> None:
    gocache = _cache_dir(request, "gocache", tmp_path)
    first = build_demo(tmp_path / "one", gocache=gocache)
    second = build_demo(tmp_path / "two", gocache=gocache)
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert [str(p) for p in files] == ["Contents/Info.plist", "Contents/MacOS/demo",
                                       "Contents/Resources/readme.txt"]
    for rel in files:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel
    assert_demo_bundle(first)


def assert_demo_bundle(app: Path) -> None:
    """The demo bundle's documented shape and defects (fixtures/README.md)."""
    info = plistlib.loads((app / "Contents" / "Info.plist").read_bytes())
    assert info["CFBundleExecutable"] == "demo"
    assert info["CFBundleIdentifier"] == "com.example.bundlelint-demo"
    assert info["CFBundlePackageType"] == "APPL"
    assert info["LSMinimumSystemVersion"] == "10.15"
    exe = app / "Contents" / "MacOS" / "demo"
    assert os.access(exe, os.X_OK)
    macho = parse(exe.read_bytes())
    assert macho.is_fat and macho.arch_names == ("arm64", "x86_64")
    arm, x86 = macho.slices
    assert arm.offset % (1 << 14) == 0 and x86.offset % (1 << 12) == 0
    assert arm.signature is not None and arm.signature.kind == "linker-signed"
    assert arm.signature.primary is not None and arm.signature.primary.identifier == "a.out"
    assert x86.code_signature is None
    for sl in macho.slices:
        bv = sl.macos_build_version
        assert bv is not None and bv.minos.major > 10  # LSMinimumSystemVersion 10.15 is too low


def test_committed_demo_bundle_matches_its_description() -> None:
    app = ROOT / "fixtures" / "demo" / "Demo.app"
    if not app.exists():
        pytest.fail("fixtures/demo/Demo.app is missing: run python fixtures/build_demo.py")
    assert_demo_bundle(app)
