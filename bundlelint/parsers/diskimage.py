"""Everything bundlelint knows about one disk image, gathered once and never raising: its
structure (parsers/udif.py), its partitions (parsers/partitions.py) and its own signature
(parsers/udifsig.py).

Why one never-raising summary: the input layer opens the image to walk the apps inside, and
the disk-image rules report on the container; both need the same facts, and a broken image
must still give a report (which part failed, at which offset) instead of a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import BinaryIO

from bundlelint.errors import ParseError
from bundlelint.parsers.partitions import Partition, PartitionTable, read_partitions
from bundlelint.parsers.udif import (
    FORMAT,
    KOLY_SIZE,
    DiskImage,
    Koly,
    detect_encrypted,
    open_disk,
    parse_koly,
    read_disk_image,
)
from bundlelint.parsers.udifsig import ImageSignature, read_image_signature


@dataclass(frozen=True)
class VolumeProblem:
    """A partition that holds no file system bundlelint reads, or whose file system failed to
    open (``offset`` on the disk when known)."""

    partition: Partition | None
    reason: str
    offset: int | None = None


@dataclass(frozen=True)
class DiskImageReport:
    """One disk image. ``path`` is the file on disk the report was read from (analysis opens
    it again to verify the signature's hashes); ``name`` is how findings name it."""

    name: str
    path: str
    file_size: int
    encrypted: str | None = None
    error: ParseError | None = None
    koly: Koly | None = None  # the trailer, when it parses (even if the rest does not)
    image: DiskImage | None = None
    partitions: PartitionTable | None = None
    signature: ImageSignature | None = None
    volume_problems: tuple[VolumeProblem, ...] = field(default_factory=tuple)
    #: (device, inode) of the file as it was read, so a later open for the signature's
    #: hashes reads the same file (``inputs.safeopen``); None when unknown.
    identity: tuple[int, int] | None = None

    @property
    def is_signed(self) -> bool:
        return self.signature is not None


def inspect_disk_image(fh: BinaryIO, *, name: str, path: str, file_size: int) -> DiskImageReport:
    """Read the structure, partitions and signature of the image open in ``fh``."""
    encrypted = detect_encrypted(fh, file_size)
    if encrypted is not None:
        err = ParseError(FORMAT, name, 0, f"the image is encrypted ({encrypted}): its contents "
                         "cannot be read without the passphrase")
        return DiskImageReport(name, path, file_size, encrypted=encrypted, error=err)
    try:
        image = read_disk_image(fh, name, file_size)
    except ParseError as err:
        # The signature covers the raw bytes: it is judged even when the rest is unreadable.
        koly = _koly_only(fh, file_size, name)
        return DiskImageReport(name, path, file_size, error=err, koly=koly,
                               signature=read_image_signature(fh, koly, name) if koly else None)
    signature = read_image_signature(fh, image.koly, name)
    disk = open_disk(image, fh)
    try:
        table = read_partitions(disk.pread, disk.size, name)
    except ParseError as err:
        return DiskImageReport(name, path, file_size, error=err, koly=image.koly, image=image,
                               signature=signature)
    problems = tuple(
        VolumeProblem(p, f"partition {p.index} ({p.type_name or 'no type'}) holds "
                      + ("the old HFS format, which bundlelint does not read"
                         if p.filesystem == "hfs" else "no HFS+ or APFS file system"),
                      p.start)
        for p in table.partitions
        if not p.readable and _could_hold_files(p))
    return DiskImageReport(name, path, file_size, koly=image.koly, image=image,
                           partitions=table, signature=signature, volume_problems=problems)


def _koly_only(fh: BinaryIO, file_size: int, name: str) -> Koly | None:
    if file_size < KOLY_SIZE:
        return None
    fh.seek(file_size - KOLY_SIZE)
    try:
        return parse_koly(fh.read(KOLY_SIZE), file_size - KOLY_SIZE, name)
    except ParseError:
        return None


def _could_hold_files(partition: Partition) -> bool:
    """Partitions hdiutil writes for the map itself, free space or boot code hold no files."""
    kind = partition.type_name
    return kind not in ("Apple_partition_map", "Apple_Free", "Apple_Driver_ATAPI",
                        "Apple_Driver43", "Apple_Patches", "Apple_Boot", "EFI system") \
        and partition.size > 0
