"""One safe open (``bundlelint.inputs.safeopen``): a file swapped after the walk is not read.

Between the walk and a later read a file of the input can become a symlink out of the bundle,
a FIFO nobody writes to, or another file. Each case must give a finding that names the entry,
never the bytes of what was swapped in and never a hang.
"""

from __future__ import annotations

import json
import os
import plistlib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from appbuilder import DEFAULT_INFO, make_app
from lintutil import REGISTRY, TEST_OPTIONS, by_rule

from bundlelint.analysis.hashing import hash_paths
from bundlelint.bundle import open_input
from bundlelint.engine import Report, Selection, run_rules
from bundlelint.inputs.safeopen import FileIdentity, identity_of, open_binary, open_fd, read_head
from bundlelint.inputs.source import LocalFile

REPO = Path(__file__).resolve().parent.parent
SECRET = "LEAKED-SECRET-3141"


def _everything_said(report: Report) -> str:
    return "\n".join(f"{f.location.path} {f.message} {f.fix or ''}" for f in report.findings)


def _secret_outside(tmp_path: Path) -> Path:
    """A valid plist outside the bundle whose content would show in findings if read."""
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.plist"
    secret.write_bytes(plistlib.dumps({**DEFAULT_INFO, "CFBundleIdentifier": SECRET,
                                       "CFBundleExecutable": SECRET}))
    return secret


def test_a_symlink_swapped_in_after_the_walk_is_not_followed(tmp_path: Path) -> None:
    app = make_app(tmp_path / "in", files={"Contents/Resources/notes.plist": b"<plist/>"})
    secret = _secret_outside(tmp_path)
    bundle = open_input(app, TEST_OPTIONS)
    for rel in ("Contents/Info.plist", "Contents/Resources/notes.plist"):
        (app / rel).unlink()
        os.symlink(secret, app / rel)
    report = run_rules(bundle, REGISTRY, Selection(), TEST_OPTIONS)
    assert SECRET not in _everything_said(report)
    info = bundle.entry("Contents/Info.plist")
    assert info is not None
    refused = bundle.plist_file(info)
    assert not hasattr(refused, "values"), "the link was followed"
    [finding] = by_rule(report, "BL402")  # Info.plist unreadable, named, not followed
    assert finding.location.path == "Sample.app/Contents/Info.plist"
    assert "symbolic link: not followed" in finding.message
    with pytest.raises(OSError, match="symbolic link: not followed"):
        bundle.open_entry(bundle.entry("Contents/Resources/notes.plist"))  # type: ignore[arg-type]


def test_a_directory_swapped_for_a_symlink_after_the_walk_is_refused(tmp_path: Path) -> None:
    # O_NOFOLLOW guards the last component only: the identity check catches a link above it.
    app = make_app(tmp_path / "in", files={"Contents/Resources/data.txt": b"inside"})
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "data.txt").write_text(SECRET)
    bundle = open_input(app, TEST_OPTIONS)
    entry = bundle.entry("Contents/Resources/data.txt")
    assert entry is not None
    os.rename(app / "Contents/Resources", tmp_path / "moved")
    os.symlink(outside, app / "Contents/Resources")
    with pytest.raises(OSError, match="replaced since it was listed"):
        bundle.open_entry(entry)


def test_a_file_replaced_after_the_walk_is_refused(tmp_path: Path) -> None:
    app = make_app(tmp_path / "in", files={"Contents/Resources/data.txt": b"inside"})
    bundle = open_input(app, TEST_OPTIONS)
    entry = bundle.entry("Contents/Resources/data.txt")
    assert entry is not None
    with bundle.open_entry(entry) as fh:  # the file the walk saw opens
        assert fh.read() == b"inside"
    replacement = tmp_path / "other.txt"
    replacement.write_text(SECRET)
    os.replace(replacement, app / "Contents/Resources/data.txt")
    with pytest.raises(OSError, match="replaced since it was listed"):
        bundle.open_entry(entry)


def test_hashing_workers_refuse_what_the_walk_did_not_see(tmp_path: Path) -> None:
    # hash_paths is what a worker process runs: same open, same checks.
    real = tmp_path / "real.bin"
    real.write_bytes(b"x" * 100)
    seen = identity_of(os.stat(real))
    link = tmp_path / "link.bin"
    os.symlink(real, link)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    other = tmp_path / "other.bin"
    other.write_bytes(b"x" * 100)
    results = hash_paths([LocalFile(str(real), seen), LocalFile(str(link), None),
                          LocalFile(str(fifo), None), LocalFile(str(other), seen)], "sha256")
    assert isinstance(results[0], bytes)
    assert [r.strerror for r in results[1:] if isinstance(r, OSError)] == [
        "a symbolic link: not followed",
        "not a regular file (any more): not read",
        "replaced since it was listed: not read",
    ]


def test_safe_open_units(tmp_path: Path) -> None:
    target = tmp_path / "t"
    target.write_bytes(b"0123456789")
    link = tmp_path / "l"
    os.symlink(target, link)
    assert read_head(target, 4) == b"0123"
    assert read_head(link, 4, follow=True) == b"0123"  # only for the path a user typed
    with pytest.raises(OSError, match="symbolic link"):
        read_head(link, 4)
    with pytest.raises(OSError, match="not a regular file"):
        open_fd(tmp_path)
    with pytest.raises(OSError, match="replaced"):
        open_binary(target, expect=FileIdentity(0, 0))
    with open_binary(target, expect=identity_of(os.stat(target))) as fh:
        assert fh.read() == b"0123456789"


_FIFO_SCRIPT = textwrap.dedent("""
    import json, os, sys
    from pathlib import Path
    sys.path[:0] = [sys.argv[2], sys.argv[2] + "/tests"]
    from lintutil import REGISTRY, TEST_OPTIONS
    from bundlelint.bundle import open_input
    from bundlelint.engine import Selection, run_rules

    app = Path(sys.argv[1])
    bundle = open_input(app, TEST_OPTIONS)
    for rel in ("Contents/Info.plist", "Contents/MacOS/app", "Contents/Resources/a.txt"):
        os.remove(app / rel)
        os.mkfifo(app / rel)  # nobody ever writes to it: a blocking open would wait forever
    report = run_rules(bundle, REGISTRY, Selection(), TEST_OPTIONS)
    print(json.dumps([[f.rule_id, f.location.path, f.message] for f in report.findings]))
""")


def test_a_fifo_swapped_in_after_the_walk_does_not_hang(tmp_path: Path) -> None:
    app = make_app(tmp_path, files={"Contents/Resources/a.txt": b"a",
                                    "Contents/_CodeSignature/CodeResources": plistlib.dumps(
                                        {"files2": {"Resources/a.txt": {"hash2": b"\0" * 32}}})})
    done = subprocess.run([sys.executable, "-c", _FIFO_SCRIPT, str(app), str(REPO)],
                          capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr
    findings = json.loads(done.stdout)
    by_path = {(rule, path): message for rule, path, message in findings}
    info = by_path[("BL402", "Sample.app/Contents/Info.plist")]
    assert "not a regular file" in info
    exe = by_path[("BL001", "Sample.app/Contents/MacOS/app")]
    assert "not a regular file" in exe
    sealed = [m for (rule, path), m in by_path.items()
              if path == "Sample.app/Contents/Resources/a.txt" and "not a regular file" in m]
    assert sealed, findings
