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


def main() -> None:
    machos = _fixture_machos()
    for path in _real_files():
        with open(path, "rb") as fh:
            head = fh.read(8)
        if head[:4] in (b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe"):
            machos.append(path.read_bytes())
    for data in machos:
        try:
            macho = parse_macho(io.BytesIO(data), len(data), "seed")
        except Exception:
            continue
        if len(data) <= SLICE_HEAD:
            _write("macho", data)
        for sl in macho.slices:
            _write("macho", data[sl.offset : sl.offset + min(sl.size, SLICE_HEAD)])
            loc = sl.code_signature
            if loc is not None and loc.datasize <= MAX_SIGNATURE:
                start = sl.offset + loc.dataoff
                _write("codesign", data[start : start + loc.datasize])
    for value in ({"CFBundleExecutable": "app", "LSMinimumSystemVersion": "11.0"},
                  {"com.apple.security.cs.allow-jit": True, "a": [1, 2.5, b"x", {"b": 0}]}):
        _write("plist", plistlib.dumps(value))
        _write("plist", plistlib.dumps(value, fmt=plistlib.FMT_BINARY))
    for target in ("macho", "codesign", "plist"):
        print(target, len(list((HERE / "seeds" / target).iterdir())), "seeds")


if __name__ == "__main__":
    main()
