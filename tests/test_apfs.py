"""The APFS reader: every feature on containers written by fixtures/apfs_builder.py, the real
APFS disk images in ../shared/samples/containers/ checked file by file against 7-Zip, and
hostile containers that must give a ParseError naming an offset, never a hang or a crash."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import struct
import subprocess
import tracemalloc
from pathlib import Path

import pytest
from samples import CONTAINERS as SAMPLES
from samples import container

from bundlelint.errors import ParseError
from bundlelint.parsers import decmpfs
from bundlelint.parsers.apfs import ApfsVolume, fletcher64, is_apfs, read_container
from bundlelint.parsers.volume import Node, NodeKind
from fixtures.apfs_builder import (
    BLOCK,
    ROOT_TREE_OID,
    Entry,
    VolumeSpec,
    build_apfs,
    build_container,
    name_hash,
    seal,
    zlib_payload,
    zlib_resource_fork,
)
from fixtures.apfs_builder import fletcher64 as plain_fletcher64
from fixtures.hfsplus_builder import COMPRESSIONS

ROOT = Path(__file__).resolve().parent.parent
APFS_SAMPLES = {
    "01-juhflow-devid-notarized-apfs.dmg":
        "bd2846bb4e6e5bef7827924a8fa7ba69426b645d3c10ac49e0b1bc288bd31fcc",
    "06-sparkle-apfs-lzma-adhoc-signed.dmg":
        "b22c4db20b107661775a5c9aec030eae2fd279ef113b48248a84f12e9a10172d",
}

BIG = bytes(range(256)) * 1000  # 256,000 bytes: four 64 KiB decmpfs blocks
SPARSE = b"A" * 4096 + bytes(8192) + b"B" * 100 + bytes(20000)
ENTRIES = [
    Entry("README.txt", b"hello\n"),
    Entry("App.app/Contents/MacOS/app", BIG, mode=0o755),
    Entry("App.app/Contents/Info.plist", b"<plist/>"),
    Entry("Applications", kind="symlink", target="/Applications"),
    Entry("App.app/Contents/same-as-readme", kind="hardlink", target="README.txt"),
    # Holes are extents with physical block 0 (INODE_IS_SPARSE); the tail is one too.
    Entry("sparse.bin", SPARSE, extents=[(4096, False), (8192, True), (4096, False),
                                         (20480, True)]),
    Entry("inline-zlib", b"zz" * 3000, decmpfs=(3, zlib_payload(b"zz" * 3000), None)),
    Entry("inline-stored", b"tiny", decmpfs=(3, b"\xff" + b"tiny", None)),
    Entry("type1", b"plain", decmpfs=(1, b"plain", None)),
    Entry("fork-zlib", BIG * 2, decmpfs=(4, b"", zlib_resource_fork(BIG * 2))),
    Entry("fork-raw", BIG, decmpfs=(4, b"", zlib_resource_fork(BIG, raw_blocks=True))),
    Entry("fifo", kind="fifo"),
    Entry("Empty", kind="dir"),
    Entry("caf\u00e9/na\u00efve.txt", b"unicode"),
]
CONTENT = {e.path: e.data for e in ENTRIES if e.kind == "file"}
CONTENT["App.app/Contents/same-as-readme"] = b"hello\n"


def _volume(image: bytes) -> ApfsVolume:
    [volume] = read_container(io.BytesIO(image), "test.apfs").volumes
    return volume


def _tree(volume: ApfsVolume) -> dict[str, tuple[str, int, str | None]]:
    """path -> (kind, size, sha256 of the content or the symlink target)."""
    out: dict[str, tuple[str, int, str | None]] = {}
    for node in volume.walk():
        assert node.error is None, (node.path, node.error)
        detail = None
        if node.kind is NodeKind.FILE:
            data = volume.open(node.path).read()
            assert len(data) == node.size
            detail = hashlib.sha256(data).hexdigest()
        elif node.kind is NodeKind.SYMLINK:
            detail = node.link_target
        out[node.path] = (node.kind.value, node.size, detail)
    return out


@pytest.fixture(scope="module")
def image() -> bytes:
    return build_apfs(ENTRIES, volume_name="Fixture")


def test_fixture_reads_every_feature(image: bytes) -> None:
    volume = _volume(image)
    assert volume.name == "Fixture" and not volume.info.encrypted
    nodes = {n.path: n for n in volume.walk()}
    for path, data in CONTENT.items():
        assert nodes[path].kind is NodeKind.FILE and nodes[path].size == len(data), path
        assert volume.open(path).read() == data, path
    link = nodes["Applications"]
    assert link.kind is NodeKind.SYMLINK and link.link_target == "/Applications"
    assert link.size == len("/Applications")  # lstat's st_size: the target's length
    assert nodes["fifo"].kind is NodeKind.OTHER
    assert nodes["Empty"].kind is NodeKind.DIRECTORY
    assert nodes["App.app/Contents/MacOS/app"].mode == 0o100755
    # A directory comes before anything inside it, and every offset lies in the image.
    order = list(nodes)
    for path in order:
        parent = path.rpartition("/")[0]
        assert not parent or order.index(parent) < order.index(path)
        assert 0 < (nodes[path].offset or 0) < len(image)


def test_random_access_reads_across_blocks_and_holes(image: bytes) -> None:
    volume = _volume(image)
    with volume.open("fork-zlib") as f:
        f.seek(65536 * 3 - 10)
        assert f.read(20) == (BIG * 2)[65536 * 3 - 10:65536 * 3 + 10]
        f.seek(0, io.SEEK_END)
        assert f.tell() == len(BIG) * 2
    with volume.open("sparse.bin") as f:
        f.seek(4090)
        assert f.read(12) == SPARSE[4090:4102]
        f.seek(12280)
        assert f.read(30) == SPARSE[12280:12310]


def test_checksum_matches_the_plain_reference_loop(image: bytes) -> None:
    for paddr in range(9):
        block = image[paddr * BLOCK:(paddr + 1) * BLOCK]
        assert fletcher64(block) == plain_fletcher64(block) == struct.unpack("<Q", block[:8])[0]
    assert is_apfs(image[:64]) and not is_apfs(b"\0" * 64)


def test_live_superblock_is_the_newest_valid_one(image: bytes) -> None:
    container = read_container(io.BytesIO(image), "test.apfs")
    # The builder leaves an older superblock (xid 5) naming a missing object map in the
    # descriptor area; the reader takes the newer one (xid 6) in block 1.
    assert container.superblock_paddr == 1 and container.xid == 6


def test_encrypted_volume_is_named_not_read() -> None:
    volume = _volume(build_apfs([Entry("a", b"x")], volume_name="Secret", encrypted=True))
    assert volume.name == "Secret" and volume.info.encrypted
    with pytest.raises(ParseError, match="'Secret' is encrypted") as exc:
        list(volume.walk())
    assert exc.value.offset == volume.offset + 264


def test_case_sensitive_volume_uses_the_same_records() -> None:
    volume = _volume(build_apfs([Entry("A/b", b"1"), Entry("a/b", b"2")],
                                case_insensitive=False))
    assert [n.path for n in volume.walk()] == ["A", "a", "A/b", "a/b"]
    assert volume.open("a/b").read() == b"2"


def test_unsupported_compression_is_a_node_error_not_a_crash() -> None:
    volume = _volume(build_apfs([Entry("lzbitmap", b"x" * 10, decmpfs=(13, b"?", None))]))
    [node] = list(volume.walk())
    assert node.size == 10 and node.error is not None and "type 13 is not" in node.error


def test_two_leaf_tree_and_many_entries() -> None:
    entries = [Entry(f"dir{i // 50}/file{i:04d}", f"{i}".encode()) for i in range(400)]
    volume = _volume(build_apfs(entries))
    files = {n.path: n for n in volume.walk() if n.kind is NodeKind.FILE}
    assert len(files) == 400
    assert volume.open("dir7/file0399").read() == b"399"


# -- 7-Zip as an independent oracle ---------------------------------------------------------

def _sevenzip() -> str:
    found = shutil.which("7zz")
    if found is None:
        pytest.skip("7zz is not installed (Debian package 7zip)")
    return found


def _sevenzip_tree(sevenzip: str, partition: Path, into: Path,
                   check: bool = True) -> dict[str, tuple[str, int, str | None]]:
    """What 7-Zip lists and extracts from an APFS partition, in _tree's shape."""
    listing = subprocess.run([sevenzip, "l", "-slt", str(partition)], check=True,
                             capture_output=True, text=True).stdout
    subprocess.run([sevenzip, "x", "-y", "-sns-", f"-o{into}", str(partition)], check=check,
                   capture_output=True)
    out: dict[str, tuple[str, int, str | None]] = {}
    for block in listing.split("\n\n"):
        fields = dict(re.findall(r"^(.+?) = (.*)$", block, re.M))
        if "Mode" not in fields or fields.get("Path", "") == str(partition):
            continue
        path, mode = fields["Path"], fields["Mode"]
        if mode.startswith("d"):
            out[path] = ("directory", 0, None)
        elif mode.startswith("l"):
            target = fields["Symbolic Link"]
            out[path] = ("symlink", len(target.encode()), target)
        elif mode.startswith("-"):
            data = (into / path).read_bytes()
            out[path] = ("file", int(fields["Size"]), hashlib.sha256(data).hexdigest())
        else:
            out[path] = ("other", 0, None)
    return out


