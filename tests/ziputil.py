"""Build zip fixtures in tests the way ditto (or a careless zip tool) would."""

from __future__ import annotations

import os
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path


def unix_info(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.create_system = 3
    info.external_attr = mode << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def zip_tree(root: Path, out: Path, *, keep_symlinks: bool = True,
             follow_symlinks: bool = False, extra: dict[str, bytes] | None = None) -> Path:
    """Zip ``root`` (an .app) as ``ditto -c -k --keepParent`` would: ``Name.app/...`` with
    Unix modes and symlinks stored as links. ``keep_symlinks=False`` stores each link as a
    regular file holding its target's text, as some non-Apple tools do;
    ``follow_symlinks=True`` stores what each link points at (a directory's whole content),
    as Info-ZIP's ``zip -r`` without ``-y`` does."""
    with zipfile.ZipFile(out, "w") as zf:
        for dirpath, dirnames, filenames in os.walk(root, followlinks=follow_symlinks):
            dirnames.sort()
            base = Path(dirpath)
            rel_dir = base.relative_to(root.parent).as_posix()
            zf.writestr(unix_info(rel_dir + "/", stat.S_IFDIR | 0o755), b"")
            linked_dirs = [] if follow_symlinks else [d for d in dirnames
                                                      if (base / d).is_symlink()]
            for name in sorted(filenames + linked_dirs):
                path = base / name
                arc = f"{rel_dir}/{name}"
                st = path.stat() if follow_symlinks else path.lstat()
                if stat.S_ISLNK(st.st_mode):
                    target = os.readlink(path).encode()
                    mode = (stat.S_IFLNK | 0o755) if keep_symlinks else (stat.S_IFREG | 0o644)
                    zf.writestr(unix_info(arc, mode), target)
                else:
                    zf.writestr(unix_info(arc, st.st_mode), path.read_bytes())
            if not follow_symlinks:
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


@dataclass(frozen=True)
class RawMember:
    """One member written byte by byte, so a test can make it lie: ``data`` is stored as given
    (already compressed for ``method`` 8); the sizes and CRC default to honest values."""

    name: bytes
    data: bytes
    method: int = 0
    file_size: int | None = None
    crc: int | None = None
    compress_size: int | None = None  # declared in both headers; default len(data)
    local_name: bytes | None = None  # the local header's name; default ``name``
    mode: int = stat.S_IFREG | 0o644


LOCAL_HEADER = struct.Struct("<4s5H3L2H")
CENTRAL_RECORD = struct.Struct("<4s6H3L5H2L")
END_RECORD = struct.Struct("<4s4H2LH")


def local_header(name: bytes, method: int, crc: int, compress_size: int,
                 file_size: int) -> bytes:
    return LOCAL_HEADER.pack(b"PK\x03\x04", 20, 0x800, method, 0, 0x5821, crc, compress_size,
                             file_size, len(name), 0) + name


def central_record(name: bytes, method: int, crc: int, compress_size: int, file_size: int,
                   offset: int, mode: int) -> bytes:
    return CENTRAL_RECORD.pack(b"PK\x01\x02", (3 << 8) | 20, 20, 0x800, method, 0, 0x5821,
                               crc, compress_size, file_size, len(name), 0, 0, 0, 0,
                               mode << 16, offset) + name


def end_record(count: int, directory_size: int, directory_offset: int) -> bytes:
    return END_RECORD.pack(b"PK\x05\x06", 0, 0, count, count, directory_size,
                           directory_offset, 0)


def raw_zip(members: list[RawMember]) -> bytes:
    """A zip written without zipfile (which cuts names at NUL and warns on duplicates)."""
    body = bytearray()
    directory = bytearray()
    for m in members:
        file_size = len(m.data) if m.file_size is None else m.file_size
        crc = zlib.crc32(m.data) if m.crc is None else m.crc
        size = len(m.data) if m.compress_size is None else m.compress_size
        offset = len(body)
        body += local_header(m.local_name or m.name, m.method, crc, size, file_size) + m.data
        directory += central_record(m.name, m.method, crc, size, file_size, offset, m.mode)
    return bytes(body + directory + end_record(len(members), len(directory), len(body)))


def deflated(data: bytes) -> bytes:
    """Raw deflate (no zlib header), as zip stores it."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()
