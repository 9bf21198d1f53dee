"""AppleDouble (``._name``) files: which extended attributes a zip entry carries.

``ditto -c -k`` stores a file's extended attributes as an AppleDouble file named ``._name``
beside it. The layout is copyfile's (copyfile.c, ``apple_double_header_t`` and
``attr_header_t``): a header (magic 0x00051607, version 0x00020000, 16 filler bytes, a u16
entry count), then entries of (id, offset, length); entry 9 holds 32 bytes of Finder info,
followed (after 2 pad bytes) by an ``ATTR`` header listing the other extended attributes;
entry 2 is the resource fork. All fields are big-endian.

Only what codesign cares about is extracted: whether a resource fork or non-zero Finder info
is present (directly or stored as the ``com.apple.ResourceFork`` / ``com.apple.FinderInfo``
attributes), and the names of the attributes. Every count and offset is checked against the
data; the attribute count is capped.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from bundlelint.parsers.reader import Reader

_U16 = struct.Struct(">H")

FORMAT = "AppleDouble"
MAGIC = 0x00051607
VERSION = 0x00020000
ATTR_MAGIC = 0x41545452  # 'ATTR'
HEADER_SIZE = 26  # magic, version, 16 filler bytes, u16 entry count
ENTRY_SIZE = 12
ENTRY_RESOURCE_FORK = 2
ENTRY_FINDER_INFO = 9
FINDER_INFO_SIZE = 32
#: The ATTR header follows the Finder info after 2 pad bytes (copyfile's ``pad[2]``).
ATTR_PAD = 2
#: magic, debug_tag, total_size, data_start, data_length, 3 reserved u32s, flags, count
ATTR_HEADER_SIZE = 36
ATTR_ENTRY_FIXED = 11  # offset u32, length u32, flags u16, namelen u8
#: Caps on untrusted counts: copyfile writes 2 entries; attribute headers fit in 64 KiB.
MAX_ENTRIES = 64
MAX_ATTRS = 4096

XATTR_RESOURCE_FORK = "com.apple.ResourceFork"
XATTR_FINDER_INFO = "com.apple.FinderInfo"


@dataclass(frozen=True)
class AppleDouble:
    """What one AppleDouble file stores, as codesign would see it once unpacked."""

    #: Entry 2 (the resource fork) is present with a non-zero length.
    resource_fork_length: int
    #: Entry 9's 32 bytes of Finder info are not all zero (copyfile restores only those).
    finder_info_nonzero: bool
    #: Names of the extended attributes in the ATTR header, in file order.
    xattr_names: tuple[str, ...]
    #: Non-empty ``com.apple.ResourceFork`` / ``com.apple.FinderInfo`` stored as attributes.
    xattr_detritus: tuple[str, ...] = ()

    @property
    def has_resource_fork(self) -> bool:
        return self.resource_fork_length > 0

    @property
    def detritus(self) -> tuple[str, ...]:
        """What codesign calls 'resource fork, Finder information, or similar detritus'
        (the attribute names it refuses), each named once."""
        found: list[str] = []
        if self.has_resource_fork:
            found.append(XATTR_RESOURCE_FORK)
        if self.finder_info_nonzero:
            found.append(XATTR_FINDER_INFO)
        found += [n for n in self.xattr_detritus if n not in found]
        return tuple(found)


def _attributes(r: Reader, at: int, end: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Names in the ATTR header at ``at`` (inside the Finder info entry, which ends at
    ``end``), and the detritus attributes with data. Attribute offsets are file offsets."""
    if end - at < ATTR_HEADER_SIZE or r.u32be(at, "ATTR magic") != ATTR_MAGIC:
        return (), ()  # Finder info only (no attribute header): nothing more to read
    count = r.unpack(_U16, at + 34, "attribute count")[0]
    if count > MAX_ATTRS:
        raise r.error(at + 34, f"{count} attributes, over the limit of {MAX_ATTRS}")
    names: list[str] = []
    detritus: list[str] = []
    pos = at + ATTR_HEADER_SIZE
    for i in range(count):
        offset = r.u32be(pos, f"attribute {i} offset")
        length = r.u32be(pos + 4, f"attribute {i} length")
        namelen = r.u8(pos + 10, f"attribute {i} name length")
        raw = r.bytes(pos + ATTR_ENTRY_FIXED, namelen, f"attribute {i} name")
        r.check(offset, length, f"attribute {i} data")
        name = raw.split(b"\0", 1)[0].decode("utf-8", "replace")
        names.append(name)
        if name in (XATTR_RESOURCE_FORK, XATTR_FINDER_INFO) and length > 0:
            data = r.bytes(offset, length, f"attribute {i} data")
            if name == XATTR_RESOURCE_FORK or any(data):
                detritus.append(name)
        pos += (ATTR_ENTRY_FIXED + namelen + 3) & ~3  # entries are 4-byte aligned
    return tuple(names), tuple(detritus)


def parse_appledouble(data: bytes, path: str = "") -> AppleDouble:
    """Parse an AppleDouble file; raises ``ParseError`` (with the offset) if it is malformed."""
    r = Reader(data, fmt=FORMAT, path=path)
    magic = r.u32be(0, "magic")
    if magic != MAGIC:
        raise r.error(0, f"magic {magic:#010x} is not AppleDouble's {MAGIC:#010x}")
    version = r.u32be(4, "version")
    if version != VERSION:
        raise r.error(4, f"version {version:#010x}, expected {VERSION:#010x}")
    count = r.unpack(_U16, 24, "entry count")[0]
    if count > MAX_ENTRIES:
        raise r.error(24, f"{count} entries, over the limit of {MAX_ENTRIES}")
    fork_length = 0
    finder_nonzero = False
    names: tuple[str, ...] = ()
    detritus: tuple[str, ...] = ()
    for i in range(count):
        at = HEADER_SIZE + i * ENTRY_SIZE
        kind = r.u32be(at, f"entry {i} id")
        offset = r.u32be(at + 4, f"entry {i} offset")
        length = r.u32be(at + 8, f"entry {i} length")
        if kind == ENTRY_RESOURCE_FORK:
            r.check(offset, length, "resource fork")
            fork_length = length
        elif kind == ENTRY_FINDER_INFO:
            r.check(offset, length, "Finder info")
            finfo = r.bytes(offset, min(length, FINDER_INFO_SIZE), "Finder info")
            finder_nonzero = any(finfo)
            if length > FINDER_INFO_SIZE + ATTR_PAD:
                names, detritus = _attributes(r, offset + FINDER_INFO_SIZE + ATTR_PAD,
                                              offset + length)
    return AppleDouble(fork_length, finder_nonzero, names, detritus)
