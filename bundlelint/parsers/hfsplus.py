"""HFS+ and HFSX volumes (the file system of older and ``hdiutil -fs HFS+`` disk images),
read as a ``parsers.volume.Volume``.

The layout is Apple's Technical Note TN1150 "HFS Plus Volume Format"; what macOS shows of it
(hidden private folders, hard links, symbolic links, names) follows Apple's open-source hfs
kext (``core/hfs_catalog.c``, ``core/hfs_format.h``). Byte-level facts and sources:
docs/formats.md section 9.

How it reads: the volume header (1024 bytes in) gives the block size and the forks of the
catalog, extents-overflow and attributes files. Each is a B-tree of fixed-size nodes. A
directory's entries are the catalog leaf records whose key has the directory's ID as parent,
found by descending the index on the parent ID alone, so names never need HFS+'s case-folding
order. A fork's blocks are its eight inline extents, then records of the extents-overflow
file. File content is streamed through the extents; ``decmpfs``-compressed files through
``parsers.decmpfs``, one 64 KiB chunk at a time.

Hostile input: every node number, record offset, extent and count is checked before use; node
chains carry a visited set, descents must go down one level at a time, a folder is listed at
most once (so neither a catalog loop nor a directory hard-link cycle can hang the walk), paths
stop at 512 levels, and nothing is allocated by a count the volume states.
"""

from __future__ import annotations

import io
import stat
import struct
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from bundlelint.errors import ParseError
from bundlelint.parsers import decmpfs
from bundlelint.parsers.randomaccess import RandomAccessReader
from bundlelint.parsers.volume import Node, NodeKind

FORMAT = "HFS+"
HEADER_OFFSET = 1024
SIGNATURES = {b"H+": 4, b"HX": 5}  # signature -> version (TN1150 "Volume Header")
HFS_STANDARD = b"BD"

ROOT_PARENT_ID = 1
ROOT_FOLDER_ID = 2
FIRST_USER_ID = 16

FOLDER_RECORD = 1
FILE_RECORD = 2
FOLDER_THREAD = 3
FILE_THREAD = 4
FOLDER_RECORD_SIZE = 88
FILE_RECORD_SIZE = 248

NODE_LEAF = -1
NODE_INDEX = 0
NODE_HEADER = 1
NODE_DESCRIPTOR_SIZE = 14
BIG_KEYS = 0x2
VARIABLE_INDEX_KEYS = 0x4
KEY_COMPARE_BINARY = 0xBC  # HFSX catalog: case-sensitive names

FORK_DATA = 0x00
FORK_RESOURCE = 0xFF
ATTR_INLINE = 0x10
ATTR_FORK = 0x20

VOLUME_JOURNALED = 0x2000  # kHFSVolumeJournaledMask
FILE_HAS_LINK_CHAIN = 0x20  # kHFSHasLinkChainMask
UF_COMPRESSED = 0x20  # st_flags; bsdInfo.ownerFlags holds st_flags' low byte

HARD_LINK = (b"hlnk", b"hfs+")  # kHardLinkFileType, kHFSPlusCreator
DIR_LINK = (b"fdrp", b"MACS")  # kHFSAliasType, kHFSAliasCreator
FILE_LINK_FOLDER = "\0\0\0\0HFS+ Private Data"  # HFSPLUSMETADATAFOLDER, as stored
DIR_LINK_FOLDER = ".HFS+ Private Directory Data\r"  # HFSPLUS_DIR_METADATA_FOLDER
JOURNAL_FILES = frozenset((".journal", ".journal_info_block"))
INODE_PREFIX = "iNode"

MAX_LINKED_ENTRIES = 100_000  # entries listed again through directory hard links
MAX_DEPTH = 512  # PATH_MAX is 1024 bytes: a deeper path cannot be opened on macOS
MAX_TREE_DEPTH = 32  # a B-tree of 2^32 records with two per node is 32 levels deep
MAX_SYMLINK = 1024  # MAXPATHLEN
NODE_CACHE = 64
DIR_CACHE = 8
MIN_BLOCK, MAX_BLOCK = 512, 1 << 24
MIN_NODE, MAX_NODE = 512, 32768

DEFAULT_DIR_MODE = stat.S_IFDIR | 0o755
DEFAULT_FILE_MODE = stat.S_IFREG | 0o644

_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_EXTENT = struct.Struct(">II")
_DESCRIPTOR = struct.Struct(">IIbBHH")
_HEADER_REC = struct.Struct(">HIIIIHHII")


def looks_like_hfsplus(data: bytes) -> bool:
    """True when ``data`` (the partition's first 1,152 bytes or more) starts an HFS+ or HFSX
    volume, or an HFS wrapper that embeds one."""
    sig = data[HEADER_OFFSET : HEADER_OFFSET + 2]
    return sig in SIGNATURES or (
        sig == HFS_STANDARD and data[HEADER_OFFSET + 124 : HEADER_OFFSET + 126] in SIGNATURES)


@dataclass(frozen=True)
class ForkData:
    """``HFSPlusForkData``: logical size, allocated blocks and the first eight extents."""

    logical_size: int
    total_blocks: int
    extents: tuple[tuple[int, int], ...]  # (start block, block count), zero-count ones dropped
    #: Absolute offset of the structure, for messages.
    offset: int


