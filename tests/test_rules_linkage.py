"""BL103-BL107 dylib linkage: fixtures that fire each rule, fixtures that keep it quiet, and
real zig-linked binaries in a bundle."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from appbuilder import TEAM, developer_id_like, make_app, universal
from lintutil import by_rule, lint

from bundlelint.analysis.linkage import linkage, lookup
from bundlelint.bundle import open_input
from fixtures.macho_builder import LIBSYSTEM, MH_DYLIB, DylibSpec, MachOSpec, build_macho
from fixtures.signer import CS_RUNTIME

RPATH = "@executable_path/../Frameworks"
FOO = "@rpath/libfoo.dylib"


def exe(*deps: DylibSpec, rpaths: tuple[str, ...] = (RPATH,), arch: str = "arm64",
        minos: tuple[int, int, int] = (11, 0, 0), **sign: object) -> bytes:
    spec = MachOSpec(arch=arch, dylibs=(LIBSYSTEM, *deps), rpaths=rpaths,
                     build_version=(1, minos, (14, 0, 0)))
    return developer_id_like(spec, **sign)  # type: ignore[arg-type]


def lib(arch: str = "arm64", minos: tuple[int, int, int] = (11, 0, 0),
        install_name: str = FOO, signed: bool = True, **sign: object) -> bytes:
    spec = MachOSpec(arch=arch, filetype=MH_DYLIB, id_dylib=install_name,
                     build_version=(1, minos, (14, 0, 0)))
    if not signed:
        return build_macho(spec)
    return developer_id_like(spec, identifier="libfoo", **sign)  # type: ignore[arg-type]


# --- BL105: architecture ------------------------------------------------------------------


def test_bl105_arm64_app_loads_x86_64_only_dylib(tmp_path: Path) -> None:
    app = make_app(tmp_path, executable=exe(DylibSpec(FOO)),
                   files={"Contents/Frameworks/libfoo.dylib": lib("x86_64")})
    [finding] = by_rule(lint(app), "BL105")
    assert finding.message == (
        "Contents/MacOS/app [arm64] loads @rpath/libfoo.dylib → "
        "Contents/Frameworks/libfoo.dylib, which has only x86_64")
    assert finding.location.path == "Sample.app/Contents/MacOS/app"
    assert finding.location.arch == "arm64"
    assert finding.evidence["target_archs"] == "x86_64"


def test_bl105_quiet_with_universal_dylib(tmp_path: Path) -> None:
    fat = universal(lib("arm64"), lib("x86_64"))
    app = make_app(tmp_path, executable=exe(DylibSpec(FOO)),
                   files={"Contents/Frameworks/libfoo.dylib": fat})
    report = lint(app)
    assert not by_rule(report, "BL105") and not by_rule(report, "BL103")


def test_bl105_universal_app_names_the_missing_slice(tmp_path: Path) -> None:
    main = universal(exe(DylibSpec(FOO)), exe(DylibSpec(FOO), arch="x86_64"))
    app = make_app(tmp_path, executable=main,
                   files={"Contents/Frameworks/libfoo.dylib": lib("arm64")})
    [finding] = by_rule(lint(app), "BL105")
    assert finding.location.arch == "x86_64" and "which has only arm64" in finding.message


# --- BL103: resolves to nothing -----------------------------------------------------------


def test_bl103_missing_rpath_dependency_lists_what_was_tried(tmp_path: Path) -> None:
    app = make_app(tmp_path, executable=exe(DylibSpec(FOO)))
    [finding] = by_rule(lint(app), "BL103")
    assert finding.message == (
        "Contents/MacOS/app [arm64] loads @rpath/libfoo.dylib, which resolves to nothing in "
        "the bundle (tried Contents/Frameworks/libfoo.dylib)")


def test_bl103_same_missing_framework_in_two_slices_is_one_finding(tmp_path: Path) -> None:
    ref = "@rpath/Sparkle.framework/Versions/B/Sparkle"
    main = universal(exe(DylibSpec(ref)), exe(DylibSpec(ref), arch="x86_64"))
    [finding] = by_rule(lint(make_app(tmp_path, executable=main)), "BL103")
    assert finding.message == (
        f"Contents/MacOS/app [arm64, x86_64] loads {ref}, which resolves to nothing in the "
        "bundle (tried Contents/Frameworks/Sparkle.framework/Versions/B/Sparkle)")
    assert finding.location.arch is None and finding.evidence["archs"] == "arm64,x86_64"


def test_bl104_same_homebrew_path_in_two_slices_is_one_finding(tmp_path: Path) -> None:
    ref = "/opt/homebrew/opt/glfw/lib/libglfw.3.dylib"
    main = universal(exe(DylibSpec(ref)), exe(DylibSpec(ref), arch="x86_64"))
    [finding] = by_rule(lint(make_app(tmp_path, executable=main)), "BL104")
    assert finding.message.startswith(f"Contents/MacOS/app [arm64, x86_64] loads {ref}, ")


def test_bl103_wrong_rpath_and_no_rpath(tmp_path: Path) -> None:
    wrong = make_app(tmp_path / "a", executable=exe(DylibSpec(FOO), rpaths=("@loader_path/lib",)),
                     files={"Contents/Frameworks/libfoo.dylib": lib()})
    [finding] = by_rule(lint(wrong), "BL103")
    assert "tried Contents/MacOS/lib/libfoo.dylib" in finding.message
    none = make_app(tmp_path / "b", executable=exe(DylibSpec(FOO), rpaths=()),
                    files={"Contents/Frameworks/libfoo.dylib": lib()})
    assert "no LC_RPATH leads into it" in by_rule(lint(none), "BL103")[0].message


def test_bl103_quiet_for_weak_and_for_loader_path(tmp_path: Path) -> None:
    weak = make_app(tmp_path / "a", executable=exe(DylibSpec(FOO, kind="weak")))
    assert not by_rule(lint(weak), "BL103")
    # a dylib in Frameworks loading a sibling through @loader_path, and the app through @rpath
    bar = developer_id_like(MachOSpec(filetype=MH_DYLIB, id_dylib="@rpath/libbar.dylib",
                                      dylibs=(LIBSYSTEM, DylibSpec("@loader_path/libfoo.dylib"))),
                            identifier="libbar")
    ok = make_app(tmp_path / "b", executable=exe(DylibSpec("@rpath/libbar.dylib")),
                  files={"Contents/Frameworks/libfoo.dylib": lib(),
                         "Contents/Frameworks/libbar.dylib": bar})
    assert not by_rule(lint(ok), "BL103")


def test_bl103_dylib_uses_main_executables_rpath(tmp_path: Path) -> None:
    """A dylib without LC_RPATH finds @rpath libraries through the main executable's rpaths."""
    bar = developer_id_like(MachOSpec(filetype=MH_DYLIB, id_dylib="@rpath/libbar.dylib",
                                      dylibs=(LIBSYSTEM, DylibSpec(FOO))), identifier="libbar")
    app = make_app(tmp_path, executable=exe(DylibSpec("@rpath/libbar.dylib")),
                   files={"Contents/Frameworks/libbar.dylib": bar,
                          "Contents/Frameworks/libfoo.dylib": lib()})
    deps = {(d.loader.relpath, d.ref.path): d for d in linkage(open_input(app))}
    dep = deps[("Contents/Frameworks/libbar.dylib", FOO)]
    assert dep.status == "bundle" and dep.target is not None
    assert dep.target.relpath == "Contents/Frameworks/libfoo.dylib"


