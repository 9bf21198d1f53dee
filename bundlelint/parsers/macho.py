"""Mach-O parsing: fat and thin files, per-slice headers and load commands.

``macholib`` decodes the load commands. We guard it: fat headers, slice bounds, ``ncmds`` and
every ``cmdsize`` are checked by our own bounds-checked reader first, and macholib only ever sees
the header and load-command bytes of one slice (it would otherwise read every section's data into
memory). Anything it still rejects becomes a ``ParseError`` with the offset of the failing command.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from typing import BinaryIO

from bundlelint.errors import ParseError
from bundlelint.parsers.codesign import EmbeddedSignature, read_embedded_signature
from bundlelint.parsers.reader import Reader

FAT_MAGIC = 0xCAFEBABE
FAT_MAGIC_64 = 0xCAFEBABF
MH_MAGIC = 0xFEEDFACE
MH_MAGIC_64 = 0xFEEDFACF
MH_CIGAM = 0xCEFAEDFE
MH_CIGAM_64 = 0xCFFAEDFE
THIN_MAGICS = {MH_MAGIC, MH_MAGIC_64, MH_CIGAM, MH_CIGAM_64}

#: A fat header claiming more slices than this is treated as not Mach-O (Java class files share
#: the 0xCAFEBABE magic, and their version field lands where ``nfat_arch`` is).
MAX_FAT_ARCHS = 32
#: Load commands are read into memory whole (macholib needs them). Real binaries have tens of
#: kilobytes of them (a few hundred dylibs and sections); beyond this the header is refused
#: rather than trusted with an allocation the size of the file.
MAX_LOAD_COMMAND_BYTES = 16 * 1024 * 1024

CPU_ARCH_ABI64 = 0x01000000
CPU_ARCH_ABI64_32 = 0x02000000
CPU_TYPE_X86 = 7
CPU_TYPE_ARM = 12
CPU_TYPE_POWERPC = 18
CPU_SUBTYPE_MASK = 0x00FFFFFF

FILETYPE_NAMES = {
    0x1: "OBJECT",
    0x2: "EXECUTE",
    0x3: "FVMLIB",
    0x4: "CORE",
    0x5: "PRELOAD",
    0x6: "DYLIB",
    0x7: "DYLINKER",
    0x8: "BUNDLE",
    0x9: "DYLIB_STUB",
    0xA: "DSYM",
    0xB: "KEXT_BUNDLE",
    0xC: "FILESET",
}
MH_EXECUTE = 0x2
MH_DYLIB = 0x6
MH_BUNDLE = 0x8

PLATFORM_NAMES = {
    1: "macOS",
    2: "iOS",
    3: "tvOS",
    4: "watchOS",
    5: "bridgeOS",
    6: "Mac Catalyst",
    7: "iOS Simulator",
    8: "tvOS Simulator",
    9: "watchOS Simulator",
    10: "DriverKit",
    11: "visionOS",
    12: "visionOS Simulator",
}
PLATFORM_MACOS = 1

LC_REQ_DYLD = 0x80000000
LC_SEGMENT = 0x1
LC_SEGMENT_64 = 0x19
LC_LOAD_DYLIB = 0xC
LC_ID_DYLIB = 0xD
LC_LOAD_WEAK_DYLIB = 0x18 | LC_REQ_DYLD
LC_REEXPORT_DYLIB = 0x1F | LC_REQ_DYLD
LC_LAZY_LOAD_DYLIB = 0x20
LC_LOAD_UPWARD_DYLIB = 0x23 | LC_REQ_DYLD
LC_RPATH = 0x1C | LC_REQ_DYLD
LC_UUID = 0x1B
LC_CODE_SIGNATURE = 0x1D
LC_VERSION_MIN_MACOSX = 0x24
LC_VERSION_MIN_IPHONEOS = 0x25
LC_VERSION_MIN_TVOS = 0x2F
LC_VERSION_MIN_WATCHOS = 0x30
LC_BUILD_VERSION = 0x32
LC_MAIN = 0x28 | LC_REQ_DYLD

DYLIB_COMMAND_KINDS = {
    LC_LOAD_DYLIB: "load",
    LC_LOAD_WEAK_DYLIB: "weak",
    LC_REEXPORT_DYLIB: "reexport",
    LC_LAZY_LOAD_DYLIB: "lazy",
    LC_LOAD_UPWARD_DYLIB: "upward",
}
VERSION_MIN_PLATFORMS = {
    LC_VERSION_MIN_MACOSX: 1,
    LC_VERSION_MIN_IPHONEOS: 2,
    LC_VERSION_MIN_TVOS: 3,
    LC_VERSION_MIN_WATCHOS: 4,
}

_FAT_ARCH = struct.Struct(">iiIII")
_FAT_ARCH_64 = struct.Struct(">iiQQII")


@dataclass(frozen=True, order=True)
class Version:
    """A Mach-O packed version ``xxxx.yy.zz`` (loader.h nibble encoding)."""

    major: int
    minor: int = 0
    patch: int = 0

    @classmethod
    def from_packed(cls, value: int) -> Version:
        return cls(value >> 16, (value >> 8) & 0xFF, value & 0xFF)

    @classmethod
    def parse(cls, text: str) -> Version | None:
        """Parse ``"10.13"`` or ``"11.0.1"``; ``None`` if it is not a dotted number."""
        parts = text.strip().split(".")
        if not 1 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
            return None
        numbers = [int(p) for p in parts] + [0, 0]
        return cls(numbers[0], numbers[1], numbers[2])

    @property
    def packed(self) -> int:
        return (self.major << 16) | (self.minor << 8) | self.patch

    def __str__(self) -> str:
        if self.packed == 0:
            return "n/a"
        text = f"{self.major}.{self.minor}"
        return f"{text}.{self.patch}" if self.patch else text


@dataclass(frozen=True)
class BuildVersion:
    """Platform, minimum OS and SDK from LC_BUILD_VERSION or an LC_VERSION_MIN_* command."""

    command: str  # "LC_BUILD_VERSION" or "LC_VERSION_MIN_MACOSX" (etc.)
    platform: int
    minos: Version
    sdk: Version
    tools: tuple[tuple[int, Version], ...] = ()

    @property
    def platform_name(self) -> str:
        return PLATFORM_NAMES.get(self.platform, f"platform {self.platform}")


@dataclass(frozen=True)
class DylibReference:
    """A dylib load command: which library, how it is loaded, and its versions."""

    kind: str  # load, weak, reexport, lazy, upward
    path: str
    current_version: Version
    compatibility_version: Version


@dataclass(frozen=True)
class Section:
    segment: str
    name: str
    addr: int
    size: int
    offset: int


@dataclass(frozen=True)
class Segment:
    name: str
    vmaddr: int
    vmsize: int
    fileoff: int
    filesize: int
    maxprot: int
    initprot: int
    sections: tuple[Section, ...]


@dataclass(frozen=True)
class LoadCommand:
    """One load command's identity and place (offset relative to the slice start)."""

    cmd: int
    size: int
    offset: int


