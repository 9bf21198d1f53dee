"""Bundle geometry (``bundlelint.layout``): what is a bundle, its kind and format, content
base, Info.plist, main executable, nested-code locations and signing targets, checked against
what CFBundle and codesign do (the sources are named in the layout package); and ``plan`` and
``check`` naming the same signing targets on every fixture and real bundle the tests have."""

from __future__ import annotations

import os
import plistlib
import re
import shlex
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from appbuilder import developer_id_like, make_app
from lintutil import lint

from bundlelint.bundle import Bundle, EntryKind, open_input
from bundlelint.commands.plan import DEFAULT_IDENTITY, build_plan
from bundlelint.layout import (
    CODE_LOCATIONS,
    SEALED_CODE_DIRECTORIES,
    BundleFormat,
    BundleKind,
    Place,
    sealed_as_nested_code,
)
from bundlelint.parsers.coderesources import DEFAULT_RULES2
from bundlelint.parsers.macho import MH_BUNDLE, MH_DYLIB, MH_EXECUTE
from bundlelint.rules._commands import IDENTITY, codesign_command, signing_target
from fixtures.macho_builder import MachOSpec, build_macho

ROOT = Path(__file__).resolve().parent.parent
DYLIB = build_macho(MachOSpec(filetype=MH_DYLIB, id_dylib="@rpath/Kit.framework/KitCore"))
TOOL = build_macho(MachOSpec())  # an unsigned executable


def _info(executable: str | None, identifier: str, package_type: str = "BNDL") -> bytes:
    values = {"CFBundleIdentifier": identifier, "CFBundlePackageType": package_type}
    if executable is not None:
        values["CFBundleExecutable"] = executable
    return plistlib.dumps(values)


def _versioned_framework(app: Path, name: str, executable: str, *, copy: bool = False,
                         declare: bool = True) -> Path:
    """``Contents/Frameworks/<name>.framework`` laid out as Xcode writes it (``Versions/A``,
    ``Current`` and root entries as symlinks), or as ``cp -r`` leaves it (``copy``: the links
    replaced by copies). ``declare=False`` leaves CFBundleExecutable out of its Info.plist."""
    fw = app / "Contents" / "Frameworks" / f"{name}.framework"
    version = fw / "Versions" / "A"
    (version / "Resources").mkdir(parents=True)
    (version / executable).write_bytes(DYLIB)
    (version / "Resources" / "Info.plist").write_bytes(
        _info(executable if declare else None, f"com.example.{name.lower()}", "FMWK"))
    if copy:
        shutil.copytree(version, fw / "Versions" / "Current")
        shutil.copy(version / executable, fw / executable)
        shutil.copytree(version / "Resources", fw / "Resources")
    else:
        os.symlink("A", fw / "Versions" / "Current")
        os.symlink(f"Versions/Current/{executable}", fw / executable)
        os.symlink("Versions/Current/Resources", fw / "Resources")
    return fw


def _nested_app(root: Path, rel: str, executable: str, identifier: str,
                package_type: str = "APPL") -> None:
    bundle = root / rel
    (bundle / "Contents" / "MacOS").mkdir(parents=True)
    (bundle / "Contents" / "MacOS" / executable).write_bytes(TOOL)
    (bundle / "Contents" / "Info.plist").write_bytes(_info(executable, identifier, package_type))


# --- the bundles every geometry test runs over -------------------------------------------------


def demo(tmp: Path) -> Path:
    return ROOT / "fixtures" / "demo" / "Demo.app"


def kit_core(tmp: Path) -> Path:
    """An app with Kit.framework whose executable is KitCore (CFBundleExecutable differs from
    the framework's name), unsigned, so check reports it and prints a codesign command."""
    app = make_app(tmp)
    _versioned_framework(app, "Kit", "KitCore")
    return app


def copied_framework(tmp: Path) -> Path:
    """Kit.framework as ``cp -r`` leaves it: Versions/Current and the root entries copies."""
    app = make_app(tmp)
    _versioned_framework(app, "Kit", "KitCore", copy=True)
    return app


