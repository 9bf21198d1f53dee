"""Build zip fixtures in tests the way ditto (or a careless zip tool) would."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path


def unix_info(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.create_system = 3
    info.external_attr = mode << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def zip_tree(root: Path, out: Path, *, keep_symlinks: bool = True,
             extra: dict[str, bytes] | None = None) -> Path:
    """Zip ``root`` (an .app) as ``ditto -c -k --keepParent`` would: ``Name.app/...`` with
    Unix modes and symlinks stored as links. ``keep_symlinks=False`` stores each link as a
    regular file holding its target, as ``zip -r`` without ``-y`` does."""
    with zipfile.ZipFile(out, "w") as zf:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            base = Path(dirpath)
            rel_dir = base.relative_to(root.parent).as_posix()
            zf.writestr(unix_info(rel_dir + "/", stat.S_IFDIR | 0o755), b"")
            for name in sorted(filenames + [d for d in dirnames if (base / d).is_symlink()]):
                path = base / name
                arc = f"{rel_dir}/{name}"
                st = path.lstat()
                if stat.S_ISLNK(st.st_mode):
                    target = os.readlink(path).encode()
                    mode = (stat.S_IFLNK | 0o755) if keep_symlinks else (stat.S_IFREG | 0o644)
                    zf.writestr(unix_info(arc, mode), target)
                else:
                    zf.writestr(unix_info(arc, st.st_mode), path.read_bytes())
            dirnames[:] = [d for d in dirnames if not (base / d).is_symlink()]
        for name, data in (extra or {}).items():
            zf.writestr(unix_info(name, stat.S_IFREG | 0o644), data)
    return out


def make_framework(app: Path, name: str = "Foo") -> Path:
    """A versioned framework with the usual symlinks (Versions/Current -> A, ...)."""
    fw = app / "Contents" / "Frameworks" / f"{name}.framework"
    a = fw / "Versions" / "A"
    (a / "Resources").mkdir(parents=True)
    (a / "Resources" / "Info.plist").write_bytes(b"<?xml version='1.0'?><plist><dict/></plist>")
    (a / name).write_bytes(b"not really code")
    (fw / "Versions" / "Current").symlink_to("A")
    (fw / name).symlink_to(f"Versions/Current/{name}")
    (fw / "Resources").symlink_to("Versions/Current/Resources")
    return fw


def listing(*dirs: Path) -> set[str]:
    """Every path under ``dirs``: to prove nothing was written."""
    found: set[str] = set()
    for d in dirs:
        for dirpath, dirnames, filenames in os.walk(d):
            found.update(os.path.join(dirpath, n) for n in dirnames + filenames)
    return found