@dataclass(frozen=True)
class CodeSignatureLocation:
    """LC_CODE_SIGNATURE: where the signature lies, relative to the slice start."""

    dataoff: int
    datasize: int


@dataclass(frozen=True)
class Slice:
    """One architecture of a Mach-O file (the whole file when it is thin)."""

    arch: str
    cputype: int
    cpusubtype: int
    offset: int  # of the slice in the file
    size: int
    is_64bit: bool
    filetype: int
    flags: int
    ncmds: int
    sizeofcmds: int
    load_commands: tuple[LoadCommand, ...]
    segments: tuple[Segment, ...]
    build_versions: tuple[BuildVersion, ...]
    dylibs: tuple[DylibReference, ...]
    id_dylib: DylibReference | None
    rpaths: tuple[str, ...]
    uuid: str | None
    code_signature: CodeSignatureLocation | None
    signature: EmbeddedSignature | None
    signature_error: ParseError | None

    @property
    def filetype_name(self) -> str:
        return FILETYPE_NAMES.get(self.filetype, f"{self.filetype:#x}")

    @property
    def is_executable(self) -> bool:
        return self.filetype == MH_EXECUTE

    @property
    def macos_build_version(self) -> BuildVersion | None:
        """The first macOS platform command, else the first platform command of any kind."""
        for bv in self.build_versions:
            if bv.platform == PLATFORM_MACOS:
                return bv
        return self.build_versions[0] if self.build_versions else None

    def section(self, segment: str, name: str) -> Section | None:
        for seg in self.segments:
            for sect in seg.sections:
                if sect.segment == segment and sect.name == name:
                    return sect
        return None


@dataclass(frozen=True)
class MachOFile:
    """A parsed Mach-O file: thin (one slice) or universal."""

    path: str
    size: int
    is_fat: bool
    fat_magic: int | None
    slices: tuple[Slice, ...]

    @property
    def arch_names(self) -> tuple[str, ...]:
        return tuple(s.arch for s in self.slices)