def test_fixture_agrees_with_7zip(image: bytes, tmp_path: Path) -> None:
    sevenzip = _sevenzip()
    partition = tmp_path / "fixture.apfs"
    partition.write_bytes(image)
    ours = _tree(_volume(image))
    theirs = _sevenzip_tree(sevenzip, partition, tmp_path / "x", check=False)
    # 7-Zip reads a hole (an extent at physical block 0) as block 0's bytes, not zeros
    # (ApfsHandler.cpp, CDatabase::GetStream2); our content is checked in the test above.
    # It has no decmpfs type 1 either (HfsHandler.cpp, CCompressHeader::Parse).
    for path in ("sparse.bin", "type1"):
        del ours[path], theirs[path]
    assert ours == theirs


def _partition(dmg_name: str, into: Path) -> Path:
    dmg = container(dmg_name)
    sevenzip = _sevenzip()
    assert hashlib.sha256(dmg.read_bytes()).hexdigest() == APFS_SAMPLES[dmg_name]
    # 7-Zip's UDIF handler lists the image's partitions; the APFS one is the largest.
    subprocess.run([sevenzip, "x", "-y", "-tdmg", f"-o{into}", str(dmg)], check=True,
                   capture_output=True)
    partition = max(into.iterdir(), key=lambda p: p.stat().st_size)
    assert is_apfs(partition.read_bytes()[:64])
    return partition


