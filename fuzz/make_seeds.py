"""Write seed corpora for the fuzz targets into fuzz/seeds/<target>/.

Seeds are made from the fixture builders (so they cover every load command and blob we know)
and, where the test cache has them, from real third-party binaries: the first 64 KiB of each
slice (headers and load commands) for ``macho`` and the signature SuperBlob for ``codesign``.
"""

from __future__ import annotations

import hashlib
import io
import plistlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from bundlelint.parsers.macho import parse_macho  # noqa: E402
from fixtures.macho_builder import DylibSpec, MachOSpec, build_fat, build_macho  # noqa: E402
from fixtures.signer import CS_ADHOC, CS_RUNTIME, sign_macho  # noqa: E402

SLICE_HEAD = 64 * 1024
MAX_SIGNATURE = 256 * 1024


def _write(target: str, data: bytes) -> None:
    out = HERE / "seeds" / target
    out.mkdir(parents=True, exist_ok=True)
    (out / hashlib.sha1(data).hexdigest()).write_bytes(data)


def _fixture_machos() -> list[bytes]:
    specs = [
        MachOSpec(),
        MachOSpec(arch="x86_64", build_version=None, version_min=((10, 9, 0), (10, 15, 0))),
        MachOSpec(filetype=0x6, id_dylib="@rpath/libx.dylib", rpaths=("@loader_path/..",),
                  dylibs=(DylibSpec("/usr/lib/libSystem.B.dylib"),
                          DylibSpec("@rpath/liby.dylib", kind="weak"))),
        MachOSpec(build_version=None, version_min=None),
    ]
    out = [build_macho(s) for s in specs]
    out.append(sign_macho(out[0], identifier="com.example.a", flags=CS_ADHOC | CS_RUNTIME,
                          team_id="ABCDE12345",
                          entitlements={"com.apple.security.get-task-allow": True},
                          hash_types=(1, 2)))
    out.append(build_fat([out[1], out[4]]))
    return out


def _real_files() -> list[Path]:
    cache = REPO / ".cache"
    return [p for p in cache.glob("**/*") if p.is_file() and p.stat().st_size > 4096
            and p.suffix not in (".tgz", ".whl", ".json", ".part")]


def _signature_parts(data: bytes) -> None:
    """Seeds for the signature sub-parsers from one signed Mach-O's SuperBlob(s)."""
    try:
        macho = parse_macho(io.BytesIO(data), len(data), "seed")
    except Exception:
        return
    for sl in macho.slices:
        sig = sl.signature
        if sig is None:
            continue
        if sig.requirements:
            _write("requirements", sig.requirements)
        if sig.cms:
            _write("cms", sig.cms)
        if sig.der_entitlements:
            _write("der_entitlements", sig.der_entitlements)
        go = sl.section("__DATA", "__go_buildinfo") or sl.section("__DATA_CONST", "__go_buildinfo")
        if go is not None and go.size <= 64 * 1024:
            start = sl.offset + go.offset
            _write("gobuildinfo", data[start : start + go.size])


def _go_files() -> list[Path]:
    cache = REPO / ".cache"
    return [p for p in cache.glob("toolchain/**/*") if p.is_file() and p.stat().st_size > 4096]


def _package_seeds() -> None:
    from fixtures import xar_builder as xb

    cpio = [xb.CpioSpec(".", mode=0o40755), xb.CpioSpec("./A.app/Contents/Info.plist", b"<p/>"),
            xb.CpioSpec("./A.app/Contents/l", b"Info.plist", mode=0o120755)]
    ticket = xb.build_ticket([(1, b"\x01" * 20), (2, b"\x02" * 20)])
    for payload in (xb.cpio_odc(cpio), xb.cpio_newc(cpio), xb.gzip_payload(xb.cpio_odc(cpio)),
                    xb.pbzx_payload(xb.cpio_odc(cpio))):
        _write("cpio", payload)
    _write("ticket", ticket)
    _write("xar", xb.build_xar(
        [xb.XarFile("Distribution", xb.distribution([("a", "a.pkg")])),
         xb.XarFile("a.pkg/PackageInfo", xb.package_info(), encoding="gzip"),
         xb.XarFile("a.pkg/Payload", xb.gzip_payload(xb.cpio_odc(cpio)))],
        tail=xb.ticket_trailer(ticket)))
    _write("xar", xb.build_xar([xb.XarFile("Payload", xb.pbzx_payload(xb.cpio_newc(cpio)))],
                               signing=xb.Signing(rsa=xb.test_ca.developer_id_installer_leaf(),
                                                  chain=xb.installer_chain())))


