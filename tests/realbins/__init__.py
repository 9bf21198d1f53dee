"""Real third-party macOS binaries, fetched from the package registries at test time.

Each one is pinned in ``catalogue.json`` by package, version, archive sha256 and member sha256.
Archives are fetched with the ordinary clients (``npm pack``, ``pip download``) into a cache
(``BUNDLELINT_TEST_CACHE`` or ``<repo>/.cache``), checked, and the member is extracted without
unpacking anything else. A failed download fails the test: these binaries are the ground truth.

Only tests marked ``realbin`` (which implies ``network``) may call ``fetch``/``fetch_tree``, so
``pytest -m "not network"`` never reaches a registry: ``tests/conftest.py`` sets
``NETWORK_ENV`` for marked tests and an unmarked caller fails here, cache or no cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

#: Set (to "1") by tests/conftest.py while a test marked ``network`` runs.
NETWORK_ENV = "BUNDLELINT_TEST_NETWORK_MARKED"


def _require_network_marker(name: str) -> None:
    if os.environ.get(NETWORK_ENV) != "1":
        raise RuntimeError(
            f"realbins.fetch({name!r}) may download from a registry: mark the test "
            "@pytest.mark.realbin (which implies the network marker)"
        )


def cache_dir() -> Path:
    root = Path(os.environ.get("BUNDLELINT_TEST_CACHE", REPO / ".cache"))
    path = root / "realbins"
    path.mkdir(parents=True, exist_ok=True)
    return path


@cache
def catalogue() -> dict[str, dict[str, Any]]:
    entries = json.loads((HERE / "catalogue.json").read_text())
    return {e["name"]: e for e in entries}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _download(entry: dict[str, Any], dest: Path) -> None:
    with tempfile.TemporaryDirectory(dir=dest.parent) as tmp:
        if entry["registry"] == "npm":
            cmd = ["npm", "pack", "--silent", "--pack-destination", tmp,
                   f"{entry['package']}@{entry['version']}"]
            subprocess.run(cmd, check=True, capture_output=True, timeout=600)
        elif entry["registry"] == "pypi":
            wheel = entry["archive"]
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                   "--platform", "macosx_11_0_arm64", "--python-version", "3.12", "-d", tmp,
                   "--quiet", f"{entry['package']}=={entry['version']}"]
            subprocess.run(cmd, check=True, capture_output=True, timeout=600)
            if not (Path(tmp) / wheel).exists():
                raise RuntimeError(f"pip did not fetch {wheel}: got {os.listdir(tmp)}")
        else:
            raise ValueError(entry["registry"])
        produced = [p for p in Path(tmp).iterdir() if p.is_file()]
        if len(produced) != 1:
            raise RuntimeError(f"expected one archive for {entry['name']}, got {produced}")
        shutil.move(str(produced[0]), dest)


def archive(name: str) -> Path:
    """The verified package archive for catalogue entry ``name``."""
    entry = catalogue()[name]
    dest = cache_dir() / entry["archive"]
    if not dest.exists() or _sha256(dest) != entry["archive_sha256"]:
        dest.unlink(missing_ok=True)
        _download(entry, dest)
    actual = _sha256(dest)
    if actual != entry["archive_sha256"]:
        raise RuntimeError(f"{dest}: sha256 {actual} != pinned {entry['archive_sha256']}")
    return dest


def _read_member(archive_path: Path, member: str) -> bytes:
    if archive_path.suffix == ".whl":
        with zipfile.ZipFile(archive_path) as zf:
            return zf.read(member)
    with tarfile.open(archive_path, "r:gz") as tf:
        fh = tf.extractfile(member)
        if fh is None:
            raise RuntimeError(f"{member} is not a regular file in {archive_path}")
        return fh.read()


def fetch(name: str) -> Path:
    """The verified Mach-O file of catalogue entry ``name``, extracted into the cache."""
    _require_network_marker(name)
    entry = catalogue()[name]
    out = cache_dir() / "members" / name / Path(entry["member"]).name
    if out.exists() and _sha256(out) == entry["sha256"]:
        return out
    data = _read_member(archive(name), entry["member"])
    digest = hashlib.sha256(data).hexdigest()
    if digest != entry["sha256"]:
        raise RuntimeError(f"{name}: member sha256 {digest} != pinned {entry['sha256']}")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.chmod(0o755)
    tmp.replace(out)
    return out


def fetch_tree(name: str, prefix: str) -> Path:
    """Extract every regular file and symlink under ``prefix`` of entry ``name``'s tarball
    (e.g. a whole .app) into the cache and return the directory. Refuses unsafe member names."""
    _require_network_marker(name)
    archive_path = archive(name)
    out = cache_dir() / "trees" / name
    target = out / Path(prefix).name
    if target.exists():
        return target
    staging = Path(tempfile.mkdtemp(dir=cache_dir()))
    with tarfile.open(archive_path, "r:gz") as tf:
        for member in tf.getmembers():
            if not member.name.startswith(prefix.rstrip("/") + "/"):
                continue
            rel = member.name[len(str(Path(prefix).parent)) + 1 :]
            if rel.startswith("/") or ".." in Path(rel).parts:
                raise RuntimeError(f"unsafe member {member.name}")
            dest = staging / rel
            if member.isdir():
                dest.mkdir(parents=True, exist_ok=True)
            elif member.issym():
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.symlink(member.linkname, dest)
            elif member.isfile():
                dest.parent.mkdir(parents=True, exist_ok=True)
                fh = tf.extractfile(member)
                assert fh is not None
                dest.write_bytes(fh.read())
                dest.chmod(member.mode & 0o755)
    out.mkdir(parents=True, exist_ok=True)
    (staging / Path(prefix).name).replace(target)
    shutil.rmtree(staging, ignore_errors=True)
    return target
