"""Archives and containers nested in an input, walked as the notary unpacks them
(``inputs.nested``, ``inputs.tar``; BL850 for what is not walked).

The notary judges code inside a ``.tar.gz`` in an app, a package in a disk image, a jar in an app
in a package: each case here puts an unsigned Mach-O there and expects BL201 at the path through
the archive, or BL850 naming the archive and the limit it passed.
"""

from __future__ import annotations

import io
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest
from appbuilder import developer_id_like, make_app, sealed_app
from lintutil import TEST_OPTIONS, by_rule, lint
from test_volume_source import TEST_MAGIC, UNSIGNED, _app_entries

from bundlelint.bundle import open_input
from bundlelint.inputs import containers
from bundlelint.inputs.containers import ContainerFormat
from bundlelint.inputs.nested import MAX_NESTING
from fixtures.hfsplus_builder import Dir, File, Symlink, build_hfsplus


def _tar(members: dict[str, bytes], mode: str = "w:gz") -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=mode) as tf:  # type: ignore[call-overload]
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755
            tf.addfile(info, io.BytesIO(data))
    return out.getvalue()


@pytest.mark.parametrize(("name", "mode"), [("tools.tar.gz", "w:gz"), ("tools.tgz", "w:gz"),
                                            ("tools.tar", "w")])
def test_code_in_a_tar_archive_in_an_app_is_judged(tmp_path: Path, name: str,
                                                   mode: str) -> None:
    archive = _tar({"bin/tool": UNSIGNED, "bin/signed": developer_id_like(),
                    "README": b"text " * 100}, mode)
    app = make_app(tmp_path, files={f"Contents/Resources/{name}": archive})
    report = lint(app)
    unsigned = [f.location.path for f in by_rule(report, "BL201")]
    assert unsigned == [f"Sample.app/Contents/Resources/{name}/bin/tool"]
    bundle = open_input(app, TEST_OPTIONS)
    members = {e.relpath for e in bundle.entries if e.container is not None}
    assert members == {f"Contents/Resources/{name}/bin/tool",
                       f"Contents/Resources/{name}/bin/signed"}  # Mach-O members only
    entry = bundle.entry(f"Contents/Resources/{name}/bin/tool")
    assert entry is not None
    with bundle.open_entry(entry) as fh:
        assert fh.read() == UNSIGNED
    assert not by_rule(report, "BL850")


def test_a_tar_bomb_is_not_expanded(tmp_path: Path) -> None:
    bomb = _tar({"zeros": bytes(64 * 1024 * 1024), "bin/tool": UNSIGNED})  # about 1000:1
    assert len(bomb) < 200 * 1024
    app = make_app(tmp_path, files={"Contents/Resources/bomb.tar.gz": bomb})
    report = lint(app)
    [finding] = by_rule(report, "BL850")
    assert finding.location.path == "Sample.app/Contents/Resources/bomb.tar.gz"
    assert "compression-ratio limit" in finding.message and "offset" in finding.message
    assert not [f for f in by_rule(report, "BL201") if "bomb.tar.gz/" in f.location.path]


def test_a_header_claiming_a_gigabyte_is_refused_before_it_is_read(tmp_path: Path) -> None:
    header = tarfile.TarInfo("././@PaxHeader")
    header.type = tarfile.XHDTYPE
    header.size = 1 << 30  # the data is not there: tarfile would read it whole
    raw = header.tobuf(tarfile.USTAR_FORMAT) + bytes(1024)
    app = make_app(tmp_path, files={"Contents/Resources/pax.tar": raw})
    [finding] = by_rule(lint(app), "BL850")
    assert finding.location.path == "Sample.app/Contents/Resources/pax.tar"
    assert "single read" in finding.message


def test_the_nested_archives_share_one_size_budget(tmp_path: Path) -> None:
    archive = _tar({"bin/tool": UNSIGNED})
    expanded = len(_tar({"bin/tool": UNSIGNED}, "w"))  # what it expands to, padding included
    app = make_app(tmp_path, files={"Contents/Resources/a.tar.gz": archive,
                                    "Contents/Resources/b.tar.gz": archive})
    options = replace(TEST_OPTIONS, max_archive_size=expanded + 10)
    report = lint(app, options=options)
    assert [f.location.path for f in by_rule(report, "BL201")] == [
        "Sample.app/Contents/Resources/a.tar.gz/bin/tool"]
    [skipped] = by_rule(report, "BL850")
    assert skipped.location.path == "Sample.app/Contents/Resources/b.tar.gz"
    assert "max_archive_size" in skipped.message


def test_a_damaged_tar_archive_is_reported(tmp_path: Path) -> None:
    archive = bytearray(_tar({"bin/tool": UNSIGNED}, "w"))
    archive[148:156] = b"garbage!"  # the header checksum
    app = make_app(tmp_path, files={"Contents/Resources/bad.tar": bytes(archive)})
    [finding] = by_rule(lint(app), "BL850")
    assert finding.message.startswith("cannot be read as a tar archive")


# --- containers inside inputs (the udif and xar openers plug into the same hook) --------------


@pytest.fixture
def test_container_format(monkeypatch: pytest.MonkeyPatch) -> None:
    """A registered container format (``TEST_MAGIC`` + an HFS+ volume), as the disk-image and
    package formats register theirs."""
    monkeypatch.setattr(containers, "CONTAINER_FORMATS", [ContainerFormat(
        "test container", lambda head, tail: head.startswith(TEST_MAGIC),
        "test_volume_source:open_test_container")])


def _container(entries: list[Dir | File | Symlink]) -> bytes:
    return TEST_MAGIC.ljust(containers.MAGIC_BYTES, b"\0") + build_hfsplus(entries)


