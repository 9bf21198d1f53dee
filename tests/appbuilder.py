"""Build app bundles on disk for tests, from Mach-O bytes made by ``fixtures``.

Each helper makes one chosen defect easy to express; everything else is a well-formed default
(a hardened-runtime, CMS-carrying arm64 executable and a complete Info.plist).
"""

from __future__ import annotations

import plistlib
from pathlib import Path
from typing import Any

from fixtures.cms_signer import cms_callable
from fixtures.macho_builder import MachOSpec, build_fat, build_macho
from fixtures.signer import CS_RUNTIME, sign_macho

TEAM = "ABCDE12345"
#: A real CMS signature by the throwaway test CA's "Developer ID Application" leaf (team TEAM),
#: with an RFC 3161 timestamp: what a release signature looks like, short of Apple's root.
#: ``tests.lintutil`` and the CLI tests trust the test root explicitly.
TEST_CMS = cms_callable()


def developer_id_like(spec: MachOSpec | None = None, *, identifier: str = "com.example.app",
                      **sign_options: Any) -> bytes:
    """A thin Mach-O signed like a release build: hardened runtime, team ID, CMS present."""
    options: dict[str, Any] = {"flags": CS_RUNTIME, "team_id": TEAM, "cms": TEST_CMS}
    options.update(sign_options)
    return sign_macho(build_macho(spec or MachOSpec()), identifier=identifier, **options)


def universal(*slices: bytes) -> bytes:
    return build_fat(list(slices))


DEFAULT_INFO: dict[str, Any] = {
    "CFBundleExecutable": "app",
    "CFBundleIdentifier": "com.example.app",
    "CFBundlePackageType": "APPL",
    "CFBundleName": "App",
    "LSMinimumSystemVersion": "11.0",
}


def make_app(
    root: Path,
    *,
    name: str = "Sample.app",
    executable: bytes | None = None,
    exe_name: str = "app",
    exe_mode: int = 0o755,
    info: dict[str, Any] | bytes | None = None,
    info_overrides: dict[str, Any] | None = None,
    drop_info_keys: tuple[str, ...] = (),
    files: dict[str, bytes] | None = None,
    write_info: bool = True,
) -> Path:
    """Write ``root/name`` as an app bundle and return its path."""
    app = root / name
    macos = app / "Contents" / "MacOS"
    macos.mkdir(parents=True)
    exe = macos / exe_name
    exe.write_bytes(developer_id_like() if executable is None else executable)
    exe.chmod(exe_mode)
    if write_info:
        if isinstance(info, bytes):
            data = info
        else:
            values = dict(DEFAULT_INFO if info is None else info)
            values.update(info_overrides or {})
            for key in drop_info_keys:
                values.pop(key, None)
            data = plistlib.dumps(values)
        (app / "Contents" / "Info.plist").write_bytes(data)
    for rel, content in (files or {}).items():
        path = app / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return app


def sealed_app(root: Path, *, sign: dict[str, Any] | None = None, **kwargs: Any) -> Path:
    """``make_app(root, **kwargs)``, then sealed and signed as codesign signs a bundle
    (``fixtures.sealer.seal_bundle`` with ``sign`` as the signing options): a bundle whose
    executable is signed but which has no _CodeSignature/CodeResources is itself a defect
    (BL234), so tests that want a clean bundle, or exactly one defect, start from this."""
    from fixtures.sealer import seal_bundle

    app = make_app(root, **kwargs)
    seal_bundle(app, seal_nested=False, **(sign or {}))
    return app
