"""BL4xx rules over Info.plist, each with a firing and a quiet bundle."""

from __future__ import annotations

import plistlib
from pathlib import Path

import pytest
from appbuilder import DEFAULT_INFO, developer_id_like, make_app, sealed_app, universal
from lintutil import REGISTRY, by_rule, lint

from bundlelint.rules.base import Consequence
from fixtures.macho_builder import MachOSpec


def test_default_app_is_clean(tmp_path: Path) -> None:
    assert lint(sealed_app(tmp_path)).findings == ()


def test_bl401_missing_info_plist(tmp_path: Path) -> None:
    # CFBundle looks for Contents/MacOS/Sample (the bundle's name): MacOS/app is not found, so
    # codesign has no executable and refuses the bundle (BundleDiskRep::setup).
    [finding] = by_rule(lint(make_app(tmp_path, write_info=False)), "BL401")
    assert finding.location.path == "Sample.app/Contents/Info.plist"
    assert "codesign refuses it (errSecCSBadBundleFormat)" in finding.message


def test_bl401_executable_named_after_the_app_is_signed_but_not_an_app(tmp_path: Path) -> None:
    # codesign signs it through CFBundle's name fallback, as a plain 'bundle with Mach-O': no
    # CFBundlePackageType APPL, so Gatekeeper's execute assessment says errSecCSNotAppLike.
    report = lint(make_app(tmp_path, write_info=False, exe_name="Sample"))
    [finding] = by_rule(report, "BL401")
    assert finding.location.path == "Sample.app/Contents/Info.plist"
    assert "codesign signs it through Sample.app/Contents/MacOS/Sample" in finding.message
    assert "does not seem to be an app (errSecCSNotAppLike)" in finding.message
    assert finding.severity.value == "error"
    rule = REGISTRY.get("BL401")
    assert rule is not None and rule.meta.consequence is Consequence.GATEKEEPER_BLOCKS
    assert not by_rule(report, "BL411")


def test_bl411_nested_bundle_signed_by_its_name_is_a_warning(tmp_path: Path) -> None:
    # Nested code is validated without kSecCSRestrictToAppLike (validateNestedCode): Apple's
    # tools let it through, so this is no error.
    app = make_app(tmp_path, files={
        "Contents/Helpers/Helper.app/Contents/MacOS/Helper": developer_id_like(),
    })
    report = lint(app)
    assert not by_rule(report, "BL401")
    [finding] = by_rule(report, "BL411")
    assert finding.location.path == "Sample.app/Contents/Helpers/Helper.app/Contents/Info.plist"
    assert finding.severity.value == "warning"
    assert "Helper.app/Contents/MacOS/Helper" in finding.message


def test_bl401_fires_for_nested_app_too(tmp_path: Path) -> None:
    app = make_app(tmp_path, files={
        "Contents/Helpers/Helper.app/Contents/MacOS/helper": developer_id_like(),
    })
    report = lint(app)
    [finding] = by_rule(report, "BL401")
    assert finding.location.path == "Sample.app/Contents/Helpers/Helper.app/Contents/Info.plist"
    assert "codesign refuses it" in finding.message
    assert not by_rule(report, "BL411")


@pytest.mark.parametrize("data", [b"<?xml version='1.0'?><plist><dict><key>a</key>",
                                  b"bplist00garbage", plistlib.dumps(["not", "a", "dict"])])
def test_bl402_invalid_info_plist(tmp_path: Path, data: bytes) -> None:
    report = lint(make_app(tmp_path, info=data))
    [finding] = by_rule(report, "BL402")
    assert finding.location.path == "Sample.app/Contents/Info.plist"
    assert not by_rule(report, "BL401")


def test_bl402_quiet_on_binary_plist(tmp_path: Path) -> None:
    from appbuilder import DEFAULT_INFO

    data = plistlib.dumps(DEFAULT_INFO, fmt=plistlib.FMT_BINARY)
    assert lint(sealed_app(tmp_path, info=data)).findings == ()


def test_bl403_key_missing(tmp_path: Path) -> None:
    report = lint(make_app(tmp_path, drop_info_keys=("CFBundleExecutable",)))
    [finding] = by_rule(report, "BL403")
    assert "missing" in finding.message
    assert finding.fix is not None and finding.fix.command is not None
    assert "plutil -replace CFBundleExecutable -string app" in finding.fix.command


def test_bl403_key_missing_but_executable_named_after_the_bundle(tmp_path: Path) -> None:
    # CFBundle falls back to the bundle's name (_CFBundleCopyExecutableName): codesign signs it.
    report = lint(make_app(tmp_path, exe_name="Sample", drop_info_keys=("CFBundleExecutable",)))
    assert not by_rule(report, "BL403")
    assert not [f for f in report.findings if f.severity.value == "error"
                and f.rule_id.startswith("BL4")]


