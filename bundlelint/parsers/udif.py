"""Apple disk images (UDIF, ``.dmg``): the ``koly`` trailer, the block maps, and a seekable
view of the disk the image holds, decompressed on demand.

Why on demand: a disk image can hold gigabytes; linting it must not write it anywhere nor hold
it in memory. The reader decompresses one chunk at a time (hdiutil's chunks are about 1 MiB),
keeps a few in a small cache, and reads raw and zero chunks straight from the file or as
zeros, so memory is bounded by the chunk size, not the image size.

Layout (docs/formats.md, "Disk images (UDIF)"): the last 512 bytes are the ``koly`` trailer
(big-endian). It points at the XML property list whose ``resource-fork`` dictionary holds the
``blkx`` array: one entry per partition (and per partition-map structure), each a ``mish``
table of chunks that map a run of 512-byte sectors to bytes in the data fork. It also points
at the image's own code signature (trailer + 0x128, Security ``DiskImageRep::setup``).

Every count and offset is untrusted: a truncated trailer, a chunk outside the data fork, two
chunks sharing bytes or sectors, a chunk that inflates past its claimed size, or a table that
would need more memory than a chunk gives a ``ParseError`` with the file offset.
"""

from __future__ import annotations

import io
import plistlib
import struct
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, BinaryIO

from bundlelint.errors import ParseError
from bundlelint.parsers import udifchunks
from bundlelint.parsers.randomaccess import RandomAccessReader
from bundlelint.parsers.reader import Reader
from bundlelint.parsers.udifchunks import (
    COMPRESSED_KINDS,
    KIND_COMMENT,
    KIND_IGNORE,
    KIND_RAW,
    KIND_TERMINATOR,
    KIND_ZERO,
    ChunkError,
)

FORMAT = "disk image"
SECTOR = 512
KOLY_SIZE = 512
KOLY_MAGIC = b"koly"
MISH_MAGIC = b"mish"
#: Security ``DiskImageRep::readHeader`` accepts only version 4.
UDIF_VERSION = 4
#: The XML property list is read whole (plistlib); real ones are a few KB per partition.
MAX_XML_BYTES = 32 * 1024 * 1024
#: A compressed chunk may claim at most this many decompressed bytes. hdiutil writes 1 MiB
#: chunks (the ``mish`` BuffersNeeded field says 2056 sectors); the cap leaves room for other
#: writers while keeping one chunk's memory bounded.
MAX_CHUNK_BYTES = 32 * 1024 * 1024
#: The decompressed-chunk cache holds at most this many bytes (and always the last chunk).
CACHE_BYTES = 16 * 1024 * 1024
#: The largest disk an image may describe: 2^54 sectors would overflow 64-bit byte offsets.
MAX_SECTORS = 1 << 40
_MISH_HEADER = 0xCC
_CHUNK_SIZE = 40
#: Encrypted images start with this magic (Security ``EncDiskImageRep::readHeader``: v2).
ENCRYPTED_V2_MAGIC = b"encrcdsa"
#: Version 1 encrypted images end with this magic (their header is a trailer).
ENCRYPTED_V1_MAGIC = b"cdsaencr"

_KOLY = struct.Struct(">4sIII QQQQQ II 16s II128s QQ 64s QQ 40s II128s IQ 12s")
_CHECKSUM = struct.Struct(">II128s")
_MISH = struct.Struct(">4sIQQQII24s")
_CHUNK = struct.Struct(">IIQQQQ")


@dataclass(frozen=True)
class Checksum:
    """A UDIF checksum field: type 2 is CRC-32 (``bits`` 32, value in the first 4 bytes)."""

    kind: int
    bits: int
    data: bytes

    @property
    def crc32(self) -> int | None:
        return int.from_bytes(self.data[:4], "big") if self.kind == 2 and self.bits == 32 else None


