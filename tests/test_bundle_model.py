"""The bundle model's walk shortcuts give the answers of the plain definitions."""

from __future__ import annotations

import os
from pathlib import Path

from appbuilder import make_app

from bundlelint.bundle import open_input
from bundlelint.layout import Place

LAYOUT = {
    "Contents/PkgInfo": b"APPL????",
    "Contents/Resources/a.txt": b"a",
    "Contents/Resources/en.lproj/x.strings": b"x",
    "Contents/Library/LoginItems/Login.app/Contents/MacOS/Login": b"\xcf\xfa\xed\xfe" + bytes(28),
    "Contents/Library/LoginItemsX/file": b"f",
    "Contents/Library/Other/file": b"f",
    "Contents/Frameworks/K.framework/Versions/A/K": b"\xcf\xfa\xed\xfe" + bytes(28),
    "Contents/Frameworks/K.framework/Versions/A/Resources/Info.plist": b"<plist/>",
    "Contents/Frameworks/K.framework/Versions/A/Resources/deep/r.bin": b"r",
    "Contents/PlugIns/E.appex/Contents/Resources/r": b"r",
    "Contents/PlugIns/E.appex/Contents/MacOS/E": b"e",
    "Contents/MacOS/tool.dSYM/Contents/Resources/DWARF/tool": b"d",
    "Contents/Helpers/Resources/x": b"x",
    "top.txt": b"t",
}


def test_place_by_parent_directory_equals_place_of_each_path(tmp_path: Path) -> None:
    app = make_app(tmp_path, files=LAYOUT)
    os.symlink("A", app / "Contents/Frameworks/K.framework/Versions/Current")
    os.symlink("Versions/Current/Resources", app / "Contents/Frameworks/K.framework/Resources")
    bundle = open_input(app)
    places = {e.relpath: e.place for e in bundle.entries}
    assert places["Contents/Resources/en.lproj/x.strings"] is Place.RESOURCES
    assert places["Contents/Frameworks/K.framework/Versions/A/K"] is Place.CODE
    assert places["Contents/Library/Other/file"] is Place.OTHER
    assert places["Contents/PkgInfo"] is Place.CODE
    for entry in bundle.entries:
        assert entry.place is bundle._place(entry.relpath), entry.relpath


def test_walk_by_directory_descriptor_reports_a_symlinked_directory(tmp_path: Path) -> None:
    # Sub-directories are listed through descriptors opened with O_NOFOLLOW; a symlink to a
    # directory is an entry of its own and nothing below it is listed.
    app = make_app(tmp_path, files={"Contents/Resources/x": b"x"})
    os.symlink("/etc", app / "Contents/Resources/etc")
    bundle = open_input(app)
    assert not any(e.relpath.startswith("Contents/Resources/etc/") for e in bundle.entries)
    link = bundle.entry("Contents/Resources/etc")
    assert link is not None and link.symlink_target == "/etc"


def test_a_versioned_framework_has_its_info_plist_and_signing_target(tmp_path: Path) -> None:
    import plistlib

    from bundlelint.rules._commands import signing_target

    app = make_app(tmp_path, files={
        "Contents/Frameworks/Kit.framework/Versions/A/Kit": b"\xcf\xfa\xed\xfe" + bytes(28),
        "Contents/Frameworks/Kit.framework/Versions/A/Resources/Info.plist": plistlib.dumps(
            {"CFBundleExecutable": "Kit", "CFBundleIdentifier": "com.example.kit"}),
    })
    fw = app / "Contents/Frameworks/Kit.framework"
    os.symlink("A", fw / "Versions/Current")
    os.symlink("Versions/Current/Kit", fw / "Kit")
    os.symlink("Versions/Current/Resources", fw / "Resources")
    bundle = open_input(app)
    [kit] = [bd for bd in bundle.bundle_dirs if bd.extension == ".framework"]
    assert bundle.content_base(kit) == "Contents/Frameworks/Kit.framework/Versions/A/"
    info = bundle.valid_info_plist(kit)
    assert info is not None and info.identifier == "com.example.kit"
    binary = bundle.entry("Contents/Frameworks/Kit.framework/Versions/A/Kit")
    assert binary is not None
    # codesign is pointed at the framework, not at the file inside Versions/A
    assert signing_target(bundle, binary) == "Contents/Frameworks/Kit.framework"