@pytest.mark.parametrize("dmg_name", sorted(APFS_SAMPLES))
def test_real_image_agrees_with_7zip(dmg_name: str, tmp_path: Path) -> None:
    partition = _partition(dmg_name, tmp_path / "p")
    theirs = _sevenzip_tree(_sevenzip(), partition, tmp_path / "x")
    with partition.open("rb") as fh:
        container = read_container(fh, str(partition))
        [volume] = container.volumes
        ours = _tree(volume)
        # The builder's name hash is the one macOS wrote in every directory record.
        hashes = 0
        for dir_oid in {2, *volume._paths.values()}:
            for rec in volume._scan(dir_oid, 9, 9):
                name_len_and_hash = struct.unpack_from("<I", rec.key, 8)[0]
                raw = rec.key[12:12 + (name_len_and_hash & 0x3FF) - 1]
                assert name_len_and_hash >> 10 == name_hash(raw.decode()), raw
                hashes += 1
        assert hashes == len(ours)
    assert ours == theirs
    assert ours["Applications"] == ("symlink", 13, "/Applications")
    assert len(ours) >= 10


# -- hostile containers ---------------------------------------------------------------------

def _patched(image: bytes, paddr: int, at: int, value: bytes) -> bytes:
    """``image`` with ``value`` written at ``at`` in block ``paddr``, re-sealed so that the
    checksum passes and the structure itself is what the reader must refuse."""
    block = bytearray(image[paddr * BLOCK:(paddr + 1) * BLOCK])
    block[at:at + len(value)] = value
    return image[:paddr * BLOCK] + seal(block) + image[(paddr + 1) * BLOCK:]


def _everything(image: bytes) -> None:
    for volume in read_container(io.BytesIO(image), "hostile.apfs").volumes:
        for node in volume.walk():
            if node.kind is NodeKind.FILE and node.error is None:
                volume.open(node.path).read()