@pytest.mark.usefixtures("test_container_format")
def test_a_container_in_an_app_is_walked_in_full(tmp_path: Path) -> None:
    # MyApp.app with an unsigned executable, beside it the link drag-and-drop images carry
    image = _container([*_app_entries(), Symlink("Applications", "/Applications")])
    app = make_app(tmp_path, files={"Contents/Resources/Install.img": image})
    report = lint(app)
    assert not [f for f in by_rule(report, "BL004") if "Install.img/Applications" in
                f.location.path]  # the image's own link, in no bundle of the image
    assert [f.location.path for f in by_rule(report, "BL004")] == [
        "Sample.app/Contents/Resources/Install.img/MyApp.app/Contents/Resources/leak"]
    assert [f.location.path for f in by_rule(report, "BL201")] == [
        "Sample.app/Contents/Resources/Install.img/MyApp.app/Contents/MacOS/app"]
    bundle = open_input(app, TEST_OPTIONS)
    inner = [bd.relpath for bd in bundle.bundle_dirs]
    assert "Contents/Resources/Install.img/MyApp.app" in inner
    notes = bundle.entry("Contents/Resources/Install.img/MyApp.app/Contents/Resources/notes.txt")
    assert notes is not None and notes.container == "Contents/Resources/Install.img"
    assert not by_rule(report, "BL850")


@pytest.mark.usefixtures("test_container_format")
def test_containers_nest_to_a_limit(tmp_path: Path) -> None:
    data = _container(_app_entries())
    for _ in range(MAX_NESTING):
        data = _container([File("inner.img", data)])
    # The input is a directory holding the outermost: MAX_NESTING + 1 levels.
    root = tmp_path / "Release"
    root.mkdir()
    (root / "outer.img").write_bytes(data)
    report = lint(root)
    [finding] = by_rule(report, "BL850")
    deepest = "Release/outer.img" + "/inner.img" * MAX_NESTING
    assert finding.location.path == deepest
    assert f"nested more than {MAX_NESTING}" in finding.message
    assert not by_rule(report, "BL201")  # the app sits below the limit
    data = _container(_app_entries())
    for _ in range(MAX_NESTING - 1):
        data = _container([File("inner.img", data)])
    (root / "outer.img").write_bytes(data)
    paths = [f.location.path for f in by_rule(lint(root), "BL201")]
    assert paths == ["Release/outer.img" + "/inner.img" * (MAX_NESTING - 1)
                     + "/MyApp.app/Contents/MacOS/app"]


@pytest.mark.usefixtures("test_container_format")
def test_a_tar_in_an_app_in_a_container_input_is_found(tmp_path: Path) -> None:
    entries = [*_app_entries(), File("MyApp.app/Contents/Resources/tools.tgz",
                                     _tar({"tool": UNSIGNED}))]
    image = tmp_path / "MyApp.img"
    image.write_bytes(_container(entries))
    paths = {f.location.path for f in by_rule(lint(image), "BL201")}
    assert paths == {"MyApp.img/MyApp.app/Contents/MacOS/app",
                     "MyApp.img/MyApp.app/Contents/Resources/tools.tgz/tool"}


def _tree_entries(root: Path, prefix: str) -> list[Dir | File | Symlink]:
    """Everything under ``root`` as builder entries (parents first), named from ``prefix``."""
    import os

    out: list[Dir | File | Symlink] = [Dir(prefix)]
    for path in sorted(root.rglob("*")):
        name = f"{prefix}/{path.relative_to(root).as_posix()}"
        if path.is_symlink():
            out.append(Symlink(name, os.readlink(path)))
        elif path.is_dir():
            out.append(Dir(name))
        else:
            out.append(File(name, path.read_bytes(), mode=path.stat().st_mode & 0o777))
    return out


@pytest.mark.usefixtures("test_container_format")
def test_a_sealed_app_in_a_nested_container_verifies_as_on_disk(tmp_path: Path) -> None:
    # The seal of an app inside a nested container covers that container's entries (its own
    # files), not the outer input's, and the app's verdicts are those of the app on disk.
    app = sealed_app(tmp_path / "src", files={"Contents/Resources/a.txt": b"a"})
    (app / "Contents/Resources/added.txt").write_bytes(b"after signing")  # not in the seal
    on_disk = {(f.rule_id, f.message) for f in lint(app).findings}
    assert any("added.txt" in message for _, message in on_disk), on_disk
    root = tmp_path / "Release"
    root.mkdir()
    (root / "Install.img").write_bytes(_container(_tree_entries(app, "Sample.app")))
    nested = lint(root)
    inner = {(f.rule_id, f.message.replace("Release/Install.img/", ""))
             for f in nested.findings
             if f.location.path.startswith("Release/Install.img/Sample.app")}
    assert inner == on_disk  # the added file found inside the image too, nothing else


def test_a_name_stored_twice_in_a_tar_is_the_last_one(tmp_path: Path) -> None:
    # What tar -x leaves on disk, and what the notary judges: the later member. (A fuzz crash:
    # the walk sniffed the last copy and the open read the first.)
    signed = developer_id_like()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tf:
        for data in (UNSIGNED, signed):
            info = tarfile.TarInfo("bin/tool")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    app = make_app(tmp_path, files={"Contents/Resources/t.tar": out.getvalue()})
    bundle = open_input(app, TEST_OPTIONS)
    entry = bundle.entry("Contents/Resources/t.tar/bin/tool")
    assert entry is not None
    with bundle.open_entry(entry) as fh:
        assert fh.read() == signed
    assert not [f for f in by_rule(lint(app), "BL201") if "t.tar/" in f.location.path]