@dataclass(frozen=True)
class Koly:
    """The 512-byte trailer at the end of the file; ``offset`` is where it starts."""

    offset: int
    version: int
    header_size: int
    flags: int
    running_data_fork_offset: int
    data_fork_offset: int
    data_fork_length: int
    rsrc_fork_offset: int
    rsrc_fork_length: int
    segment_number: int
    segment_count: int
    segment_id: bytes
    data_checksum: Checksum
    xml_offset: int
    xml_length: int
    code_signature_offset: int
    code_signature_length: int
    master_checksum: Checksum
    image_variant: int
    sector_count: int
    raw: bytes  # the 512 bytes as stored

    @property
    def is_signed(self) -> bool:
        return self.code_signature_offset != 0 or self.code_signature_length != 0


@dataclass(frozen=True)
class Chunk:
    """One ``mish`` table entry: ``sector_count`` sectors from ``sector`` (absolute, on the
    disk) stored as ``kind`` at file bytes [``data_offset``, +``data_length``)."""

    kind: int
    comment: int
    sector: int
    sector_count: int
    data_offset: int
    data_length: int

    @property
    def kind_name(self) -> str:
        return udifchunks.kind_name(self.kind)

    @property
    def size(self) -> int:
        return self.sector_count * SECTOR


@dataclass(frozen=True)
class BlockMap:
    """One ``blkx`` resource: the chunks of one partition (or partition-map structure)."""

    index: int
    name: str
    resource_id: str
    attributes: str
    first_sector: int
    sector_count: int
    data_offset: int
    buffers_needed: int
    descriptor: int
    checksum: Checksum
    chunks: tuple[Chunk, ...]  # data-carrying and zero entries (no comments, no terminator)
    comments: tuple[str, ...]  # the comment entries' 4-character tags (``+beg``, ``+end``)

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(sorted({c.kind_name for c in self.chunks}))


@dataclass(frozen=True)
class Resource:
    """A resource other than ``blkx`` (``plst``, ``cSum``, ``nsiz``, the licence ``LPic``,
    ``TEXT``, ``STR#``, ``styl``...): listed, not interpreted."""

    kind: str
    resource_id: str
    name: str
    attributes: str
    size: int


@dataclass(frozen=True)
class DiskImage:
    """A parsed UDIF image. ``open_disk`` gives its disk's bytes."""

    path: str
    file_size: int
    koly: Koly
    block_maps: tuple[BlockMap, ...]
    resources: tuple[Resource, ...]

    @property
    def disk_size(self) -> int:
        return self.koly.sector_count * SECTOR

    @property
    def chunk_kinds(self) -> tuple[str, ...]:
        return tuple(sorted({k for bm in self.block_maps for k in bm.kinds}))


def detect_encrypted(fh: BinaryIO, file_size: int) -> str | None:
    """``"encrcdsa"`` (v2) or ``"cdsaencr"`` (v1) when ``fh`` is an encrypted disk image.

    Version 2 starts with ``encrcdsa`` (Security ``EncDiskImageRep::readHeader``); version 1
    ends with ``cdsaencr`` in its trailer. Neither can be read without the passphrase.
    """
    fh.seek(0)
    head = fh.read(8)
    if head in (ENCRYPTED_V2_MAGIC, ENCRYPTED_V1_MAGIC):
        return head.decode()
    if file_size >= 8:
        fh.seek(file_size - 8)
        if fh.read(8) == ENCRYPTED_V1_MAGIC:
            return ENCRYPTED_V1_MAGIC.decode()
    return None


def has_koly(fh: BinaryIO, file_size: int) -> bool:
    """Whether the file ends with a ``koly`` trailer (the sniff Security's
    ``DiskImageRep::candidate`` does)."""
    if file_size < KOLY_SIZE:
        return False
    fh.seek(file_size - KOLY_SIZE)
    return fh.read(4) == KOLY_MAGIC


