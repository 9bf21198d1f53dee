"""Metal library (``.metallib``) headers (docs/formats.md section 6).

The format is undocumented; what is known comes from reverse engineering. This parser is
strict about what is certain (the ``MTLB`` magic, the declared file size, which Metal.framework
compares with the real size, and that every section lies inside the file) and only reports the
fields of bytes 4-15 (platform, versions, library type, target OS), whose meaning the sources
disagree on (UNCONFIRMED): rules that use them say so.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from bundlelint.parsers.reader import Reader

FORMAT = "metallib"
MAGIC = b"MTLB"
HEADER_SIZE = 0x58
PLATFORM_MACOS_BIT = 0x8000
#: Target-OS byte: 0x80 | the Mach-O PLATFORM_* number (YuAo's table; bridgeOS "probably").
TARGET_OS_NAMES = {
    0x00: "unknown",
    0x81: "macOS",
    0x82: "iOS",
    0x83: "tvOS",
    0x84: "watchOS",
    0x85: "bridgeOS",
    0x86: "Mac Catalyst",
    0x87: "iOS Simulator",
    0x88: "tvOS Simulator",
    0x89: "watchOS Simulator",
}
LIBRARY_TYPES = {0: "executable", 1: "Core Image", 2: "dynamic", 3: "symbol companion"}
SECTIONS = ("function list", "public metadata", "private metadata", "bitcode")
_HEADER = struct.Struct("<4sHHHBBHHQ")


@dataclass(frozen=True)
class MetalSection:
    name: str
    offset: int
    size: int


@dataclass(frozen=True)
class MetalLibrary:
    """The header of a metallib file. ``problems`` lists structural defects found (declared
    size differs from the file's, a section out of bounds) rather than raising, so a rule can
    report all of them with their offsets."""

    path: str
    file_size: int
    platform: int
    version: tuple[int, int]
    library_type: int
    target_os: int
    target_os_version: tuple[int, int]
    declared_size: int
    sections: tuple[MetalSection, ...]
    problems: tuple[tuple[int, str], ...]  # (absolute offset, reason)

    @property
    def is_macos_platform(self) -> bool:
        """Bit 15 of the platform field: macOS (UNCONFIRMED semantics, docs/formats.md 6)."""
        return bool(self.platform & PLATFORM_MACOS_BIT)

    @property
    def target_os_name(self) -> str:
        return TARGET_OS_NAMES.get(self.target_os, f"target OS {self.target_os:#04x}")

    @property
    def targets_macos(self) -> bool | None:
        """Whether the target OS byte names macOS (or Mac Catalyst); None if unknown."""
        if self.target_os == 0 or self.target_os not in TARGET_OS_NAMES:
            return None
        return self.target_os in (0x81, 0x86)

    @property
    def library_type_name(self) -> str:
        return LIBRARY_TYPES.get(self.library_type, f"type {self.library_type}")


def parse_metallib(header: bytes, file_size: int, path: str = "") -> MetalLibrary:
    """Parse the first ``HEADER_SIZE`` bytes of a metallib whose real size is ``file_size``.

    Raises ``ParseError`` if the magic is wrong or the file is too short for a header.
    """
    r = Reader(header, fmt=FORMAT, path=path)
    if header[:4] != MAGIC:
        raise r.error(0, f"magic is {header[:4]!r}, not b'MTLB'")
    if file_size < HEADER_SIZE or len(header) < HEADER_SIZE:
        raise r.error(0, f"file is {file_size} bytes, shorter than the {HEADER_SIZE}-byte "
                      "metallib header")
    (_magic, platform, major, minor, lib_type, target_os, os_major, os_minor,
     declared) = r.unpack(_HEADER, 0, "metallib header")
    problems: list[tuple[int, str]] = []
    if declared != file_size:
        problems.append((16, f"declares a file size of {declared} bytes but the file has "
                             f"{file_size}"))
    sections: list[MetalSection] = []
    for i, name in enumerate(SECTIONS):
        at = 24 + 16 * i
        offset = r.u64le(at, f"{name} offset")
        size = r.u64le(at + 8, f"{name} size")
        sections.append(MetalSection(name, offset, size))
        if offset < HEADER_SIZE and size:
            problems.append((at, f"{name} offset {offset:#x} lies inside the header"))
        elif offset + size > file_size:
            problems.append((at, f"{name} at {offset:#x}+{size:#x} runs past the end of the "
                                 f"{file_size}-byte file"))
    return MetalLibrary(
        path=path,
        file_size=file_size,
        platform=platform,
        version=(major, minor),
        library_type=lib_type,
        target_os=target_os,
        target_os_version=(os_major, os_minor),
        declared_size=declared,
        sections=tuple(sections),
        problems=tuple(problems),
    )