def every_kind(tmp: Path) -> Path:
    """Nested code of every kind, in every code location, with executables named unlike their
    bundles, a framework without CFBundleExecutable and a shallow (iOS-style) framework."""
    app = make_app(tmp)
    _versioned_framework(app, "Kit", "KitCore")
    _versioned_framework(app, "Plain", "Plain", declare=False)
    shallow = app / "Contents/Frameworks/Flat.framework"
    shallow.mkdir(parents=True)
    (shallow / "FlatBin").write_bytes(DYLIB)
    (shallow / "Info.plist").write_bytes(_info("FlatBin", "com.example.flat", "FMWK"))
    contents = app / "Contents"
    (contents / "Frameworks/libloose.dylib").write_bytes(DYLIB)
    _nested_app(contents, "PlugIns/Share.appex", "ShareExt", "com.example.share", "XPC!")
    _nested_app(contents, "XPCServices/Svc.xpc", "SvcMain", "com.example.svc", "XPC!")
    _nested_app(contents, "Library/LoginItems/Login.app", "LoginHelper", "com.example.login")
    _nested_app(contents, "Library/SystemExtensions/com.example.net.systemextension", "netext",
                "com.example.net", "SYSX")
    _nested_app(contents, "PlugIns/Old.bundle", "OldPlugin", "com.example.old")
    bundle_exe = contents / "PlugIns/Old.bundle/Contents/MacOS/OldPlugin"
    bundle_exe.write_bytes(build_macho(MachOSpec(filetype=MH_BUNDLE)))
    (contents / "Library/LaunchServices").mkdir(parents=True)
    (contents / "Library/LaunchServices/com.example.helper").write_bytes(TOOL)
    (contents / "Helpers").mkdir()
    (contents / "Helpers/tool").write_bytes(TOOL)
    (contents / "MacOS/second").write_bytes(TOOL)
    return app


def unsignable_bundles(tmp: Path) -> Path:
    """Bundles codesign cannot sign as bundles (no Info.plist, no executable named after
    them): a resource bundle of images, and a plug-in whose code is named otherwise."""
    return make_app(tmp, files={
        "Contents/Resources/Icons.bundle/icon.png": b"png",
        "Contents/PlugIns/Thing.bundle/Contents/MacOS/other": TOOL,
    })


def plain_folder(tmp: Path) -> Path:
    """A PyInstaller-like folder (no Info.plist) whose executable is named like it."""
    folder = tmp / "tool"
    (folder / "_internal").mkdir(parents=True)
    (folder / "tool").write_bytes(TOOL)
    (folder / "_internal/libpython.dylib").write_bytes(DYLIB)
    return folder


def code_in_a_jar(tmp: Path) -> Path:
    """A dylib inside a .jar in Resources (JNA, SQLite JDBC): notarized, so it must be signed,
    but not a path codesign can open."""
    import zipfile

    app = make_app(tmp, files={"Contents/Resources/Java/lib.jar": b""})
    with zipfile.ZipFile(app / "Contents/Resources/Java/lib.jar", "w") as jar:
        jar.writestr("darwin/libnative.dylib", DYLIB)
    return app


def bare_macho(tmp: Path) -> Path:
    path = tmp / "tool"
    path.write_bytes(developer_id_like())
    return path


def juhflow(tmp: Path) -> Path:
    from test_real_apps import JUHFLOW_DMG, _unpack_app

    return _unpack_app(JUHFLOW_DMG, tmp / "juhflow", "JuhFlow.app")


def terminal_notifier(tmp: Path) -> Path:
    from realbins import fetch_tree

    return fetch_tree("terminal-notifier-app",
                      "package/vendor/mac.noindex/terminal-notifier.app")


BUNDLES: list[object] = [
    pytest.param(demo, id="demo"),
    pytest.param(kit_core, id="kit-core"),
    pytest.param(copied_framework, id="copied-framework"),
    pytest.param(every_kind, id="every-kind"),
    pytest.param(unsignable_bundles, id="unsignable-bundles"),
    pytest.param(plain_folder, id="plain-folder"),
    pytest.param(code_in_a_jar, id="code-in-a-jar"),
    pytest.param(bare_macho, id="bare-macho"),
    pytest.param(juhflow, id="juhflow"),
    pytest.param(terminal_notifier, id="terminal-notifier", marks=pytest.mark.realbin),
]

