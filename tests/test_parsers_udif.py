"""The UDIF reader (parsers/udif.py, udifchunks.py, adc.py) and the partition schemes
(parsers/partitions.py): every chunk kind round-trips through the fixture writer, every real
sample decompresses to the bytes 7-Zip gives, and hostile images give a ParseError with an
offset, within bounded time and memory."""

from __future__ import annotations

import hashlib
import io
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from samples import container

from bundlelint.errors import ParseError
from bundlelint.parsers import udifchunks
from bundlelint.parsers.adc import AdcError, adc_decompress
from bundlelint.parsers.partitions import read_partitions
from bundlelint.parsers.udif import (
    MAX_CHUNK_BYTES,
    DiskImage,
    open_disk,
    parse_mish,
    read_disk_image,
)
from fixtures import udif_builder as ub

ROOT = Path(__file__).resolve().parent.parent
DMGS = ("01-juhflow-devid-notarized-apfs.dmg", "03-itunes-volume-control-2013-hfs.dmg",
        "05-sparkle-testapp-hfs-bzip2-sla.dmg", "06-sparkle-apfs-lzma-adhoc-signed.dmg")


def _payload(size: int = 5 * 2048 * 512) -> bytes:
    """Compressible but not trivial bytes, with an all-zero stretch for zero chunks."""
    text = b"".join(b"file %06d says hello to the disk image reader\n" % i
                    for i in range(size // 48 + 1))[:size]
    out = bytearray(text)
    out[2048 * 512 : 2 * 2048 * 512] = bytes(2048 * 512)  # chunks 1 and 3 are zeros
    out[3 * 2048 * 512 : 4 * 2048 * 512] = bytes(2048 * 512)
    return bytes(out)


def _image(data: bytes) -> tuple[DiskImage, io.BytesIO]:
    fh = io.BytesIO(data)
    return read_disk_image(fh, "x.dmg"), fh


def _disk(data: bytes) -> bytes:
    image, fh = _image(data)
    return open_disk(image, fh).read()


@pytest.mark.parametrize("kind", ["raw", "zlib", "bzip2", "lzma", "adc", "lzfse"])
def test_each_chunk_kind_round_trips(kind: str) -> None:
    payload = _payload()
    regions = ub.disk_regions(payload, "none")
    kinds = [kind, "zero", kind, "ignore", kind]
    data = ub.build_udif(regions, kinds=kinds, comments=True)
    image, fh = _image(data)
    assert image.block_maps[0].comments == ("+beg", "+end")
    assert kind.lower() in {k.lower() for k in image.chunk_kinds}
    assert open_disk(image, fh).read() == payload


def test_random_access_reads_match_the_disk() -> None:
    payload = _payload()
    regions = ub.disk_regions(payload, "gpt")
    disk = ub.disk_bytes(regions)
    image, fh = _image(ub.build_udif(regions, kinds=["zlib", "raw", "bzip2"], chunk_sectors=7))
    reader = open_disk(image, fh)
    for offset, size in ((0, 1), (511, 3), (20480 - 5, 4096), (len(disk) - 10, 100),
                         (123457, 70000), (len(disk), 10)):
        reader.seek(offset)
        assert reader.read(size) == disk[offset : offset + size]
        assert reader.pread(offset, size) == disk[offset : offset + size]


@pytest.mark.parametrize("scheme,fs,expected", [
    ("gpt", "apfs", "apfs"), ("apm", "hfs", "hfs+"), ("none", "hfs", "hfs+"),
    ("none", "apfs", "apfs")])
def test_partition_schemes_find_the_file_system(scheme: str, fs: str, expected: str) -> None:
    payload = bytearray(64 * 1024)
    if fs == "apfs":
        payload[32:36] = b"NXSB"
    else:
        payload[1024:1026] = b"H+"
    regions = ub.disk_regions(bytes(payload), scheme, fs=fs)
    image, fh = _image(ub.build_udif(regions))
    reader = open_disk(image, fh)
    table = read_partitions(reader.pread, reader.size, "x.dmg")
    assert table.scheme == scheme
    (volume,) = table.volumes
    assert volume.filesystem == expected
    assert reader.pread(volume.start, volume.size) == bytes(payload)


def test_a_partition_whose_content_is_not_a_file_system_is_not_a_volume() -> None:
    regions = ub.disk_regions(bytes(64 * 1024), "gpt", fs="apfs")  # APFS type GUID, no NXSB
    image, fh = _image(ub.build_udif(regions))
    reader = open_disk(image, fh)
    table = read_partitions(reader.pread, reader.size, "x.dmg")
    assert table.partitions[0].type_name == "Apple_APFS"
    assert table.volumes == ()


def test_adc_back_references_decode() -> None:
    data = b"abcabcabcabcabcabcXYZ" * 300 + bytes(range(256)) * 8
    encoded = ub.adc_compress(data)
    assert len(encoded) < len(data) // 2  # the encoder really used back-references
    assert adc_decompress(encoded, len(data)) == data
    with pytest.raises(AdcError):
        adc_decompress(encoded, len(data) - 1)
    with pytest.raises(AdcError):
        adc_decompress(b"\x00\x05", 100)  # a reference before the output start


# --- real samples against 7-Zip -----------------------------------------------------------

@pytest.mark.parametrize("name", DMGS)
def test_real_images_decompress_to_the_bytes_7zip_gives(name: str, tmp_path: Path) -> None:
    path = container(name)
    if shutil.which("7zz") is None:
        pytest.skip("7zz is not installed (Debian package 7zip)")
    subprocess.run(["7zz", "x", "-tdmg", f"-o{tmp_path}", str(path)], check=True,
                   capture_output=True)
    extracted = {int(p.name.split(".", 1)[0]): p for p in tmp_path.iterdir()}
    with path.open("rb") as fh:
        image = read_disk_image(fh, str(path))
        assert len(extracted) == len(image.block_maps)
        for bm in image.block_maps:
            reader = open_disk(image, fh, first=bm.first_sector, count=bm.sector_count)
            ours = hashlib.sha256()
            size = 0
            while piece := reader.read(1 << 20):
                ours.update(piece)
                size += len(piece)
            theirs = extracted[bm.index].read_bytes()
            assert size == len(theirs), bm.name
            assert ours.hexdigest() == hashlib.sha256(theirs).hexdigest(), bm.name


def test_real_image_structures() -> None:
    with container(DMGS[2]).open("rb") as fh:  # bzip2, APM, licence resources
        image = read_disk_image(fh)
        reader = open_disk(image, fh)
        table = read_partitions(reader.pread, reader.size)
    assert image.chunk_kinds == ("bzip2", "ignore")
    assert {r.kind for r in image.resources} == {"LPic", "STR#", "TEXT", "plst", "styl"}
    assert table.scheme == "apm"
    assert [p.filesystem for p in table.volumes] == ["hfs+"]
    with container(DMGS[0]).open("rb") as fh:
        image = read_disk_image(fh)
        reader = open_disk(image, fh)
        table = read_partitions(reader.pread, reader.size)
    assert (image.koly.code_signature_offset, image.koly.code_signature_length) == (1295426,
                                                                                     11264)
    assert table.scheme == "gpt"
    assert [(p.type_name, p.filesystem, p.start) for p in table.volumes] == [
        ("Apple_APFS", "apfs", 40 * 512)]


# --- hostile images -----------------------------------------------------------------------

def _hostile(tamper: object = None, kinds: object = "zlib") -> bytes:
    return ub.build_udif(ub.disk_regions(_payload(), "none"), kinds=kinds,  # type: ignore[arg-type]
                         tamper=tamper)  # type: ignore[arg-type]


def _expect_error(data: bytes, fragment: str, *, read: bool = False) -> ParseError:
    with pytest.raises(ParseError) as info:
        image, fh = _image(data)
        if read:
            open_disk(image, fh).read()
    err = info.value
    assert err.offset is not None
    assert fragment in err.reason, err.reason
    return err


def test_truncated_trailer() -> None:
    data = _hostile()
    _expect_error(data[:-100], "koly")
    _expect_error(b"koly", "too short")


def test_trailer_regions_past_the_end() -> None:
    data = bytearray(_hostile())
    data[-512 + 0xD8 : -512 + 0xE0] = struct.pack(">Q", len(data))  # XML offset past the end
    err = _expect_error(bytes(data), "runs past the koly trailer")
    assert err.offset == len(data) - 512 + 0xD8


def test_chunk_pointing_past_the_data_fork() -> None:
    def tamper(_: int, rows: list[list[int]]) -> None:
        rows[0][4] = 1 << 40
    _expect_error(_hostile(tamper), "outside the data fork")


def test_overlapping_sectors_and_shared_bytes() -> None:
    def overlap(_: int, rows: list[list[int]]) -> None:
        rows[1][2] -= 1
    _expect_error(_hostile(overlap), "overlaps")

    def share(_: int, rows: list[list[int]]) -> None:
        rows[2][4], rows[2][5] = rows[0][4], rows[0][5]  # two chunks, one stored copy
    _expect_error(_hostile(share), "share the stored bytes")


def test_decompression_bomb_stops_after_one_byte_too_many(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A zlib chunk of about 1 MB that inflates to 1 GiB, claiming 1 MiB: refused after
    1 MiB + 1 byte, in bounded time and memory."""
    bomb = zlib.compress(bytes(1 << 30), 9)
    monkeypatch.setattr(ub, "compress", lambda kind, data: bomb)
    data = ub.build_udif([ub.Region("bomb", bytes(1 << 20))], kinds="zlib")
    image, _ = _image(data)
    chunk = image.block_maps[0].chunks[0]
    err = _expect_error(data, f"more than the {1 << 20} bytes", read=True)
    assert err.offset == chunk.data_offset


def test_chunk_claiming_more_than_the_chunk_limit() -> None:
    image, _ = _image(_hostile())
    sectors = MAX_CHUNK_BYTES // 512 + 1
    table = ub.mish(0, sectors, [(0x80000005, 0, 0, sectors, 0, 100),
                                 (0xFFFFFFFF, 0, sectors, 0, 100, 0)])
    with pytest.raises(ParseError) as info:
        parse_mish(table, index=0, name="big", resource_id="0", attributes="", koly=image.koly,
                   path="x.dmg")
    assert "chunk limit" in info.value.reason
    assert info.value.offset == 0


def test_chunk_count_that_does_not_match_the_table() -> None:
    data = _hostile()
    image, _ = _image(data)
    # Claim a billion chunks in a table that holds five: refused before any allocation.
    import plistlib
    plist = plistlib.loads(data[image.koly.xml_offset : image.koly.xml_offset
                                + image.koly.xml_length])
    table = bytearray(plist["resource-fork"]["blkx"][0]["Data"])
    table[0xC8:0xCC] = struct.pack(">I", 1_000_000_000)
    plist["resource-fork"]["blkx"][0]["Data"] = bytes(table)
    xml = plistlib.dumps(plist)
    body = data[: image.koly.xml_offset] + xml
    trailer = bytearray(data[-512:])
    trailer[0xE0:0xE8] = struct.pack(">Q", len(xml))
    _expect_error(body + bytes(trailer), "claims 1000000000 chunks")


def test_short_and_corrupt_chunks() -> None:
    def short(_: int, rows: list[list[int]]) -> None:
        rows[0][5] -= 10
    _expect_error(_hostile(short), "", read=True)
    with pytest.raises(udifchunks.ChunkError):
        udifchunks.decompress(udifchunks.KIND_LZFSE, b"bvx-\xff\xff\xff\x7f", 512)
    with pytest.raises(udifchunks.ChunkError, match="more than the expected 512"):
        import lzfse
        udifchunks.decompress(udifchunks.KIND_LZFSE, lzfse.compress(bytes(4096)), 512)


def test_encrypted_images_are_named() -> None:
    enc = b"encrcdsa" + struct.pack(">I", 2) + bytes(4096)
    err = _expect_error(enc, "encrypted (encrcdsa)")
    assert err.offset == 0
    _expect_error(bytes(4096) + b"cdsaencr", "encrypted (cdsaencr)")


def test_xml_that_is_not_a_plist() -> None:
    data = _hostile()
    image, _ = _image(data)
    start = image.koly.xml_offset
    broken = data[:start] + b"<" * image.koly.xml_length + data[start + image.koly.xml_length:]
    _expect_error(broken, "does not parse")


def test_gpt_claiming_too_many_entries() -> None:
    regions = ub.disk_regions(bytes(8192), "gpt")
    header = bytearray(regions[1].data)
    header[80:84] = struct.pack("<I", 1 << 31)
    regions[1] = ub.Region(regions[1].name, bytes(header))
    image, fh = _image(ub.build_udif(regions))
    reader = open_disk(image, fh)
    with pytest.raises(ParseError) as info:
        read_partitions(reader.pread, reader.size, "x.dmg")
    assert info.value.offset == 512 + 80