def arch_name(cputype: int, cpusubtype: int) -> str:
    """The name ``lipo`` and ``codesign`` use for a CPU type and subtype."""
    sub = cpusubtype & CPU_SUBTYPE_MASK
    if cputype == CPU_TYPE_X86 | CPU_ARCH_ABI64:
        return "x86_64h" if sub == 8 else "x86_64"
    if cputype == CPU_TYPE_X86:
        return "i386"
    if cputype == CPU_TYPE_ARM | CPU_ARCH_ABI64:
        return "arm64e" if sub == 2 else "arm64"
    if cputype == CPU_TYPE_ARM | CPU_ARCH_ABI64_32:
        return "arm64_32"
    if cputype == CPU_TYPE_ARM:
        return "arm"
    if cputype == CPU_TYPE_POWERPC:
        return "ppc"
    if cputype == CPU_TYPE_POWERPC | CPU_ARCH_ABI64:
        return "ppc64"
    return f"cpu{cputype:#x}/{sub:#x}"


_THIN_PREFIXES = frozenset(m.to_bytes(4, "big") for m in THIN_MAGICS)
_FAT_PREFIXES = frozenset(m.to_bytes(4, "big") for m in (FAT_MAGIC, FAT_MAGIC_64))


def sniff_macho(head: bytes) -> bool:
    """Whether the first bytes of a file look like Mach-O (thin or plausibly fat). Runs for
    every file of the input: two set lookups for the common case."""
    prefix = head[:4]
    if prefix in _THIN_PREFIXES:
        return True
    if prefix in _FAT_PREFIXES and len(head) >= 8:
        return 0 < int.from_bytes(head[4:8], "big") <= MAX_FAT_ARCHS
    return False


def parse_macho(fh: BinaryIO, size: int, path: str) -> MachOFile:
    """Parse the Mach-O file readable through ``fh`` (``size`` bytes long).

    Reads only headers, load commands and code-signature blobs: memory use does not depend on
    the size of the code.
    """
    head = _read_at(fh, 0, min(size, 8))
    if len(head) < 4:
        raise ParseError("Mach-O", path, 0, f"file is {size} bytes, too short for a Mach-O magic")
    magic = int.from_bytes(head[:4], "big")
    if magic in (FAT_MAGIC, FAT_MAGIC_64):
        return _parse_fat(fh, size, path, magic)
    if magic in THIN_MAGICS:
        sl = _parse_slice(fh, path, 0, size)
        return MachOFile(path=path, size=size, is_fat=False, fat_magic=None, slices=(sl,))
    raise ParseError("Mach-O", path, 0, f"unknown magic {magic:#010x}")


def parse_macho_bytes(data: bytes, path: str = "<bytes>") -> MachOFile:
    """Parse a Mach-O held in memory (tests, archive members)."""
    return parse_macho(io.BytesIO(data), len(data), path)


def _read_at(fh: BinaryIO, offset: int, size: int) -> bytes:
    fh.seek(offset)
    return fh.read(size)


def _parse_fat(fh: BinaryIO, size: int, path: str, magic: int) -> MachOFile:
    entry = _FAT_ARCH_64 if magic == FAT_MAGIC_64 else _FAT_ARCH
    header = Reader(_read_at(fh, 0, min(size, 8)), fmt="Mach-O fat header", path=path)
    nfat = header.u32be(4, "nfat_arch")
    if nfat == 0 or nfat > MAX_FAT_ARCHS:
        raise ParseError(
            "Mach-O fat header", path, 4, f"nfat_arch {nfat} is not between 1 and {MAX_FAT_ARCHS}"
        )
    table_size = 8 + nfat * entry.size
    table = Reader(_read_at(fh, 0, min(size, table_size)), fmt="Mach-O fat header", path=path)
    table.check(0, table_size, f"fat_arch table of {nfat} entries")
    ranges: list[tuple[int, int, int]] = []
    for i in range(nfat):
        at = 8 + i * entry.size
        fields = table.unpack(entry, at, f"fat_arch[{i}]")
        cputype, cpusubtype, offset, length = fields[0], fields[1], fields[2], fields[3]
        if offset < table_size or offset + length > size or length == 0:
            raise ParseError(
                "Mach-O fat header",
                path,
                at,
                f"slice {i} ({arch_name(cputype, cpusubtype)}) at {offset:#x}+{length:#x} "
                f"lies outside the file ({size:#x} bytes) or over the fat header",
            )
        for other_off, other_len, other_i in ranges:
            if offset < other_off + other_len and other_off < offset + length:
                raise ParseError(
                    "Mach-O fat header",
                    path,
                    at,
                    f"slice {i} at {offset:#x}+{length:#x} overlaps slice {other_i}",
                )
        ranges.append((offset, length, i))
    slices = tuple(_parse_slice(fh, path, off, length) for off, length, _ in ranges)
    return MachOFile(path=path, size=size, is_fat=True, fat_magic=magic, slices=slices)