# --- plan and check name the same signing targets ----------------------------------------------

_SIGN_WORDS = re.compile(r"codesign --force\b")


def _codesign_targets(command: str) -> list[str]:
    """The path of every signing ``codesign`` call in a shell command line (the word after
    ``--sign IDENTITY``)."""
    words = shlex.split(command.split("#", 1)[0], posix=True)
    targets = []
    for i, word in enumerate(words):
        if word == "codesign" and "--force" in words[i:i + 3]:
            at = words.index("--sign", i)
            targets.append(words[at + 2])
    return targets


def _signable(bundle: Bundle) -> list[str]:
    """Every Mach-O of the bundle that codesign signs (not a member of a nested archive)."""
    out = []
    for entry, macho in bundle.machos():
        if entry.container is None and any(
                sl.filetype in (MH_EXECUTE, MH_DYLIB, MH_BUNDLE) for sl in macho.slices):
            out.append(entry.relpath)
    return out


@pytest.mark.parametrize("make", BUNDLES)
def test_plan_and_check_name_the_same_signing_targets(
        make: Callable[[Path], Path], tmp_path: Path) -> None:
    path = make(tmp_path)
    bundle = open_input(path)
    plan = build_plan(bundle)
    planned = {step.path for step in plan.sign}
    planned_paths = {t for step in plan.sign for t in _codesign_targets(step.command)}
    signable = _signable(bundle)
    assert signable, "every bundle here holds code"
    # Code inside a nested archive: plan prints exactly check's extract-sign-re-zip command
    # (with plan's identity), before the bundle whose seal covers the archive.
    steps = {step.path: step for step in plan.sign}
    for entry, _ in bundle.machos():
        if entry.container is not None:
            step = steps[entry.relpath]
            assert step.command == codesign_command(bundle, entry).replace(
                IDENTITY, shlex.quote(DEFAULT_IDENTITY))
    for rel in signable:
        entry = bundle.entry(rel)
        assert entry is not None
        target = signing_target(bundle, entry)
        # check's fix command for this file signs what plan signs, by the same path...
        assert target in planned, (rel, target, sorted(planned))
        [printed] = _codesign_targets(codesign_command(bundle, entry))
        assert printed in planned_paths, (rel, printed)
        # ...and plan never signs a bundle's main executable on its own.
        if target != rel:
            main_of = bundle.layout.bundle_of_main_executable(rel)
            assert main_of is not None and main_of.bundle_dir.relpath == target
            assert rel not in planned
    # What check prints in its findings, for every codesign it suggests, is a plan target.
    for finding in lint(path).findings:
        command = finding.fix.command if finding.fix else None
        if command and _SIGN_WORDS.search(command) and "mktemp" not in command:
            for printed in _codesign_targets(command):
                assert printed in planned_paths, (finding.rule_id, printed, planned_paths)
    # Every plan step is a bundle, or a file that is its own signing target.
    for step in plan.sign:
        if step.path and bundle.layout.bundle_at(step.path) is None:
            assert bundle.layout.signing_target(step.path) == step.path


def test_kit_framework_is_signed_as_a_bundle_by_plan_and_check(tmp_path: Path) -> None:
    # The issue's case: Kit.framework's executable is KitCore. check used to say "sign
    # Kit.framework" while plan signed Versions/A/KitCore on its own.
    bundle = open_input(kit_core(tmp_path))
    core = bundle.entry("Contents/Frameworks/Kit.framework/Versions/A/KitCore")
    assert core is not None and core.kind is EntryKind.MACHO
    assert signing_target(bundle, core) == "Contents/Frameworks/Kit.framework"
    steps = [step.path for step in build_plan(bundle).sign]
    assert "Contents/Frameworks/Kit.framework" in steps
    assert not [s for s in steps if s.endswith("KitCore")]
    assert steps.index("Contents/Frameworks/Kit.framework") < steps.index("")
    bundle_path = tmp_path / "Sample.app"
    unsigned = [f for f in lint(bundle_path).findings
                if f.location.path.endswith("KitCore") and f.fix and f.fix.command
                and "codesign" in f.fix.command]
    assert unsigned, f"an unsigned KitCore in {bundle_path} gets a codesign fix"
    for finding in unsigned:
        assert finding.fix is not None and finding.fix.command is not None
        assert _codesign_targets(finding.fix.command) == [
            f"{tmp_path}/Sample.app/Contents/Frameworks/Kit.framework"]