def _fork_data(raw: bytes, at: int, where: int) -> ForkData:
    size, = struct.unpack_from(">Q", raw, at)
    total, = _U32.unpack_from(raw, at + 12)
    extents = []
    for i in range(8):
        start, count = _EXTENT.unpack_from(raw, at + 16 + 8 * i)
        if count == 0:
            break
        extents.append((start, count))
    return ForkData(size, total, tuple(extents), where)


@dataclass(frozen=True)
class VolumeHeader:
    signature: str
    version: int
    attributes: int
    create_date: int
    file_count: int
    folder_count: int
    block_size: int
    total_blocks: int
    extents_file: ForkData
    catalog_file: ForkData
    attributes_file: ForkData


def parse_volume_header(raw: bytes, *, path: str = "", base: int = 0) -> VolumeHeader:
    """The 512-byte volume header found at offset 1024 (``raw`` is those 512 bytes) of a
    volume that starts ``base`` bytes into its stream."""
    at = base + HEADER_OFFSET

    def fail(rel: int, reason: str) -> ParseError:
        return ParseError(FORMAT, path, at + rel, reason)

    if len(raw) < 512:
        raise fail(0, f"volume header is truncated ({len(raw)} of 512 bytes)")
    sig = raw[:2]
    if sig == HFS_STANDARD:
        raise fail(0, "an HFS (standard) volume: only HFS+ and HFSX are read")
    if sig not in SIGNATURES:
        raise fail(0, f"signature {sig!r} is neither 'H+' nor 'HX'")
    version, = _U16.unpack_from(raw, 2)
    attributes, = _U32.unpack_from(raw, 4)
    create_date, = _U32.unpack_from(raw, 16)
    file_count, folder_count, block_size, total_blocks = struct.unpack_from(">IIII", raw, 32)
    if not MIN_BLOCK <= block_size <= MAX_BLOCK or block_size & (block_size - 1):
        raise fail(40, f"block size {block_size} is not a power of two from {MIN_BLOCK} to "
                   f"{MAX_BLOCK}")
    return VolumeHeader(
        signature=sig.decode("ascii"), version=version, attributes=attributes,
        create_date=create_date, file_count=file_count, folder_count=folder_count,
        block_size=block_size, total_blocks=total_blocks,
        extents_file=_fork_data(raw, 192, at + 192),
        catalog_file=_fork_data(raw, 272, at + 272),
        attributes_file=_fork_data(raw, 352, at + 352),
    )