def _parse_slice(fh: BinaryIO, path: str, base: int, size: int) -> Slice:
    head = Reader(_read_at(fh, base, min(size, 32)), fmt="Mach-O header", path=path, base=base)
    magic_be = head.u32be(0, "magic")
    if magic_be not in THIN_MAGICS:
        raise head.error(0, f"slice starts with {magic_be:#010x}, not a Mach-O magic")
    little = magic_be in (MH_CIGAM, MH_CIGAM_64)
    is64 = magic_be in (MH_MAGIC_64, MH_CIGAM_64)
    hsize = 32 if is64 else 28
    head.check(0, hsize, "mach_header")
    u32 = head.u32le if little else head.u32be
    cputype = u32(4, "cputype")
    cpusubtype = u32(8, "cpusubtype")
    filetype, ncmds, sizeofcmds, flags = (u32(o, n) for o, n in (
        (12, "filetype"), (16, "ncmds"), (20, "sizeofcmds"), (24, "flags")))
    if hsize + sizeofcmds > size:
        raise head.error(
            20, f"sizeofcmds {sizeofcmds:#x} runs past the end of the slice ({size:#x} bytes)"
        )
    if ncmds * 8 > sizeofcmds:
        raise head.error(16, f"ncmds {ncmds} cannot fit in sizeofcmds {sizeofcmds:#x}")
    if sizeofcmds > MAX_LOAD_COMMAND_BYTES:
        raise head.error(20, f"sizeofcmds {sizeofcmds:#x} is over the "
                         f"{MAX_LOAD_COMMAND_BYTES:#x}-byte limit for load commands")
    region = _read_at(fh, base, hsize + sizeofcmds)
    cmds = Reader(region, fmt="Mach-O load commands", path=path, base=base)
    load_commands = _walk_load_commands(cmds, hsize, ncmds, sizeofcmds, little)
    arch = arch_name(u32s(cputype), cpusubtype)
    decoded = _decode_with_macholib(region, size, path, base, load_commands)
    sig_loc = decoded.code_signature
    signature: EmbeddedSignature | None = None
    signature_error: ParseError | None = None
    if sig_loc is not None:
        sig_cmd = next(lc for lc in reversed(load_commands) if lc.cmd == LC_CODE_SIGNATURE)
        signature, signature_error = _read_signature(fh, path, base, size, sig_loc,
                                                     sig_cmd.offset)
    return Slice(
        arch=arch,
        cputype=u32s(cputype),
        cpusubtype=cpusubtype,
        offset=base,
        size=size,
        is_64bit=is64,
        filetype=filetype,
        flags=flags,
        ncmds=ncmds,
        sizeofcmds=sizeofcmds,
        load_commands=load_commands,
        segments=decoded.segments,
        build_versions=decoded.build_versions,
        dylibs=decoded.dylibs,
        id_dylib=decoded.id_dylib,
        rpaths=decoded.rpaths,
        uuid=decoded.uuid,
        code_signature=sig_loc,
        signature=signature,
        signature_error=signature_error,
    )


def u32s(value: int) -> int:
    """Reinterpret an unsigned 32-bit value as signed (cputype is an ``int32``)."""
    return value - (1 << 32) if value & 0x80000000 else value


def _walk_load_commands(
    cmds: Reader, hsize: int, ncmds: int, sizeofcmds: int, little: bool
) -> tuple[LoadCommand, ...]:
    """Check every ``cmd``/``cmdsize`` pair lies inside ``sizeofcmds`` before macholib runs."""
    u32 = cmds.u32le if little else cmds.u32be
    out: list[LoadCommand] = []
    at = hsize
    end = hsize + sizeofcmds
    for i in range(ncmds):
        if at + 8 > end:
            raise cmds.error(at, f"load command {i} of {ncmds} starts past sizeofcmds")
        cmd = u32(at, f"load command {i} cmd")
        cmdsize = u32(at + 4, f"load command {i} cmdsize")
        if cmdsize < 8 or at + cmdsize > end:
            raise cmds.error(
                at + 4,
                f"load command {i} ({cmd:#x}) has cmdsize {cmdsize:#x}, outside the "
                f"{sizeofcmds:#x} bytes of load commands",
            )
        out.append(LoadCommand(cmd=cmd, size=cmdsize, offset=at))
        at += cmdsize
    return tuple(out)