def test_bl403_names_no_file(tmp_path: Path) -> None:
    report = lint(make_app(tmp_path, info_overrides={"CFBundleExecutable": "other"}))
    [finding] = by_rule(report, "BL403")
    assert finding.message == "CFBundleExecutable is 'other' but Contents/MacOS/ holds app"


def test_bl409_case_only_mismatch_is_a_warning_of_its_own(tmp_path: Path) -> None:
    # Works on the default case-insensitive APFS; fails only on a case-sensitive volume.
    report = lint(make_app(tmp_path, exe_name="App"))
    assert not by_rule(report, "BL403")
    [finding] = by_rule(report, "BL409")
    assert finding.severity.value == "warning"
    assert "differ only in case" in finding.message
    assert finding.evidence == {"CFBundleExecutable": "app", "file": "App"}
    assert finding.fix is not None
    assert "plutil -replace CFBundleExecutable -string App" in (finding.fix.command or "")
    assert not by_rule(lint(make_app(tmp_path / "exact")), "BL409")


def test_bl404_not_macho(tmp_path: Path) -> None:
    report = lint(make_app(tmp_path, executable=b"#!/bin/sh\nexec python3 app.py\n"))
    [finding] = by_rule(report, "BL404")
    assert "not a Mach-O" in finding.message


def test_bl404_no_execute_bit(tmp_path: Path) -> None:
    report = lint(make_app(tmp_path, exe_mode=0o644))
    [finding] = by_rule(report, "BL404")
    assert "execute bit" in finding.message and "644" in finding.message
    assert finding.fix is not None and finding.fix.command is not None
    assert finding.fix.command.startswith("chmod +x ")


@pytest.mark.parametrize(("value", "bad"), [("com.example.my_app", "_"),
                                            ("com.example.my app", " ")])
def test_bl405_invalid_identifier(tmp_path: Path, value: str, bad: str) -> None:
    report = lint(make_app(tmp_path, info_overrides={"CFBundleIdentifier": value}))
    [finding] = by_rule(report, "BL405")
    assert repr(bad) in finding.message


def test_bl405_missing_identifier(tmp_path: Path) -> None:
    report = lint(make_app(tmp_path, drop_info_keys=("CFBundleIdentifier",)))
    assert "missing" in by_rule(report, "BL405")[0].message


def test_bl405_quiet_on_hyphens(tmp_path: Path) -> None:
    report = lint(make_app(tmp_path, info_overrides={"CFBundleIdentifier": "com.ex-ample.a1"}))
    assert not by_rule(report, "BL405")


def test_bl406_package_type(tmp_path: Path) -> None:
    report = lint(make_app(tmp_path, info_overrides={"CFBundlePackageType": "FMWK"}))
    [finding] = by_rule(report, "BL406")
    assert finding.severity.value == "warning"
    assert "'FMWK'" in finding.message


def test_bl407_minimum_system_version_below_minos(tmp_path: Path) -> None:
    exe = universal(developer_id_like(MachOSpec(arch="x86_64", build_version=(1, (10, 13, 0),
                                                                              (14, 0, 0)))),
                    developer_id_like(MachOSpec(arch="arm64", build_version=(1, (11, 0, 0),
                                                                             (14, 0, 0)))))
    report = lint(make_app(tmp_path, executable=exe,
                           info_overrides={"LSMinimumSystemVersion": "10.13"}))
    [finding] = by_rule(report, "BL407")
    assert finding.location.path == "Sample.app/Contents/Info.plist"
    assert finding.message == (
        "Sample.app declares LSMinimumSystemVersion 10.13 but its binaries require macOS 11.0 "
        "(LC_BUILD_VERSION minos): Contents/MacOS/app [arm64] 11.0")
    assert finding.severity.value == "warning"  # dyld has no minimum-OS gate (issue 11)


def test_bl407_one_finding_per_bundle_for_every_binary_and_slice(tmp_path: Path) -> None:
    def slice_(arch: str, minos: tuple[int, int, int]) -> bytes:
        return developer_id_like(MachOSpec(arch=arch, build_version=(1, minos, (14, 0, 0))))

    exe = universal(slice_("x86_64", (12, 0, 0)), slice_("arm64", (12, 0, 0)))
    report = lint(make_app(tmp_path, executable=exe, files={
        "Contents/Frameworks/libnew.dylib": slice_("arm64", (14, 0, 0)),
        "Contents/Frameworks/libold.dylib": slice_("arm64", (10, 15, 0))}))
    [finding] = by_rule(report, "BL407")
    assert finding.message == (
        "Sample.app declares LSMinimumSystemVersion 11.0 but its binaries require macOS 14.0 "
        "(LC_BUILD_VERSION minos): Contents/Frameworks/libnew.dylib [arm64] 14.0, "
        "Contents/MacOS/app [x86_64, arm64] 12.0")
    assert finding.fix is not None and finding.fix.command is not None
    assert "-string 14.0 " in finding.fix.command


