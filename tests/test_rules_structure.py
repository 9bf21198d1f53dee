"""BL010-BL020 structure rules: each fires on a bundle broken the way users break it (cp -r,
zip without -y, a PyInstaller-like layout, a /Users/... rpath from a real toolchain) and stays
quiet on the well-formed bundle, as a directory and as a zip."""

from __future__ import annotations

import os
import plistlib
import shutil
import tempfile
from pathlib import Path

import pytest
from appbuilder import developer_id_like, make_app
from hypothesis import given, settings
from hypothesis import strategies as st
from lintutil import by_rule, lint
from samples import container
from ziputil import zip_tree

from bundlelint.findings import Severity
from fixtures.macho_builder import MH_BUNDLE, MH_DYLIB, DylibSpec, MachOSpec, build_macho
from fixtures.sealer import seal_bundle

STRUCTURE_RULES = {f"BL0{n}" for n in range(10, 21)}
FW = "Sample.app/Contents/Frameworks/Foo.framework"


def _framework(app: Path, name: str = "Foo", *, info: bool = True,
               executable: str | None = None) -> Path:
    """A versioned framework as Xcode builds it: a real dylib in Versions/A, its Info.plist in
    Versions/A/Resources, and the three symlinks."""
    exe = executable or name
    fw = app / "Contents" / "Frameworks" / f"{name}.framework"
    a = fw / "Versions" / "A"
    (a / "Resources").mkdir(parents=True)
    if info:
        (a / "Resources" / "Info.plist").write_bytes(plistlib.dumps({
            "CFBundleExecutable": exe, "CFBundleIdentifier": f"com.example.{name}",
            "CFBundlePackageType": "FMWK", "CFBundleShortVersionString": "1.0"}))
    (a / exe).write_bytes(build_macho(MachOSpec(
        filetype=MH_DYLIB, id_dylib=f"@rpath/{name}.framework/Versions/A/{exe}")))
    (fw / "Versions" / "Current").symlink_to("A")
    (fw / exe).symlink_to(f"Versions/Current/{exe}")
    (fw / "Resources").symlink_to("Versions/Current/Resources")
    return fw


def _clean_app(root: Path, **kwargs: object) -> Path:
    """A well-formed app: hardened, Developer ID-like, with a framework and data in Resources,
    nested code signed and everything sealed."""
    app = make_app(root, files={"Contents/Resources/config.json": b"{}\n"}, **kwargs)  # type: ignore[arg-type]
    _framework(app)
    seal_bundle(app)
    return app


def _as_dir_and_zip(app: Path, tmp_path: Path) -> list[Path]:
    """The bundle as a directory and as the zip ditto would upload (symlinks kept)."""
    return [app, zip_tree(app, tmp_path / f"{app.stem}-{len(list(tmp_path.iterdir()))}.zip")]


def _errors(report: object) -> list[str]:
    return [f"{f.rule_id} {f.location.path}: {f.message}"
            for f in report.findings if f.severity is Severity.ERROR]  # type: ignore[attr-defined]


def _structure(report: object) -> list[str]:
    return sorted(f.rule_id for f in report.findings  # type: ignore[attr-defined]
                  if f.rule_id in STRUCTURE_RULES)


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    return _clean_app(tmp_path / "src")


# --- quiet on the well-formed bundle -----------------------------------------------------------


def test_well_formed_directory_and_ditto_zip_are_quiet(clean: Path, tmp_path: Path) -> None:
    from fixtures.appledouble_builder import PROVENANCE_ONLY, build_appledouble

    # ditto stores extended attributes as ._ entries beside each file, in code locations too
    doubles = {f"Sample.app/{rel}": build_appledouble(PROVENANCE_ONLY)
               for rel in ("._Contents", "Contents/MacOS/._app",
                           "Contents/Frameworks/Foo.framework/Versions/A/._Foo")}
    for target in (clean, zip_tree(clean, tmp_path / "Sample.zip")):
        report = lint(target)
        assert _errors(report) == [], target
        assert _structure(report) == [], target
    ditto = zip_tree(clean, tmp_path / "Ditto.zip", extra=doubles)
    assert _structure(lint(ditto)) == []