class Fork:
    """One fork's bytes, addressed by logical offset (a ``decmpfs.ByteSource``)."""

    def __init__(self, volume: HFSPlusVolume, data: ForkData, file_id: int, fork_type: int
                 ) -> None:
        self.volume = volume
        self.size = data.logical_size
        bs = volume.header.block_size
        needed = -(-data.logical_size // bs)
        if needed > volume.header.total_blocks:
            raise volume.error(data.offset, f"fork of file {file_id} claims "
                               f"{data.logical_size} bytes, more than the volume holds")
        runs = list(data.extents)
        have = sum(count for _, count in runs)
        if have < needed:
            if file_id == volume.EXTENTS_FILE_ID:
                raise volume.error(data.offset, "the extents overflow file's own extents "
                                   "do not cover its size")
            runs += volume.overflow_extents(file_id, fork_type, have, needed, data.offset)
        # (logical start byte, absolute start byte, length in bytes), covering the size
        self._runs: list[tuple[int, int, int]] = []
        logical = 0
        for start, count in runs:
            if logical >= data.logical_size:
                break
            if start + count > volume.header.total_blocks or \
                    (start + count) * bs > volume.stream_size:
                raise volume.error(data.offset, f"extent of file {file_id} (blocks {start}+"
                                   f"{count}) points past the end of the volume")
            length = min(count * bs, data.logical_size - logical)
            self._runs.append((logical, start * bs, length))
            logical += length
        if logical < data.logical_size:
            raise volume.error(data.offset, f"the extents of file {file_id} hold {logical} "
                               f"bytes, its size is {data.logical_size}")

    def _run(self, offset: int) -> tuple[int, int, int]:
        lo, hi = 0, len(self._runs) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self._runs[mid][0] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return self._runs[lo]

    def where(self, offset: int) -> int:
        """The stream offset of the fork's byte ``offset`` (for messages and records)."""
        if not self._runs:
            return self.volume.base
        logical, absolute, _ = self._run(min(offset, self.size - 1))
        return self.volume.base + absolute + offset - logical

    def read_at(self, offset: int, size: int) -> bytes:
        if offset < 0 or size < 0 or offset + size > self.size:
            raise self.volume.error(self.where(offset), f"read of {size} bytes at {offset} "
                                    f"is outside the {self.size}-byte fork")
        parts = []
        while size > 0:
            logical, absolute, length = self._run(offset)
            take = min(size, logical + length - offset)
            parts.append(self.volume.read_abs(absolute + offset - logical, take))
            offset += take
            size -= take
        return b"".join(parts)


class ForkStream(RandomAccessReader):
    """A seekable read-only stream over a fork; reads go straight to the volume."""

    def __init__(self, fork: Fork) -> None:
        super().__init__()
        self._fork = fork

    def _length(self) -> int:
        return self._fork.size

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        take = max(0, min(len(view), self._fork.size - self._pos))
        if take == 0:
            return 0
        view[:take] = self._fork.read_at(self._pos, take)
        self._pos += take
        return take


@dataclass(frozen=True)
class Record:
    """One B-tree record: its key and data bytes and the absolute offset of its start."""

    key: bytes
    data: bytes
    offset: int


@dataclass(frozen=True)
class BTreeNode:
    number: int
    kind: int
    height: int
    next: int
    records: tuple[Record, ...]


class BTree:
    """A B-tree file (catalog, extents overflow or attributes): header node, index descent
    and the leaf chain, every step bounded."""

    def __init__(self, volume: HFSPlusVolume, fork: Fork, what: str) -> None:
        self.volume = volume
        self.fork = fork
        self.what = what
        self._cache: OrderedDict[int, BTreeNode] = OrderedDict()
        if fork.size == 0:
            self.depth = self.root = self.total = 0
            self.node_size = MIN_NODE
            self.attributes = BIG_KEYS | VARIABLE_INDEX_KEYS
            self.max_key = 0
            self.compare = 0
            return
        if fork.size < NODE_DESCRIPTOR_SIZE + 106:
            raise volume.error(fork.where(0), f"{what} B-tree is {fork.size} bytes, too "
                               "small for its header node")
        head = fork.read_at(0, NODE_DESCRIPTOR_SIZE + 106)
        kind = struct.unpack_from(">b", head, 8)[0]
        if kind != NODE_HEADER:
            raise volume.error(fork.where(8), f"{what} B-tree node 0 is of kind {kind}, "
                               "not a header node")
        (self.depth, self.root, leaf_records, _first_leaf, _last_leaf, self.node_size,
         self.max_key, self.total, _free) = _HEADER_REC.unpack_from(head, 14)
        self.compare = head[14 + 37]
        self.attributes, = _U32.unpack_from(head, 14 + 38)
        if not MIN_NODE <= self.node_size <= MAX_NODE or self.node_size & (self.node_size - 1):
            raise volume.error(fork.where(32), f"{what} B-tree node size {self.node_size} "
                               f"is not a power of two from {MIN_NODE} to {MAX_NODE}")
        if self.total > fork.size // self.node_size:
            raise volume.error(fork.where(36), f"{what} B-tree claims {self.total} nodes; "
                               f"its {fork.size}-byte file holds "
                               f"{fork.size // self.node_size}")
        capacity = self.total * ((self.node_size - NODE_DESCRIPTOR_SIZE) // 4)
        if leaf_records > capacity:
            raise volume.error(fork.where(20), f"{what} B-tree claims {leaf_records} leaf "
                               f"records; its {self.total} nodes can hold at most {capacity}")
        if self.depth > MAX_TREE_DEPTH:
            raise volume.error(fork.where(14), f"{what} B-tree claims a depth of "
                               f"{self.depth} (at most {MAX_TREE_DEPTH})")
        if self.root >= max(self.total, 1) or (self.root == 0) != (self.depth == 0):
            raise volume.error(fork.where(16), f"{what} B-tree root node {self.root} with "
                               f"depth {self.depth} does not fit its {self.total} nodes")

    def node(self, number: int) -> BTreeNode:
        cached = self._cache.get(number)
        if cached is not None:
            self._cache.move_to_end(number)
            return cached
        if not 0 < number < self.total:
            raise self.volume.error(self.fork.where(0), f"{self.what} B-tree refers to node "
                                    f"{number}, outside its {self.total} nodes")
        node = self._parse(number)
        self._cache[number] = node
        if len(self._cache) > NODE_CACHE:
            self._cache.popitem(last=False)
        return node

    def _parse(self, number: int) -> BTreeNode:
        size = self.node_size
        start = number * size
        raw = self.fork.read_at(start, size)

        def fail(rel: int, reason: str) -> ParseError:
            return self.volume.error(self.fork.where(start + rel),
                                     f"{self.what} B-tree node {number}: {reason}")

        flink, _blink, kind, height, count, _ = _DESCRIPTOR.unpack_from(raw)
        if kind not in (NODE_LEAF, NODE_INDEX):
            raise fail(8, f"kind {kind} is neither a leaf nor an index node")
        table = size - 2 * (count + 1)
        if table < NODE_DESCRIPTOR_SIZE:
            raise fail(10, f"{count} records cannot fit in a {size}-byte node")
        offsets = [_U16.unpack_from(raw, size - 2 * (i + 1))[0] for i in range(count + 1)]
        records = []
        for i in range(count):
            a, b = offsets[i], offsets[i + 1]
            if not NODE_DESCRIPTOR_SIZE <= a < b <= table:
                raise fail(size - 2 * (i + 1), f"record {i} spans {a}..{b}, outside the "
                           "node's record area or out of order")
            key_len, = _U16.unpack_from(raw, a)
            if kind == NODE_INDEX and not self.attributes & VARIABLE_INDEX_KEYS:
                data_at = a + 2 + self.max_key
            else:
                data_at = a + 2 + key_len
            data_at += data_at & 1
            if a + 2 + key_len > b or data_at > b:
                raise fail(a, f"record {i}'s key of {key_len} bytes overruns the record")
            records.append(Record(raw[a + 2 : a + 2 + key_len], raw[data_at:b],
                                  self.fork.where(start + a)))
        return BTreeNode(number, kind, height, flink, tuple(records))

    def seek(self, before: Callable[[bytes], bool]) -> Iterator[Record]:
        """Leaf records in key order from the first whose key is not ``before`` the target
        (``before(key)`` is True for keys that sort before it). The caller stops the walk."""
        if self.root == 0:
            return
        number, height = self.root, self.depth
        node = self.node(number)
        while node.kind == NODE_INDEX:
            if node.height != height or height <= 1 or not node.records:
                raise self.volume.error(node.records[0].offset if node.records else
                                        self.fork.where(number * self.node_size),
                                        f"{self.what} B-tree index node {number} is at "
                                        f"height {node.height}, expected {height}")
            chosen = node.records[0]
            for record in node.records:
                if not before(record.key):
                    break
                chosen = record
            if len(chosen.data) < 4:
                raise self.volume.error(chosen.offset, f"{self.what} B-tree index record "
                                        "has no child pointer")
            number = _U32.unpack_from(chosen.data)[0]
            height -= 1
            node = self.node(number)
        if node.height != 1 or height != 1:
            raise self.volume.error(self.fork.where(number * self.node_size),
                                    f"{self.what} B-tree leaf node {number} is at height "
                                    f"{node.height}, expected 1 (tree depth {self.depth})")
        seen = {number}
        first = True
        while True:
            for record in node.records:
                if not before(record.key):
                    yield record
                elif not first:
                    # Past the first leaf every key sorts after the target: a key before it
                    # means the tree lies, and scanning on could visit every leaf per lookup.
                    raise self.volume.error(record.offset, f"{self.what} B-tree keys are out "
                                            f"of order in leaf node {number}")
            first = False
            if node.next == 0:
                return
            if node.next in seen or len(seen) >= self.total:
                raise self.volume.error(self.fork.where(number * self.node_size),
                                        f"{self.what} B-tree leaf chain loops back to node "
                                        f"{node.next}")
            number = node.next
            seen.add(number)
            node = self.node(number)
            if node.kind != NODE_LEAF:
                raise self.volume.error(self.fork.where(number * self.node_size),
                                        f"{self.what} B-tree leaf chain reaches node "
                                        f"{number}, which is not a leaf")


@dataclass(frozen=True)
class CatalogEntry:
    """A folder or file record of the catalog, with the fields a walk needs."""

    parent_id: int
    name: str  # as macOS shows it: '/' as ':', NUL as U+2400
    name_error: str | None
    record_type: int
    cnid: int
    flags: int
    create_date: int
    owner_flags: int
    mode: int
    special: int  # iNodeNum, linkCount or rawDevice
    file_type: bytes
    creator: bytes
    data_fork: ForkData | None
    resource_fork: ForkData | None
    offset: int

    @property
    def is_folder(self) -> bool:
        return self.record_type == FOLDER_RECORD


def posix_name(units: bytes) -> tuple[str, str | None]:
    """An HFS+ name (UTF-16BE) as macOS's VFS shows it, and why it is not usable if so.

    macOS converts with ``utf8_encodestr(..., ':')`` (xnu ``vfs_utfconv.c``): a '/' stored
    in the catalog (the Carbon name's slash) becomes ':' and NUL becomes U+2400.
    """
    try:
        text = units.decode("utf-16-be")
    except UnicodeDecodeError:
        return units.decode("utf-16-be", "replace"), "name is not valid UTF-16"
    name = text.replace("/", ":").replace("\0", "\u2400")
    if name in ("", ".", ".."):
        return name, f"name {name!r} cannot name a file"
    return name, None


def _parse_catalog_key(volume: HFSPlusVolume, record: Record) -> tuple[int, bytes]:
    key = record.key
    if len(key) < 6:
        raise volume.error(record.offset, f"catalog key of {len(key)} bytes is too short")
    parent, length = struct.unpack_from(">IH", key)
    if length > 255 or 6 + 2 * length > len(key):
        raise volume.error(record.offset, f"catalog key name of {length} characters "
                           "overruns the key")
    return parent, key[6 : 6 + 2 * length]


class HFSPlusVolume:
    """An HFS+ or HFSX volume in a seekable stream whose offset 0 is the partition start.

    ``path`` names the container in errors; ``name`` defaults to the volume's own name.
    """

    EXTENTS_FILE_ID = 3
    CATALOG_FILE_ID = 4
    ATTRIBUTES_FILE_ID = 8

    def __init__(self, stream: BinaryIO, *, path: str = "", name: str | None = None) -> None:
        self.path = path
        self._io = stream
        #: Where the HFS+ volume starts in the stream: 0, or inside an HFS wrapper.
        self.base = 0
        self.stream_size = stream.seek(0, io.SEEK_END)
        first = self.read_abs(HEADER_OFFSET, 512, clamp=True)
        if first[:2] == HFS_STANDARD and first[124:126] in SIGNATURES:
            self.base, self.stream_size = _embedded_volume(first, self.stream_size, path)
            first = self.read_abs(HEADER_OFFSET, 512, clamp=True)
        self.header = parse_volume_header(first, path=path, base=self.base)
        self.extents = BTree(self, Fork(self, self.header.extents_file, self.EXTENTS_FILE_ID,
                                        FORK_DATA), "extents")
        self.catalog = BTree(self, Fork(self, self.header.catalog_file, self.CATALOG_FILE_ID,
                                        FORK_DATA), "catalog")
        self.attributes = BTree(self, Fork(self, self.header.attributes_file,
                                           self.ATTRIBUTES_FILE_ID, FORK_DATA), "attributes")
        self.case_sensitive = (self.header.signature == "HX"
                               and self.catalog.compare == KEY_COMPARE_BINARY)
        self.volume_name = self._volume_name()
        self.name = self.volume_name if name is None else name
        self._dirs: OrderedDict[int, dict[str, CatalogEntry]] = OrderedDict()
        self._pinned: dict[int, dict[str, CatalogEntry]] = {}
        self._private = self._private_folders()

    # -- low level -------------------------------------------------------------------------

    def error(self, offset: int | None, reason: str) -> ParseError:
        """A ParseError at ``offset``, an offset in the stream (``Fork.where`` and every
        record offset already count the wrapper's ``base``)."""
        return ParseError(FORMAT, self.path, offset, reason)

    def read_abs(self, offset: int, size: int, *, clamp: bool = False) -> bytes:
        if offset + size > self.stream_size and not clamp:
            raise self.error(self.base + offset, f"read of {size} bytes runs past the end "
                             f"of the {self.stream_size}-byte volume")
        self._io.seek(self.base + offset)
        data = self._io.read(size)
        if len(data) != size and not clamp:
            raise self.error(self.base + offset, f"short read: {len(data)} of {size} bytes")
        return data

    def overflow_extents(self, file_id: int, fork_type: int, have: int, needed: int,
                         where: int) -> list[tuple[int, int]]:
        """The extents after the first eight, from the extents overflow file (TN1150
        "Extents Overflow File": key = fork type, file ID, first block of the record)."""
        target = (file_id, fork_type, 0)
        found: list[tuple[int, int]] = []

        def before(key: bytes) -> bool:
            return len(key) >= 10 and _extent_key(key) < target

        for record in self.extents.seek(before):
            if len(record.key) < 10:
                raise self.error(record.offset, "extents key is shorter than 10 bytes")
            key = _extent_key(record.key)
            if key[:2] != target[:2] or have >= needed:
                break
            if key[2] != have:
                raise self.error(record.offset, f"extents record of file {file_id} starts at "
                                 f"block {key[2]}, expected {have}")
            if len(record.data) < 64:
                raise self.error(record.offset, "extents record is shorter than 64 bytes")
            for i in range(8):
                start, count = _EXTENT.unpack_from(record.data, 8 * i)
                if count == 0:
                    break
                found.append((start, count))
                have += count
        if have < needed:
            raise self.error(where, f"file {file_id}'s extents cover {have} blocks, it "
                             f"needs {needed}")
        return found

    # -- catalog -----------------------------------------------------------------------------

    def _records_of(self, parent_id: int) -> Iterator[Record]:
        """The catalog leaf records whose key's parent is ``parent_id``, in key order."""

        def before(key: bytes) -> bool:
            return len(key) >= 4 and _U32.unpack_from(key)[0] < parent_id

        previous = b""
        for record in self.catalog.seek(before):
            parent, units = _parse_catalog_key(self, record)
            if parent != parent_id:
                if parent < parent_id:
                    raise self.error(record.offset, "catalog keys are out of order (parent "
                                     f"{parent} after {parent_id})")
                return
            if self.case_sensitive and units < previous:
                raise self.error(record.offset, "catalog keys are out of order")
            previous = units
            yield record

    def _volume_name(self) -> str:
        for record in self._records_of(ROOT_FOLDER_ID):
            if len(record.data) >= 10 and _U16.unpack_from(record.data)[0] == FOLDER_THREAD:
                length, = _U16.unpack_from(record.data, 8)
                return posix_name(record.data[10 : 10 + 2 * min(length, 255)])[0]
            break
        return ""

    def _entry(self, record: Record, parent: int, units: bytes) -> CatalogEntry | None:
        data = record.data
        if len(data) < 2:
            raise self.error(record.offset, "catalog record has no type")
        rtype, = _U16.unpack_from(data)
        if rtype in (FOLDER_THREAD, FILE_THREAD):
            return None
        name, name_error = posix_name(units)
        if rtype not in (FOLDER_RECORD, FILE_RECORD):
            raise self.error(record.offset, f"catalog record type {rtype} is unknown")
        need = FOLDER_RECORD_SIZE if rtype == FOLDER_RECORD else FILE_RECORD_SIZE
        if len(data) < need:
            raise self.error(record.offset, f"catalog {'folder' if need < 100 else 'file'} "
                             f"record is {len(data)} bytes, expected {need}")
        flags, = _U16.unpack_from(data, 2)
        cnid, create = struct.unpack_from(">II", data, 8)
        owner_flags = data[41]
        mode, special = struct.unpack_from(">HI", data, 42)
        base = record.offset + 2 + len(record.key)
        base += base & 1
        file_fork = rsrc_fork = None
        if rtype == FILE_RECORD:
            file_fork = _fork_data(data, 88, base + 88)
            rsrc_fork = _fork_data(data, 168, base + 168)
        return CatalogEntry(parent, name, name_error, rtype, cnid, flags, create, owner_flags,
                            mode, special, data[48:52], data[52:56], file_fork, rsrc_fork,
                            record.offset)

    def children(self, folder_id: int) -> Iterator[CatalogEntry]:
        """The folder and file records directly inside ``folder_id``, in catalog order."""
        for record in self._records_of(folder_id):
            parent, units = _parse_catalog_key(self, record)
            entry = self._entry(record, parent, units)
            if entry is not None:
                yield entry

    def _private_folders(self) -> dict[str, CatalogEntry]:
        found = {}
        for entry in self.children(ROOT_FOLDER_ID):
            raw = entry.name.replace("\u2400", "\0")
            if entry.is_folder and raw in (FILE_LINK_FOLDER, DIR_LINK_FOLDER):
                found[raw] = entry
        return found

    def _hidden(self, entry: CatalogEntry) -> bool:
        """What macOS's readdir leaves out of the root (hfs_catalog.c
        ``getdirentries_callback``): the two private link folders and the journal files."""
        if entry.parent_id != ROOT_FOLDER_ID:
            return False
        private = self._private.get(entry.name.replace("\u2400", "\0"))
        if private is not None and private.cnid == entry.cnid:
            return True
        return (not entry.is_folder and entry.name in JOURNAL_FILES
                and bool(self.header.attributes & VOLUME_JOURNALED))

    def _link_dates(self) -> set[int]:
        return {e.create_date for e in self._private.values()}

    def _is_file_link(self, entry: CatalogEntry) -> bool:
        return ((entry.file_type, entry.creator) == HARD_LINK
                and entry.create_date in self._link_dates())

    def _is_dir_link(self, entry: CatalogEntry) -> bool:
        return ((entry.file_type, entry.creator) == DIR_LINK
                and bool(entry.flags & FILE_HAS_LINK_CHAIN)
                and entry.special >= FIRST_USER_ID
                and entry.create_date in self._link_dates())

    def _inode(self, entry: CatalogEntry) -> CatalogEntry:
        """The file a hard link stands for: ``iNode<N>`` in the private data folder."""
        folder = self._private.get(FILE_LINK_FOLDER)
        if folder is not None:
            target = self._lookup(folder.cnid, f"{INODE_PREFIX}{entry.special}")
            if target is not None and not target.is_folder:
                return target
        raise self.error(entry.offset, f"hard link to {INODE_PREFIX}{entry.special}, "
                         "which is not in the private data folder")

    def _dir_link_target(self, entry: CatalogEntry) -> int:
        folder = self._private.get(DIR_LINK_FOLDER)
        if folder is not None:
            target = self._lookup(folder.cnid, f"dir_{entry.special}")
            if target is not None and target.is_folder:
                return target.cnid
        raise self.error(entry.offset, f"directory hard link to dir_{entry.special}, which "
                         "is not in the private directory folder")

    def _listing(self, folder_id: int) -> dict[str, CatalogEntry]:
        pinned = self._pinned.get(folder_id)
        if pinned is not None:
            return pinned
        if any(folder_id == e.cnid for e in self._private.values()):
            # Every hard link looks its inode up here: keep the listing for the whole walk.
            self._pinned[folder_id] = {}
            for entry in self.children(folder_id):
                self._pinned[folder_id].setdefault(entry.name, entry)
            return self._pinned[folder_id]
        cached = self._dirs.get(folder_id)
        if cached is None:
            cached = {}
            for entry in self.children(folder_id):
                cached.setdefault(entry.name, entry)
            self._dirs[folder_id] = cached
            if len(self._dirs) > DIR_CACHE:
                self._dirs.popitem(last=False)
        else:
            self._dirs.move_to_end(folder_id)
        return cached

    def _lookup(self, folder_id: int, name: str) -> CatalogEntry | None:
        listing = self._listing(folder_id)
        entry = listing.get(name)
        if entry is None and not self.case_sensitive:
            folded = name.casefold()
            entry = next((e for n, e in listing.items() if n.casefold() == folded), None)
        return entry

    # -- content -----------------------------------------------------------------------------

    def decmpfs_header(self, file_id: int) -> tuple[decmpfs.DecmpfsHeader, int] | None:
        """The file's ``com.apple.decmpfs`` attribute (TN1150 "Attributes File": key =
        file ID, first block, name) and its absolute offset, or None without one."""
        wanted = decmpfs.XATTR_NAME.encode("utf-16-be")

        def before(key: bytes) -> bool:
            return len(key) >= 6 and _U32.unpack_from(key, 2)[0] < file_id

        for record in self.attributes.seek(before):
            key = record.key
            if len(key) < 12:
                raise self.error(record.offset, "attribute key is shorter than 12 bytes")
            owner, = _U32.unpack_from(key, 2)
            if owner != file_id:
                return None
            length, = _U16.unpack_from(key, 10)
            if key[12 : 12 + 2 * length] != wanted:
                continue
            return self._attribute_value(record)
        return None

    def _attribute_value(self, record: Record) -> tuple[decmpfs.DecmpfsHeader, int]:
        data = record.data
        if len(data) < 4:
            raise self.error(record.offset, "attribute record has no type")
        kind, = _U32.unpack_from(data)
        value_at = record.offset + 2 + len(record.key) + 16
        if kind == ATTR_INLINE:
            if len(data) < 16:
                raise self.error(record.offset, "inline attribute record is truncated")
            size, = _U32.unpack_from(data, 12)
            if 16 + size > len(data):
                raise self.error(record.offset, f"inline attribute of {size} bytes overruns "
                                 "its record")
            value = data[16 : 16 + size]
        elif kind == ATTR_FORK:
            if len(data) < 88:
                raise self.error(record.offset, "attribute fork record is truncated")
            fork_data = _fork_data(data, 8, record.offset)
            if fork_data.logical_size > 1 << 20:
                raise self.error(record.offset, f"decmpfs attribute of "
                                 f"{fork_data.logical_size} bytes is implausibly large")
            fork = Fork(self, fork_data, 0, FORK_DATA)
            value = fork.read_at(0, fork.size)
            value_at = fork.where(0)
        else:
            raise self.error(record.offset, f"attribute record type {kind:#x} is unknown")
        return decmpfs.parse_header(value, path=self.path, base=value_at), value_at

    def _content(self, entry: CatalogEntry) -> tuple[int, Callable[[], BinaryIO]]:
        """Logical size and an opener of a file record's content, as ``read`` returns it."""
        assert entry.data_fork is not None and entry.resource_fork is not None
        if entry.owner_flags & UF_COMPRESSED:
            # Without the attribute the file is read as not compressed (its data fork), as
            # xnu's decmpfs_file_is_compressed decides; a malformed one is reported here.
            found = self.decmpfs_header(entry.cnid)
            if found is not None:
                header, at = found
                reason = decmpfs.unsupported_reason(header)
                if reason is not None:
                    raise self.error(at, reason)
                rsrc_data = entry.resource_fork

                def open_compressed() -> BinaryIO:
                    rsrc = Fork(self, rsrc_data, entry.cnid, FORK_RESOURCE) \
                        if header.in_resource_fork else None
                    return decmpfs.open_decompressed(header, rsrc, path=self.path,
                                                     attr_offset=at)

                return header.uncompressed_size, open_compressed
        fork = Fork(self, entry.data_fork, entry.cnid, FORK_DATA)
        return fork.size, lambda: io.BufferedReader(ForkStream(fork))

    def _symlink_target(self, entry: CatalogEntry) -> bytes:
        size, opener = self._content(entry)
        if size > MAX_SYMLINK:
            raise self.error(entry.offset, f"symbolic link target of {size} bytes is longer "
                             f"than {MAX_SYMLINK}")
        with opener() as stream:
            raw: bytes = stream.read(size)
        return raw

    # -- the Volume interface -----------------------------------------------------------------

    def _node(self, entry: CatalogEntry, path: str) -> tuple[Node, int | None]:
        """The Node for ``entry`` and, for a directory to descend into, its folder ID."""
        if entry.name_error is not None:
            return Node(path, NodeKind.OTHER, 0, 0, offset=entry.offset,
                        error=entry.name_error), None
        if entry.is_folder:
            mode = entry.mode if stat.S_IFMT(entry.mode) else DEFAULT_DIR_MODE
            if not stat.S_ISDIR(mode):
                mode = stat.S_IFDIR | stat.S_IMODE(mode)
            return Node(path, NodeKind.DIRECTORY, 0, mode, offset=entry.offset), entry.cnid
        try:
            if self._is_dir_link(entry):
                target = self._dir_link_target(entry)
                return Node(path, NodeKind.DIRECTORY, 0, DEFAULT_DIR_MODE,
                            offset=entry.offset), target
            real = self._inode(entry) if self._is_file_link(entry) else entry
            fmt = stat.S_IFMT(real.mode)
            mode = real.mode if fmt else DEFAULT_FILE_MODE | real.mode
            if fmt == stat.S_IFLNK:
                link = self._symlink_target(real)
                return Node(path, NodeKind.SYMLINK, len(link), mode,
                            link_target=link.decode("utf-8", "surrogateescape"),
                            offset=entry.offset), None
            if fmt not in (0, stat.S_IFREG):
                return Node(path, NodeKind.OTHER, 0, mode, offset=entry.offset), None
            size, _ = self._content(real)
            return Node(path, NodeKind.FILE, size, mode, offset=entry.offset), None
        except ParseError as exc:
            return Node(path, NodeKind.FILE, 0, DEFAULT_FILE_MODE, offset=entry.offset,
                        error=f"{exc.reason} (at offset {exc.offset:#x})"
                        if exc.offset is not None else exc.reason), None

    def walk(self) -> Iterator[Node]:
        """Every visible entry, a directory before its contents.

        A folder reached again through a directory hard link is listed again, as macOS
        shows it at both paths, but a link to one of its own ancestors (a cycle) is not
        followed, and once more than ``MAX_LINKED_ENTRIES`` entries have been listed a second
        time that way the walk stops with an error, so links cannot make it explode.
        """
        listed: set[int] = set()
        linked_entries = 0
        Chain = tuple[int, object] | None  # (folder ID, parent chain): the ancestors
        # folder ID, path prefix, depth, ancestors, the entry's offset, inside a relisting
        Frame = tuple[int, str, int, Chain, int, bool]
        stack: list[Frame] = [(ROOT_FOLDER_ID, "", 0, None, HEADER_OFFSET, False)]
        while stack:
            folder_id, prefix, depth, chain, where, relisted = stack.pop()
            relisted = relisted or folder_id in listed
            if relisted and linked_entries > MAX_LINKED_ENTRIES:
                raise self.error(where, f"directory hard links reach more than "
                                 f"{MAX_LINKED_ENTRIES} entries a second time")
            listed.add(folder_id)
            below: list[Frame] = []
            here: Chain = (folder_id, chain)
            names: set[str] = set()
            for entry in self.children(folder_id):
                if self._hidden(entry):
                    continue
                name = entry.name if entry.name_error is None else f"\ufffd{entry.cnid}"
                duplicate = name in names
                if duplicate:
                    name = f"{name}\ufffd{entry.cnid}"
                names.add(name)
                path = f"{prefix}{name}"
                node, descend = self._node(entry, path)
                refusal = "a second entry with this name in its folder" if duplicate else None
                if descend is not None and refusal is None:
                    if _in_chain(here, descend):
                        refusal = (f"folder {descend} contains itself (a directory hard link "
                                   "or a catalog loop): not descended")
                    elif depth + 1 >= MAX_DEPTH:
                        refusal = f"nested more than {MAX_DEPTH} levels deep: not descended"
                if refusal is not None:
                    kind = NodeKind.DIRECTORY if descend is not None else node.kind
                    node = Node(path, kind, 0, node.mode, offset=entry.offset, error=refusal)
                    descend = None
                if relisted:
                    linked_entries += 1
                yield node
                if descend is not None:
                    below.append((descend, path + "/", depth + 1, here, entry.offset, relisted))
            stack.extend(reversed(below))

    def _resolve(self, path: str) -> CatalogEntry:
        folder_id = ROOT_FOLDER_ID
        parts = [p for p in path.split("/") if p]
        if not parts or len(parts) > MAX_DEPTH:
            raise FileNotFoundError(path)
        for i, part in enumerate(parts):
            entry = self._lookup(folder_id, part)
            if entry is None or self._hidden(entry) or entry.name_error is not None:
                raise FileNotFoundError(path)
            if i == len(parts) - 1:
                return entry
            if entry.is_folder:
                folder_id = entry.cnid
            elif self._is_dir_link(entry):
                folder_id = self._dir_link_target(entry)
            else:
                raise NotADirectoryError(path)
        raise FileNotFoundError(path)  # unreachable: the loop returns on the last part

    def open(self, path: str) -> BinaryIO:
        """The content of the regular file at ``path`` (hard links resolved, decmpfs files
        decompressed as they are read)."""
        entry = self._resolve(path)
        if entry.is_folder or self._is_dir_link(entry):
            raise IsADirectoryError(path)
        real = self._inode(entry) if self._is_file_link(entry) else entry
        if stat.S_IFMT(real.mode) not in (0, stat.S_IFREG):
            raise self.error(entry.offset, f"{path} is not a regular file")
        return self._content(real)[1]()


def _embedded_volume(mdb: bytes, stream_size: int, path: str) -> tuple[int, int]:
    """(offset, size) of the HFS+ volume an HFS wrapper embeds (TN1150 "HFS Wrapper": the
    HFS master directory block's ``drEmbedSigWord`` is 'H+', ``drEmbedExtent`` places it in
    allocation blocks of ``drAlBlkSiz`` bytes counted from sector ``drAlBlSt``)."""
    block_size, = _U32.unpack_from(mdb, 20)
    first_sector, = _U16.unpack_from(mdb, 28)
    start, count = struct.unpack_from(">HH", mdb, 126)
    offset = first_sector * 512 + start * block_size
    size = count * block_size
    if block_size == 0 or block_size % 512 or offset + size > stream_size or size < 2048:
        raise ParseError(FORMAT, path, HEADER_OFFSET + 124, f"HFS wrapper embeds a volume at "
                         f"{offset} (+{size}), outside the {stream_size}-byte partition")
    return offset, size


def _in_chain(chain: tuple[int, object] | None, folder_id: int) -> bool:
    while chain is not None:
        if chain[0] == folder_id:
            return True
        chain = chain[1]  # type: ignore[assignment]
    return False


def _extent_key(key: bytes) -> tuple[int, int, int]:
    """(file ID, fork type, start block): the extents file's key order (TN1150
    ``CompareExtentKeys``: file ID first, then fork type, then start block)."""
    fork_type = key[0]
    file_id, start = struct.unpack_from(">II", key, 2)
    return file_id, fork_type, start