def test_plan_signs_no_bundle_codesign_cannot_sign(tmp_path: Path) -> None:
    # BundleDiskRep::setup: no main executable and no Info.plist is errSecCSBadBundleFormat.
    bundle = open_input(unsignable_bundles(tmp_path))
    plan = build_plan(bundle)
    steps = [step.path for step in plan.sign]
    assert steps == ["Contents/PlugIns/Thing.bundle/Contents/MacOS/other", ""]
    assert [n for n in plan.notes if "Icons.bundle" in n and "neither" in n]
    assert [n for n in plan.notes if "Thing.bundle" in n and "neither" in n]


# --- the geometry itself -----------------------------------------------------------------------


def test_every_kind_of_bundle_has_its_kind_format_and_main_executable(tmp_path: Path) -> None:
    bundle = open_input(every_kind(tmp_path))
    layout = bundle.layout
    found = {bd.relpath: bd for bd in bundle.bundle_dirs}
    expected = {
        # relpath: (kind, format, content base, Info.plist, main executable), below Contents/
        "Frameworks/Kit.framework": (BundleKind.FRAMEWORK, BundleFormat.VERSIONED,
                                     "Frameworks/Kit.framework/Versions/A/",
                                     "Resources/Info.plist", "KitCore"),
        "Frameworks/Plain.framework": (BundleKind.FRAMEWORK, BundleFormat.VERSIONED,
                                       "Frameworks/Plain.framework/Versions/A/",
                                       "Resources/Info.plist", "Plain"),
        "Frameworks/Flat.framework": (BundleKind.FRAMEWORK, BundleFormat.FLAT,
                                      "Frameworks/Flat.framework/", "Info.plist", "FlatBin"),
        "PlugIns/Share.appex": (BundleKind.APP_EXTENSION, BundleFormat.CONTENTS,
                                "PlugIns/Share.appex/Contents/", "Info.plist",
                                "MacOS/ShareExt"),
        "XPCServices/Svc.xpc": (BundleKind.XPC_SERVICE, BundleFormat.CONTENTS,
                                "XPCServices/Svc.xpc/Contents/", "Info.plist", "MacOS/SvcMain"),
        "Library/LoginItems/Login.app": (BundleKind.LOGIN_ITEM, BundleFormat.CONTENTS,
                                         "Library/LoginItems/Login.app/Contents/", "Info.plist",
                                         "MacOS/LoginHelper"),
        "Library/SystemExtensions/com.example.net.systemextension": (
            BundleKind.SYSTEM_EXTENSION, BundleFormat.CONTENTS,
            "Library/SystemExtensions/com.example.net.systemextension/Contents/", "Info.plist",
            "MacOS/netext"),
        "PlugIns/Old.bundle": (BundleKind.PLUGIN, BundleFormat.CONTENTS,
                               "PlugIns/Old.bundle/Contents/", "Info.plist", "MacOS/OldPlugin"),
    }
    for rel, (kind, fmt, base, info, main) in expected.items():
        bd = found["Contents/" + rel]
        geometry = layout.geometry(bd)
        assert (bd.kind, bd.format) == (kind, fmt), rel
        assert geometry.base == "Contents/" + base, rel
        assert geometry.info_plist == "Contents/" + base + info, rel
        assert geometry.main_executable == "Contents/" + base + main, rel
    root = found[""]
    assert (root.kind, root.format) == (BundleKind.APP, BundleFormat.CONTENTS)
    assert layout.main_executable(root) == "Contents/MacOS/app"
    assert bundle.main_executable is not None
    assert bundle.main_executable.relpath == "Contents/MacOS/app"