@dataclass(frozen=True)
class _Decoded:
    segments: tuple[Segment, ...]
    build_versions: tuple[BuildVersion, ...]
    dylibs: tuple[DylibReference, ...]
    id_dylib: DylibReference | None
    rpaths: tuple[str, ...]
    uuid: str | None
    code_signature: CodeSignatureLocation | None


def _decode_with_macholib(
    region: bytes, size: int, path: str, base: int, load_commands: tuple[LoadCommand, ...]
) -> _Decoded:
    """Let macholib decode the (already bounds-checked) load commands of one slice."""
    from macholib.mach_o import LC_REGISTRY
    from macholib.MachO import MachO, MachOHeader
    from macholib.ptypes import sizeof

    # macholib reads a known command's fixed struct even if cmdsize is smaller, runs into the
    # next command, and fails there; name the short command instead.
    for lc in load_commands:
        klass = LC_REGISTRY.get(lc.cmd)
        if klass is not None and lc.size < 8 + sizeof(klass):
            raise ParseError(
                "Mach-O load commands",
                path,
                base + lc.offset + 4,
                f"load command {lc.cmd:#x} has cmdsize {lc.size:#x}, smaller than its "
                f"{8 + sizeof(klass)}-byte fixed part",
            )
    stream = io.BytesIO(region)
    holder = MachO.__new__(MachO)
    holder.filename = path
    holder.graphident = path
    holder.loader_path = ""
    holder.fat = None
    holder.headers = []
    holder.allow_unknown_load_commands = True
    try:
        holder.load_header(stream, 0, size)
        header: MachOHeader = holder.headers[0]
    except Exception as exc:  # macholib raises ValueError, struct.error, IOError...
        at = stream.tell()
        # The last byte macholib consumed (at - 1) lies in the failing command; ``<=`` would
        # blame the next command when macholib stopped exactly at a command boundary.
        failing = next(
            (lc for lc in reversed(load_commands) if lc.offset < at), None
        )
        offset = base + (failing.offset if failing else at)
        raise ParseError("Mach-O load commands", path, offset, f"macholib: {exc}") from exc
    return _convert(header, region, path, base, load_commands)


def _lc_string(data: bytes, offset_in_cmd: int, fixed_size: int) -> str:
    """An lc_str: ``offset_in_cmd`` counts from the start of the command; ``data`` holds what
    follows the fixed part of the command (``fixed_size`` bytes)."""
    start = max(offset_in_cmd - fixed_size, 0)
    raw = data[start:]
    return raw.split(b"\0", 1)[0].decode("utf-8", errors="replace")