def parse_koly(data: bytes, offset: int, path: str = "") -> Koly:
    """Decode a 512-byte trailer found at file ``offset``."""
    r = Reader(data, fmt=FORMAT, path=path, base=offset)
    r.check(0, KOLY_SIZE, "koly trailer")
    f = _KOLY.unpack_from(data, 0)
    if f[0] != KOLY_MAGIC:
        raise r.error(0, f"no koly trailer magic (found {f[0]!r})")
    if f[1] != UDIF_VERSION:
        raise r.error(4, f"koly version {f[1]} is not {UDIF_VERSION}, the only one macOS reads")
    if f[2] != KOLY_SIZE:
        raise r.error(8, f"koly header size {f[2]} is not {KOLY_SIZE}")
    return Koly(
        offset=offset, version=f[1], header_size=f[2], flags=f[3],
        running_data_fork_offset=f[4], data_fork_offset=f[5], data_fork_length=f[6],
        rsrc_fork_offset=f[7], rsrc_fork_length=f[8], segment_number=f[9], segment_count=f[10],
        segment_id=f[11], data_checksum=Checksum(f[12], f[13], f[14]), xml_offset=f[15],
        xml_length=f[16], code_signature_offset=f[18], code_signature_length=f[19],
        master_checksum=Checksum(f[21], f[22], f[23]), image_variant=f[24],
        sector_count=f[25], raw=bytes(data[:KOLY_SIZE]),
    )


def read_disk_image(fh: BinaryIO, path: str = "", file_size: int | None = None) -> DiskImage:
    """Parse the trailer, the XML plist and every block map of the image open in ``fh``."""
    if file_size is None:
        fh.seek(0, io.SEEK_END)
        file_size = fh.tell()
    encrypted = detect_encrypted(fh, file_size)
    if encrypted is not None:
        raise ParseError(FORMAT, path, 0, f"the image is encrypted ({encrypted}): its contents "
                         "cannot be read without the passphrase")
    if file_size < KOLY_SIZE:
        raise ParseError(FORMAT, path, 0, f"{file_size} bytes is too short for the "
                         f"{KOLY_SIZE}-byte koly trailer")
    koly_at = file_size - KOLY_SIZE
    fh.seek(koly_at)
    koly = parse_koly(fh.read(KOLY_SIZE), koly_at, path)
    _check_layout(koly, path)
    if koly.xml_length == 0:
        raise ParseError(FORMAT, path, koly_at + 0xE0, "the image has no XML property list "
                         "(an old resource-fork-only image): not supported")
    fh.seek(koly.xml_offset)
    xml = fh.read(koly.xml_length)
    if len(xml) != koly.xml_length:
        raise ParseError(FORMAT, path, koly.xml_offset, "XML property list is cut short")
    block_maps, resources = _parse_resources(xml, koly, path)
    _check_block_maps(block_maps, koly, path)
    return DiskImage(path=path, file_size=file_size, koly=koly, block_maps=block_maps,
                     resources=resources)


def _check_layout(koly: Koly, path: str) -> None:
    """Every region the trailer names lies before the trailer; the disk is not absurd."""
    regions = (
        ("data fork", 0x18, koly.data_fork_offset, koly.data_fork_length),
        ("resource fork", 0x28, koly.rsrc_fork_offset, koly.rsrc_fork_length),
        ("XML property list", 0xD8, koly.xml_offset, koly.xml_length),
        ("code signature", 0x128, koly.code_signature_offset, koly.code_signature_length),
    )
    for what, field, start, length in regions:
        if start > koly.offset or length > koly.offset - start:
            raise ParseError(FORMAT, path, koly.offset + field,
                             f"the {what} [{start:#x}, +{length:#x}) runs past the koly trailer "
                             f"at {koly.offset:#x}")
    if koly.xml_length > MAX_XML_BYTES:
        raise ParseError(FORMAT, path, koly.offset + 0xE0,
                         f"XML property list of {koly.xml_length} bytes is over the "
                         f"{MAX_XML_BYTES}-byte limit")
    if koly.sector_count > MAX_SECTORS:
        raise ParseError(FORMAT, path, koly.offset + 0x1EC,
                         f"sector count {koly.sector_count} is over {MAX_SECTORS}")


def _text(entry: dict[str, Any], key: str) -> str:
    value = entry.get(key, "")
    return value if isinstance(value, str) else str(value)