def _refused(image: bytes, match: str) -> ParseError:
    with pytest.raises(ParseError, match=match) as exc:
        _everything(image)
    assert exc.value.offset is not None and 0 <= exc.value.offset < max(len(image), 1 << 40)
    return exc.value


@pytest.fixture(scope="module")
def wide() -> bytes:
    """A two-level file-system tree (a root index node over leaves in blocks 9 and up)."""
    return build_apfs([Entry(f"d{i // 40}/f{i:03d}", b"%d" % i) for i in range(300)])


@pytest.mark.parametrize("cut", [0, 40, 4095, 3 * BLOCK + 7, 8 * BLOCK, 9 * BLOCK + 100])
def test_truncated_container(image: bytes, cut: int) -> None:
    if cut == 0:
        with pytest.raises(ParseError) as exc:
            read_container(io.BytesIO(b""), "hostile.apfs")
        assert exc.value.offset == 0
        return
    error = _refused(image[:cut], "past the end|container ends|truncated|outside")
    assert error.offset is not None and error.offset <= len(image)


def test_checksum_mismatch_names_the_block(image: bytes) -> None:
    broken = bytearray(image)
    broken[8 * BLOCK + 100] ^= 0xFF  # the file-system tree's root
    assert _refused(bytes(broken), "checksum mismatch").offset == 8 * BLOCK


def test_btree_loop_is_refused(wide: bytes) -> None:
    # The root index node's first child: make it the root itself (virtual oid 1028).
    root = wide[8 * BLOCK:9 * BLOCK]
    assert struct.unpack_from("<H", root, 34)[0] == 1  # level 1: an index node
    toc = 56
    _k_off, _k_len, v_off, _v_len = struct.unpack_from("<HHHH", root, toc)
    value_at = BLOCK - 40 - v_off
    hostile = _patched(wide, 8, value_at, struct.pack("<Q", ROOT_TREE_OID))
    error = _refused(hostile, "reached twice|not a tree")
    assert error.offset == 8 * BLOCK + value_at


def test_btree_level_lie_is_refused(wide: bytes) -> None:
    # A leaf claiming level 1 under the root (level 1): descending never ends otherwise.
    hostile = _patched(wide, 9, 32, struct.pack("<HH", 0x0, 1))
    _refused(hostile, "level")


def test_omap_pointing_past_the_end(image: bytes) -> None:
    omap_leaf = image[7 * BLOCK:8 * BLOCK]
    value = struct.pack("<IIQ", 0, BLOCK, 8)  # ROOT_TREE_OID -> block 8
    at = omap_leaf.index(value)
    hostile = _patched(image, 7, at + 8, struct.pack("<Q", 0xFFFFFFFF))
    error = _refused(hostile, "outside the container")
    assert error.offset == 5 * BLOCK + 136  # the volume superblock's apfs_root_tree_oid


def test_object_map_loop_is_refused(image: bytes) -> None:
    # The volume object map's root becomes an index node whose only child is itself
    # (dissect.apfs 1.1 spins on this one: benchmarks/bench_apfs.py compares the two readers).
    block = bytearray(image[7 * BLOCK:8 * BLOCK])
    struct.pack_into("<HH", block, 32, 0x5, 1)  # root + fixed sizes, level 1
    at = bytes(block).index(struct.pack("<IIQ", 0, BLOCK, 8))
    block[at:at + 8] = struct.pack("<Q", 7)
    hostile = image[:7 * BLOCK] + seal(block) + image[8 * BLOCK:]
    error = _refused(hostile, "reached twice: a B-tree loop")
    assert error.offset == 7 * BLOCK + at


def test_checkpoint_area_claiming_2_to_the_31_blocks(image: bytes) -> None:
    hostile = _patched(image, 0, 104, struct.pack("<I", 0x7FFFFFFF))
    assert _refused(hostile, "checkpoint descriptor area of 2147483647").offset == 104


def test_node_claiming_2_to_the_32_entries(image: bytes) -> None:
    hostile = _patched(image, 8, 36, struct.pack("<I", 0xFFFFFFFF))
    tracemalloc.start()
    try:
        error = _refused(hostile, "4294967295 entries claimed")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.offset == 8 * BLOCK + 36
    assert peak < 4 << 20  # nothing was sized by the claim


