"""In-suite property tests: every fuzz target accepts arbitrary and mutated bytes without any
exception but ``ParseError`` (the long, coverage-guided runs live in fuzz/run.py)."""

from __future__ import annotations

import io
import json
import plistlib
import tempfile
import zipfile
from pathlib import Path

import pytest
from appbuilder import TEST_CMS, make_app
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bundlelint.parsers.macho import parse_macho_bytes
from fixtures import xar_builder
from fixtures.apfs_builder import Entry, build_apfs, zlib_payload, zlib_resource_fork
from fixtures.appledouble_builder import FINDER_INFO, PROVENANCE_ONLY, build_appledouble
from fixtures.der_entitlements import der_payload
from fixtures.hfsplus_builder import seed_images as hfsplus_seed_images
from fixtures.macho_builder import MachOSpec, build_fat, build_macho
from fixtures.metallib_builder import build_metallib
from fixtures.signer import CS_RUNTIME, sign_macho
from fixtures.udif_builder import build_udif, disk_regions, sign_image
from fuzz.targets import TARGETS, run_one

SIGNED = sign_macho(build_macho(MachOSpec()), identifier="com.example.fuzz", flags=CS_RUNTIME,
                    team_id="ABCDE12345", entitlements={"a": True}, hash_types=(1, 2),
                    der_entitlements=der_payload({"a": True}), cms=TEST_CMS)
SIG = parse_macho_bytes(SIGNED).slices[0].signature
assert SIG is not None and SIG.requirements and SIG.cms and SIG.der_entitlements


_CPIO = [xar_builder.CpioSpec(".", mode=0o40755),
         xar_builder.CpioSpec("./A.app/Contents/Info.plist", b"<plist/>"),
         xar_builder.CpioSpec("./A.app/Contents/l", b"Info.plist", mode=0o120755)]


def _package() -> bytes:
    return xar_builder.build_xar(
        [xar_builder.XarFile("PackageInfo", xar_builder.package_info(), encoding="gzip"),
         xar_builder.XarFile("Payload", xar_builder.gzip_payload(xar_builder.cpio_odc(_CPIO)))],
        tail=xar_builder.ticket_trailer(xar_builder.build_ticket([(1, b"\x01" * 20)])))


def _zipped_app() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("A.app/Contents/Info.plist", plistlib.dumps({"CFBundleExecutable": "a"}))
        zf.writestr("A.app/Contents/MacOS/a", SIGNED)
        zf.writestr("A.app/Contents/Frameworks/F.framework/Versions/Current", "A")
    return buf.getvalue()


def _udif_seeds() -> list[bytes]:
    payload = bytearray(8192)
    payload[32:36] = b"NXSB"
    payload[100:4000] = b"bundlelint " * 354 + b"bu"
    gpt = build_udif(disk_regions(bytes(payload), "gpt"), kinds=["zlib", "raw"],
                     chunk_sectors=8, comments=True, zeros="ignore")
    apm = build_udif(disk_regions(bytes(payload), "apm", fs="hfs"), kinds=["bzip2", "adc"],
                     chunk_sectors=8, zeros="zero")
    none = build_udif(disk_regions(bytes(payload), "none"), kinds=["lzma", "lzfse"],
                      chunk_sectors=8)
    return [gpt, apm, sign_image(none, identifier="fuzz")]


def _udif_chunks() -> list[bytes]:
    import bz2
    import lzma
    import zlib

    import lzfse

    from bundlelint.parsers import udifchunks
    from fixtures.udif_builder import adc_compress

    data = b"chunk data " * 93 + b"c"  # 1024 bytes
    kinds = sorted(udifchunks.COMPRESSED_KINDS)
    stored = {udifchunks.KIND_ADC: adc_compress(data),
              udifchunks.KIND_ZLIB: zlib.compress(data),
              udifchunks.KIND_BZIP2: bz2.compress(data),
              udifchunks.KIND_LZFSE: lzfse.compress(data),
              udifchunks.KIND_LZMA: lzma.compress(data)}
    return [bytes([kinds.index(k)]) + (64).to_bytes(2, "big") + v for k, v in stored.items()]


def _stored_app() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("A.app/Contents/Info.plist", plistlib.dumps({"CFBundleExecutable": "a"}))
        zf.writestr("A.app/Contents/MacOS/a", SIGNED)
    return buf.getvalue()


def _code_resources() -> bytes:
    from fixtures.sealer import build_code_resources

    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(Path(tmp), files={"Contents/Resources/a.txt": b"a"})
        return build_code_resources(app)


def _tar_of(members: dict[str, bytes]) -> bytes:
    import tarfile

    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tf:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tf.addfile(info, io.BytesIO(content))
    return out.getvalue()


