"""Partition schemes of the disk inside a disk image: GPT, the Apple Partition Map (with its
Driver Descriptor Map), or none; and which partitions hold a file system bundlelint reads.

Why both content and type: hdiutil names the partition type (GPT type GUID, APM type string)
but a hostile or hand-made image may lie, so a partition is taken as HFS+/HFSX only if its
volume header says so (``H+``/``HX`` at byte 1024) and as APFS only if its container
superblock does (``NXSB`` at byte 32). See docs/formats.md, "Partition maps".

Offsets in errors are offsets on the disk (the decompressed image), named as such.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from bundlelint.errors import ParseError

FORMAT = "partition map"
SECTOR = 512
#: GPT partition arrays hold 128 entries in practice (UEFI's minimum is 16 KiB of entries).
MAX_GPT_ENTRIES = 1024
#: An APM has one block per partition; hdiutil reserves 63 blocks for the map.
MAX_APM_ENTRIES = 256

GPT_TYPE_HFS = "48465300-0000-11aa-aa11-00306543ecac"
GPT_TYPE_APFS = "7c3457ef-0000-11aa-aa11-00306543ecac"
GPT_TYPE_NAMES = {
    GPT_TYPE_HFS: "Apple_HFS",
    GPT_TYPE_APFS: "Apple_APFS",
    "c12a7328-f81f-11d2-ba4b-00a0c93ec93b": "EFI system",
    "426f6f74-0000-11aa-aa11-00306543ecac": "Apple_Boot",
}

FS_HFSPLUS = "hfs+"
FS_HFSX = "hfsx"
FS_APFS = "apfs"
FS_HFS_STANDARD = "hfs"  # the pre-1998 format: recognised, not read
#: File systems bundlelint can open.
READABLE_FILESYSTEMS = frozenset({FS_HFSPLUS, FS_HFSX, FS_APFS})

_GPT_HEADER = struct.Struct("<8sIII4sQQQQ16sQIII")
_GPT_ENTRY = struct.Struct("<16s16sQQQ72s")
_DDM = struct.Struct(">2sHI")
_APM = struct.Struct(">2sHIII32s32s")

Read = Callable[[int, int], bytes]


@dataclass(frozen=True)
class Partition:
    """One partition: bytes [``start``, ``start + size``) of the disk."""

    index: int
    name: str
    type: str  # GPT type GUID (lower case) or APM type string
    start: int
    size: int
    filesystem: str | None  # what its content says: FS_* or None
    entry_offset: int  # disk offset of the map entry describing it

    @property
    def type_name(self) -> str:
        return GPT_TYPE_NAMES.get(self.type, self.type)

    @property
    def readable(self) -> bool:
        return self.filesystem in READABLE_FILESYSTEMS


@dataclass(frozen=True)
class PartitionTable:
    """The disk's scheme (``gpt``, ``apm`` or ``none``) and its partitions."""

    scheme: str
    partitions: tuple[Partition, ...]

    @property
    def volumes(self) -> tuple[Partition, ...]:
        """The partitions holding a file system bundlelint reads."""
        return tuple(p for p in self.partitions if p.readable)


def sniff_filesystem(read: Read, start: int, size: int) -> str | None:
    """``hfs+``, ``hfsx``, ``apfs``, ``hfs`` or ``None`` from the first sectors' magic."""
    if size >= 1024 + 2:
        sig = read(start + 1024, 2)
        if sig == b"H+":
            return FS_HFSPLUS
        if sig == b"HX":
            return FS_HFSX
        if sig == b"BD":
            return FS_HFS_STANDARD
    if size >= 36 and read(start + 32, 4) == b"NXSB":
        return FS_APFS
    return None


def read_partitions(read: Read, disk_size: int, path: str = "") -> PartitionTable:
    """Find the partition scheme of a disk of ``disk_size`` bytes read through
    ``read(offset, size)``, and its partitions."""
    if disk_size >= 2 * SECTOR and read(SECTOR, 8) == b"EFI PART":
        return PartitionTable("gpt", _gpt(read, disk_size, path))
    if disk_size >= 2 * SECTOR and read(0, 2) == b"ER" and read(SECTOR, 2) == b"PM":
        return PartitionTable("apm", _apm(read, disk_size, path))
    if disk_size >= 2 * SECTOR and read(SECTOR, 2) == b"PM":
        return PartitionTable("apm", _apm(read, disk_size, path))
    fs = sniff_filesystem(read, 0, disk_size)
    whole = Partition(index=0, name="", type="", start=0, size=disk_size, filesystem=fs,
                      entry_offset=0)
    return PartitionTable("none", (whole,))