def test_signing_targets_of_loose_code_are_the_files(tmp_path: Path) -> None:
    bundle = open_input(every_kind(tmp_path))
    for rel in ("Contents/MacOS/second", "Contents/Helpers/tool",
                "Contents/Frameworks/libloose.dylib",
                "Contents/Library/LaunchServices/com.example.helper"):
        assert bundle.layout.signing_target(rel) == rel
    assert bundle.layout.signing_target("Contents/MacOS/app") == ""
    assert bundle.layout.signing_target(
        "Contents/Frameworks/Flat.framework/FlatBin") == "Contents/Frameworks/Flat.framework"


def test_a_copied_framework_is_judged_in_its_real_version_directory(tmp_path: Path) -> None:
    # cp -r turned Versions/Current into a directory: the content base stays Versions/A (the
    # copies are reported once, by the structure rules, and not linted again).
    bundle = open_input(copied_framework(tmp_path))
    [kit] = [bd for bd in bundle.bundle_dirs if bd.extension == ".framework"]
    assert bundle.content_base(kit) == "Contents/Frameworks/Kit.framework/Versions/A/"
    assert bundle.layout.main_executable(kit) == (
        "Contents/Frameworks/Kit.framework/Versions/A/KitCore")


def test_versions_current_decides_the_content_base(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    fw = _versioned_framework(app, "Kit", "KitCore")
    (fw / "Versions/B/Resources").mkdir(parents=True)
    (fw / "Versions/B/KitCore").write_bytes(DYLIB)
    (fw / "Versions/B/Resources/Info.plist").write_bytes(_info("KitCore", "com.example.kit"))
    (fw / "Versions/Current").unlink()
    os.symlink("B", fw / "Versions/Current")
    bundle = open_input(app)
    [kit] = [bd for bd in bundle.bundle_dirs if bd.extension == ".framework"]
    assert bundle.content_base(kit) == "Contents/Frameworks/Kit.framework/Versions/B/"
    # Both versions are code (codesign signs every version); only Current's binary is the
    # main executable, signed through the framework.
    for version in ("A", "B"):
        entry = bundle.entry(f"Contents/Frameworks/Kit.framework/Versions/{version}/KitCore")
        assert entry is not None and entry.place is Place.CODE
    assert bundle.layout.signing_target(
        "Contents/Frameworks/Kit.framework/Versions/B/KitCore") == (
        "Contents/Frameworks/Kit.framework")


def test_executable_name_falls_back_as_cfbundle_does(tmp_path: Path) -> None:
    # No CFBundleExecutable: the bundle's name without extension (CFBundle.c
    # _CFBundleCopyExecutableName); NSExecutable, the old key, is read too.
    app = make_app(tmp_path, drop_info_keys=("CFBundleExecutable",), exe_name="Sample")
    _nested_app(app / "Contents", "PlugIns/Legacy.bundle", "Legacy", "com.example.legacy")
    legacy_info = app / "Contents/PlugIns/Legacy.bundle/Contents/Info.plist"
    legacy_info.write_bytes(plistlib.dumps({"NSExecutable": "LegacyBin"}))
    (app / "Contents/PlugIns/Legacy.bundle/Contents/MacOS/LegacyBin").write_bytes(TOOL)
    bundle = open_input(app)
    root = bundle.bundle_dirs[0]
    assert bundle.layout.main_executable(root) == "Contents/MacOS/Sample"
    legacy = bundle.layout.bundle_at("Contents/PlugIns/Legacy.bundle")
    assert legacy is not None
    assert bundle.layout.main_executable(legacy) == (
        "Contents/PlugIns/Legacy.bundle/Contents/MacOS/LegacyBin")


def test_an_executable_name_that_leaves_its_directory_names_nothing(tmp_path: Path) -> None:
    app = make_app(tmp_path, info_overrides={"CFBundleExecutable": "../Resources/x"},
                   files={"Contents/Resources/x": TOOL})
    bundle = open_input(app)
    assert bundle.layout.main_executable(bundle.bundle_dirs[0]) is None


def test_a_skipped_info_plist_leaves_the_main_executable_unknown(tmp_path: Path) -> None:
    from bundlelint.options import Options

    app = make_app(tmp_path, info_overrides={"Padding": "x" * 4096})
    bundle = open_input(app, Options(max_file_size=1024))
    geometry = bundle.layout.geometry(bundle.bundle_dirs[0])
    assert geometry.executable_unknown and geometry.main_executable is None
    assert geometry.info_plist == "Contents/Info.plist"


# --- code locations ----------------------------------------------------------------------------


def test_sealed_code_locations_are_the_nested_rule_of_codesigns_default_rules2() -> None:
    # bundlediskrep.cpp BundleDiskRep::defaultResourceRules, as the parser layer records it.
    nested = [re.compile(p) for p, v in DEFAULT_RULES2.items()
              if isinstance(v, dict) and v.get("nested")]
    for loc in CODE_LOCATIONS:
        sealed = any(p.search(f"{loc.path}/x") for p in nested)
        assert sealed is loc.sealed_as_code, loc.path
        assert sealed_as_nested_code(f"{loc.path}/x") is loc.sealed_as_code
    assert set(SEALED_CODE_DIRECTORIES) == {
        "Frameworks", "SharedFrameworks", "PlugIns", "Plug-ins", "XPCServices", "Helpers",
        "MacOS", "Library/Automator", "Library/Spotlight", "Library/LoginItems"}
    assert {loc.path for loc in CODE_LOCATIONS} - set(SEALED_CODE_DIRECTORIES) == {
        "Library/LaunchServices", "Library/SystemExtensions", "Library/QuickLook"}
    assert sealed_as_nested_code("PkgInfo")  # directly in Contents: the ^[^/]+$ rule
    assert not sealed_as_nested_code("Resources/x")
    assert not sealed_as_nested_code("MacOS/tool.dSYM/Contents/x")
    assert not sealed_as_nested_code("Library/LoginItemsX/x")


def test_code_location_of_a_path_is_found_in_its_innermost_bundle(tmp_path: Path) -> None:
    bundle = open_input(every_kind(tmp_path))
    layout = bundle.layout
    where = layout.code_location("Contents/Library/LaunchServices/com.example.helper")
    assert where is not None and where.path == "Library/LaunchServices"
    assert not where.sealed_as_code
    inner = layout.code_location("Contents/PlugIns/Share.appex/Contents/MacOS/ShareExt")
    assert inner is not None and inner.path == "MacOS"
    kit = layout.code_location("Contents/Frameworks/Kit.framework/Versions/A/KitCore")
    assert kit is None  # directly in the version directory: code, but no named location
    assert layout.code_location("Contents/Resources/x") is None


def test_shallow_bundle_with_resources_has_codesigns_nested_rules(tmp_path: Path) -> None:
    # CF's version-0 bundle (Resources/ at the top, no Contents/): codesign's rules2 for a
    # bundle with a Resources directory apply with the bundle itself as base.
    app = make_app(tmp_path, files={
        "Contents/PlugIns/Shallow.plugin/Resources/Info.plist": _info("Shallow", "com.x.s"),
        "Contents/PlugIns/Shallow.plugin/Shallow": TOOL,
        "Contents/PlugIns/Shallow.plugin/Frameworks/libx.dylib": DYLIB,
        "Contents/PlugIns/Shallow.plugin/Other/data": b"d",
    })
    bundle = open_input(app)
    shallow = bundle.layout.bundle_at("Contents/PlugIns/Shallow.plugin")
    assert shallow is not None and shallow.format is BundleFormat.SHALLOW
    geometry = bundle.layout.geometry(shallow)
    assert geometry.info_plist == "Contents/PlugIns/Shallow.plugin/Resources/Info.plist"
    assert geometry.main_executable == "Contents/PlugIns/Shallow.plugin/Shallow"
    places = {e.relpath.rpartition("/")[2]: e.place for e in bundle.entries
              if e.relpath.startswith("Contents/PlugIns/Shallow.plugin/")}
    assert places["libx.dylib"] is Place.CODE and places["Shallow"] is Place.CODE
    assert places["data"] is Place.OTHER and places["Info.plist"] is Place.RESOURCES


def test_a_dotted_directory_in_a_code_location_is_sealed_as_one_nested_bundle(
        tmp_path: Path) -> None:
    # resources.cpp ResourceBuilder::scan: "nested, has extension -> treat as nested bundle",
    # whatever the extension; a directory without a dot is walked into.
    from bundlelint.analysis.seal import unsealed_content

    app = make_app(tmp_path, files={
        "Contents/Frameworks/Thing.kit/Contents/MacOS/Thing": TOOL,
        "Contents/Frameworks/plain/libx.dylib": DYLIB,
        "Contents/Resources/Res.kit/file": b"f",
    })
    bundle = open_input(app)
    sealed = unsealed_content(bundle, bundle.layout.geometry(bundle.bundle_dirs[0]))
    assert "Frameworks/Thing.kit" in sealed
    assert not [p for p in sealed if p.startswith("Frameworks/Thing.kit/")]
    assert "Frameworks/plain/libx.dylib" in sealed
    assert "Resources/Res.kit/file" in sealed  # not a nested location: files, one by one


def test_a_flat_directory_without_info_plist_is_no_signing_target(tmp_path: Path) -> None:
    # dist/tool/tool (a PyInstaller-like folder): CF would find tool/tool as the folder's
    # executable, but codesign pointed at the file signs the file: a flat bundle needs a
    # non-empty Info.plist (CFBundle.c _CFBundleCreateWithExecutableURLIfMightBeBundle).
    folder = plain_folder(tmp_path)
    bundle = open_input(folder)
    assert bundle.layout.main_executable(bundle.bundle_dirs[0]) == "tool"
    assert bundle.layout.signing_target("tool") == "tool"
    (folder / "Info.plist").write_bytes(_info("tool", "com.example.tool"))
    bundle = open_input(folder)
    assert bundle.layout.signing_target("tool") == ""


def test_plan_signs_bundles_that_run_on_their_own_after_loose_code(tmp_path: Path) -> None:
    bundle = open_input(every_kind(tmp_path))
    steps = [step.path for step in build_plan(bundle).sign]
    running = [steps.index(p) for p in (
        "Contents/PlugIns/Share.appex", "Contents/XPCServices/Svc.xpc",
        "Contents/Library/LoginItems/Login.app",
        "Contents/Library/SystemExtensions/com.example.net.systemextension")]
    loose = [steps.index(p) for p in (
        "Contents/Frameworks/Kit.framework", "Contents/Frameworks/libloose.dylib",
        "Contents/Helpers/tool", "Contents/PlugIns/Old.bundle",
        "Contents/Library/LaunchServices/com.example.helper")]
    assert max(loose) < min(running)
    assert steps[-1] == ""


def test_a_copied_versioned_plugin_is_judged_once_like_a_framework(tmp_path: Path) -> None:
    # BundleDiskRep::setup descends into Versions/Current for any bundle, not only a
    # .framework: the copies cp -r leaves are skipped the same way (one Mach-O, not three).
    app = make_app(tmp_path)
    plugin = app / "Contents/PlugIns/Old.bundle"
    version = plugin / "Versions/A"
    (version / "Resources").mkdir(parents=True)
    (version / "OldCore").write_bytes(DYLIB)
    (version / "Resources/Info.plist").write_bytes(_info("OldCore", "com.example.old"))
    os.symlink("A", plugin / "Versions/Current")
    shutil.copy(version / "OldCore", plugin / "OldCore")  # a root link turned into a copy
    bundle = open_input(app)
    old = bundle.layout.bundle_at("Contents/PlugIns/Old.bundle")
    assert old is not None and old.format is BundleFormat.VERSIONED
    assert bundle.framework_copies == {"Contents/PlugIns/Old.bundle/OldCore"}
    assert [e.relpath for e, _ in bundle.machos() if "Old.bundle" in e.relpath] == [
        "Contents/PlugIns/Old.bundle/Versions/A/OldCore"]
    assert bundle.layout.signing_target(
        "Contents/PlugIns/Old.bundle/Versions/A/OldCore") == "Contents/PlugIns/Old.bundle"
