"""APFS containers as ``hdiutil`` makes them: the volumes inside, each read as a ``Volume``.

The layout is Apple's *Apple File System Reference* (docs/formats.md 11): block 0 holds a
copy of the container superblock (``nx_superblock_t``, magic ``NXSB``) that locates the
checkpoint descriptor area; the live superblock is the one there with the highest
transaction id and a valid checksum. Its object map (``omap_phys_t``, a B-tree of
``(oid, xid) -> paddr``) finds each volume superblock (``apfs_superblock_t``, ``APSB``), and
each volume's own object map finds the nodes of its file-system tree, a B-tree of records
keyed by ``(object id, record type, ...)``: inodes, directory records, extended attributes
and file extents.

Everything read is untrusted. Every object's Fletcher-64 checksum is verified; every node's
table of contents must fit its block, so no count read from the container sizes an
allocation; a B-tree descent must go down exactly one level per step and never visit a node
twice, so loops end; directory loops and nesting deeper than a real path can be are refused.
Every failure is a ``ParseError`` naming the byte offset in the container. Files are read on
demand through their extents (holes read as zeros) and ``decmpfs`` compressed files are
decompressed one 64 KiB block at a time, so memory stays bounded by a block, not a file.

Why not Fox-IT's ``dissect.apfs`` (maintained, pure Python): measured on the same inputs
(``benchmarks/bench_apfs.py``), it walked and read about 5x slower with more memory; on
hostile containers it spun forever on a B-tree or object-map loop, grew to 2 GiB on a
directory loop, inflated a decmpfs chunk past the size the file claims (1 GiB for a 64 KiB
file), and raised KeyError, EOFError, MemoryError or its own Error where a finding needs an
offset. Wrapping it could not bound its loops, and it pulls dissect.cstruct, dissect.util,
dissect.fve and pycryptodome.
"""

from __future__ import annotations

import bisect
import io
import itertools
import stat
import struct
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from bundlelint.errors import ParseError
from bundlelint.parsers import decmpfs
from bundlelint.parsers.randomaccess import RandomAccessReader
from bundlelint.parsers.volume import Node, NodeKind

FORMAT = "APFS"

NX_MAGIC = b"NXSB"
APFS_MAGIC = b"APSB"
NX_MINIMUM_BLOCK_SIZE = 4096
NX_MAXIMUM_BLOCK_SIZE = 65536
NX_MAX_FILE_SYSTEMS = 100
#: The checkpoint descriptor area is a few hundred blocks in practice (newfs_apfs); a claim
#: past this cap is refused rather than scanned.
MAX_CHECKPOINT_DESC_BLOCKS = 1 << 16

# obj_phys_t: o_cksum u64, o_oid u64, o_xid u64, o_type u32, o_subtype u32.
_OBJ = struct.Struct("<QQQII")
OBJ_HEADER_SIZE = 32
OBJECT_TYPE_MASK = 0x0000FFFF
OBJ_STORAGETYPE_MASK = 0xC0000000
OBJ_EPHEMERAL = 0x80000000
OBJ_PHYSICAL = 0x40000000
OBJECT_TYPE_NX_SUPERBLOCK = 0x1
OBJECT_TYPE_BTREE = 0x2
OBJECT_TYPE_BTREE_NODE = 0x3
OBJECT_TYPE_OMAP = 0xB
OBJECT_TYPE_CHECKPOINT_MAP = 0xC
OBJECT_TYPE_FS = 0xD
OBJECT_TYPE_FSTREE = 0xE

NX_INCOMPAT_FUSION = 0x100
XP_DESC_IS_BTREE = 0x80000000

# btree_node_phys_t after the object header: flags u16, level u16, nkeys u32,
# table_space (off u16, len u16), free_space, key_free_list, val_free_list; data at 56.
_NODE = struct.Struct("<HHIHH")
BTREE_NODE_DATA = 56
BTNODE_ROOT = 0x1
BTNODE_LEAF = 0x2
BTNODE_FIXED_KV_SIZE = 0x4
BTNODE_HASHED = 0x8
BTREE_INFO_SIZE = 40
BTOFF_INVALID = 0xFFFF
#: B-trees here are a handful of levels deep; a node claiming more is refused.
MAX_BTREE_LEVEL = 32
_KVLOC = struct.Struct("<HHHH")
_KVOFF = struct.Struct("<HH")
_OMAP_KEY = struct.Struct("<QQ")
_OMAP_VAL = struct.Struct("<IIQ")
OMAP_KEY_SIZE = _OMAP_KEY.size
OMAP_VAL_SIZE = _OMAP_VAL.size
OMAP_VAL_DELETED = 0x1
OMAP_VAL_ENCRYPTED = 0x4
OMAP_VAL_NOHEADER = 0x8

# apfs_superblock_t
APFS_FS_UNENCRYPTED = 0x1
APFS_INCOMPAT_CASE_INSENSITIVE = 0x1
APFS_INCOMPAT_NORMALIZATION_INSENSITIVE = 0x8
APFS_INCOMPAT_SEALED_VOLUME = 0x20

# File-system records: j_key_t's obj_id_and_type.
OBJ_ID_MASK = 0x0FFFFFFFFFFFFFFF
OBJ_TYPE_SHIFT = 60
APFS_TYPE_INODE = 3
APFS_TYPE_XATTR = 4
APFS_TYPE_FILE_EXTENT = 8
APFS_TYPE_DIR_REC = 9
ROOT_DIR_INO_NUM = 2

