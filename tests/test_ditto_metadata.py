"""The ``._`` AppleDouble entries ``ditto -c -k`` writes are extended attributes, not files.

ditto stores every attribute of a file (com.apple.provenance, com.apple.quarantine, ...) as an
AppleDouble ``._name`` beside it, or under ``__MACOSX/`` with ``--sequesterRsrc``; unpacking with
ditto (as the notary does) makes them attributes again. So they are not resources of the bundle:
a sealed app zipped that way has no file added after signing (BL232), no second app at the top
(BL705), and BL703 alone judges what the entries hold.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from appbuilder import sealed_app
from lintutil import by_rule, lint
from ziputil import zip_tree

from bundlelint.bundle import open_input
from fixtures.appledouble_builder import FINDER_INFO, PROVENANCE_ONLY, build_appledouble

XATTRS = build_appledouble({**PROVENANCE_ONLY, "com.apple.quarantine": b"0083;6543;Safari;"})


def _doubles(app: Path, *, sequester: bool = False) -> dict[str, bytes]:
    """A ``._`` entry for the app folder and every file and folder in it, as ditto writes them
    for a downloaded tree (every item carries com.apple.provenance)."""
    base = app.parent
    names = [app]
    for dirpath, dirnames, filenames in os.walk(app):
        names += [Path(dirpath, n) for n in dirnames + filenames]
    out: dict[str, bytes] = {}
    for path in names:
        rel = path.relative_to(base)
        double = rel.parent / f"._{rel.name}"
        out[("__MACOSX/" if sequester else "") + double.as_posix()] = XATTRS
    return out


def _summary(zip_path: Path) -> list[tuple[str, str, str]]:
    return sorted((f.rule_id, f.location.path, f.message) for f in lint(zip_path).findings)


@pytest.fixture
def app(tmp_path: Path) -> Path:
    return sealed_app(tmp_path / "src")


def test_plain_ditto_zip_of_a_sealed_app_is_clean(app: Path, tmp_path: Path) -> None:
    assert _summary(zip_tree(app, tmp_path / "Sample.zip")) == []


@pytest.mark.parametrize("sequester", [False, True], ids=["beside", "macosx"])
def test_xattr_entries_are_no_files_added_after_signing(app: Path, tmp_path: Path,
                                                        sequester: bool) -> None:
    doubles = _doubles(app, sequester=sequester)
    assert "._Sample.app" in {k.removeprefix("__MACOSX/") for k in doubles}
    report = lint(zip_tree(app, tmp_path / "Sample.zip", extra=doubles))
    assert by_rule(report, "BL232") == []
    assert by_rule(report, "BL705") == []  # ._Sample.app is not a second app
    assert [f.rule_id for f in report.findings if f.severity.value == "error"] == []
    if sequester:  # BL703 judges a __MACOSX/ folder (a warning), nothing else speaks of it
        assert {f.rule_id for f in report.findings} == {"BL703"}
    else:
        assert list(report.findings) == []


def test_entries_are_not_in_the_bundle_tree(app: Path, tmp_path: Path) -> None:
    zipped = zip_tree(app, tmp_path / "Sample.zip", extra=_doubles(app))
    bundle = open_input(zipped)
    names = {e.relpath.rpartition("/")[2] for e in bundle.entries}
    assert not any(n.startswith("._") for n in names)
    assert bundle.entry("Contents/Info.plist") is not None
    assert bundle.archive is not None
    assert "Sample.app/Contents/._Info.plist" in {m.name for m in bundle.archive.members}


def test_file_added_after_signing_still_fires_beside_its_double(app: Path,
                                                                tmp_path: Path) -> None:
    extra = _doubles(app) | {"Sample.app/Contents/Resources/late.txt": b"added late",
                             "Sample.app/Contents/Resources/._late.txt": XATTRS}
    [finding] = by_rule(lint(zip_tree(app, tmp_path / "Sample.zip", extra=extra)), "BL232")
    assert finding.location.path == "Sample.app/Contents/Resources/late.txt"
    assert finding.severity.value == "error"


@pytest.mark.parametrize(("name", "data"), [
    ("._orphan", XATTRS),  # no file named orphan: ditto has nothing to attach it to
    ("._Info.plist", b"not an AppleDouble file, only named like one"),
    ("._Info.plist", b""),
], ids=["no-sibling", "not-appledouble", "empty"])
def test_other_dot_underscore_files_are_files(app: Path, tmp_path: Path, name: str,
                                              data: bytes) -> None:
    extra = {f"Sample.app/Contents/{name}": data}
    [finding] = by_rule(lint(zip_tree(app, tmp_path / "Sample.zip", extra=extra)), "BL232")
    assert finding.location.path == f"Sample.app/Contents/{name}"


def test_detritus_is_bl703s_alone(app: Path, tmp_path: Path) -> None:
    extra = _doubles(app) | {"Sample.app/Contents/._Info.plist": build_appledouble(
        PROVENANCE_ONLY, finder_info=FINDER_INFO)}
    report = lint(zip_tree(app, tmp_path / "Sample.zip", extra=extra))
    assert [(f.rule_id, f.location.path) for f in report.findings] == [
        ("BL703", "Sample.app/Contents/._Info.plist")]