def test_directory_entry_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    from bundlelint.parsers import apfs

    image = build_apfs([Entry(f"big/f{i}", b"") for i in range(20)])
    monkeypatch.setattr(apfs, "MAX_DIR_ENTRIES", 10)
    _refused(image, "more than 10 entries in directory 'big'")


def test_sealed_volume_and_fusion_container_are_named_not_read(image: bytes) -> None:
    sealed = _patched(image, 5, 56, struct.pack("<Q", 0x1 | 0x8 | 0x20))
    [volume] = read_container(io.BytesIO(sealed), "sealed.apfs").volumes
    assert volume.info.sealed
    with pytest.raises(ParseError, match="sealed system volume"):
        list(volume.walk())
    fusion = image
    for paddr in (0, 1):
        fusion = _patched(fusion, paddr, 64, struct.pack("<Q", 0x2 | 0x100))
    with pytest.raises(ParseError, match="Fusion") as exc:
        read_container(io.BytesIO(fusion), "fusion.apfs")
    assert exc.value.offset == BLOCK + 64


def test_deep_nesting_is_refused() -> None:
    hostile = build_apfs([Entry("d/" * 600 + "f", b"deep")])
    _refused(hostile, "nested deeper than 512")


def test_directory_loop_is_refused() -> None:
    image = build_apfs([Entry("a/b/c", b"x")])
    volume = _volume(image)
    inner = next(n for n in volume.walk() if n.path == "a/b")
    # Make a/b's record name a's inode (a directory loop: a/b/b/b/...).
    a_inode = next(n for n in volume.walk() if n.path == "a").offset
    assert a_inode is not None and inner.offset is not None
    fs_root = image[8 * BLOCK:9 * BLOCK]
    a_oid = struct.unpack_from("<Q", image, a_inode + 8)[0]  # j_inode_val_t.private_id
    b_oid = struct.unpack_from("<Q", image, inner.offset + 8)[0]
    old = struct.pack("<Q", b_oid) + bytes(8) + struct.pack("<H", 4)
    at = fs_root.index(old)
    hostile = _patched(image, 8, at, struct.pack("<Q", a_oid))
    _refused(hostile, "reached twice: a directory loop")


def test_name_with_a_slash_is_reported_not_passed_on() -> None:
    image = build_apfs([Entry("ok", b"1"), Entry("evil", b"2")])
    fs_root = bytearray(image[8 * BLOCK:9 * BLOCK])
    at = fs_root.index(b"evil\0")
    hostile = _patched(image, 8, at, b"e/..\0")
    nodes = {n.path: n for n in _volume(hostile).walk()}
    bad = nodes["e%2F.."]
    assert bad.kind is NodeKind.OTHER and bad.error is not None and "invalid file name" in bad.error
    assert nodes["ok"].error is None


def test_decmpfs_bomb_stops_at_one_block() -> None:
    bomb = zlib_payload(bytes(2 << 20))  # 2 MiB of zeros in 2 KiB, claimed to be 10 bytes
    image = build_apfs([Entry("bomb", b"0123456789", decmpfs=(3, bomb, None))])
    _refused(image, "does not decode to the expected 10 bytes")


def test_resource_fork_block_count_lie() -> None:
    fork = bytearray(zlib_resource_fork(BIG))
    struct.pack_into("<I", fork, 0x104, 0xFFFFFFFF)  # the cmpf block count
    image = build_apfs([Entry("lie", BIG, decmpfs=(4, b"", bytes(fork)))])
    _refused(image, "block table lists 4294967295 chunks")


def test_decmpfs_header_parser_refuses_garbage() -> None:
    with pytest.raises(ParseError, match="header needs 16"):
        decmpfs.parse_header(b"fpmc", path="x", base=0)
    with pytest.raises(ParseError, match="magic"):
        decmpfs.parse_header(b"cmpf" + bytes(12), path="x", base=0)


def test_nodes_are_node_values(image: bytes) -> None:
    assert all(isinstance(n, Node) for n in _volume(image).walk())


# -- every decmpfs type, written by the same encoders as the HFS+ fixtures -------------------