def test_bl103_follows_framework_symlinks_but_not_out_of_the_bundle(tmp_path: Path) -> None:
    ref = "@rpath/Foo.framework/Foo"
    app = make_app(tmp_path, executable=exe(DylibSpec(ref)),
                   files={"Contents/Frameworks/Foo.framework/Versions/A/Foo":
                          lib(install_name=ref)})
    fw = app / "Contents/Frameworks/Foo.framework"
    os.symlink("A", fw / "Versions/Current")
    os.symlink("Versions/Current/Foo", fw / "Foo")
    report = lint(app)
    assert not by_rule(report, "BL103")
    bundle = open_input(app)
    target = lookup(bundle, "Contents/Frameworks/Foo.framework/Foo")
    assert target is not None and target.relpath.endswith("Versions/A/Foo")
    os.symlink("/usr/lib/libSystem.B.dylib", app / "Contents/Frameworks/libfoo.dylib")
    assert lookup(open_input(app), "Contents/Frameworks/libfoo.dylib") is None


def test_bl103_target_that_is_not_macho(tmp_path: Path) -> None:
    app = make_app(tmp_path, executable=exe(DylibSpec(FOO)),
                   files={"Contents/Frameworks/libfoo.dylib": b"not a library"})
    [finding] = by_rule(lint(app), "BL103")
    assert "which is not a Mach-O file" in finding.message


# --- BL104: absolute paths outside the OS --------------------------------------------------