def _parse_resources(xml: bytes, koly: Koly,
                     path: str) -> tuple[tuple[BlockMap, ...], tuple[Resource, ...]]:
    at = koly.xml_offset
    try:
        plist = plistlib.loads(xml, fmt=plistlib.FMT_XML)
    except Exception as exc:  # plistlib raises several types for malformed XML
        raise ParseError(FORMAT, path, at, f"XML property list does not parse: "
                         f"{type(exc).__name__}: {exc}") from None
    fork = plist.get("resource-fork") if isinstance(plist, dict) else None
    if not isinstance(fork, dict):
        raise ParseError(FORMAT, path, at, "XML property list has no resource-fork dictionary")
    blkx = fork.get("blkx")
    if not isinstance(blkx, list):
        raise ParseError(FORMAT, path, at, "resource-fork has no blkx array")
    resources = []
    for kind, entries in fork.items():
        if kind == "blkx" or not isinstance(entries, list):
            continue
        for entry in entries:
            if isinstance(entry, dict):
                data = entry.get("Data", b"")
                resources.append(Resource(
                    kind=str(kind), resource_id=_text(entry, "ID"), name=_text(entry, "Name"),
                    attributes=_text(entry, "Attributes"),
                    size=len(data) if isinstance(data, bytes) else 0))
    maps = []
    for index, entry in enumerate(blkx):
        if not isinstance(entry, dict) or not isinstance(entry.get("Data"), bytes):
            raise ParseError(FORMAT, path, at, f"blkx entry {index} has no Data")
        name = _text(entry, "CFName") or _text(entry, "Name")
        maps.append(parse_mish(entry["Data"], index=index, name=name,
                               resource_id=_text(entry, "ID"),
                               attributes=_text(entry, "Attributes"), koly=koly, path=path))
    return tuple(maps), tuple(resources)