#: Compressible but not trivial: 150 KB, three 64 KiB chunks for the resource-fork forms.
FORK_DATA = b"".join(b"%06d %s\n" % (i, b"abcdefgh"[: i % 8]) for i in range(12000))[:150_000]
INLINE_DATA = FORK_DATA[:3000]


@pytest.mark.parametrize("compression", sorted(COMPRESSIONS))
def test_every_decmpfs_type(compression: str, tmp_path: Path) -> None:
    data = INLINE_DATA[:1000] if compression == "uncompressed-inline" else (
        FORK_DATA if compression.endswith("rsrc") else INLINE_DATA)
    image = build_apfs([Entry("f", data, compression=compression)])
    volume = _volume(image)
    [node] = list(volume.walk())
    assert node.error is None and node.size == len(data)
    assert volume.open("f").read() == data
    with volume.open("f") as f:  # random access within and across chunks
        f.seek(len(data) - 70_000 if len(data) > 70_000 else 5)
        at = f.tell()
        assert f.read(9000) == data[at:at + 9000]
    # 7-Zip has no decmpfs type 1 and no LZFSE (HfsHandler.cpp, CCompressHeader::Parse).
    if compression.startswith(("zlib", "lzvn")):
        partition = tmp_path / "c.apfs"
        partition.write_bytes(image)
        theirs = _sevenzip_tree(_sevenzip(), partition, tmp_path / "x")
        assert theirs == _tree(volume)


def test_two_volumes_each_with_their_own_tree() -> None:
    image = build_container([
        VolumeSpec([Entry("App.app/Contents/MacOS/app", b"first")], name="Installer"),
        VolumeSpec([Entry("README", b"second"), Entry("l", kind="symlink", target="README")],
                   name="Extras", case_insensitive=False),
    ])
    container = read_container(io.BytesIO(image), "two.apfs")
    first, second = container.volumes
    assert (first.name, second.name) == ("Installer", "Extras")
    assert first.info.case_insensitive and not second.info.case_insensitive
    assert [n.path for n in first.walk()] == ["App.app", "App.app/Contents",
                                               "App.app/Contents/MacOS",
                                               "App.app/Contents/MacOS/app"]
    assert first.open("App.app/Contents/MacOS/app").read() == b"first"
    assert {n.path: n.link_target for n in second.walk()} == {"README": None, "l": "README"}
    assert second.open("README").read() == b"second"
    with pytest.raises(FileNotFoundError):
        first.open("README")


def test_an_encrypted_volume_beside_a_readable_one() -> None:
    image = build_container([VolumeSpec([Entry("a", b"x")], name="Open"),
                             VolumeSpec([Entry("b", b"y")], name="Locked", encrypted=True)])
    open_volume, locked = read_container(io.BytesIO(image), "mixed.apfs").volumes
    assert [n.path for n in open_volume.walk()] == ["a"]
    assert locked.info.encrypted
    with pytest.raises(ParseError, match="'Locked' is encrypted"):
        list(locked.walk())


@pytest.mark.parametrize("dmg_name", sorted(APFS_SAMPLES))
def test_real_image_read_through_the_udif_reader(dmg_name: str, tmp_path: Path) -> None:
    """The container read in place from the compressed disk image (parsers/udif and
    parsers/partitions), nothing extracted: the same tree as 7-Zip's from the partition."""
    from bundlelint.parsers.partitions import FS_APFS, read_partitions
    from bundlelint.parsers.udif import open_disk, open_range, read_disk_image

    partition = _partition(dmg_name, tmp_path / "p")
    theirs = _sevenzip_tree(_sevenzip(), partition, tmp_path / "x")
    dmg = SAMPLES / dmg_name
    with dmg.open("rb") as fh:
        image = read_disk_image(fh, str(dmg))
        disk = open_disk(image, fh)

        def read(offset: int, size: int) -> bytes:
            disk.seek(offset)
            return disk.read(size)

        [apfs] = [p for p in read_partitions(read, image.disk_size, str(dmg)).partitions
                  if p.filesystem == FS_APFS]
        assert apfs.size == partition.stat().st_size
        # The raw disk reader, unbuffered: it may return short reads mid-stream.
        raw = open_range(image, fh, apfs.start, apfs.size)
        [volume] = read_container(raw, str(dmg)).volumes  # type: ignore[arg-type]
        assert _tree(volume) == theirs