SEEDS: dict[str, list[bytes]] = {
    "macho": [SIGNED, build_fat([build_macho(MachOSpec(arch="x86_64")), SIGNED])],
    "codesign": [SIGNED[SIGNED.rfind(b"\xfa\xde\x0c\xc0"):]],
    "plist": [plistlib.dumps({"k": [1, "v", {"n": 2.5}]}),
              plistlib.dumps({"k": [1, "v"]}, fmt=plistlib.FMT_BINARY)],
    "xmlplist": [plistlib.dumps({"files2": {"a": {"hash": b"1" * 20, "hash2": b"2" * 32},
                                            "l": {"symlink": "a"}}, "r": [1, 2.5, True, ""]}),
                 _code_resources()],
    "requirements": [SIG.requirements],
    "cms": [SIG.cms],
    "der_entitlements": [SIG.der_entitlements],
    "coderesources": [_code_resources()],
    "gobuildinfo": [b"\xff Go buildinf:\x08\x02" + b"\0" * 16 + b"\x08go1.22.5\x05hello"],
    "metallib": [build_metallib()],
    "appledouble": [build_appledouble(PROVENANCE_ONLY),
                    build_appledouble({"com.apple.FinderInfo": FINDER_INFO, "a": b"x"},
                                      resource_fork=b"rsrc")],
    "hfsplus": hfsplus_seed_images(),
    "apfs": [build_apfs([Entry("A.app/Contents/MacOS/a", b"\xcf\xfa\xed\xfe" * 30),
                         Entry("l", kind="symlink", target="A.app"),
                         Entry("h", kind="hardlink", target="A.app/Contents/MacOS/a"),
                         Entry("z", b"z" * 900, decmpfs=(3, zlib_payload(b"z" * 900), None)),
                         Entry("r", b"r" * 5000,
                               decmpfs=(4, b"", zlib_resource_fork(b"r" * 5000))),
                         Entry("v", b"lzvn " * 900, compression="lzvn-rsrc")])],
    "xar": [_package()],
    "cpio": [xar_builder.cpio_odc(_CPIO), xar_builder.cpio_newc(_CPIO),
             xar_builder.gzip_payload(xar_builder.cpio_odc(_CPIO)),
             xar_builder.pbzx_payload(xar_builder.cpio_odc(_CPIO))],
    "ticket": [xar_builder.build_ticket([(1, b"\x01" * 20), (2, b"\x02" * 20)])],
    "notary": [json.dumps({"logFormatVersion": 1, "jobId": "1", "status": "Invalid",
                           "statusCode": 4000, "issues": [
                               {"severity": "error", "code": None, "path": "A.zip/A.app/a",
                                "message": "The binary is not signed.", "docUrl": None,
                                "architecture": "arm64"}], "ticketContents": None}).encode()],
    "lint_macho": [SIGNED],
    "lint_zip": [_zipped_app()],
    "zipdir": [_zipped_app()],
    "reporters": [b"Demo.app\0Contents/MacOS/demo\0not signed\0codesign -s - x\0arm64\0k\0v\0p",
                  "A\n::error file=a::x\x1b]0;t\x07\0b\u202e\xff\0[bold]m\r\0"
                  "c\x9b\0\0\0\0".encode("utf-8", "surrogateescape") + b"\xff\xfe\0\x80"],
    "zipmembers": [_zipped_app(), _stored_app()],
    "tar": [_tar_of({"bin/tool": SIGNED, "README": b"text"})],
    "udif": _udif_seeds(),
    "udifchunk": _udif_chunks(),
    "plan": [b"MyApp\0Helper\0libfoo\0com.apple.security.network.client\0yes",
             b"$(touch PWNED)\nEOF\0-rf; `id`\0a'b\"c\0k\nEOF\n\0\x1b]0;t\x07"],
}
INTERESTING_U32 = [b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x7f\xff\xff\xff",
                   b"\x00\x00\x00\x01"]
FUZZ_SETTINGS = settings(max_examples=150, deadline=None,
                         suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("name", sorted(TARGETS))
@FUZZ_SETTINGS
@given(data=st.binary(max_size=2048))
def test_random_bytes(name: str, data: bytes) -> None:
    run_one(TARGETS[name], data)


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_seeds_run_clean(name: str) -> None:
    for seed in SEEDS[name]:
        run_one(TARGETS[name], seed)


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    buf = bytearray(seed)
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["flip", "truncate", "insert", "u32"]))
        pos = draw(st.integers(0, max(len(buf) - 1, 0)))
        if op == "flip" and buf:
            buf[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del buf[pos:]
        elif op == "insert":
            buf[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif op == "u32" and len(buf) >= pos + 4:
            buf[pos:pos + 4] = draw(st.sampled_from(INTERESTING_U32))
    return bytes(buf)


@pytest.mark.parametrize(("name", "index"),
                         [(n, i) for n, seeds in sorted(SEEDS.items()) for i in range(len(seeds))])
@FUZZ_SETTINGS
@given(data=st.data())
def test_mutated_seeds(name: str, index: int, data: st.DataObject) -> None:
    run_one(TARGETS[name], data.draw(mutated(SEEDS[name][index])))


def test_every_target_has_seeds() -> None:
    assert set(SEEDS) == set(TARGETS)


#: Shell syntax and control characters, so the plan target meets them often.
SHELL_HOSTILE = st.sampled_from([*"$()`;'\"\\\n\r\t\x1b|&<>*?[]{}~#!- ", "EOF", "\udcff"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields=st.lists(st.lists(SHELL_HOSTILE | st.characters(blacklist_categories=("Cs",)),
                                max_size=8).map("".join),
                       min_size=5, max_size=5))
def test_plan_target_with_shell_syntax_in_every_name(fields: list[str]) -> None:
    """The plan target's oracle (bash -n plus ``shell_words``: nothing unquoted but safe
    characters, every name intact inside a word) on names made of shell syntax."""
    run_one(TARGETS["plan"], b"\0".join(f.encode("utf-8", "surrogateescape") for f in fields))


def test_plan_oracle_rejects_unquoted_text() -> None:
    from fuzz.targets import NotInert, shell_words

    assert shell_words("codesign --sign 'a b' $'x\\ny' > f\n# c\n") == [
        "codesign", "--sign", "a b", "x\ny", ">", "f"]
    for bad in ("cat > f <<'EOF'\n", "echo $(id)\n", "a 'open\n", "# a\x1bb\n", "x;y\n"):
        with pytest.raises(NotInert):
            shell_words(bad)