# j_inode_val_t: parent_id, private_id, 4 times, internal_flags, nchildren/nlink, protection
# class, write generation, bsd_flags, owner, group, mode, pad1, uncompressed_size; xfields at 92.
_INODE = struct.Struct("<QQQQQQQiIIIIIHHQ")
INODE_FIXED_SIZE = 92
INO_EXT_TYPE_DSTREAM = 8
_DSTREAM = struct.Struct("<QQ")  # j_dstream_t.size, alloced_size (then crypto id, counters)
UF_COMPRESSED = 0x20
_DREC_VAL = struct.Struct("<QQH")  # file_id, date_added, flags
_XATTR_VAL = struct.Struct("<HH")  # flags, xdata_len
XATTR_DATA_STREAM = 0x1
XATTR_DATA_EMBEDDED = 0x2
_XATTR_DSTREAM = struct.Struct("<QQ")  # xattr_obj_id, j_dstream_t.size
_FILE_EXTENT_VAL = struct.Struct("<QQ")  # len_and_flags, phys_block_num
J_FILE_EXTENT_LEN_MASK = 0x00FFFFFFFFFFFFFF

SYMLINK_XATTR = "com.apple.fs.symlink"
RESOURCE_FORK_XATTR = "com.apple.ResourceFork"
#: macOS's PATH_MAX is 1024 bytes, so no path it can open is deeper than 512 directories.
MAX_DEPTH = 512
#: Entries listed from one directory (held to sort them): far above any app's directory, far
#: below what a hostile container of a few hundred MiB could pack into one.
MAX_DIR_ENTRIES = 1 << 18
#: Caps on what one inode may make us hold: extents per file, bytes of one attribute read
#: whole (symlink targets, decmpfs headers; resource forks are streamed, not held).
MAX_EXTENTS = 1 << 20
MAX_XATTR_READ = 1 << 16
#: Parsed B-tree nodes kept (LRU): 512 nodes of 4 KiB, about 4 MiB with their tables.
NODE_CACHE = 512


def fletcher64(block: bytes | memoryview) -> int:
    """The checksum APFS stores in ``o_cksum``: Fletcher-64 over the object's bytes after the
    checksum field, taken as little-endian 32-bit words, modulo 2^32 - 1 (Apple File System
    Reference, "Objects": ``o_cksum``)."""
    words = struct.unpack_from(f"<{(len(block) - 8) // 4}I", block, 8)
    mod = 0xFFFFFFFF
    sum1 = sum(words) % mod
    sum2 = sum(itertools.accumulate(words)) % mod
    check_low = mod - ((sum1 + sum2) % mod)
    check_high = mod - ((sum1 + check_low) % mod)
    return int((check_high << 32) | check_low)


@dataclass(frozen=True)
class _Entry:
    key: bytes
    value: bytes
    #: Absolute byte offset of the value in the container, for findings.
    offset: int


@dataclass(frozen=True)
class _BNode:
    paddr: int
    level: int
    leaf: bool
    root: bool
    entries: tuple[_Entry, ...]
    #: (bt_flags, node_size, key_size, val_size) from the root's btree_info, else None.
    info: tuple[int, int, int, int] | None
    #: Each entry's sort key, decoded once: (oid, xid) in an object map, (object id, record
    #: type) in a file-system tree; searches bisect it.
    keys: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class _Record:
    oid: int
    kind: int
    key: bytes
    value: bytes
    offset: int


@dataclass(frozen=True)
class _Inode:
    oid: int
    private_id: int
    bsd_flags: int
    mode: int
    nlink: int
    dstream_size: int
    offset: int


@dataclass(frozen=True)
class _Xattr:
    name: str
    embedded: bytes | None
    stream_oid: int
    stream_size: int
    offset: int


@dataclass(frozen=True)
class VolumeInfo:
    """What the volume superblock says, for ``inspect`` and findings."""

    name: str
    index: int
    encrypted: bool
    case_insensitive: bool
    sealed: bool
    superblock_offset: int