def _error(offset: int, reason: str, path: str) -> ParseError:
    return ParseError(FORMAT, path, offset, f"{reason} (offset on the disk inside the image)")


def _gpt(read: Read, disk_size: int, path: str) -> tuple[Partition, ...]:
    raw = read(SECTOR, _GPT_HEADER.size)
    if len(raw) < _GPT_HEADER.size:
        raise _error(SECTOR, "GPT header is cut short", path)
    (_, _, header_size, _, _, _, _, _, _, _, entries_lba, count, entry_size,
     _) = _GPT_HEADER.unpack(raw)
    if header_size < 92 or header_size > SECTOR:
        raise _error(SECTOR + 12, f"GPT header size {header_size} is outside 92..512", path)
    if count > MAX_GPT_ENTRIES:
        raise _error(SECTOR + 80, f"GPT claims {count} partition entries, over "
                     f"{MAX_GPT_ENTRIES}", path)
    if entry_size < _GPT_ENTRY.size or entry_size > 4096 or entry_size % 8:
        raise _error(SECTOR + 84, f"GPT entry size {entry_size} is not a multiple of 8 in "
                     "128..4096", path)
    table = entries_lba * SECTOR
    if entries_lba > disk_size // SECTOR or count * entry_size > disk_size - table:
        raise _error(SECTOR + 72, f"GPT partition array at LBA {entries_lba} ({count} x "
                     f"{entry_size} bytes) runs past the disk end", path)
    data = read(table, count * entry_size)
    partitions = []
    for i in range(count):
        at = i * entry_size
        type_guid, _, first, last, _, name = _GPT_ENTRY.unpack_from(data, at)
        if type_guid == bytes(16):
            continue
        if last < first or last >= disk_size // SECTOR:
            raise _error(table + at + 32, f"GPT entry {i} spans LBA {first}..{last}, outside "
                         f"the disk's {disk_size // SECTOR} sectors", path)
        start, size = first * SECTOR, (last - first + 1) * SECTOR
        partitions.append(Partition(
            index=i, name=name.decode("utf-16-le", "replace").split("\0", 1)[0],
            type=str(uuid.UUID(bytes_le=type_guid)), start=start, size=size,
            filesystem=sniff_filesystem(read, start, size), entry_offset=table + at))
    return tuple(partitions)


def _apm(read: Read, disk_size: int, path: str) -> tuple[Partition, ...]:
    block = SECTOR
    head = read(0, _DDM.size)
    if head[:2] == b"ER":
        _, block_size, _ = _DDM.unpack(head)
        if block_size in (512, 1024, 2048, 4096):
            block = block_size
    first = read(SECTOR, _APM.size)
    if len(first) < _APM.size:
        raise _error(SECTOR, "partition map entry is cut short", path)
    map_blocks = _APM.unpack(first)[2]
    if map_blocks == 0 or map_blocks > MAX_APM_ENTRIES:
        raise _error(SECTOR + 4, f"partition map claims {map_blocks} entries, outside "
                     f"1..{MAX_APM_ENTRIES}", path)
    partitions = []
    for i in range(map_blocks):
        at = SECTOR * (1 + i)  # map entries are 512-byte records (hdiutil, Inside Macintosh)
        raw = read(at, _APM.size)
        if len(raw) < _APM.size:
            raise _error(at, f"partition map entry {i} is cut short", path)
        sig, _, _, start_block, block_count, name, kind = _APM.unpack(raw)
        if sig != b"PM":
            raise _error(at, f"partition map entry {i} has no PM signature", path)
        start, size = start_block * block, block_count * block
        if start > disk_size or size > disk_size - start:
            raise _error(at + 8, f"partition map entry {i} [{start:#x}, +{size:#x}) runs past "
                         f"the disk's {disk_size} bytes", path)
        type_text = kind.split(b"\0", 1)[0].decode("mac-roman")
        partitions.append(Partition(
            index=i, name=name.split(b"\0", 1)[0].decode("mac-roman"), type=type_text,
            start=start, size=size,
            filesystem=sniff_filesystem(read, start, size) if size else None,
            entry_offset=at))
    return tuple(partitions)