def parse_mish(data: bytes, *, index: int, name: str, resource_id: str, attributes: str,
               koly: Koly, path: str) -> BlockMap:
    """Decode one ``mish`` block table. Errors name the XML plist's offset (the table sits
    base64-encoded inside it) and the entry and chunk numbers."""
    where = f"blkx entry {index} ({name!r})"

    def error(reason: str, offset: int | None = None) -> ParseError:
        return ParseError(FORMAT, path, koly.xml_offset if offset is None else offset,
                          f"{where}: {reason}")

    if len(data) < _MISH_HEADER:
        raise error(f"mish table of {len(data)} bytes is shorter than its {_MISH_HEADER}-byte "
                    "header")
    magic, version, first, count, data_offset, buffers, descriptor, _ = _MISH.unpack_from(data)
    if magic != MISH_MAGIC:
        raise error(f"no mish magic (found {magic!r})")
    if version != 1:
        raise error(f"mish version {version} is not 1")
    checksum = Checksum(*_CHECKSUM.unpack_from(data, 0x40))
    n = int.from_bytes(data[0xC8:0xCC], "big")
    if _MISH_HEADER + n * _CHUNK_SIZE != len(data):
        raise error(f"mish table claims {n} chunks but holds {len(data) - _MISH_HEADER} bytes "
                    f"of entries ({_CHUNK_SIZE} each)")
    if first > MAX_SECTORS or count > MAX_SECTORS:
        raise error(f"sector range {first}+{count} is over {MAX_SECTORS} sectors")
    chunks: list[Chunk] = []
    comments: list[str] = []
    fork_end = koly.data_fork_offset + koly.data_fork_length
    next_sector = 0
    ended = False
    for i in range(n):
        kind, comment, sector, sectors, offset, length = _CHUNK.unpack_from(
            data, _MISH_HEADER + i * _CHUNK_SIZE)
        if ended:
            raise error(f"chunk {i} follows the terminator entry")
        if kind == KIND_TERMINATOR:
            ended = True
            continue
        if kind == KIND_COMMENT:
            comments.append(comment.to_bytes(4, "big").decode("latin-1"))
            continue
        if kind not in COMPRESSED_KINDS and kind not in (KIND_RAW, KIND_ZERO, KIND_IGNORE):
            raise error(f"chunk {i} has unknown kind {kind:#010x}")
        if sector != next_sector:
            what = "overlaps the one before" if sector < next_sector else "leaves a gap after"
            raise error(f"chunk {i} starts at sector {sector}: it {what} (expected "
                        f"{next_sector})")
        if sectors > count - sector:
            raise error(f"chunk {i} ({sector}+{sectors} sectors) runs past the table's "
                        f"{count} sectors")
        next_sector = sector + sectors
        start = data_offset + offset
        if kind in COMPRESSED_KINDS or kind == KIND_RAW:
            if start < koly.data_fork_offset or start > fork_end or length > fork_end - start:
                raise error(f"chunk {i} data [{start:#x}, +{length:#x}) lies outside the data "
                            f"fork [{koly.data_fork_offset:#x}, {fork_end:#x})",
                            min(start, koly.offset))
            if kind == KIND_RAW and length != sectors * SECTOR:
                raise error(f"raw chunk {i} stores {length} bytes for {sectors} sectors",
                            start)
            if kind in COMPRESSED_KINDS and sectors * SECTOR > MAX_CHUNK_BYTES:
                raise error(f"chunk {i} claims {sectors * SECTOR} decompressed bytes, over the "
                            f"{MAX_CHUNK_BYTES}-byte chunk limit", start)
            if kind in COMPRESSED_KINDS and length > 2 * MAX_CHUNK_BYTES:
                raise error(f"chunk {i} has {length} compressed bytes, over the "
                            f"{2 * MAX_CHUNK_BYTES}-byte limit", start)
        if sectors == 0:
            continue
        chunks.append(Chunk(kind=kind, comment=comment, sector=first + sector,
                            sector_count=sectors, data_offset=start, data_length=length))
    if next_sector != count:
        raise error(f"chunks cover {next_sector} sectors, the table claims {count}")
    return BlockMap(index=index, name=name, resource_id=resource_id, attributes=attributes,
                    first_sector=first, sector_count=count, data_offset=data_offset,
                    buffers_needed=buffers, descriptor=descriptor, checksum=checksum,
                    chunks=tuple(chunks), comments=tuple(comments))


def _check_block_maps(maps: Sequence[BlockMap], koly: Koly, path: str) -> None:
    """No two block maps share sectors, every map lies on the disk, and no two chunks share
    stored bytes (a table that reuses bytes multiplies what a small file expands to)."""
    spans = sorted((bm.first_sector, bm.first_sector + bm.sector_count, bm.index)
                   for bm in maps if bm.sector_count)
    for (_, end, a), (start, _, b) in pairwise(spans):
        if start < end:
            raise ParseError(FORMAT, path, koly.xml_offset,
                             f"blkx entries {a} and {b} both map sector {start}")
    if spans and spans[-1][1] > koly.sector_count:
        raise ParseError(FORMAT, path, koly.offset + 0x1EC,
                         f"blkx entry {spans[-1][2]} ends at sector {spans[-1][1]}, past the "
                         f"{koly.sector_count} sectors the trailer claims")
    stored = sorted((c.data_offset, c.data_offset + c.data_length)
                    for bm in maps for c in bm.chunks
                    if c.data_length and (c.kind == KIND_RAW or c.kind in COMPRESSED_KINDS))
    for (_, end), (start, _) in pairwise(stored):
        if start < end:
            raise ParseError(FORMAT, path, start, f"two chunks share the stored bytes at "
                             f"{start:#x}")


