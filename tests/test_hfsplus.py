"""The HFS+ reader (bundlelint/parsers/hfsplus.py) against volumes the fixture builder makes,
against 7-Zip on the same volumes, against 7-Zip on two real public HFS+ disk images, and on
hostile volumes, each of which must end in a ParseError or an entry error naming an offset.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from samples import container

from bundlelint.errors import ParseError
from bundlelint.parsers import decmpfs, lzvn
from bundlelint.parsers.hfsplus import (
    MAX_DEPTH,
    HFSPlusVolume,
    looks_like_hfsplus,
    posix_name,
)
from bundlelint.parsers.volume import Node, NodeKind
from fixtures.hfsplus_builder import (
    Dir,
    DirLink,
    Entry,
    File,
    HardLink,
    RawName,
    Symlink,
    build_hfsplus,
    lzvn_encode,
    wrap_in_hfs,
)

ROOT = Path(__file__).resolve().parent.parent
#: HFS+ images (public; sources in the samples folder's SOURCES.md): an uncompressed UDRO
#: image with an Apple partition map (iTunes Volume Control, 2013) and a bzip2 UDBZ image
#: with a licence agreement (Sparkle's code-signing test app, 2015).
HFS_SAMPLES = {
    "03-itunes-volume-control-2013-hfs.dmg":
        "c45438abdc9cd59ca5301a48c345d8e72d190b54fafd36e071fae724b45a0c04",
    "05-sparkle-testapp-hfs-bzip2-sla.dmg":
        "a85b327bc0817397483759fdf7de8522fa239318075fd60be6007c4dc872c58a",
}


def _data(seed: int, size: int) -> bytes:
    """Deterministic content that compresses partly (text runs) and partly not."""
    out = bytearray()
    state = seed
    while len(out) < size:
        state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        out += (b"The quick brown fox %d. " % (state >> 60)) if state & 1 else \
            state.to_bytes(8, "little")
    return bytes(out[:size])


BIG = _data(1, 200_000)
ENTRIES: list[Entry] = [
    Dir("A.app"), Dir("A.app/Contents"), Dir("A.app/Contents/MacOS"),
    File("A.app/Contents/Info.plist", b"<plist version='1.0'><dict/></plist>"),
    File("A.app/Contents/MacOS/fragmented", BIG, mode=0o755, fragments=12),
    File("A.app/Contents/zlib-rsrc", BIG, compression="zlib-rsrc"),
    File("A.app/Contents/lzvn-rsrc", BIG, compression="lzvn-rsrc"),
    File("zlib-inline", _data(2, 3000), compression="zlib-inline"),
    File("lzvn-inline", _data(3, 2000), compression="lzvn-inline"),
    File("stored-inline", b"stored as is", compression="zlib-stored-inline"),
    File("type1-inline", b"uncompressed in the attribute", compression="uncompressed-inline"),
    File("empty"),
    Symlink("A.app/Contents/Current", "MacOS"),
    Symlink("Applications", "/Applications"),
    HardLink("second-name", "A.app/Contents/Info.plist"),
    Dir("Shared"), File("Shared/inside", b"reached through two paths"),
    DirLink("Shared-link", "Shared"),
]
CONTENT = {e.path: e.data for e in ENTRIES if isinstance(e, File)}
CONTENT["second-name"] = CONTENT["A.app/Contents/Info.plist"]
CONTENT["Shared-link/inside"] = CONTENT["Shared/inside"]


def _volume(image: bytes, name: str = "fixture.hfs") -> HFSPlusVolume:
    return HFSPlusVolume(io.BytesIO(image), path=name)


def _tree(volume: HFSPlusVolume) -> dict[str, Node]:
    nodes = list(volume.walk())
    paths = [n.path for n in nodes]
    assert len(paths) == len(set(paths))
    seen: set[str] = set()
    for path in paths:  # a directory comes before anything inside it
        head = path.rpartition("/")[0]
        assert not head or head in seen, path
        seen.add(path)
    return {n.path: n for n in nodes}


@pytest.mark.parametrize(("hfsx", "node_size", "block_size"),
                         [(False, 4096, 4096), (True, 512, 512), (False, 512, 4096)])
def test_builder_volume_reads_back_exactly(hfsx: bool, node_size: int, block_size: int) -> None:
    volume = _volume(build_hfsplus(ENTRIES, name="Fixture Vol", hfsx=hfsx, node_size=node_size,
                                   block_size=block_size))
    assert volume.volume_name == volume.name == "Fixture Vol"
    assert volume.case_sensitive is hfsx
    if node_size == 512:
        assert volume.catalog.depth >= 2  # small nodes: the index is walked, not just a leaf
    tree = _tree(volume)
    expected_dirs = {"A.app", "A.app/Contents", "A.app/Contents/MacOS", "Shared",
                     "Shared-link"}
    assert {p for p, n in tree.items() if n.kind is NodeKind.DIRECTORY} == expected_dirs
    assert {p: n.link_target for p, n in tree.items() if n.kind is NodeKind.SYMLINK} == {
        "A.app/Contents/Current": "MacOS", "Applications": "/Applications"}
    assert tree["Applications"].size == len("/Applications")
    files = {p: n for p, n in tree.items() if n.kind is NodeKind.FILE}
    assert set(files) == set(CONTENT)
    for path, data in CONTENT.items():
        assert files[path].error is None, files[path]
        assert files[path].size == len(data), path
        with volume.open(path) as stream:
            assert stream.read() == data, path
    assert tree["A.app/Contents/MacOS/fragmented"].mode == 0o100755
    # the private folders are hidden, as macOS's readdir hides them
    assert not any("Private" in p for p in tree)


def test_journal_files_are_hidden_on_a_journaled_volume() -> None:
    """hfs_catalog.c getdirentries_callback hides .journal and .journal_info_block in the
    root of a journaled volume; on a volume without the journaled bit they are files."""
    entries: list[Entry] = [File("a", b"a")]
    journaled = _tree(_volume(build_hfsplus(entries, journaled=True)))
    assert set(journaled) == {"a"}
    plain = _tree(_volume(build_hfsplus([File(".journal", b"j"), *entries])))
    assert set(plain) == {".journal", "a"}


def test_fragmented_file_uses_the_extents_overflow_file() -> None:
    volume = _volume(build_hfsplus(ENTRIES))
    assert volume.extents.root != 0  # records exist: extents past the first eight
    with volume.open("A.app/Contents/MacOS/fragmented") as stream:
        stream.seek(150_000)
        assert stream.read(1000) == BIG[150_000:151_000]


def test_compressed_stream_seeks_across_chunks() -> None:
    volume = _volume(build_hfsplus(ENTRIES))
    for path in ("A.app/Contents/zlib-rsrc", "A.app/Contents/lzvn-rsrc"):
        with volume.open(path) as stream:
            stream.seek(decmpfs.CHUNK - 10)
            assert stream.read(20) == BIG[decmpfs.CHUNK - 10 : decmpfs.CHUNK + 10]
            stream.seek(-5, io.SEEK_END)
            assert stream.read() == BIG[-5:]


@pytest.mark.parametrize("compression", [None, "zlib-rsrc"])
def test_reading_holds_a_few_chunks_not_the_file(compression: str | None) -> None:
    """A 2 MiB file read in 64 KiB pieces: peak memory stays at a few 64 KiB chunks (the
    volume's bytes are in memory already and are not counted). The chunk streaming is the
    same code for the LZVN and LZFSE layouts (tracemalloc makes the pure-Python LZVN
    decoder too slow to measure here)."""
    import tracemalloc

    data = _data(9, 2 << 20)
    volume = _volume(build_hfsplus([File("big", data, compression=compression)]))
    digest = hashlib.sha256()
    tracemalloc.start()
    try:
        with volume.open("big") as stream:
            while piece := stream.read(1 << 16):
                digest.update(piece)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert digest.digest() == hashlib.sha256(data).digest()
    assert peak < 8 * decmpfs.CHUNK, peak


def test_open_refuses_what_is_not_a_regular_file() -> None:
    volume = _volume(build_hfsplus(ENTRIES))
    with pytest.raises(FileNotFoundError):
        volume.open("A.app/missing")
    with pytest.raises(IsADirectoryError):
        volume.open("A.app/Contents")
    with pytest.raises(ParseError, match="not a regular file"):
        volume.open("Applications")
    # HFS+ (not HFSX) looks names up case-insensitively, as macOS does
    with volume.open("a.app/contents/info.plist") as stream:
        assert stream.read() == CONTENT["A.app/Contents/Info.plist"]


def test_hfs_wrapper_embedding_an_hfsplus_volume() -> None:
    """TN1150 "HFS Wrapper": an HFS master directory block whose embedded extent holds the
    HFS+ volume; offsets are reported in the outer partition."""
    inner = build_hfsplus([Dir("d"), File("d/x", b"wrapped")], block_size=512, node_size=512)
    image = wrap_in_hfs(inner)
    assert looks_like_hfsplus(image)
    volume = _volume(image)
    assert volume.base == 4096
    tree = _tree(volume)
    assert set(tree) == {"d", "d/x"}
    with volume.open("d/x") as stream:
        assert stream.read() == b"wrapped"
    plain = _tree(_volume(inner))
    assert tree["d/x"].offset == (plain["d/x"].offset or 0) + 4096
    lying = bytearray(image)
    struct.pack_into(">H", lying, 1024 + 128, 0xFFFF)  # drEmbedExtent.blockCount
    with pytest.raises(ParseError, match="HFS wrapper") as info:
        _volume(bytes(lying))
    assert info.value.offset == 1024 + 124


def test_looks_like_hfsplus() -> None:
    image = build_hfsplus([File("a", b"x")], block_size=512, node_size=512)
    assert looks_like_hfsplus(image[:2048])
    assert not looks_like_hfsplus(bytes(2048))


# -- names --------------------------------------------------------------------------------

def test_names_are_mapped_as_macos_shows_them() -> None:
    assert posix_name("a/b".encode("utf-16-be")) == ("a:b", None)
    assert posix_name("\0x".encode("utf-16-be")) == ("\u2400x", None)
    for bad in (".", "..", ""):
        assert posix_name(bad.encode("utf-16-be"))[1] is not None
    assert posix_name(b"\xd8\x00")[1] == "name is not valid UTF-16"


def test_hostile_names_are_entries_with_errors() -> None:
    volume = _volume(build_hfsplus([Dir("d"), RawName("d", "."), RawName("d", ".."),
                                    RawName("d", "x/y", b"slash"), RawName("d", "n\0l", b"nul")],
                                   block_size=512, node_size=512))
    tree = _tree(volume)
    bad = [n for n in tree.values() if n.error]
    assert len(bad) == 2 and all("cannot name a file" in (n.error or "") for n in bad)
    assert all(n.offset for n in bad)
    assert all(part not in (".", "..") for p in tree for part in p.split("/"))
    with volume.open("d/x:y") as stream:
        assert stream.read() == b"slash"
    with volume.open("d/n\u2400l") as stream:
        assert stream.read() == b"nul"


# -- differential against 7-Zip ------------------------------------------------------------

def _sevenzip() -> str:
    found = shutil.which("7zz")
    if found is None:
        pytest.skip("7zz is not installed (Debian package 7zip)")
    return found


def _extracted(root: Path, base: Path) -> dict[str, tuple[str, ...]]:
    """What 7-Zip wrote under ``root``; it re-roots an absolute link target at the output
    folder ``base``, which is undone here."""
    out: dict[str, tuple[str, ...]] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():  # 7-Zip makes a link it considers safe a symbolic link
            link = os.readlink(path)
            if link.startswith(f"{base}/"):
                link = link[len(str(base)) :]
            target = link.encode("utf-8", "surrogateescape")
            out[rel] = ("f", str(len(target)), hashlib.sha256(target).hexdigest())
        elif path.is_dir():
            out[rel] = ("d",)
        else:
            data = path.read_bytes()
            out[rel] = ("f", str(len(data)), hashlib.sha256(data).hexdigest())
    return out


def _ours(volume: HFSPlusVolume) -> dict[str, tuple[str, ...]]:
    """Our view in 7-Zip's terms: without -snl, 7-Zip writes a symbolic link as a file
    holding its target."""
    out: dict[str, tuple[str, ...]] = {}
    for node in volume.walk():
        assert node.error is None, node
        if node.kind is NodeKind.DIRECTORY:
            out[node.path] = ("d",)
        elif node.kind is NodeKind.SYMLINK:
            target = (node.link_target or "").encode("utf-8", "surrogateescape")
            out[node.path] = ("f", str(len(target)), hashlib.sha256(target).hexdigest())
        else:
            with volume.open(node.path) as stream:
                data = stream.read()
            assert len(data) == node.size
            out[node.path] = ("f", str(len(data)), hashlib.sha256(data).hexdigest())
    return out


@pytest.mark.parametrize(("hfsx", "node_size"), [(False, 4096), (True, 512)])
def test_builder_volume_agrees_with_7zip(tmp_path: Path, hfsx: bool, node_size: int) -> None:
    """7-Zip reads the fixture volumes too: the builder writes HFS+ as others read it (with
    512-byte nodes, through index nodes)."""
    sevenzip = _sevenzip()
    entries = [e for e in ENTRIES if not isinstance(e, HardLink | DirLink)
               and not (isinstance(e, File) and e.compression == "uncompressed-inline")]
    image = tmp_path / "fixture.hfs"
    image.write_bytes(build_hfsplus(entries, name="Vol", hfsx=hfsx, node_size=node_size))
    subprocess.run([sevenzip, "x", "-y", "-sns-", f"-o{tmp_path / 'x'}", str(image)],
                   check=True, capture_output=True)
    theirs = _extracted(tmp_path / "x" / "Vol", tmp_path / "x")
    ours = _ours(_volume(image.read_bytes()))
    assert ours == theirs


def _partition(dmg: Path, into: Path, sevenzip: str) -> Path:
    subprocess.run([sevenzip, "x", "-y", "-tdmg", f"-o{into}", str(dmg)], check=True,
                   capture_output=True)
    found = sorted(into.glob("*.hfs"))
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("sample", sorted(HFS_SAMPLES))
def test_real_hfs_images_agree_with_7zip(sample: str, tmp_path: Path) -> None:
    """Every file, folder and symbolic link 7-Zip extracts from the real images, with the same
    sizes and sha256, and nothing else but the two private folders macOS hides."""
    dmg = container(sample)
    sevenzip = _sevenzip()
    assert hashlib.sha256(dmg.read_bytes()).hexdigest() == HFS_SAMPLES[sample]
    partition = _partition(dmg, tmp_path / "p", sevenzip)
    subprocess.run([sevenzip, "x", "-y", "-sns-", f"-o{tmp_path / 'x'}", str(partition)],
                   check=True, capture_output=True)
    with partition.open("rb") as stream:
        volume = HFSPlusVolume(stream, path=sample)
        ours = _ours(volume)
        theirs = _extracted(tmp_path / "x" / volume.volume_name, tmp_path / "x")
    hidden = {p for p in theirs if p.split("/")[0] in
              ("[HFS+ Private Data]", ".HFS+ Private Directory Data\r")}
    assert len(hidden) >= 1
    assert ours == {p: v for p, v in theirs.items() if p not in hidden}
    assert sum(1 for v in ours.values() if v[0] == "f") > 150


# -- hostile volumes -----------------------------------------------------------------------

SMALL: list[Entry] = [Dir("d"), File("d/a", b"A" * 700), File("d/b", b"B" * 10),
                      *(File(f"d/f{i:03}", b"%d" % i) for i in range(40))]


def _small() -> bytearray:
    return bytearray(build_hfsplus(SMALL, block_size=512, node_size=512))


def _walk_error(image: bytes | bytearray) -> ParseError:
    with pytest.raises(ParseError) as info:
        volume = _volume(bytes(image))
        for _ in volume.walk():
            pass
    assert info.value.offset is not None and info.value.path == "fixture.hfs"
    return info.value


def _catalog_node_offset(image: bytes | bytearray, number: int) -> int:
    volume = _volume(bytes(image))
    return volume.catalog.fork.where(number * volume.catalog.node_size)


def test_leaf_chain_loop_is_an_error() -> None:
    image = _small()
    volume = _volume(bytes(image))
    folder = volume._lookup(2, "d")
    assert folder is not None

    def parents(number: int) -> set[int]:
        return {struct.unpack_from(">I", r.key)[0] for r in volume.catalog.node(number).records}

    # a leaf in the middle of folder d's entries: point its forward link back at itself
    middle = next(n for n in range(1, volume.catalog.total)
                  if volume.catalog.node(n).kind == -1 and parents(n) == {folder.cnid}
                  and volume.catalog.node(n).next)
    at = _catalog_node_offset(image, middle)
    struct.pack_into(">I", image, at, middle)
    error = _walk_error(image)
    assert "loops" in error.reason and error.offset == at


def test_index_node_pointing_at_itself_is_an_error() -> None:
    image = _small()
    volume = _volume(bytes(image))
    root = volume.catalog.root
    assert volume.catalog.node(root).kind == 0
    record = volume.catalog.node(root).records[0]
    child_at = record.offset + 2 + len(record.key)
    struct.pack_into(">I", image, child_at, root)
    error = _walk_error(image)
    assert "height" in error.reason


def test_catalog_claiming_2_to_the_32_records_is_an_error() -> None:
    image = _small()
    header = _catalog_node_offset(image, 0)
    struct.pack_into(">I", image, header + 14 + 6, 0xFFFFFFFF)  # leafRecords
    error = _walk_error(image)
    assert "4294967295 leaf records" in error.reason and error.offset == header + 20
    image = _small()
    struct.pack_into(">I", image, header + 14 + 22, 0xFFFFFFFF)  # totalNodes
    assert "claims 4294967295 nodes" in _walk_error(image).reason


def test_record_offsets_outside_the_node_are_an_error() -> None:
    image = _small()
    at = _catalog_node_offset(image, 1)
    struct.pack_into(">H", image, at + 512 - 2, 600)  # record 0 starts past the node
    assert "outside the node" in _walk_error(image).reason


def test_file_extent_past_the_end_is_an_entry_error() -> None:
    image = _small()
    volume = _volume(bytes(image))
    entry = next(e for e in volume.children(volume._lookup(2, "d").cnid)  # type: ignore[union-attr]
                 if e.name == "a")
    assert entry.data_fork is not None
    struct.pack_into(">I", image, entry.data_fork.offset + 16, 0x7FFFFFF0)
    tree = _tree(_volume(bytes(image)))
    error = tree["d/a"].error
    assert error is not None and "past the end" in error and f"{entry.data_fork.offset:#x}" in error
    assert tree["d/b"].error is None


def test_catalog_extent_past_the_end_is_an_error() -> None:
    image = _small()
    struct.pack_into(">I", image, 1024 + 272 + 16, 0x7FFFFFF0)
    with pytest.raises(ParseError, match="past the end") as info:
        _volume(bytes(image))
    assert info.value.offset == 1024 + 272


def test_truncated_and_foreign_volumes_are_errors() -> None:
    image = bytes(_small())
    with pytest.raises(ParseError) as info:
        _volume(image[: len(image) // 3])
    assert info.value.offset is not None
    with pytest.raises(ParseError, match="neither"):
        _volume(bytes(4096))
    with pytest.raises(ParseError, match="HFS \\(standard\\)"):
        _volume(bytes(1024) + b"BD" + bytes(3000))
    bad_block = bytearray(image)
    struct.pack_into(">I", bad_block, 1024 + 40, 3000)
    with pytest.raises(ParseError, match="block size 3000") as info:
        _volume(bytes(bad_block))
    assert info.value.offset == 1024 + 40


def test_deep_nesting_stops_with_an_entry_error() -> None:
    parts = [f"d{i}" for i in range(MAX_DEPTH + 20)]
    entries: list[Entry] = [Dir("/".join(parts[: i + 1])) for i in range(len(parts))]
    tree = _tree(_volume(build_hfsplus(entries, block_size=4096, node_size=4096)))
    errors = [n for n in tree.values() if n.error]
    assert len(errors) == 1 and "levels deep" in (errors[0].error or "")
    assert max(p.count("/") for p in tree) == MAX_DEPTH - 1


def test_directory_link_to_an_ancestor_is_not_followed() -> None:
    entries: list[Entry] = [Dir("top"), Dir("top/sub"), File("top/sub/f", b"f"),
                            DirLink("top/sub/up", "top")]
    tree = _tree(_volume(build_hfsplus(entries, block_size=512, node_size=512)))
    cycles = [n for n in tree.values() if n.error and "contains itself" in n.error]
    assert [n.path for n in cycles] == ["top/sub/up"]
    assert tree["top/sub/f"].kind is NodeKind.FILE


def test_directory_links_cannot_make_the_walk_explode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each folder holds two links to the next: 2^20 paths. The walk lists linked folders
    again, as macOS shows them, but stops with an error past the budget."""
    from bundlelint.parsers import hfsplus

    levels = 20
    entries: list[Entry] = [Dir(f"D{k}") for k in range(levels)] + [File(f"D{levels - 1}/f")]
    for k in range(levels - 2, -1, -1):
        entries += [DirLink(f"D{k}/a", f"D{k + 1}"), DirLink(f"D{k}/b", f"D{k + 1}")]
    image = build_hfsplus(entries, block_size=512, node_size=512)
    monkeypatch.setattr(hfsplus, "MAX_LINKED_ENTRIES", 2000)
    seen = 0
    with pytest.raises(ParseError, match="more than 2000 entries") as info:
        for _ in _volume(image).walk():
            seen += 1
    assert info.value.offset is not None and seen < 3000
    monkeypatch.setattr(hfsplus, "MAX_LINKED_ENTRIES", 100_000)
    small = build_hfsplus([Dir("D0"), Dir("D1"), File("D1/f", b"x"), DirLink("D0/a", "D1"),
                           DirLink("D0/b", "D1")], block_size=512, node_size=512)
    tree = _tree(_volume(small))
    assert {p for p, n in tree.items() if n.kind is NodeKind.FILE} == {"D0/a/f", "D0/b/f",
                                                                       "D1/f"}


def test_two_entries_of_one_name_are_reported() -> None:
    tree = _tree(_volume(build_hfsplus([RawName("", "x", b"1"), RawName("", "x", b"2")],
                                       block_size=512, node_size=512)))
    assert tree["x"].error is None
    (other,) = [n for p, n in tree.items() if p != "x"]
    assert other.error is not None and "second entry" in other.error


def test_keys_out_of_order_are_an_error_not_a_scan() -> None:
    image = _small()
    volume = _volume(bytes(image))
    folder = volume._lookup(2, "d")
    assert folder is not None
    leaves = [n for n in range(1, volume.catalog.total) if volume.catalog.node(n).kind == -1
              and all(struct.unpack_from(">I", r.key)[0] == folder.cnid
                      for r in volume.catalog.node(n).records)]
    record = volume.catalog.node(leaves[1]).records[-1]
    struct.pack_into(">I", image, record.offset + 2, 1)  # parent ID 1: sorts before d's
    error = _walk_error(image)
    assert "out of order" in error.reason and error.offset == record.offset


def test_hard_link_to_a_missing_inode_is_an_entry_error() -> None:
    image = bytearray(build_hfsplus([File("a", b"data"), HardLink("b", "a")], block_size=512,
                                    node_size=512))
    volume = _volume(bytes(image))
    link = next(e for e in volume.children(2) if e.name == "b")
    at = link.offset + 2 + 6 + 2 * len("b") + 44  # bsdInfo.special: the inode number
    struct.pack_into(">I", image, at, 999)
    tree = _tree(_volume(bytes(image)))
    assert "iNode999" in (tree["b"].error or "")


def test_compressed_flag_without_the_attribute_reads_the_data_fork() -> None:
    """xnu's decmpfs_file_is_compressed: UF_COMPRESSED without com.apple.decmpfs is a file
    that is not compressed."""
    image = bytearray(build_hfsplus([File("plain", b"data fork")], block_size=512,
                                    node_size=512))
    entry = next(e for e in _volume(bytes(image)).children(2) if e.name == "plain")
    image[entry.offset + 2 + 6 + 2 * len("plain") + 41] = 0x20  # bsdInfo.ownerFlags
    volume = _volume(bytes(image))
    assert next(volume.children(2)).owner_flags == 0x20
    with volume.open("plain") as stream:
        assert stream.read() == b"data fork"


def test_decompression_bombs_and_lying_chunk_tables() -> None:
    image = bytearray(build_hfsplus([File("z", BIG, compression="zlib-rsrc"),
                                     File("i", b"x" * 5000, compression="zlib-inline")],
                                    block_size=512, node_size=512))
    volume = _volume(bytes(image))
    z = next(e for e in volume.children(2) if e.name == "z")
    i = next(e for e in volume.children(2) if e.name == "i")
    found_z = volume.decmpfs_header(z.cnid)
    found_i = volume.decmpfs_header(i.cnid)
    assert found_z is not None and found_i is not None
    struct.pack_into("<Q", image, found_i[1] + 8, 1 << 40)  # inline claims a terabyte
    struct.pack_into("<Q", image, found_z[1] + 8, len(BIG) + decmpfs.CHUNK)  # one chunk more
    volume = _volume(bytes(image))
    tree = _tree(volume)
    assert "over the" in (tree["i"].error or "")
    assert tree["z"].error is None
    with pytest.raises(ParseError, match="lists 4 chunks, the file size needs 5") as info:
        volume.open("z")
    assert info.value.offset is not None


def test_lzfse_compressed_files() -> None:
    """Types 11 and 12, compressed by Apple's reference encoder through the lzfse binding."""
    pytest.importorskip("lzfse", reason="the lzfse binding is not installed")
    small = _data(7, 3000)
    volume = _volume(build_hfsplus([File("inline", small, compression="lzfse-inline"),
                                    File("rsrc", BIG, compression="lzfse-rsrc")]))
    tree = _tree(volume)
    assert tree["inline"].size == len(small) and tree["rsrc"].size == len(BIG)
    with volume.open("inline") as stream:
        assert stream.read() == small
    with volume.open("rsrc") as stream:
        stream.seek(decmpfs.CHUNK + 3)
        assert stream.read() == BIG[decmpfs.CHUNK + 3 :]


def test_lzfse_blocks_promising_more_than_the_chunk_are_refused_before_decoding() -> None:
    fail = ParseError("decmpfs", "x", 100, "wrong size")
    stored = b"bvx-" + struct.pack("<I", 5) + b"hello" + b"bvx$"
    assert decmpfs.lzfse_raw_size(stored, 5, fail) == 5
    bomb = b"bvx-" + struct.pack("<I", 1 << 31) + b"tiny" + b"bvx$"
    with pytest.raises(ParseError, match="promise more") as info:
        decmpfs.lzfse_raw_size(bomb, decmpfs.CHUNK, fail)
    assert info.value.offset == 100
    for bad in (b"bvx1" + bytes(40), b"bvx-\x05\0\0\0hel", b"", b"bvx2" + bytes(28)):
        with pytest.raises(ParseError):
            decmpfs.lzfse_raw_size(bad, decmpfs.CHUNK, fail)


# -- codecs --------------------------------------------------------------------------------

def test_lzvn_round_trip_through_the_fixture_encoder() -> None:
    for data in (b"", b"a", BIG[:70_000], b"ab" * 5000, bytes(range(256)) * 3):
        assert lzvn.decode(lzvn_encode(data), len(data)) == data


def test_lzvn_agrees_with_apples_reference_encoder() -> None:
    """The LZFSE reference library writes LZVN blocks ('bvxn') for small inputs: a second,
    independent encoder, with every opcode kind ours does not write."""
    lzfse = pytest.importorskip("lzfse", reason="the lzfse binding is not installed")
    checked = 0
    for seed in range(60):
        data = _data(seed, 200 + 60 * seed)
        packed = lzfse.compress(data)
        if packed[:4] != b"bvxn":
            continue
        raw, payload = struct.unpack_from("<II", packed, 4)
        assert raw == len(data)
        assert lzvn.decode(packed[12 : 12 + payload], raw) == data
        checked += 1
    assert checked > 20


@pytest.mark.parametrize("stream", [b"", b"\xe3ab", b"\x70" + bytes(8), b"\x07\x05\x00" + bytes(8),
                                    b"\xe1a\xf5" + bytes(8)])
def test_lzvn_rejects_bad_streams(stream: bytes) -> None:
    with pytest.raises(ParseError) as info:
        lzvn.decode(stream, 100, path="x", base=1000)
    assert info.value.offset is not None and info.value.offset >= 1000