def test_bl104_homebrew_dependency(tmp_path: Path) -> None:
    brew = "/opt/homebrew/opt/gettext/lib/libintl.8.dylib"
    app = make_app(tmp_path, executable=exe(DylibSpec(brew), DylibSpec("/Users/me/lib/x.dylib")))
    findings = {f.evidence["reference"]: f for f in by_rule(lint(app), "BL104")}
    assert set(findings) == {brew, "/Users/me/lib/x.dylib"}
    assert findings[brew].message == (
        f"Contents/MacOS/app [arm64] loads {brew}, an absolute path outside /System and "
        "/usr/lib that exists only on the build machine")
    fix = findings[brew].fix
    assert fix is not None and fix.command is not None
    assert fix.command.startswith(f"install_name_tool -change {brew} "
                                              "@rpath/libintl.8.dylib ")


def test_bl104_quiet_for_os_paths_and_weak(tmp_path: Path) -> None:
    app = make_app(tmp_path, executable=exe(
        DylibSpec("/System/Library/Frameworks/Metal.framework/Versions/A/Metal"),
        DylibSpec("/usr/lib/libobjc.A.dylib"),
        DylibSpec("/usr/local/lib/libmaybe.dylib", kind="weak")))
    assert not by_rule(lint(app), "BL104")


# --- BL106: minimum OS ---------------------------------------------------------------------


def test_bl106_dylib_newer_than_loader_without_plist_minimum(tmp_path: Path) -> None:
    app = make_app(tmp_path, executable=exe(DylibSpec(FOO)),
                   drop_info_keys=("LSMinimumSystemVersion",),
                   files={"Contents/Frameworks/libfoo.dylib": lib(minos=(13, 0, 0))})
    [finding] = by_rule(lint(app), "BL106")
    assert finding.message == (
        "Contents/MacOS/app [arm64] loads @rpath/libfoo.dylib → "
        "Contents/Frameworks/libfoo.dylib [arm64], which needs macOS 13.0 while the loader's "
        "minimum is 11.0")


def test_bl106_leaves_lsminimumsystemversion_to_bl407(tmp_path: Path) -> None:
    app = make_app(tmp_path, executable=exe(DylibSpec(FOO)),
                   files={"Contents/Frameworks/libfoo.dylib": lib(minos=(13, 0, 0))})
    report = lint(app)
    assert not by_rule(report, "BL106")
    [bl407] = by_rule(report, "BL407")
    assert "Contents/Frameworks/libfoo.dylib [arm64] 13.0" in bl407.message


def test_bl106_quiet_when_dylib_is_not_newer(tmp_path: Path) -> None:
    app = make_app(tmp_path, executable=exe(DylibSpec(FOO), minos=(12, 0, 0)),
                   drop_info_keys=("LSMinimumSystemVersion",),
                   files={"Contents/Frameworks/libfoo.dylib": lib(minos=(11, 0, 0))})
    assert not by_rule(lint(app), "BL106")


# --- BL107: library validation -------------------------------------------------------------


@pytest.mark.parametrize(("dylib", "says"), [
    (lib(team_id="ZZZZZ99999"), "which is signed by Team ID ZZZZZ99999"),
    (lib(signed=False), "which is unsigned"),
    (lib(team_id=None, cms=b""), "which is signed adhoc with no Team ID"),
])
def test_bl107_fires_under_library_validation(tmp_path: Path, dylib: bytes, says: str) -> None:
    app = make_app(tmp_path, executable=exe(DylibSpec(FOO)),
                   files={"Contents/Frameworks/libfoo.dylib": dylib})
    [finding] = by_rule(lint(app), "BL107")
    assert says in finding.message and f"(Team ID {TEAM}, library validation on)" in \
        finding.message
    assert finding.message.startswith("Contents/MacOS/app [arm64] loads @rpath/libfoo.dylib → "
                                      "Contents/Frameworks/libfoo.dylib [arm64]")


def test_bl107_quiet_same_team_or_validation_disabled(tmp_path: Path) -> None:
    same = make_app(tmp_path / "a", executable=exe(DylibSpec(FOO)),
                    files={"Contents/Frameworks/libfoo.dylib": lib()})
    assert not by_rule(lint(same), "BL107")
    disabled = exe(DylibSpec(FOO), entitlements={
        "com.apple.security.cs.disable-library-validation": True})
    off = make_app(tmp_path / "b", executable=disabled,
                   files={"Contents/Frameworks/libfoo.dylib": lib(team_id="ZZZZZ99999")})
    assert not by_rule(lint(off), "BL107")
    no_runtime = exe(DylibSpec(FOO), flags=0)
    plain = make_app(tmp_path / "c", executable=no_runtime,
                     files={"Contents/Frameworks/libfoo.dylib": lib(team_id="ZZZZZ99999")})
    assert not by_rule(lint(plain), "BL107")
    assert CS_RUNTIME  # the default signer flags are what turn validation on