def test_bl407_quiet_when_equal(tmp_path: Path) -> None:
    report = lint(make_app(tmp_path, info_overrides={"LSMinimumSystemVersion": "11.0"}))
    assert not by_rule(report, "BL407")


def test_bl407_unparseable_version(tmp_path: Path) -> None:
    report = lint(make_app(tmp_path, info_overrides={"LSMinimumSystemVersion": "eleven"}))
    [finding] = by_rule(report, "BL407")
    assert "not a version number" in finding.message


#: An Info.plist as `wails build` writes it for macOS: Wails v2's template
#: (wailsapp/wails, v2/pkg/buildassets/build/darwin/Info.plist) starts with the DOCTYPE and has
#: no <?xml?> declaration. macOS reads it; plistlib's format sniffing does not.
WAILS_INFO = b"""<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
    <dict>
        <key>CFBundlePackageType</key>
        <string>APPL</string>
        <key>CFBundleName</key>
        <string>App</string>
        <key>CFBundleExecutable</key>
        <string>app</string>
        <key>CFBundleIdentifier</key>
        <string>com.example.app</string>
        <key>CFBundleVersion</key>
        <string>1.0.0</string>
        <key>CFBundleGetInfoString</key>
        <string>Built using Wails (https://wails.io)</string>
        <key>CFBundleShortVersionString</key>
        <string>1.0.0</string>
        <key>CFBundleIconFile</key>
        <string>iconfile</string>
        <key>LSMinimumSystemVersion</key>
        <string>10.13.0</string>
        <key>NSHighResolutionCapable</key>
        <string>true</string>
        <key>NSHumanReadableCopyright</key>
        <string>Copyright.........</string>
    </dict>
</plist>
"""


def test_wails_info_plist_parses_with_a_note(tmp_path: Path) -> None:
    with pytest.raises(plistlib.InvalidFileException):
        plistlib.loads(WAILS_INFO)  # the strict sniffing this reader must not copy
    report = lint(sealed_app(tmp_path, info=WAILS_INFO))
    assert not by_rule(report, "BL402") and not by_rule(report, "BL403")
    [note] = by_rule(report, "BL408")
    assert note.severity.value == "info"
    assert note.location.path == "Sample.app/Contents/Info.plist"
    assert "no <?xml?> declaration before '<!DOCTYPE'" in note.message
    assert note.fix is not None and note.fix.command is not None
    assert note.fix.command.startswith("plutil -convert xml1 ")
    # Otherwise read like any Info.plist: the template's LSMinimumSystemVersion 10.13.0 is
    # below the executable's minos (11.0), which BL407 reports as for any other plist.
    assert {f.rule_id for f in report.findings} == {"BL407", "BL408"}


@pytest.mark.parametrize(("prefix", "says"), [
    (b"\xef\xbb\xbf  \n", "leading whitespace"),
    (b"\n\n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", "leading whitespace"),
    (b"<!-- generated -->\n", "no <?xml?> declaration before '<!-- gene'"),
])
def test_info_plist_read_as_corefoundation_reads_it(tmp_path: Path, prefix: bytes,
                                                     says: str) -> None:
    data = prefix + plistlib.dumps(DEFAULT_INFO).split(b"\n", 1)[1]  # the declaration is in prefix
    report = lint(make_app(tmp_path, info=data))
    assert not by_rule(report, "BL402")
    [note] = by_rule(report, "BL408")
    assert says in note.message


def test_standard_info_plist_with_bom_needs_no_note(tmp_path: Path) -> None:
    # plistlib itself accepts a byte-order mark before <?xml: nothing to say.
    report = lint(make_app(tmp_path, info=b"\xef\xbb\xbf" + plistlib.dumps(DEFAULT_INFO)))
    assert not by_rule(report, "BL402") and not by_rule(report, "BL408")


def test_garbage_is_still_invalid_after_the_lenient_reading(tmp_path: Path) -> None:
    [finding] = by_rule(lint(make_app(tmp_path, info=b"<!DOCTYPE plist>\n<plist><dict><key>")),
                        "BL402")
    assert finding.message.startswith("Info.plist is invalid (xml plist): ")