class DiskReader(RandomAccessReader):
    """A read-only, seekable view of bytes [``start``, ``start + size``) of the image's disk
    (clipped to the disk), decompressing chunks as they are read. Unmapped sectors read as
    zeros.

    Errors in a chunk surface as ``ParseError`` (a subclass of nothing ``io`` catches), so a
    caller reading through a file-system parser gets the image offset of the bad chunk.
    """

    def __init__(self, image: DiskImage, fh: BinaryIO, *, start: int = 0,
                 size: int | None = None, cache_bytes: int = CACHE_BYTES) -> None:
        super().__init__()
        self._image = image
        self._fh = fh
        disk = image.koly.sector_count * SECTOR
        self._base = min(start, disk)
        self._size = max(min(disk - self._base, disk if size is None else size), 0)
        chunks = sorted((c for bm in image.block_maps for c in bm.chunks),
                        key=lambda c: c.sector)
        self._chunks = chunks
        self._starts = [c.sector * SECTOR for c in chunks]
        self._cache: OrderedDict[int, bytes] = OrderedDict()
        self._cache_bytes = cache_bytes
        self._cached = 0

    @property
    def size(self) -> int:
        return self._size

    def _length(self) -> int:
        return self._size

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        want = min(len(view), max(self._size - self._pos, 0))
        done = 0
        while done < want:
            piece = self._read_at(self._base + self._pos + done, want - done)
            view[done : done + len(piece)] = piece
            done += len(piece)
        self._pos += done
        return done

    def pread(self, offset: int, size: int) -> bytes:
        """``size`` bytes at ``offset`` (fewer at the end) without moving the position."""
        size = max(min(size, self._size - offset), 0)
        parts = []
        done = 0
        while done < size:
            piece = self._read_at(self._base + offset + done, size - done)
            parts.append(piece)
            done += len(piece)
        return b"".join(parts)

    def _read_at(self, disk_offset: int, size: int) -> bytes:
        """Some bytes (at least one, at most ``size``) at absolute disk offset."""
        i = bisect_right(self._starts, disk_offset) - 1
        if i < 0 or disk_offset >= self._starts[i] + self._chunks[i].size:
            following = self._starts[i + 1] if i + 1 < len(self._starts) else None
            gap = size if following is None else min(size, following - disk_offset)
            return bytes(gap)
        chunk = self._chunks[i]
        inner = disk_offset - self._starts[i]
        size = min(size, chunk.size - inner)
        if chunk.kind in (KIND_ZERO, KIND_IGNORE):
            return bytes(size)
        if chunk.kind == KIND_RAW:
            self._fh.seek(chunk.data_offset + inner)
            data = self._fh.read(size)
            if len(data) != size:
                raise ParseError(FORMAT, self._image.path, chunk.data_offset + inner,
                                 "raw chunk is cut short by the end of the file")
            return data
        return self._decoded(i)[inner : inner + size]

    def _decoded(self, i: int) -> bytes:
        hit = self._cache.get(i)
        if hit is not None:
            self._cache.move_to_end(i)
            return hit
        chunk = self._chunks[i]
        self._fh.seek(chunk.data_offset)
        stored = self._fh.read(chunk.data_length)
        if len(stored) != chunk.data_length:
            raise ParseError(FORMAT, self._image.path, chunk.data_offset,
                             "chunk data is cut short by the end of the file")
        try:
            data = udifchunks.decompress(chunk.kind, stored, chunk.size)
        except ChunkError as exc:
            raise ParseError(FORMAT, self._image.path, chunk.data_offset + exc.offset,
                             f"{chunk.kind_name} chunk for sectors {chunk.sector}+"
                             f"{chunk.sector_count}: {exc.reason}") from None
        while self._cache and self._cached + len(data) > self._cache_bytes:
            _, old = self._cache.popitem(last=False)
            self._cached -= len(old)
        self._cache[i] = data
        self._cached += len(data)
        return data


def open_disk(image: DiskImage, fh: BinaryIO, *, first: int = 0,
              count: int | None = None) -> DiskReader:
    """A seekable reader over the image's disk (or ``count`` sectors from ``first``)."""
    return DiskReader(image, fh, start=first * SECTOR,
                      size=None if count is None else count * SECTOR)


def open_range(image: DiskImage, fh: BinaryIO, start: int, size: int) -> DiskReader:
    """A seekable reader over ``size`` bytes of the disk from byte ``start`` (a partition)."""
    return DiskReader(image, fh, start=start, size=size)