class Container:
    """An APFS container read from ``fh`` (the whole partition). ``volumes`` lists every
    volume it holds; an encrypted or sealed one is listed and refuses to be walked."""

    def __init__(self, fh: BinaryIO, path: str = "") -> None:
        self.fh = fh
        self.path = path
        fh.seek(0, io.SEEK_END)
        self.size = fh.tell()
        self.block_size = NX_MINIMUM_BLOCK_SIZE
        self.block_count = self.size // NX_MINIMUM_BLOCK_SIZE
        self._cache: OrderedDict[int, _BNode] = OrderedDict()
        head = self._raw(0, NX_MINIMUM_BLOCK_SIZE, "container superblock")
        if head[32:36] != NX_MAGIC:
            raise self.error(32, f"no APFS container superblock (magic {head[32:36]!r}, "
                                 "expected b'NXSB')")
        block_size, block_count = struct.unpack_from("<IQ", head, 36)
        if (block_size < NX_MINIMUM_BLOCK_SIZE or block_size > NX_MAXIMUM_BLOCK_SIZE
                or block_size & (block_size - 1)):
            raise self.error(36, f"block size {block_size} is not a power of two between "
                                 f"{NX_MINIMUM_BLOCK_SIZE} and {NX_MAXIMUM_BLOCK_SIZE}")
        self.block_size = block_size
        if block_count == 0:
            raise self.error(40, "the container claims 0 blocks")
        self.block_count = block_count
        block0 = self.read_object(0, "container superblock (block 0)")
        self.superblock, self.superblock_paddr = self._latest_superblock(block0)
        sb = self.superblock
        self.xid = _OBJ.unpack_from(sb, 0)[2]
        incompatible = struct.unpack_from("<Q", sb, 64)[0]
        if incompatible & NX_INCOMPAT_FUSION:
            raise self.error(self.superblock_paddr * block_size + 64,
                             "a Fusion container (two devices) cannot be read from one image")
        omap_oid = struct.unpack_from("<Q", sb, 160)[0]
        self._omap_root = self._omap_tree_root(omap_oid, "container object map")
        max_fs = min(struct.unpack_from("<I", sb, 180)[0], NX_MAX_FILE_SYSTEMS)
        fs_oids = struct.unpack_from(f"<{NX_MAX_FILE_SYSTEMS}Q", sb, 184)
        self.volumes: list[ApfsVolume] = []
        for index, oid in enumerate(fs_oids[:max_fs or NX_MAX_FILE_SYSTEMS]):
            if oid:
                where = self.superblock_paddr * block_size + 184 + 8 * index
                paddr = self.omap_lookup(self._omap_root, oid, self.xid, where)
                self.volumes.append(ApfsVolume(self, paddr, oid))

    # -- errors and raw reads ---------------------------------------------------------------

    def error(self, offset: int | None, reason: str) -> ParseError:
        return ParseError(FORMAT, self.path, offset, reason)

    def _raw(self, offset: int, size: int, what: str) -> bytes:
        if offset < 0 or offset + size > self.size:
            raise self.error(offset, f"{what} needs {size} bytes at offset {offset:#x} but the "
                                     f"container ends at {self.size:#x}")
        data = self.read_exact(offset, size)
        if len(data) != size:
            raise self.error(offset, f"{what}: short read ({len(data)} of {size} bytes)")
        return data

    def read_exact(self, offset: int, size: int) -> bytes:
        """``size`` bytes at ``offset``, fewer only at the end of the stream: a raw reader
        (a disk image's, say) may return less than asked without being at the end."""
        self.fh.seek(offset)
        data = self.fh.read(size)
        while len(data) < size:
            more = self.fh.read(size - len(data))
            if not more:
                break
            data += more
        return data

    def read_block(self, paddr: int, what: str, where: int | None = None) -> bytes:
        """Block ``paddr``; ``where`` is the offset of the field that named it."""
        if paddr < 0 or paddr >= self.block_count:
            raise self.error(where, f"{what} at block {paddr:#x} is outside the container "
                                    f"({self.block_count:#x} blocks)")
        offset = paddr * self.block_size
        if offset + self.block_size > self.size:
            raise self.error(where if where is not None else offset,
                             f"{what} at block {paddr:#x} (offset {offset:#x}) is past the end "
                             f"of the image ({self.size:#x} bytes): truncated container")
        return self._raw(offset, self.block_size, what)

    def read_object(self, paddr: int, what: str, where: int | None = None) -> bytes:
        """Block ``paddr`` as an object whose Fletcher-64 checksum must match."""
        block = self.read_block(paddr, what, where)
        stored = struct.unpack_from("<Q", block, 0)[0]
        if stored != fletcher64(block):
            raise self.error(paddr * self.block_size,
                             f"{what} at block {paddr:#x}: checksum mismatch (stored "
                             f"{stored:#018x}, computed {fletcher64(block):#018x})")
        return block

    # -- checkpoint -------------------------------------------------------------------------

    def _latest_superblock(self, block0: bytes) -> tuple[bytes, int]:
        """The container superblock with the highest xid and a valid checksum in the
        checkpoint descriptor area (Apple File System Reference, "Mounting an Apple File
        System Partition"); block 0 is only a copy that locates that area."""
        desc_blocks, _data_blocks, desc_base = struct.unpack_from("<IIq", block0, 104)
        if desc_blocks & XP_DESC_IS_BTREE:
            raise self.error(104, "the checkpoint descriptor area is a B-tree (not written by "
                                  "hdiutil or newfs_apfs); not supported")
        if desc_blocks == 0 or desc_blocks > MAX_CHECKPOINT_DESC_BLOCKS:
            raise self.error(104, f"checkpoint descriptor area of {desc_blocks} blocks "
                                  f"(expected 1 to {MAX_CHECKPOINT_DESC_BLOCKS})")
        if desc_base < 0 or desc_base + desc_blocks > self.block_count:
            raise self.error(112, f"checkpoint descriptor area (blocks {desc_base:#x} + "
                                  f"{desc_blocks}) is outside the container")
        best: tuple[int, int, bytes] | None = None
        uuid = block0[72:88]
        for index in range(desc_blocks):
            paddr = desc_base + index
            offset = paddr * self.block_size
            if offset + self.block_size > self.size:
                break  # a truncated area: the superblocks before the cut still count
            block = self._raw(offset, self.block_size, "checkpoint descriptor")
            _, _, xid, otype, _ = _OBJ.unpack_from(block, 0)
            if (otype & OBJECT_TYPE_MASK != OBJECT_TYPE_NX_SUPERBLOCK
                    or block[32:36] != NX_MAGIC or block[72:88] != uuid
                    or struct.unpack_from("<I", block, 36)[0] != self.block_size
                    or struct.unpack_from("<Q", block, 0)[0] != fletcher64(block)):
                continue
            if best is None or xid > best[0]:
                best = (xid, paddr, block)
        if best is None:
            raise self.error(desc_base * self.block_size,
                             "no valid container superblock in the checkpoint descriptor area")
        return best[2], best[1]

    # -- B-trees ----------------------------------------------------------------------------

    def node(self, paddr: int, what: str, subtype: int, where: int | None = None,
             expect_oid: int | None = None) -> _BNode:
        """The B-tree node at ``paddr``, checked and parsed (cached)."""
        cached = self._cache.get(paddr)
        if cached is not None:
            self._cache.move_to_end(paddr)
            return cached
        block = self.read_object(paddr, what, where)
        node = self._parse_node(block, paddr, what, subtype, expect_oid)
        self._cache[paddr] = node
        if len(self._cache) > NODE_CACHE:
            self._cache.popitem(last=False)
        return node

    def _parse_node(self, block: bytes, paddr: int, what: str, subtype: int,
                    expect_oid: int | None) -> _BNode:
        base = paddr * self.block_size
        _, oid, _, otype, osub = _OBJ.unpack_from(block, 0)
        kind = otype & OBJECT_TYPE_MASK
        if kind not in (OBJECT_TYPE_BTREE, OBJECT_TYPE_BTREE_NODE) or osub != subtype:
            raise self.error(base + 24, f"{what} at block {paddr:#x} is object type "
                                        f"{kind:#x}/{osub:#x}, not a B-tree node of subtype "
                                        f"{subtype:#x}")
        if expect_oid is not None and oid != expect_oid:
            raise self.error(base + 8, f"{what} at block {paddr:#x} is object {oid:#x}, not "
                                       f"{expect_oid:#x} as the object map says")
        flags, level, nkeys, toc_off, toc_len = _NODE.unpack_from(block, 32)
        root = bool(flags & BTNODE_ROOT)
        leaf = bool(flags & BTNODE_LEAF)
        if root != (kind == OBJECT_TYPE_BTREE):
            raise self.error(base + 32, f"{what}: root flag disagrees with the object type")
        if leaf != (level == 0) or level > MAX_BTREE_LEVEL:
            raise self.error(base + 34, f"{what}: level {level} with leaf flag {leaf}")
        if flags & BTNODE_HASHED:
            raise self.error(base + 32, f"{what}: hashed B-tree (a sealed system volume); "
                                        "not supported")
        fixed = bool(flags & BTNODE_FIXED_KV_SIZE)
        entry_size = _KVOFF.size if fixed else _KVLOC.size
        bs = self.block_size
        val_end = bs - (BTREE_INFO_SIZE if root else 0)
        toc_start = BTREE_NODE_DATA + toc_off
        key_start = toc_start + toc_len
        if key_start > val_end:
            raise self.error(base + 40, f"{what}: table of contents ({toc_off}+{toc_len}) runs "
                                        "past the node")
        if nkeys * entry_size > toc_len:
            raise self.error(base + 36, f"{what}: {nkeys} entries claimed but the table of "
                                        f"contents holds {toc_len // entry_size}")
        info = None
        if root:
            info = struct.unpack_from("<IIII", block, bs - BTREE_INFO_SIZE)
            if info[1] != bs:
                raise self.error(base + bs - BTREE_INFO_SIZE + 4,
                                 f"{what}: node size {info[1]} differs from the block size")
        # An object map tree has fixed 16-byte keys and values (omap_key_t, omap_val_t); a
        # file-system tree has variable ones.
        if fixed != (subtype == OBJECT_TYPE_OMAP) or (
                info is not None and fixed and (info[2], info[3]) != (OMAP_KEY_SIZE,
                                                                      OMAP_VAL_SIZE)):
            raise self.error(base + 32, f"{what}: entry sizes do not fit the tree's kind")
        entries = []
        for i in range(nkeys):
            at = toc_start + i * entry_size
            if fixed:
                k_off, v_off = _KVOFF.unpack_from(block, at)
                k_len = -1
                v_len = -1
            else:
                k_off, k_len, v_off, v_len = _KVLOC.unpack_from(block, at)
            entries.append((at, k_off, k_len, v_off, v_len))
        parsed = []
        for at, k_off, k_len, v_off, v_len in entries:
            if k_len < 0:  # fixed sizes: only object map trees have them
                k_len = OMAP_KEY_SIZE
                v_len = OMAP_VAL_SIZE if leaf else 8
            k_at = key_start + k_off
            if k_at + k_len > val_end:
                raise self.error(base + at, f"{what}: key {k_off}+{k_len} runs past the node")
            if v_off == BTOFF_INVALID:
                if not leaf:
                    raise self.error(base + at, f"{what}: index entry without a child")
                continue  # a ghost: a key without a value
            v_at = val_end - v_off
            if v_at < key_start or v_at + v_len > val_end:
                raise self.error(base + at, f"{what}: value {v_off}+{v_len} lies outside the "
                                            "value area")
            parsed.append(_Entry(block[k_at:k_at + k_len], block[v_at:v_at + v_len],
                                 base + v_at))
        keys: list[tuple[int, int]] = []
        for e in parsed:
            if subtype == OBJECT_TYPE_OMAP:
                k_oid, k_xid = _OMAP_KEY.unpack_from(e.key, 0)
                keys.append((k_oid, k_xid))
            else:
                if len(e.key) < 8:
                    raise self.error(e.offset, f"{what}: record key shorter than 8 bytes")
                value = struct.unpack_from("<Q", e.key, 0)[0]
                keys.append((value & OBJ_ID_MASK, value >> OBJ_TYPE_SHIFT))
        return _BNode(paddr, level, leaf, root, tuple(parsed),
                      None if info is None else (info[0], info[1], info[2], info[3]),
                      tuple(keys))

    def _omap_tree_root(self, omap_oid: int, what: str) -> _BNode:
        obj = self.read_object(omap_oid, what)
        otype = _OBJ.unpack_from(obj, 0)[3]
        if otype & OBJECT_TYPE_MASK != OBJECT_TYPE_OMAP:
            raise self.error(omap_oid * self.block_size + 24,
                             f"{what} at block {omap_oid:#x} is object type "
                             f"{otype & OBJECT_TYPE_MASK:#x}, not an object map")
        tree_oid = struct.unpack_from("<Q", obj, 48)[0]
        root = self.node(tree_oid, f"{what} B-tree", OBJECT_TYPE_OMAP,
                         omap_oid * self.block_size + 48)
        if not root.root:
            raise self.error(tree_oid * self.block_size + 32, f"{what}: B-tree root lacks the "
                                                               "root flag")
        return root

    def omap_lookup(self, root: _BNode, oid: int, xid: int, where: int) -> int:
        """The physical block of virtual object ``oid`` as of transaction ``xid``."""
        node = root
        seen = {node.paddr}
        while True:
            # The last entry not above (oid, xid): the newest version at or before xid.
            i = bisect.bisect_right(node.keys, (oid, xid)) - 1
            best = node.entries[i] if i >= 0 else None
            if node.leaf:
                if best is None or node.keys[i][0] != oid:
                    raise self.error(where, f"object {oid:#x} is not in the object map")
                flags, _size, paddr = _OMAP_VAL.unpack_from(best.value, 0)
                if flags & OMAP_VAL_DELETED:
                    raise self.error(best.offset, f"object {oid:#x} is deleted in the object "
                                                  "map")
                if flags & OMAP_VAL_ENCRYPTED:
                    raise self.error(best.offset, f"object {oid:#x} is encrypted")
                return int(paddr)
            if best is None:
                raise self.error(where, f"object {oid:#x} is not in the object map")
            child = struct.unpack_from("<Q", best.value, 0)[0]
            node = self._child(node, child, "object map B-tree node", OBJECT_TYPE_OMAP,
                               best.offset, seen)

    def _child(self, parent: _BNode, paddr: int, what: str, subtype: int, where: int,
               seen: set[int], expect_oid: int | None = None) -> _BNode:
        if paddr in seen:
            raise self.error(where, f"{what} {paddr:#x} is reached twice: a B-tree loop")
        seen.add(paddr)
        node = self.node(paddr, what, subtype, where, expect_oid)
        if node.level != parent.level - 1:
            raise self.error(where, f"{what} at block {paddr:#x} has level {node.level} below "
                                    f"a node of level {parent.level}: not a tree")
        return node