def _convert(
    header: object, region: bytes, path: str, base: int, load_commands: tuple[LoadCommand, ...]
) -> _Decoded:
    from macholib.ptypes import sizeof

    segments: list[Segment] = []
    build_versions: list[BuildVersion] = []
    dylibs: list[DylibReference] = []
    id_dylib: DylibReference | None = None
    rpaths: list[str] = []
    uuid: str | None = None
    code_signature: CodeSignatureLocation | None = None
    commands = header.commands  # type: ignore[attr-defined]
    for (lc, cmd, data), where in zip(commands, load_commands, strict=True):
        kind = lc.cmd
        fixed = 8 + (sizeof(cmd) if cmd is not lc else 0)
        if kind in (LC_SEGMENT, LC_SEGMENT_64):
            sections = tuple(
                Section(
                    segment=_cname(s.segname),
                    name=_cname(s.sectname),
                    addr=int(s.addr),
                    size=int(s.size),
                    offset=int(s.offset),
                )
                for s in data
            )
            segments.append(
                Segment(
                    name=_cname(cmd.segname),
                    vmaddr=int(cmd.vmaddr),
                    vmsize=int(cmd.vmsize),
                    fileoff=int(cmd.fileoff),
                    filesize=int(cmd.filesize),
                    maxprot=int(cmd.maxprot),
                    initprot=int(cmd.initprot),
                    sections=sections,
                )
            )
        elif kind == LC_BUILD_VERSION:
            tools = []
            ntools = int(cmd.ntools)
            if 24 + 8 * ntools > where.size:
                raise ParseError(
                    "Mach-O load commands",
                    path,
                    base + where.offset,
                    f"LC_BUILD_VERSION claims {ntools} tools but cmdsize is {where.size}",
                )
            for i in range(ntools):
                tool, version = struct.unpack_from(
                    "<II" if header.endian == "<" else ">II", data, 8 * i  # type: ignore[attr-defined]
                )
                tools.append((tool, Version.from_packed(version)))
            build_versions.append(
                BuildVersion(
                    command="LC_BUILD_VERSION",
                    platform=int(cmd.platform),
                    minos=Version.from_packed(int(cmd.minos)),
                    sdk=Version.from_packed(int(cmd.sdk)),
                    tools=tuple(tools),
                )
            )
        elif kind in VERSION_MIN_PLATFORMS:
            names = {
                LC_VERSION_MIN_MACOSX: "LC_VERSION_MIN_MACOSX",
                LC_VERSION_MIN_IPHONEOS: "LC_VERSION_MIN_IPHONEOS",
                LC_VERSION_MIN_TVOS: "LC_VERSION_MIN_TVOS",
                LC_VERSION_MIN_WATCHOS: "LC_VERSION_MIN_WATCHOS",
            }
            build_versions.append(
                BuildVersion(
                    command=names[kind],
                    platform=VERSION_MIN_PLATFORMS[kind],
                    minos=Version.from_packed(int(cmd.version)),
                    sdk=Version.from_packed(int(cmd.sdk)),
                )
            )
        elif kind in DYLIB_COMMAND_KINDS or kind == LC_ID_DYLIB:
            ref = DylibReference(
                kind=DYLIB_COMMAND_KINDS.get(kind, "id"),
                path=_lc_string(data, int(cmd.name), fixed),
                current_version=Version.from_packed(int(cmd.current_version._version)),
                compatibility_version=Version.from_packed(
                    int(cmd.compatibility_version._version)
                ),
            )
            if kind == LC_ID_DYLIB:
                id_dylib = ref
            else:
                dylibs.append(ref)
        elif kind == LC_RPATH:
            rpaths.append(_lc_string(data, int(cmd.path), fixed))
        elif kind == LC_UUID:
            raw = bytes(cmd.uuid)
            uuid = "-".join(
                (raw[:4].hex(), raw[4:6].hex(), raw[6:8].hex(), raw[8:10].hex(), raw[10:].hex())
            ).upper()
        elif kind == LC_CODE_SIGNATURE:
            code_signature = CodeSignatureLocation(
                dataoff=int(cmd.dataoff), datasize=int(cmd.datasize)
            )
    return _Decoded(
        segments=tuple(segments),
        build_versions=tuple(build_versions),
        dylibs=tuple(dylibs),
        id_dylib=id_dylib,
        rpaths=tuple(rpaths),
        uuid=uuid,
        code_signature=code_signature,
    )


def _cname(raw: object) -> str:
    data = raw if isinstance(raw, bytes) else str(raw).encode("latin-1", "replace")
    return data.split(b"\0", 1)[0].decode("utf-8", errors="replace")


def _read_signature(
    fh: BinaryIO, path: str, base: int, size: int, loc: CodeSignatureLocation, cmd_offset: int
) -> tuple[EmbeddedSignature | None, ParseError | None]:
    if loc.datasize == 0 or loc.dataoff + loc.datasize > size:
        # Point at the lying field of LC_CODE_SIGNATURE (dataoff at +8, datasize at +12), not
        # at base + dataoff, which may lie past the end of the file.
        field = 8 if loc.dataoff >= size else 12
        return None, ParseError(
            "code signature",
            path,
            base + cmd_offset + field,
            f"LC_CODE_SIGNATURE points at {loc.dataoff:#x}+{loc.datasize:#x}, outside the "
            f"{size:#x}-byte slice",
        )
    start = base + loc.dataoff

    def read(offset: int, size: int) -> bytes:
        # Only what the SuperBlob's header and index name, each piece bounds-checked by the
        # caller against the SuperBlob length (itself within datasize and the 40 MiB cap).
        return _read_at(fh, start + offset, max(min(size, loc.datasize - offset), 0))

    try:
        return read_embedded_signature(read, loc.datasize, path=path, base=start), None
    except ParseError as err:
        return None, err