# --- framework links: one finding per framework -------------------------------------------------


def test_cp_r_copy_is_one_finding_per_framework(clean: Path, tmp_path: Path) -> None:
    # `cp -r` (GNU) follows the links: Versions/Current, Foo and Resources become copies.
    copy = tmp_path / "copied" / "Sample.app"
    shutil.copytree(clean, copy, symlinks=False)
    report = lint(copy)
    [finding] = by_rule(report, "BL012")
    assert finding.location.path == FW
    assert finding.message.startswith(
        "these should be symlinks: Versions/Current -> A (is a directory), "
        "Foo -> Versions/Current/Foo (is a file), Resources -> Versions/Current/Resources "
        "(is a directory)")
    assert finding.fix is not None and finding.fix.command is not None
    assert "ln -s A Versions/Current" in finding.fix.command
    # one cause, one finding: nothing else in the whole report (no seal, signature or
    # structure rule judges the copies)
    assert [f.rule_id for f in report.findings] == ["BL012"]


@pytest.mark.parametrize("keep_symlinks,follow", [(True, True), (False, False)])
def test_zip_without_y_is_one_finding_with_the_ditto_fix(clean: Path, tmp_path: Path,
                                                        keep_symlinks: bool,
                                                        follow: bool) -> None:
    # Python's zipfile (like zip -r without -y) stores what a link points at, or its text.
    archive = zip_tree(clean, tmp_path / "Sample.zip", keep_symlinks=keep_symlinks,
                       follow_symlinks=follow)
    report = lint(archive)
    [finding] = by_rule(report, "BL012")
    assert finding.location.path == FW
    assert finding.fix is not None
    assert finding.fix.command == "ditto -c -k --keepParent Sample.app Sample.zip"
    assert "upload-artifact" in finding.fix.text and "zip -y" in finding.fix.text
    assert [f.rule_id for f in report.findings] == ["BL012"]


def test_bl702_is_an_alias_of_bl012() -> None:
    from lintutil import REGISTRY
    assert REGISTRY.resolve("BL702") == "BL012"
    assert REGISTRY.resolve("BL504") == "BL016"


# --- unsealed roots -----------------------------------------------------------------------------


def test_file_beside_contents_is_an_unsealed_app_root(clean: Path, tmp_path: Path) -> None:
    (clean / "README.txt").write_text("read me\n")
    (clean / ".DS_Store").write_bytes(b"\0")  # the Finder's file is allowed
    for target in (clean, zip_tree(clean, tmp_path / "Sample.zip")):
        [finding] = by_rule(lint(target), "BL010")
        assert finding.location.path == "Sample.app"
        assert "README.txt (a file)" in finding.message and ".DS_Store" not in finding.message
        assert "unsealed contents present in the bundle root" in finding.message
        assert finding.fix is not None and finding.fix.command is not None
        assert "Sample.app/Contents/Resources/" in finding.fix.command


def test_stray_file_at_framework_root_is_unsealed_framework_root(clean: Path,
                                                                 tmp_path: Path) -> None:
    fw = clean / "Contents/Frameworks/Foo.framework"
    (fw / "LICENSE").write_text("MIT\n")
    (fw / "Versions" / "notes.txt").write_text("x\n")
    os.symlink("Versions/A/Foo", fw / "Bar")  # a root link must point at its namesake
    for target in (clean, zip_tree(clean, tmp_path / "Sample.zip")):
        report = lint(target)
        [finding] = by_rule(report, "BL011")
        assert finding.location.path == FW
        for part in ("LICENSE (a file with no namesake", "Versions/notes.txt (a file",
                     "Bar -> Versions/A/Foo"):
            assert part in finding.message
        assert not by_rule(report, "BL012")


def test_versions_current_missing(tmp_path: Path) -> None:
    app = _clean_app(tmp_path)
    (app / "Contents/Frameworks/Foo.framework/Versions/Current").unlink()
    [finding] = by_rule(lint(app), "BL011")
    assert "Versions/Current is missing" in finding.message