BAR = "@rpath/libbar.dylib"


def lib_loading(*deps: DylibSpec, install_name: str = FOO, **sign: object) -> bytes:
    """A signed dylib that itself loads ``deps`` through the main executable's rpaths."""
    spec = MachOSpec(arch="arm64", filetype=MH_DYLIB, id_dylib=install_name,
                     dylibs=(LIBSYSTEM, *deps), build_version=(1, (11, 0, 0), (14, 0, 0)))
    return developer_id_like(spec, identifier="libfoo", **sign)  # type: ignore[arg-type]


def test_bl107_judged_by_main_executable_through_a_same_team_dylib(tmp_path: Path) -> None:
    # hardened main -> same-team dylib (no hardened runtime of its own) -> other-team dylib:
    # the process has library validation on, so the third image is refused although the
    # image that loads it has no runtime flag.
    app = make_app(tmp_path, executable=exe(DylibSpec(FOO)), files={
        "Contents/Frameworks/libfoo.dylib": lib_loading(DylibSpec(BAR), flags=0),
        "Contents/Frameworks/libbar.dylib": lib(install_name=BAR, team_id="ZZZZZ99999")})
    [finding] = by_rule(lint(app), "BL107")
    assert finding.message.startswith(
        "Contents/Frameworks/libfoo.dylib [arm64] loads @rpath/libbar.dylib → "
        "Contents/Frameworks/libbar.dylib [arm64], which is signed by Team ID ZZZZZ99999")
    assert (f"the process's main executable Contents/MacOS/app (Team ID {TEAM}, library "
            "validation on)") in finding.message
    assert finding.evidence["main_executable"] == "Contents/MacOS/app"


def test_bl107_quiet_when_main_disables_validation_for_hardened_dylibs(tmp_path: Path) -> None:
    # The main executable disables library validation; the dylibs are signed with
    # --options runtime (and another Team ID) themselves: their flags do not turn validation
    # back on in this process.
    main = exe(DylibSpec(FOO), entitlements={
        "com.apple.security.cs.disable-library-validation": True})
    app = make_app(tmp_path, executable=main, files={
        "Contents/Frameworks/libfoo.dylib": lib_loading(DylibSpec(BAR)),
        "Contents/Frameworks/libbar.dylib": lib(install_name=BAR, team_id="ZZZZZ99999")})
    assert not by_rule(lint(app), "BL107")


def test_bl107_quiet_without_a_main_executable(tmp_path: Path) -> None:
    # A lone framework: whatever process loads it decides, and that process is not here.
    fw = tmp_path / "Foo.framework"
    (fw / "Versions/A").mkdir(parents=True)
    (fw / "Versions/A/Foo").write_bytes(lib_loading(DylibSpec("@loader_path/libbar.dylib")))
    (fw / "Versions/A/libbar.dylib").write_bytes(lib(install_name=BAR, team_id="ZZZZZ99999"))
    os.symlink("A", fw / "Versions/Current")
    assert not by_rule(lint(fw), "BL107")


# --- real zig-linked binaries ---------------------------------------------------------------


@pytest.mark.toolchain
def test_real_zig_app_resolves_and_detects_wrong_arch(tmp_path: Path, zig_main_arm64: Path,
                                                      zig_dylib_arm64: Path,
                                                      zig_dylib_x86_64: Path) -> None:
    good = make_app(tmp_path / "good", executable=zig_main_arm64.read_bytes(),
                    info_overrides={"CFBundleExecutable": "app"},
                    files={"Contents/Frameworks/libfoo.dylib": zig_dylib_arm64.read_bytes()})
    deps = [d for d in linkage(open_input(good)) if d.ref.path == FOO]
    assert [(d.status, d.target.relpath if d.target else None) for d in deps] == [
        ("bundle", "Contents/Frameworks/libfoo.dylib")]
    report = lint(good)
    assert not [f for f in report.findings if f.rule_id in ("BL103", "BL104", "BL105")]
    bad = make_app(tmp_path / "bad", executable=zig_main_arm64.read_bytes(),
                   files={"Contents/Frameworks/libfoo.dylib": zig_dylib_x86_64.read_bytes()})
    [finding] = by_rule(lint(bad), "BL105")
    assert finding.message.endswith("which has only x86_64")
