"""Hostile file-system input: links, loops, FIFOs, unreadable and deep trees, deep plists.

Each case must end in a finding that names the entry, never a traceback or a hang, and the
input must be left exactly as it was.
"""

from __future__ import annotations

import hashlib
import os
import plistlib
from pathlib import Path

import pytest
from appbuilder import DEFAULT_INFO, make_app
from lintutil import by_rule, lint

import bundlelint.inputs.directory
from bundlelint.bundle import open_input
from bundlelint.cli import main


def test_symlink_to_etc_is_reported_not_followed(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    os.symlink("/etc", app / "Contents" / "Resources")
    os.symlink("../../../../etc/passwd", app / "Contents" / "leak")
    report = lint(app)
    found = {f.location.path: f.message for f in by_rule(report, "BL004")}
    assert found == {
        "Sample.app/Contents/Resources": "symlink points outside the bundle: -> /etc",
        "Sample.app/Contents/leak": "symlink points outside the bundle: -> "
                                    "../../../../etc/passwd",
    }
    # nothing under /etc was walked: the links are entries, their targets are not
    relpaths = {e.relpath for e in open_input(app).entries}
    assert "Contents/Resources" in relpaths
    assert not any(r.startswith("Contents/Resources/") for r in relpaths)


def test_absolute_symlinks_into_system_and_library_are_allowed(tmp_path: Path) -> None:
    # SecStaticCode::validateSymlinkResource allows absolute targets strictly inside /System/
    # and /Library/ (after realpath); everything else absolute stays an error.
    app = make_app(tmp_path, files={"Contents/Resources/r": b"r"})
    links = {
        "sys": "/System/Library/Frameworks/Metal.framework",
        "lib": "/Library/Application Support/Example",
        "bare": "/Library/",
        "climb": "/Library/../etc/passwd",
        "apps": "/Applications",
    }
    for name, target in links.items():
        os.symlink(target, app / "Contents" / "Resources" / name)
    found = {f.location.path.rsplit("/", 1)[1] for f in by_rule(lint(app), "BL004")}
    assert found == {"bare", "climb", "apps"}


def test_framework_style_symlinks_inside_bundle_are_quiet(tmp_path: Path) -> None:
    app = make_app(tmp_path, files={"Contents/Frameworks/F.framework/Versions/A/Resources/x": b"x"})
    fw = app / "Contents" / "Frameworks" / "F.framework"
    os.symlink("A", fw / "Versions" / "Current")
    os.symlink("Versions/Current/Resources", fw / "Resources")
    report = lint(app)
    assert not by_rule(report, "BL004") and not by_rule(report, "BL005")


def test_symlink_loop(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    res = app / "Contents" / "Resources"
    res.mkdir()
    os.symlink("b", res / "a")
    os.symlink("a", res / "b")
    os.symlink("self", res / "self")
    report = lint(app)
    assert sorted(f.location.path for f in by_rule(report, "BL005")) == [
        "Sample.app/Contents/Resources/a", "Sample.app/Contents/Resources/b",
        "Sample.app/Contents/Resources/self"]


def test_fifo_in_resources_is_skipped_and_reported(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    (app / "Contents" / "Resources").mkdir()
    os.mkfifo(app / "Contents" / "Resources" / "pipe")
    report = lint(app)  # would block forever if the FIFO were opened
    [finding] = by_rule(report, "BL006")
    assert finding.location.path == "Sample.app/Contents/Resources/pipe"
    assert finding.message == "FIFO in the bundle (skipped, not read)"


def test_permission_denied_is_a_finding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests run as root, where chmod 000 denies nothing: make scandir refuse one directory.
    app = make_app(tmp_path, files={"Contents/Resources/locked/secret": b"x"})
    locked = app / "Contents" / "Resources" / "locked"
    real_scandir, real_open = os.scandir, os.open

    def scandir(path: os.PathLike[str] | str | int) -> object:
        if not isinstance(path, int) and Path(path) == locked:
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    def os_open(path: os.PathLike[str] | str, flags: int, *args: object, **kwargs: object) -> int:
        if Path(path) == locked:  # the walk opens each directory to list it by descriptor
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "open", os_open)
    [finding] = by_rule(lint(app), "BL007")
    assert finding.location.path == "Sample.app/Contents/Resources/locked"
    assert finding.message == "cannot be read: Permission denied"


def test_tree_deeper_than_the_limit_is_reported(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    deep = app / "Contents" / "Resources"
    for i in range(70):
        deep = deep / f"d{i}"
    deep.mkdir(parents=True)
    [finding] = by_rule(lint(app), "BL007")
    assert "nested deeper than 64 levels" in finding.message


@pytest.mark.parametrize("fmt", [plistlib.FMT_XML, plistlib.FMT_BINARY])
def test_info_plist_nested_10000_deep(tmp_path: Path, fmt: plistlib.PlistFormat) -> None:
    if fmt == plistlib.FMT_XML:
        data = (b'<?xml version="1.0"?><plist version="1.0">' + b"<array>" * 10_000
                + b"</array>" * 10_000 + b"</plist>")
    else:
        data = _deep_binary_plist(10_000)
    report = lint(make_app(tmp_path, info=data))
    [finding] = by_rule(report, "BL402")
    assert finding.location.path == "Sample.app/Contents/Info.plist"


def _deep_binary_plist(depth: int) -> bytes:
    """A binary plist of ``depth`` nested one-element arrays, written by hand (plistlib's own
    writer recurses and cannot produce it)."""
    ref_size = 2
    objects = []
    for i in range(depth):
        child = i + 1
        objects.append(b"\xa1" + child.to_bytes(ref_size, "big") if child < depth
                       else b"\xa0")
    body = b"bplist00"
    offsets = []
    for obj in objects:
        offsets.append(len(body))
        body += obj
    table_at = len(body)
    offset_size = 4
    for off in offsets:
        body += off.to_bytes(offset_size, "big")
    trailer = (b"\0" * 6 + bytes([offset_size, ref_size]) + len(objects).to_bytes(8, "big")
               + (0).to_bytes(8, "big") + table_at.to_bytes(8, "big"))
    return body + trailer


def _snapshot(root: Path) -> dict[str, tuple[str, int, int]]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() and \
                not p.is_symlink() else ""
            out[str(p.relative_to(root))] = (digest, st.st_mtime_ns, st.st_mode)
    return out


def test_bundlelint_never_writes_to_what_it_inspects(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    app = make_app(tmp_path, info=plistlib.dumps({**DEFAULT_INFO, "LSMinimumSystemVersion": "9"}),
                   files={"Contents/Resources/a.txt": b"a", "Contents/Frameworks/x.dylib": b"bad"})
    os.symlink("a.txt", app / "Contents" / "Resources" / "b.txt")
    before = _snapshot(tmp_path)
    for fmt in ("text", "json"):
        main(["--format", fmt, str(app)])
    capsys.readouterr()
    assert _snapshot(tmp_path) == before


def test_a_huge_info_plist_is_refused_without_reading_it_all(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bundlelint.parsers.plist import MAX_PLIST_BYTES

    app = make_app(tmp_path)
    with open(app / "Contents/Info.plist", "ab") as fh:
        fh.truncate(MAX_PLIST_BYTES * 4)  # 64 MiB of (sparse) zeros after the real plist
    reads: list[int] = []
    real_open = bundlelint.inputs.directory.DirectorySource.open

    def spying_open(self: object, relpath: str) -> object:
        fh = real_open(self, relpath)  # type: ignore[arg-type]
        real_read = fh.read

        def read(n: int = -1) -> bytes:
            data = real_read(n)
            reads.append(len(data))
            return data

        fh.read = read  # type: ignore[method-assign]
        return fh

    monkeypatch.setattr(bundlelint.inputs.directory.DirectorySource, "open", spying_open)
    [finding] = by_rule(lint(app), "BL402")  # Info.plist invalid
    assert finding.location.path == "Sample.app/Contents/Info.plist"
    assert f"over the {MAX_PLIST_BYTES} byte limit" in finding.message
    assert reads and max(reads) <= MAX_PLIST_BYTES + 1