class ApfsVolume:
    """One APFS volume (``apfs_superblock_t``) as a read-only ``Volume``."""

    def __init__(self, container: Container, paddr: int, oid: int) -> None:
        self.container = container
        bs = container.block_size
        self.offset = paddr * bs
        sb = container.read_object(paddr, "volume superblock")
        _, header_oid, xid, otype, _ = _OBJ.unpack_from(sb, 0)
        if otype & OBJECT_TYPE_MASK != OBJECT_TYPE_FS or sb[32:36] != APFS_MAGIC:
            raise container.error(self.offset + 32, f"volume superblock at block {paddr:#x} "
                                                    f"has magic {sb[32:36]!r}, not b'APSB'")
        if header_oid != oid:
            raise container.error(self.offset + 8, f"volume superblock is object "
                                                   f"{header_oid:#x}, not {oid:#x}")
        self.xid = xid
        index = struct.unpack_from("<I", sb, 36)[0]
        incompatible = struct.unpack_from("<Q", sb, 56)[0]
        fs_flags = struct.unpack_from("<Q", sb, 264)[0]
        raw_name = sb[704:960].split(b"\0", 1)[0]
        self.name = raw_name.decode("utf-8", "surrogateescape")
        self.info = VolumeInfo(
            name=self.name,
            index=index,
            encrypted=not fs_flags & APFS_FS_UNENCRYPTED,
            case_insensitive=bool(incompatible & APFS_INCOMPAT_CASE_INSENSITIVE),
            sealed=bool(incompatible & APFS_INCOMPAT_SEALED_VOLUME),
            superblock_offset=self.offset,
        )
        self._hashed_names = bool(incompatible & (APFS_INCOMPAT_CASE_INSENSITIVE
                                                  | APFS_INCOMPAT_NORMALIZATION_INSENSITIVE))
        self._omap_oid = struct.unpack_from("<Q", sb, 128)[0]
        self._root_tree_oid = struct.unpack_from("<Q", sb, 136)[0]
        self._omap_root: _BNode | None = None
        self._paths: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"ApfsVolume({self.name!r}, offset={self.offset:#x})"

    # -- access checks ----------------------------------------------------------------------

    def _check_readable(self) -> None:
        if self.info.encrypted:
            raise self.container.error(self.offset + 264, f"volume {self.name!r} is encrypted "
                                                          "(FileVault or an encrypted image); "
                                                          "its files cannot be read")
        if self.info.sealed:
            raise self.container.error(self.offset + 56, f"volume {self.name!r} is a sealed "
                                                         "system volume; not supported")

    def _tree_root(self) -> _BNode:
        c = self.container
        if self._omap_root is None:
            self._check_readable()
            self._omap_root = c._omap_tree_root(self._omap_oid, "volume object map")
        paddr = c.omap_lookup(self._omap_root, self._root_tree_oid, self.xid,
                              self.offset + 136)
        root = c.node(paddr, "file-system tree root", OBJECT_TYPE_FSTREE, self.offset + 136,
                      self._root_tree_oid)
        if not root.root:
            raise c.error(paddr * c.block_size + 32, "file-system tree root lacks the root flag")
        return root

    # -- record scans -----------------------------------------------------------------------

    def _scan(self, oid: int, kind_lo: int, kind_hi: int) -> Iterator[_Record]:
        """Every record of object ``oid`` with a type in ``[kind_lo, kind_hi]``, in key
        order. A node reached twice in one scan is a loop and refused."""
        c = self.container
        root = self._tree_root()
        assert self._omap_root is not None
        omap = self._omap_root
        lo, hi = (oid, kind_lo), (oid, kind_hi)
        seen = {root.paddr}

        def walk(node: _BNode) -> Iterator[_Record]:
            keys = node.keys
            if node.leaf:
                for i in range(bisect.bisect_left(keys, lo), len(keys)):
                    if keys[i] > hi:
                        return
                    e = node.entries[i]
                    yield _Record(keys[i][0], keys[i][1], e.key, e.value, e.offset)
                return
            # The child before the first key not below lo may hold records of lo too.
            start = max(bisect.bisect_left(keys, lo) - 1, 0)
            for i in range(start, len(keys)):
                if keys[i] > hi:
                    return
                e = node.entries[i]
                if len(e.value) < 8:
                    raise c.error(e.offset, "file-system index entry shorter than 8 bytes")
                child_oid = struct.unpack_from("<Q", e.value, 0)[0]
                paddr = c.omap_lookup(omap, child_oid, self.xid, e.offset)
                child = c._child(node, paddr, "file-system tree node", OBJECT_TYPE_FSTREE,
                                 e.offset, seen, child_oid)
                yield from walk(child)

        yield from walk(root)

    def _inode(self, oid: int, where: int) -> tuple[_Inode, list[_Xattr]]:
        inode: _Inode | None = None
        xattrs: list[_Xattr] = []
        for rec in self._scan(oid, APFS_TYPE_INODE, APFS_TYPE_XATTR):
            if rec.kind == APFS_TYPE_INODE:
                inode = self._parse_inode(rec)
            else:
                xattrs.append(self._parse_xattr(rec))
        if inode is None:
            raise self.container.error(where, f"directory record names inode {oid:#x}, which "
                                              "does not exist")
        return inode, xattrs

    def _parse_inode(self, rec: _Record) -> _Inode:
        c = self.container
        v = rec.value
        if len(v) < INODE_FIXED_SIZE:
            raise c.error(rec.offset, f"inode {rec.oid:#x} is {len(v)} bytes, shorter than "
                                      f"{INODE_FIXED_SIZE}")
        f = _INODE.unpack_from(v, 0)
        private_id, nlink, bsd_flags, mode = f[1], f[7], f[10], f[13]
        dstream_size = 0
        # xf_blob_t: count u16, used u16, then count x_field_t (type u8, flags u8, size u16),
        # then each field's data padded to 8 bytes.
        if len(v) >= INODE_FIXED_SIZE + 4:
            count, used = struct.unpack_from("<HH", v, INODE_FIXED_SIZE)
            fields_at = INODE_FIXED_SIZE + 4
            data_at = fields_at + 4 * count
            if data_at + used > len(v):
                raise c.error(rec.offset + INODE_FIXED_SIZE, f"inode {rec.oid:#x}: {count} "
                                                             "extended fields run past the "
                                                             "record")
            for i in range(count):
                x_type, _x_flags, x_size = struct.unpack_from("<BBH", v, fields_at + 4 * i)
                if data_at + x_size > len(v):
                    raise c.error(rec.offset + fields_at + 4 * i,
                                  f"inode {rec.oid:#x}: extended field runs past the record")
                if x_type == INO_EXT_TYPE_DSTREAM:
                    if x_size < _DSTREAM.size:
                        raise c.error(rec.offset + data_at, f"inode {rec.oid:#x}: data "
                                                            "stream field too short")
                    dstream_size = _DSTREAM.unpack_from(v, data_at)[0]
                data_at += (x_size + 7) & ~7
        return _Inode(rec.oid, private_id, bsd_flags, mode, nlink, dstream_size, rec.offset)

    def _parse_xattr(self, rec: _Record) -> _Xattr:
        c = self.container
        # j_xattr_key_t: j_key_t, name_len u16, name (NUL-terminated).
        if len(rec.key) < 10:
            raise c.error(rec.offset, "extended attribute key too short")
        name_len = struct.unpack_from("<H", rec.key, 8)[0]
        raw = rec.key[10:10 + name_len]
        name = raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
        if len(rec.value) < _XATTR_VAL.size:
            raise c.error(rec.offset, f"extended attribute {name!r}: value too short")
        flags, length = _XATTR_VAL.unpack_from(rec.value, 0)
        data = rec.value[4:4 + length]
        if len(data) != length:
            raise c.error(rec.offset, f"extended attribute {name!r}: {length} bytes claimed, "
                                      f"{len(data)} present")
        if flags & XATTR_DATA_STREAM:
            if length < _XATTR_DSTREAM.size:
                raise c.error(rec.offset, f"extended attribute {name!r}: stream reference "
                                          "too short")
            stream_oid, size = _XATTR_DSTREAM.unpack_from(data, 0)
            return _Xattr(name, None, stream_oid, size, rec.offset)
        if not flags & XATTR_DATA_EMBEDDED:
            raise c.error(rec.offset, f"extended attribute {name!r} is neither embedded nor a "
                                      "stream")
        return _Xattr(name, data, 0, len(data), rec.offset)

    def _extents(self, stream_oid: int) -> list[tuple[int, int, int, int]]:
        """(logical offset, length, physical block or 0 for a hole, record offset)."""
        c = self.container
        out: list[tuple[int, int, int, int]] = []
        expected = 0
        for rec in self._scan(stream_oid, APFS_TYPE_FILE_EXTENT, APFS_TYPE_FILE_EXTENT):
            if len(rec.key) < 16 or len(rec.value) < _FILE_EXTENT_VAL.size:
                raise c.error(rec.offset, "file extent record too short")
            logical = struct.unpack_from("<Q", rec.key, 8)[0]
            len_flags, phys = _FILE_EXTENT_VAL.unpack_from(rec.value, 0)
            length = len_flags & J_FILE_EXTENT_LEN_MASK
            if length == 0 or length % c.block_size:
                raise c.error(rec.offset, f"file extent of {length} bytes is not a whole number "
                                          "of blocks")
            if logical != expected:
                if logical < expected:
                    raise c.error(rec.offset, f"file extent at {logical:#x} overlaps the "
                                              f"previous one (which ends at {expected:#x})")
                out.append((expected, logical - expected, 0, rec.offset))  # implicit hole
            if phys and (phys + (length + c.block_size - 1) // c.block_size > c.block_count):
                raise c.error(rec.offset, f"file extent at block {phys:#x} + {length} bytes "
                                          "is outside the container")
            out.append((logical, length, phys, rec.offset))
            expected = logical + length
            if len(out) > MAX_EXTENTS:
                raise c.error(rec.offset, f"more than {MAX_EXTENTS} extents in one file")
        return out

    def _stream(self, stream_oid: int, size: int) -> BinaryIO:
        raw = _ExtentReader(self.container, self._extents(stream_oid), size)
        return io.BufferedReader(raw, buffer_size=1 << 16)

    def _xattr_bytes(self, xattr: _Xattr) -> bytes:
        if xattr.embedded is not None:
            return xattr.embedded
        if xattr.stream_size > MAX_XATTR_READ:
            raise self.container.error(xattr.offset, f"extended attribute {xattr.name!r} of "
                                                     f"{xattr.stream_size} bytes is over "
                                                     f"{MAX_XATTR_READ}")
        return self._stream(xattr.stream_oid, xattr.stream_size).read()

    # -- Volume -----------------------------------------------------------------------------

    def walk(self) -> Iterator[Node]:
        """Every entry under the root directory, a directory before its contents, each
        directory's entries sorted by name."""
        c = self.container
        self._tree_root()
        visited = {ROOT_DIR_INO_NUM}
        stack: list[tuple[str, int, int]] = [("", ROOT_DIR_INO_NUM, 0)]
        while stack:
            prefix, dir_oid, depth = stack.pop()
            children: list[tuple[str, int, int, str | None]] = []
            for entry in self._dir_entries(dir_oid):
                if len(children) == MAX_DIR_ENTRIES:
                    raise c.error(entry[2], f"more than {MAX_DIR_ENTRIES} entries in directory "
                                            f"{prefix[:-1][:200] or '/'!r}")
                children.append(entry)
            children.sort(key=lambda e: e[0])
            pending: list[tuple[str, int, int]] = []
            for name, file_id, where, problem in children:
                path = prefix + name
                if problem is not None:
                    yield Node(path, NodeKind.OTHER, 0, 0, offset=where, error=problem)
                    continue
                node = self._node(path, file_id, where)
                yield node
                if node.kind is NodeKind.DIRECTORY and node.error is None:
                    if file_id in visited:
                        raise c.error(where, f"directory {path!r} (inode {file_id:#x}) is "
                                             "reached twice: a directory loop")
                    if depth + 1 >= MAX_DEPTH:
                        raise c.error(where, f"directories nested deeper than {MAX_DEPTH} "
                                             f"levels at {path[:200]!r}")
                    visited.add(file_id)
                    pending.append((path + "/", file_id, depth + 1))
            stack.extend(reversed(pending))

    def _dir_entries(self, dir_oid: int) -> Iterator[tuple[str, int, int, str | None]]:
        """(safe name, file id, record offset, problem or None) for each directory record."""
        c = self.container
        for rec in self._scan(dir_oid, APFS_TYPE_DIR_REC, APFS_TYPE_DIR_REC):
            # j_drec_hashed_key_t: name_len_and_hash u32 (length in the low 10 bits);
            # j_drec_key_t: name_len u16. The name includes its NUL.
            if self._hashed_names:
                if len(rec.key) < 12:
                    raise c.error(rec.offset, "directory record key too short")
                name_len = struct.unpack_from("<I", rec.key, 8)[0] & 0x3FF
                raw = rec.key[12:12 + name_len]
            else:
                if len(rec.key) < 10:
                    raise c.error(rec.offset, "directory record key too short")
                name_len = struct.unpack_from("<H", rec.key, 8)[0]
                raw = rec.key[10:10 + name_len]
            if len(raw) != name_len or not raw.endswith(b"\0"):
                raise c.error(rec.offset, "directory record name is not NUL-terminated within "
                                          "its key")
            raw = raw[:-1]
            if len(rec.value) < _DREC_VAL.size:
                raise c.error(rec.offset, "directory record value too short")
            file_id = _DREC_VAL.unpack_from(rec.value, 0)[0]
            name = raw.decode("utf-8", "surrogateescape")
            if name in ("", ".", "..") or "/" in name or "\0" in name:
                safe = name.replace("%", "%25").replace("/", "%2F").replace("\0", "%00")
                safe = {"": "%00", ".": "%2E", "..": "%2E%2E"}.get(safe, safe)
                yield safe, file_id, rec.offset, (f"invalid file name {raw!r} in a directory "
                                                  "record: not read")
            else:
                yield name, file_id, rec.offset, None

    def _node(self, path: str, file_id: int, where: int) -> Node:
        inode, xattrs = self._inode(file_id, where)
        mode = inode.mode
        fmt = stat.S_IFMT(mode)
        if fmt == stat.S_IFDIR:
            self._paths[path] = file_id
            return Node(path, NodeKind.DIRECTORY, 0, mode, offset=inode.offset)
        if fmt == stat.S_IFLNK:
            link = next((x for x in xattrs if x.name == SYMLINK_XATTR), None)
            if link is None:
                return Node(path, NodeKind.SYMLINK, 0, mode, offset=inode.offset,
                            error="symbolic link without its com.apple.fs.symlink attribute")
            target_raw = self._xattr_bytes(link).split(b"\0", 1)[0]
            target = target_raw.decode("utf-8", "surrogateescape")
            return Node(path, NodeKind.SYMLINK, len(target_raw), mode, link_target=target,
                        offset=inode.offset)
        if fmt != stat.S_IFREG:
            return Node(path, NodeKind.OTHER, 0, mode, offset=inode.offset)
        self._paths[path] = file_id
        if inode.bsd_flags & UF_COMPRESSED:
            header = next((x for x in xattrs if x.name == decmpfs.XATTR_NAME), None)
            if header is None:
                return Node(path, NodeKind.FILE, 0, mode, offset=inode.offset,
                            error="compressed (UF_COMPRESSED) without a com.apple.decmpfs "
                                  "attribute")
            try:
                parsed = decmpfs.parse_header(self._xattr_bytes(header),
                                              path=self.container.path, base=header.offset)
            except ParseError as exc:
                return Node(path, NodeKind.FILE, 0, mode, offset=inode.offset,
                            error=exc.reason)
            return Node(path, NodeKind.FILE, parsed.uncompressed_size, mode,
                        offset=inode.offset, error=decmpfs.unsupported_reason(parsed))
        return Node(path, NodeKind.FILE, inode.dstream_size, mode, offset=inode.offset)

    def _resolve(self, path: str) -> int:
        known = self._paths.get(path)
        if known is not None:
            return known
        oid = ROOT_DIR_INO_NUM
        for part in path.split("/"):
            match = next((e for e in self._dir_entries(oid) if e[0] == part), None)
            if match is None or match[3] is not None:
                raise FileNotFoundError(path)
            oid = match[1]
        return oid

    def open(self, path: str) -> BinaryIO:
        """The content of the regular file at ``path`` as macOS reads it."""
        self._tree_root()
        file_id = self._resolve(path)
        inode, xattrs = self._inode(file_id, self.offset)
        if stat.S_IFMT(inode.mode) != stat.S_IFREG:
            raise IsADirectoryError(path)
        if inode.bsd_flags & UF_COMPRESSED:
            header = next((x for x in xattrs if x.name == decmpfs.XATTR_NAME), None)
            if header is None:
                raise self.container.error(inode.offset, f"{path}: compressed without a "
                                                         "com.apple.decmpfs attribute")
            parsed = decmpfs.parse_header(self._xattr_bytes(header),
                                          path=self.container.path, base=header.offset)
            fork = next((x for x in xattrs if x.name == RESOURCE_FORK_XATTR), None)
            source: decmpfs.ByteSource | None = None
            if fork is not None and fork.embedded is not None:
                source = _BytesSource(fork.embedded, fork.offset, self.container)
            elif fork is not None:
                source = _ExtentSource(self.container, self._extents(fork.stream_oid),
                                       fork.stream_size, fork.offset)
            return decmpfs.open_decompressed(parsed, source, path=self.container.path,
                                             attr_offset=header.offset)
        return self._stream(inode.private_id, inode.dstream_size)


class _ExtentReader(RandomAccessReader):
    """A file's bytes through its extents: holes and the tail past the last extent read as
    zeros; reads go straight to the container, one request at a time."""

    def __init__(self, container: Container, extents: list[tuple[int, int, int, int]],
                 size: int) -> None:
        super().__init__()
        self._c = container
        self._extents = extents
        self._size = size
        self._index = 0

    def _length(self) -> int:
        return self._size

    def _negative_position(self, pos: int) -> int:
        return 0  # a seek before the start stops at it

    def _find(self, pos: int) -> tuple[int, int, int, int] | None:
        ext = self._extents
        if self._index < len(ext) and ext[self._index][0] <= pos:
            i = self._index
        else:
            lo, hi = 0, len(ext)
            while lo < hi:
                mid = (lo + hi) // 2
                if ext[mid][0] <= pos:
                    lo = mid + 1
                else:
                    hi = mid
            i = lo - 1
        while 0 <= i < len(ext) and ext[i][0] + ext[i][1] <= pos:
            i += 1
        if i < 0 or i >= len(ext) or ext[i][0] > pos:
            return None
        self._index = i
        return ext[i]

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        want = min(len(view), self._size - self._pos)
        if want <= 0:
            return 0
        extent = self._find(self._pos)
        if extent is None:  # extents run contiguously from 0: this is past the last one
            n = want
            view[:n] = bytes(n)
        else:
            logical, length, phys, where = extent
            n = min(want, logical + length - self._pos)
            if phys == 0:
                view[:n] = bytes(n)
            else:
                offset = phys * self._c.block_size + (self._pos - logical)
                if offset + n > self._c.size:
                    raise self._c.error(where, f"file extent at {offset:#x} runs past the end "
                                               f"of the image ({self._c.size:#x} bytes)")
                data = self._c.read_exact(offset, n)
                if len(data) != n:
                    raise self._c.error(offset, "short read in a file extent")
                view[:n] = data
        self._pos += n
        return n


class _ExtentSource:
    """A data stream (a resource fork) as ``decmpfs.ByteSource``: exact reads through its
    extents, offsets in findings mapped to where the bytes lie in the container."""

    def __init__(self, container: Container, extents: list[tuple[int, int, int, int]],
                 size: int, record_offset: int) -> None:
        self.size = size
        self._c = container
        self._extents = extents
        self._record_offset = record_offset
        self._reader = _ExtentReader(container, extents, size)

    def read_at(self, offset: int, size: int) -> bytes:
        if offset < 0 or size < 0 or offset + size > self.size:
            raise self._c.error(self.where(offset), f"{size} bytes at {offset:#x} are outside "
                                                    f"the {self.size}-byte stream")
        self._reader.seek(offset)
        out = bytearray()
        while len(out) < size:
            chunk = bytearray(min(size - len(out), 1 << 16))
            n = self._reader.readinto(chunk)
            if n <= 0:
                raise self._c.error(self.where(offset), "short read in a data stream")
            out += chunk[:n]
        return bytes(out)

    def where(self, offset: int) -> int:
        for logical, length, phys, _ in self._extents:
            if logical <= offset < logical + length and phys:
                return phys * self._c.block_size + offset - logical
        return self._record_offset


class _BytesSource:
    """An embedded attribute value as ``decmpfs.ByteSource``."""

    def __init__(self, data: bytes, record_offset: int, container: Container) -> None:
        self.size = len(data)
        self._data = data
        self._record_offset = record_offset
        self._c = container

    def read_at(self, offset: int, size: int) -> bytes:
        if offset < 0 or size < 0 or offset + size > self.size:
            raise self._c.error(self._record_offset, f"{size} bytes at {offset:#x} are outside "
                                                     f"the {self.size}-byte attribute")
        return self._data[offset:offset + size]

    def where(self, offset: int) -> int:
        return self._record_offset


def read_container(fh: BinaryIO, path: str = "") -> Container:
    """The APFS container in ``fh`` (the partition, from its first byte)."""
    try:
        return Container(fh, path)
    except struct.error as exc:  # pragma: no cover - every unpack is preceded by a size check
        raise ParseError(FORMAT, path, None, f"malformed structure: {exc}") from None


def is_apfs(head: bytes) -> bool:
    """Whether ``head`` (the partition's first 36 bytes or more) starts an APFS container."""
    return len(head) >= 36 and head[32:36] == NX_MAGIC


__all__ = ["ApfsVolume", "Container", "VolumeInfo", "fletcher64", "is_apfs", "read_container"]