def test_root_info_plist_without_resources_link_is_ambiguous(tmp_path: Path) -> None:
    app = _clean_app(tmp_path)
    fw = app / "Contents/Frameworks/Foo.framework"
    (fw / "Resources").unlink()
    shutil.copy(fw / "Versions/A/Resources/Info.plist", fw / "Info.plist")
    for target in _as_dir_and_zip(app, tmp_path):
        report = lint(target)
        [finding] = by_rule(report, "BL013")
        assert finding.location.path == f"{FW}/Info.plist"
        assert not by_rule(report, "BL011")  # the root Info.plist is BL013's cause


# --- bundles codesign cannot read ---------------------------------------------------------------


def test_framework_without_info_plist_and_other_binary_name(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    _framework(app, "Kit", info=False, executable="KitCore")
    for target in _as_dir_and_zip(app, tmp_path):
        report = lint(target)
        [finding] = by_rule(report, "BL014")
        assert finding.location.path == "Sample.app/Contents/Frameworks/Kit.framework"
        assert "'Kit'" in finding.message
        assert not by_rule(report, "BL015")


def test_framework_without_info_plist_named_binary_is_a_warning(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    _framework(app, "Kit", info=False)
    _framework(app, "Good")
    for target in _as_dir_and_zip(app, tmp_path):
        report = lint(target)
        [finding] = by_rule(report, "BL015")  # Good.framework is quiet
        assert finding.location.path == "Sample.app/Contents/Frameworks/Kit.framework"
        assert finding.severity is Severity.WARNING
        assert not by_rule(report, "BL014")


# --- PyInstaller-like data next to the executable -----------------------------------------------


def _pyinstaller_like(root: Path) -> Path:
    """What PyInstaller's onedir BUNDLE did before it moved data to Resources: the Python
    standard library zip, data packages and a dotted data folder next to the executable."""
    app = make_app(root, files={
        "Contents/MacOS/base_library.zip": b"PK\x05\x06" + b"\0" * 18,
        "Contents/MacOS/config.json": b"{}",
        "Contents/MacOS/certifi/cacert.pem": b"-----BEGIN CERTIFICATE-----\n",
        "Contents/MacOS/certifi/py.typed": b"",
        "Contents/MacOS/numpy.libs/README": b"libs\n",
        "Contents/Resources/icon.icns": b"icns",
    })
    (app / "Contents/MacOS/lib-dynload").mkdir()
    (app / "Contents/MacOS/lib-dynload/_ssl.so").write_bytes(
        build_macho(MachOSpec(filetype=MH_BUNDLE)))
    (app / "Contents/MacOS/python3").symlink_to("../Resources/python3")  # a link: a resource
    return app


def test_pyinstaller_like_data_in_contents_macos(tmp_path: Path) -> None:
    app = _pyinstaller_like(tmp_path / "src")
    for target in (app, zip_tree(app, tmp_path / "Sample.zip")):
        report = lint(target)
        found = {f.location.path: f for f in by_rule(report, "BL016")}
        assert sorted(found) == ["Sample.app/Contents/MacOS/base_library.zip",
                                 "Sample.app/Contents/MacOS/certifi",
                                 "Sample.app/Contents/MacOS/config.json"], target
        assert "2 data file(s)" in found["Sample.app/Contents/MacOS/certifi"].message
        zipped = found["Sample.app/Contents/MacOS/base_library.zip"]
        assert "code object is not signed at all" in zipped.message
        assert zipped.fix is not None and zipped.fix.command is not None
        assert "ln -s ../Resources/base_library.zip" in zipped.fix.command
        [dotted] = by_rule(report, "BL014")  # codesign takes numpy.libs for a bundle
        assert dotted.location.path == "Sample.app/Contents/MacOS/numpy.libs"
        assert not any("numpy.libs/" in f.location.path for f in report.findings)


def test_data_in_resources_and_directly_in_contents(tmp_path: Path) -> None:
    app = make_app(tmp_path, files={"Contents/Resources/base_library.zip": b"PK",
                                    "Contents/PkgInfo": b"APPL????",
                                    "Contents/notes.txt": b"x"})
    [finding] = by_rule(lint(app), "BL016")  # a file directly in Contents is nested code
    assert finding.location.path == "Sample.app/Contents/notes.txt"


# --- code in resource locations -----------------------------------------------------------------


def test_mach_o_in_resources_needs_its_own_signature(tmp_path: Path) -> None:
    tool = developer_id_like(identifier="com.example.tool")
    app = make_app(tmp_path, files={"Contents/Resources/bin/tool": tool,
                                    "Contents/Resources/bin/tool2": tool,
                                    "Contents/Helpers/helper": tool})
    for target in _as_dir_and_zip(app, tmp_path):
        report = lint(target)
        [finding] = by_rule(report, "BL017")  # Contents/Helpers/helper is in place: quiet
        assert finding.location.path == "Sample.app/Contents/Resources/bin"
        assert finding.severity is Severity.WARNING
        assert "2 Mach-O file(s)" in finding.message


def test_app_bundle_in_resources_is_one_finding(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    make_app(app / "Contents/Resources", name="Helper.app")
    [finding] = by_rule(lint(app), "BL017")
    assert finding.location.path == "Sample.app/Contents/Resources/Helper.app"


# --- load commands ------------------------------------------------------------------------------


def _app_with(tmp_path: Path, executable: bytes) -> Path:
    return make_app(tmp_path, executable=executable)


def test_absolute_rpath_with_library_validation_off_is_dangling(tmp_path: Path) -> None:
    exe = developer_id_like(MachOSpec(rpaths=("/Users/runner/work/x", "/usr/lib/swift")),
                            flags=0)  # signed without the hardened runtime: no library validation
    report = lint(_app_with(tmp_path, exe))
    [finding] = by_rule(report, "BL018")
    assert "LC_RPATH /Users/runner/work/x" in finding.message
    assert finding.severity is Severity.ERROR
    assert finding.fix is not None and finding.fix.command is not None
    assert "install_name_tool -delete_rpath /Users/runner/work/x" in finding.fix.command
    assert not by_rule(report, "BL019")


def test_absolute_rpath_with_library_validation_on_is_advice(tmp_path: Path) -> None:
    exe = developer_id_like(MachOSpec(rpaths=("/Users/runner/work/x",)))
    for target in _as_dir_and_zip(_app_with(tmp_path / "src", exe), tmp_path):
        report = lint(target)
        assert not by_rule(report, "BL018")
        [finding] = by_rule(report, "BL019")
        assert finding.severity is Severity.INFO
    quiet = developer_id_like(MachOSpec(rpaths=("@executable_path/../Frameworks",
                                                "/usr/lib/swift")))
    report = lint(_app_with(tmp_path / "quiet", quiet))
    assert not by_rule(report, "BL018") and not by_rule(report, "BL019")


def test_weak_absolute_dylib_outside_os(tmp_path: Path) -> None:
    spec = MachOSpec(dylibs=(DylibSpec("/usr/lib/libSystem.B.dylib"),
                             DylibSpec("/opt/homebrew/lib/libfoo.dylib", kind="weak")))
    report = lint(_app_with(tmp_path, developer_id_like(spec, flags=0)))
    [finding] = by_rule(report, "BL018")
    assert "LC_LOAD_WEAK_DYLIB /opt/homebrew/lib/libfoo.dylib" in finding.message
    assert not by_rule(report, "BL104")  # a weak one does not stop the launch


def test_disable_library_validation_entitlement_makes_it_dangling(tmp_path: Path) -> None:
    exe = developer_id_like(MachOSpec(rpaths=("/opt/build/lib",)), entitlements={
        "com.apple.security.cs.disable-library-validation": True})
    assert [f.rule_id for f in lint(_app_with(tmp_path, exe)).findings
            if f.rule_id in ("BL018", "BL019")] == ["BL018"]


# --- entitlements on library code ---------------------------------------------------------------


def test_entitlements_on_a_dylib(tmp_path: Path) -> None:
    lib = developer_id_like(MachOSpec(filetype=MH_DYLIB), identifier="libfoo", entitlements={
        "com.apple.security.cs.allow-jit": True})
    app = make_app(tmp_path / "src", files={"Contents/Frameworks/libfoo.dylib": lib})
    assert len(by_rule(lint(zip_tree(app, tmp_path / "Sample.zip")), "BL020")) == 1
    report = lint(app)
    [finding] = by_rule(report, "BL020")
    assert finding.location.path == "Sample.app/Contents/Frameworks/libfoo.dylib"
    assert "com.apple.security.cs.allow-jit" in finding.message
    assert finding.fix is not None and finding.fix.command is not None
    assert "--entitlements" not in finding.fix.command
    assert not by_rule(report, "BL304")  # the library's exception is this rule's cause
    # the app's own entitlements on its executable are no library's
    exe = developer_id_like(entitlements={"com.apple.security.cs.allow-jit": True})
    assert not by_rule(lint(make_app(tmp_path / "exe", executable=exe)), "BL020")


# --- the same leftovers from real toolchains -----------------------------------------------------


def _bundle_built(tmp_path: Path, main: bytes, libs: dict[str, bytes] | None = None) -> Path:
    files = {f"Contents/Frameworks/{name}": data for name, data in (libs or {}).items()}
    return make_app(tmp_path, executable=main, files=files)


def test_zig_rpath_into_the_ci_checkout(zig_ci_rpath_arm64: Path, tmp_path: Path) -> None:
    from toolchain import CI_RPATH

    from fixtures.signer import CS_RUNTIME, sign_macho

    main = (zig_ci_rpath_arm64 / "main").read_bytes()
    lib = (zig_ci_rpath_arm64 / "libfoo.dylib").read_bytes()
    # as the linker left it: ad-hoc, no hardened runtime, so no library validation
    app = _bundle_built(tmp_path / "linked", main, {"libfoo.dylib": lib})
    for target in (app, zip_tree(app, tmp_path / "linked.zip")):
        report = lint(target)
        [finding] = by_rule(report, "BL018")
        assert finding.location.path == "Sample.app/Contents/MacOS/app"
        assert f"LC_RPATH {CI_RPATH} [arm64]" in finding.message
        assert not by_rule(report, "BL103")  # @executable_path/../Frameworks finds libfoo
    # signed for release: hardened runtime on, so library validation is on
    hardened = sign_macho(main, identifier="com.example.app", flags=CS_RUNTIME,
                          team_id="ABCDE12345")
    app = _bundle_built(tmp_path / "signed", hardened, {"libfoo.dylib": lib})
    report = lint(app)
    assert not by_rule(report, "BL018")
    [advice] = by_rule(report, "BL019")
    assert advice.severity is Severity.INFO


def test_go_external_linker_rpath(go_ci_rpath_arm64: Path, tmp_path: Path) -> None:
    from toolchain import CI_RPATH

    report = lint(_bundle_built(tmp_path, go_ci_rpath_arm64.read_bytes()))
    [finding] = by_rule(report, "BL018")
    assert f"LC_RPATH {CI_RPATH}" in finding.message
    report = lint(go_ci_rpath_arm64)  # the bare binary: its own process
    assert len(by_rule(report, "BL018")) == 1


# --- real disk images nobody here made ---------------------------------------------------------

IMAGES = {  # name -> (sha256, app inside)
    "03-itunes-volume-control-2013-hfs.dmg": (
        "c45438abdc9cd59ca5301a48c345d8e72d190b54fafd36e071fae724b45a0c04",
        "iTunes Volume Control.app"),
    "05-sparkle-testapp-hfs-bzip2-sla.dmg": (
        "a85b327bc0817397483759fdf7de8522fa239318075fd60be6007c4dc872c58a",
        "SparkleTestCodeSignApp.app"),
    "06-sparkle-apfs-lzma-adhoc-signed.dmg": (
        "b22c4db20b107661775a5c9aec030eae2fd279ef113b48248a84f12e9a10172d",
        "SparkleTestCodeSignApp.app"),
}


def _app_from_image(name: str, into: Path) -> Path:
    import hashlib
    import subprocess

    image = container(name)
    sevenzip = shutil.which("7zz")
    if sevenzip is None:
        pytest.skip("7zz is not installed (Debian package 7zip)")
    sha256, app_name = IMAGES[name]
    assert hashlib.sha256(image.read_bytes()).hexdigest() == sha256
    subprocess.run([sevenzip, "x", "-y", "-sns-", f"-o{into}", str(image)], check=True,
                   capture_output=True)
    found = sorted(p for p in into.rglob(app_name) if p.is_dir())
    assert found, f"{app_name} not in {name}"
    return found[0]


def test_real_2013_image_whose_sparkle_framework_lost_its_links(tmp_path: Path) -> None:
    # alberti42/iTunes-Volume-Control's 2013 disk image: Sparkle.framework's Versions/Current,
    # Headers, Resources and Sparkle are real directories and files on the HFS+ volume.
    app = _app_from_image("03-itunes-volume-control-2013-hfs.dmg", tmp_path)
    report = lint(app)
    [finding] = by_rule(report, "BL012")
    assert finding.location.path == \
        "iTunes Volume Control.app/Contents/Frameworks/Sparkle.framework"
    assert finding.message.startswith(
        "these should be symlinks: Versions/Current -> A (is a directory), Headers -> "
        "Versions/Current/Headers (is a directory), Resources -> Versions/Current/Resources "
        "(is a directory), Sparkle -> Versions/Current/Sparkle (is a file)")
    assert [f for f in _structure(report) if f != "BL017"] == ["BL012"]
    # the copied binary is judged once, through Versions/A
    assert not [f for f in report.findings if "Sparkle.framework/Versions/Current/" in
                f.location.path or f.location.path.endswith("Sparkle.framework/Sparkle")]


@pytest.mark.parametrize("name", ["05-sparkle-testapp-hfs-bzip2-sla.dmg",
                                  "06-sparkle-apfs-lzma-adhoc-signed.dmg"])
def test_real_sparkle_test_apps_have_no_structure_errors(name: str, tmp_path: Path) -> None:
    report = lint(_app_from_image(name, tmp_path))
    errors = [f for f in report.findings
              if f.rule_id in STRUCTURE_RULES and f.severity is Severity.ERROR]
    assert errors == []
    # Sparkle 1 ships Autoupdate.app in the framework's Resources: code to sign on its own
    [warning] = by_rule(report, "BL017")
    assert warning.location.path.endswith("Sparkle.framework/Versions/A/Resources/Autoupdate.app")


# --- hostile names: every printed command stays inert shell ------------------------------------


@pytest.mark.parametrize("index", range(13))
def test_structure_fix_commands_are_inert_with_hostile_names(index: int, tmp_path: Path) -> None:
    from shellstubs import HOSTILE, run_under_bash

    value = HOSTILE[index]
    name = value.replace("/", "_")
    exe = developer_id_like(MachOSpec(rpaths=(f"/Users/{value}",)), flags=0)
    root = tmp_path / "in"
    root.mkdir()
    app = make_app(root, name=f"{name}.app", executable=exe, files={
        name: b"stray",  # beside Contents
        f"Contents/MacOS/{name}.json": b"{}",
        f"Contents/MacOS/{name}.d/x": b"data",
    })
    copy = tmp_path / "copy" / f"{name}.app"
    _framework(app, "Foo")
    shutil.copytree(app, copy, symlinks=False)
    fired: set[str] = set()
    for finding in lint(copy).findings:
        if finding.rule_id not in STRUCTURE_RULES or not (finding.fix and finding.fix.command):
            continue
        fired.add(finding.rule_id)
        command = finding.fix.command
        assert command.isprintable(), (finding.rule_id, command)
        run_under_bash(command + "\n", tmp_path).assert_inert()
    assert {"BL010", "BL012", "BL014", "BL016", "BL018"} <= fired


def test_code_in_documented_code_locations_is_quiet(tmp_path: Path) -> None:
    # Library/LaunchServices (a privileged helper) is sealed as a resource but is where Apple
    # says the code goes: it is signed on its own, and nothing here asks to move it.
    tool = developer_id_like(identifier="com.example.helper")
    app = make_app(tmp_path, files={"Contents/Library/LaunchServices/com.example.helper": tool})
    make_app(app / "Contents/Library/SystemExtensions", name="Ext.app")
    assert not by_rule(lint(app), "BL017")


def test_a_resource_bundle_of_data_is_not_judged_as_a_bundle(tmp_path: Path) -> None:
    # Contents/Resources/Help.bundle holds no code: the seal hashes its files and codesign
    # never validates it as a bundle, so a README at its root is harmless.
    app = make_app(tmp_path, files={
        "Contents/Resources/Help.bundle/Contents/Info.plist": plistlib.dumps({}),
        "Contents/Resources/Help.bundle/README": b"x"})
    assert not by_rule(lint(app), "BL010")
    (app / "Contents/Resources/Help.bundle/Contents/MacOS").mkdir()
    (app / "Contents/Resources/Help.bundle/Contents/MacOS/Help").write_bytes(
        build_macho(MachOSpec(filetype=MH_BUNDLE)))  # now code, signed on its own
    [finding] = by_rule(lint(app), "BL010")
    assert finding.location.path == "Sample.app/Contents/Resources/Help.bundle"


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_real_images_read_by_bundlelint_agree_with_7zip_extraction(name: str,
                                                                   tmp_path: Path) -> None:
    # The same structure findings whether bundlelint reads the disk image itself (its own
    # HFS+/APFS readers) or the app 7-Zip extracted from it.
    app = _app_from_image(name, tmp_path)

    def structure(report: object, prefix: str) -> list[tuple[str, str]]:
        out = []
        for f in report.findings:  # type: ignore[attr-defined]
            if f.rule_id in STRUCTURE_RULES:
                path = f.location.path
                assert path.startswith(prefix), path
                out.append((f.rule_id, path[len(prefix):]))
        return sorted(out)

    from_image = structure(lint(container(name)), f"{name}/")
    from_disk = structure(lint(app), "")
    assert from_image == from_disk
    assert from_image  # each image has at least the Sparkle finding


# --- any tree: the structure rules never crash and name only real paths ------------------------

_NAMES = st.sampled_from(["Versions", "Current", "A", "B", "Resources", "Foo", "Contents",
                          "MacOS", "Frameworks", "Info.plist", ".DS_Store", "module.map",
                          "x.bundle", "lib.d", "a.dSYM", "._Foo", "$(touch PWNED)", "-rf"])
_TREE = st.lists(st.tuples(st.lists(_NAMES, min_size=1, max_size=4),
                           st.sampled_from(["dir", "file", "exe", "link"]),
                           st.sampled_from(["A", "Versions/Current/Foo", "../..", "/abs",
                                            "Versions/A/Foo", "."])),
                 max_size=12)


@settings(max_examples=25, deadline=None)
@given(tree=_TREE, zipped=st.booleans())
def test_any_tree_gives_structure_findings_on_real_paths_and_no_crash(
        tree: list[tuple[list[str], str, str]], zipped: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(Path(tmp) / "src")
        fw = app / "Contents" / "Frameworks" / "Foo.framework"
        fw.mkdir(parents=True)
        for parts, kind, target in tree:
            path = fw.joinpath(*parts)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                if kind == "dir":
                    path.mkdir(exist_ok=True)
                elif kind == "link":
                    path.symlink_to(target)
                else:
                    path.write_bytes(b"data")
                    path.chmod(0o755 if kind == "exe" else 0o644)
            except OSError:
                continue  # a name already taken by another kind of entry
        target_input = zip_tree(app, Path(tmp) / "Sample.zip") if zipped else app
        report = lint(target_input)
        assert not by_rule(report, "BL003"), [f.message for f in by_rule(report, "BL003")]
        for finding in report.findings:
            if finding.rule_id in STRUCTURE_RULES:
                rel = finding.location.path.removeprefix("Sample.app").lstrip("/")
                assert rel == "" or os.path.lexists(app / rel), finding.location.path