def _bundle_seeds() -> None:
    import tempfile
    import zipfile

    from appbuilder import make_app

    from fixtures.metallib_builder import build_metallib
    from fixtures.sealer import seal_bundle

    _write("metallib", build_metallib())
    _package_seeds()
    from fixtures.appledouble_builder import FINDER_INFO, PROVENANCE_ONLY, build_appledouble

    _write("appledouble", build_appledouble(PROVENANCE_ONLY))
    from fixtures.apfs_builder import Entry, build_apfs, zlib_payload, zlib_resource_fork

    _write("apfs", build_apfs([
        Entry("A.app/Contents/MacOS/a", b"\xcf\xfa\xed\xfe" * 30),
        Entry("l", kind="symlink", target="A.app"),
        Entry("h", kind="hardlink", target="A.app/Contents/MacOS/a"),
        Entry("s", bytes(9000), extents=[(12288, True)]),
        Entry("z", b"z" * 900, decmpfs=(3, zlib_payload(b"z" * 900), None)),
        Entry("r", b"r" * 5000, decmpfs=(4, b"", zlib_resource_fork(b"r" * 5000))),
        Entry("v", b"lzvn " * 900, compression="lzvn-rsrc")]))
    _write("appledouble", build_appledouble({"com.apple.FinderInfo": FINDER_INFO},
                                            resource_fork=b"rsrc"))
    from fixtures.hfsplus_builder import seed_images

    for image in seed_images():
        _write("hfsplus", image)
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(Path(tmp), files={"Contents/Resources/a.txt": b"a"})
        _write("coderesources", seal_bundle(app))
        _write("xmlplist", (app / "Contents/_CodeSignature/CodeResources").read_bytes())
        exe = (app / "Contents" / "MacOS" / "app").read_bytes()
        _signature_parts(exe)
        _write("lint_macho", exe)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(app.rglob("*")):
                if path.is_file():
                    zf.write(path, str(path.relative_to(Path(tmp))))
        _write("lint_zip", buf.getvalue())
        _write("zipdir", buf.getvalue())
        _write("zipmembers", buf.getvalue())
    _write("notary", b'{"logFormatVersion": 1, "jobId": "1", "status": "Invalid", '
           b'"statusCode": 4000, "archiveFilename": "A.zip", "issues": [{"severity": "error", '
           b'"code": null, "path": "A.zip/A.app/Contents/MacOS/a", "message": "The binary is '
           b'not signed.", "docUrl": null, "architecture": "arm64"}], "ticketContents": null}')
    _write("notary", b'{"id": "1", "status": "Accepted", "name": "A.zip", "message": "ok"}')
    _write("gobuildinfo", b"\xff Go buildinf:\x08\x02" + b"\0" * 16 + b"\x08go1.22.5"
           + b"\x05hello")
    # plan: app, helper, dylib names, entitlement key and value, NUL-separated
    _write("plan", b"MyApp\0Helper\0libfoo\0com.apple.security.network.client\0yes")
    _write("plan", b"$(touch PWNED)\nEOF\0-rf; `id`\0a'b\"c\0k\nEOF\n\0\x1b]0;t\x07")


def main() -> None:
    machos = _fixture_machos()
    for path in [*_real_files(), *_go_files()]:
        with open(path, "rb") as fh:
            head = fh.read(8)
        if head[:4] in (b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe"):
            machos.append(path.read_bytes())
    for data in machos:
        _signature_parts(data)
        try:
            macho = parse_macho(io.BytesIO(data), len(data), "seed")
        except Exception:
            continue
        if len(data) <= SLICE_HEAD:
            _write("macho", data)
            _write("lint_macho", data)
        for sl in macho.slices:
            _write("macho", data[sl.offset : sl.offset + min(sl.size, SLICE_HEAD)])
            loc = sl.code_signature
            if loc is not None and loc.datasize <= MAX_SIGNATURE:
                start = sl.offset + loc.dataoff
                _write("codesign", data[start : start + loc.datasize])
    for value in ({"CFBundleExecutable": "app", "LSMinimumSystemVersion": "11.0"},
                  {"com.apple.security.cs.allow-jit": True, "a": [1, 2.5, b"x", {"b": 0}]}):
        _write("plist", plistlib.dumps(value))
        _write("xmlplist", plistlib.dumps(value))
        _write("plist", plistlib.dumps(value, fmt=plistlib.FMT_BINARY))
    _bundle_seeds()
    for target in sorted(p.name for p in (HERE / "seeds").iterdir()):
        print(target, len(list((HERE / "seeds" / target).iterdir())), "seeds")


if __name__ == "__main__":
    main()
