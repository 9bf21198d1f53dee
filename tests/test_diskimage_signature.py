"""A disk image's own signature (parsers/udifsig.py, analysis/diskimage.py), verified as
Security's DiskImageRep does: one code hash over [0, signature offset), special slot 6 over
the koly trailer with its signature length zeroed, the code limit equal to the signature
offset, and the CMS through the same verification as a Mach-O's."""

from __future__ import annotations

import io
import struct
from pathlib import Path

from samples import container

from bundlelint.analysis.cms import ChainStatus, LeafKind
from bundlelint.analysis.diskimage import ImageSigning, check_image_signature
from bundlelint.options import Options
from bundlelint.parsers.diskimage import DiskImageReport, inspect_disk_image
from fixtures import test_ca
from fixtures import udif_builder as ub
from fixtures.cms_signer import cms_callable

ROOT = Path(__file__).resolve().parent.parent
ANCHORED = Options(extra_trust_anchors=(test_ca.root().der,))


def _image() -> bytes:
    payload = bytearray(64 * 1024)
    payload[32:36] = b"NXSB"
    return ub.build_udif(ub.disk_regions(bytes(payload), "gpt"), kinds="zlib")


def _report(data: bytes, tmp_path: Path) -> DiskImageReport:
    path = tmp_path / "x.dmg"
    path.write_bytes(data)
    return inspect_disk_image(io.BytesIO(data), name="x.dmg", path=str(path),
                              file_size=len(data))


def test_developer_id_signature_verifies(tmp_path: Path) -> None:
    data = ub.sign_image(_image(), identifier="x", team_id="ABCDE12345", flags=0,
                         cms=cms_callable())
    report = _report(data, tmp_path)
    check = check_image_signature(report, ANCHORED)
    assert check.state is ImageSigning.CERTIFICATE
    assert check.problems == ()
    assert check.leaf_kind is LeafKind.DEVELOPER_ID_APPLICATION
    assert check.is_developer_id
    # Without the test root, the same signature is not trusted.
    assert not check_image_signature(report, Options()).is_developer_id


def test_adhoc_and_unsigned(tmp_path: Path) -> None:
    assert check_image_signature(_report(_image(), tmp_path)).state is ImageSigning.UNSIGNED
    adhoc = check_image_signature(_report(ub.sign_image(_image()), tmp_path))
    assert adhoc.state is ImageSigning.ADHOC
    assert adhoc.problems == ()


def test_a_byte_changed_after_signing_breaks_the_code_hash(tmp_path: Path) -> None:
    data = bytearray(ub.sign_image(_image()))
    data[100] ^= 1
    check = check_image_signature(_report(bytes(data), tmp_path))
    assert any("is not code slot 0" in p for p in check.problems)


def test_an_edited_trailer_breaks_special_slot_6(tmp_path: Path) -> None:
    data = bytearray(ub.sign_image(_image()))
    data[-512 + 0x1E8] ^= 1  # image variant: not covered by anything but slot 6
    check = check_image_signature(_report(bytes(data), tmp_path))
    assert [p for p in check.problems if "special slot 6" in p]
    assert not [p for p in check.problems if "code slot" in p]


def test_a_code_limit_other_than_the_signature_offset_is_refused(tmp_path: Path) -> None:
    image = _image()
    check = check_image_signature(_report(ub.sign_image(image, code_limit=len(image) - 1000),
                                          tmp_path))
    assert any("strictValidate" in p for p in check.problems)


def test_the_info_slot_is_not_the_trailer(tmp_path: Path) -> None:
    """Hashing the trailer with its signature length left in (not zeroed) does not verify:
    slot 6 covers the blind-length trailer, as DiskImageRep::setup prepares it."""
    image = _image()
    trailer = bytearray(image[-512:])
    trailer[0x128:0x130] = struct.pack(">Q", len(image) - 512)
    trailer[0x130:0x138] = struct.pack(">Q", 1234)
    check = check_image_signature(_report(ub.sign_image(image, rep_specific=bytes(trailer)),
                                          tmp_path))
    assert any("special slot 6" in p for p in check.problems)


def test_signature_length_not_filling_the_frame(tmp_path: Path) -> None:
    data = bytearray(ub.sign_image(_image()))
    length = struct.unpack(">Q", data[-512 + 0x130 : -512 + 0x138])[0]
    data[-512 + 0x130 : -512 + 0x138] = struct.pack(">Q", length - 4)
    report = _report(bytes(data), tmp_path)
    check = check_image_signature(report)
    assert check.state is ImageSigning.UNREADABLE
    assert check.offset == len(data) - 512 + 0x130


def test_juhflow_image_is_developer_id_and_its_hashes_verify() -> None:
    path = container("01-juhflow-devid-notarized-apfs.dmg")
    with path.open("rb") as fh:
        report = inspect_disk_image(fh, name=path.name, path=str(path),
                                    file_size=path.stat().st_size)
    assert report.signature is not None and report.signature.ticket_offset is not None
    with path.open("rb") as fh:
        fh.seek(report.signature.ticket_offset)
        assert fh.read(4) == b"s8ch"
    check = check_image_signature(report)
    assert check.state is ImageSigning.CERTIFICATE
    assert check.problems == ()
    assert check.leaf_kind is LeafKind.DEVELOPER_ID_APPLICATION
    assert check.verification is not None and check.verification.chain is not None
    assert check.verification.chain.status is ChainStatus.APPLE_ROOT
    assert check.verification.team_id == check.cd_team_id == "T457T7F9C5"
    assert check.is_developer_id


def test_sparkle_lzma_image_is_adhoc() -> None:
    path = container("06-sparkle-apfs-lzma-adhoc-signed.dmg")
    with path.open("rb") as fh:
        report = inspect_disk_image(fh, name=path.name, path=str(path),
                                    file_size=path.stat().st_size)
    check = check_image_signature(report)
    assert check.state is ImageSigning.ADHOC
    assert check.problems == ()
