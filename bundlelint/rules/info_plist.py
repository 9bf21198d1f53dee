"""BL4xx: Info.plist of the app and of nested application-like bundles."""

from __future__ import annotations

import re
from collections.abc import Iterator

from bundlelint.bundle import Bundle, Entry, EntryKind
from bundlelint.errors import FileSkipped, ParseError
from bundlelint.findings import Applicability, Finding
from bundlelint.identifiers import BUNDLE_IDENTIFIER_PATTERN
from bundlelint.layout import APP_LIKE_EXTENSIONS as APP_LIKE
from bundlelint.layout import BundleDir
from bundlelint.parsers.macho import PLATFORM_MACOS, Version
from bundlelint.rules.base import Consequence, RuleContext, RuleMeta, doc, policy, rule, source
from bundlelint.shellquote import quote

RESIGN = "then re-sign the bundle (the Info.plist is sealed by the signature)"
#: Binaries named in one finding before "and N more".
MAX_LISTED = 5


def _app_like_bundles(bundle: Bundle) -> Iterator[BundleDir]:
    """The root bundle and nested app-like bundles, each with a Contents/ directory."""
    for bd in bundle.bundle_dirs:
        if (bd.relpath == "" and not bundle.is_single_file and _root_is_bundle(bundle, bd)) or (
            bd.extension in APP_LIKE and bd.contents
        ):
            yield bd


def _root_is_bundle(bundle: Bundle, root: BundleDir) -> bool:
    """A zip input's root is the archive itself unless it holds the app (or a Contents/
    directory): an archive without one is BL705's finding, one not read BL701's or BL707's."""
    archive = bundle.archive
    if archive is None:
        return True
    return archive.inspected and (archive.app_name is not None or bool(root.contents))


def _plutil(bundle: Bundle, bd: BundleDir, key: str, value: str) -> str:
    path = bundle.shell_path(bd.child("Info.plist"))
    return f"plutil -replace {quote(key)} -string {quote(value)} {path}"


#: The evidence for what happens to a bundle without Info.plist (BL401, BL411).
_NO_EXECUTABLE = source(
    "Security",
    "bundlediskrep.cpp",
    "BundleDiskRep::setup",
    "with no Info.plist CFBundle makes an empty info dictionary up; when CFBundle then finds no "
    "executable (CF CFBundle.c _CFBundleCopyExecutableName falls back to the bundle's name "
    "without its extension) and there is no Info.plist or .dist file, the bundle 'cannot be "
    "signed': errSecCSBadBundleFormat",
)
_NOT_APP_LIKE = source(
    "Security",
    "bundlediskrep.cpp",
    "BundleDiskRep::setup",
    "a bundle whose executable CFBundle finds is signed as a 'bundle with Mach-O'; it is "
    "app-like only when the info dictionary's CFBundlePackageType is APPL, which a made-up "
    "one never has",
)


def _top_level(bundle: Bundle, bd: BundleDir) -> bool:
    """Whether ``bd`` is what Gatekeeper assesses for launch: the input's own bundle, or a
    bundle at the top of a container (disk image, package, zip of several items)."""
    if not bd.relpath:
        return True
    if bundle.root_bundle is not None:
        return False
    return not bundle.layout.owner_of(bd.relpath.rpartition("/")[0]).relpath


def _without_info_plist(bundle: Bundle) -> Iterator[tuple[BundleDir, str | None]]:
    """Each app-like bundle without an Info.plist, with the main executable CFBundle finds in
    it by the bundle's name (``None``: none)."""
    for bd in _app_like_bundles(bundle):
        if bundle.info_plist_entry(bd) is None:
            yield bd, bundle.layout.main_executable(bd)


def _info_plist_path(bundle: Bundle, bd: BundleDir) -> str:
    return bundle.display(bd.child("Info.plist")) if bd.contents else bundle.display(bd.relpath)


@rule(
    RuleMeta(
        id="BL401",
        slug="info-plist-missing",
        consequence=Consequence.GATEKEEPER_BLOCKS,
        evidence=(
            _NO_EXECUTABLE,
            _NOT_APP_LIKE,
            source(
                "Security",
                "policyengine.cpp",
                "PolicyEngine::evaluateCode",
                "an execute assessment (spctl --assess --type execute, Gatekeeper at first "
                "launch) validates the top-level code with kSecCSRestrictToAppLike; "
                "BundleDiskRep::strictValidate then throws errSecCSNotAppLike, 'the code is "
                "valid but does not seem to be an app', and the verdict is 'rejected'",
            ),
        ),
        summary="A bundle has no Contents/Info.plist",
        what=(
            "Reports the app without Contents/Info.plist (the input's own app, or an app at "
            "the top of a disk image, package or zip), and a nested .app, .appex or .xpc "
            "without one in which CFBundle finds no executable either. A nested bundle whose "
            "executable CFBundle finds by the bundle's name is BL411's (a warning)."
        ),
        why=(
            "Without an Info.plist CFBundle looks for the executable under the bundle's name "
            "(Contents/MacOS/MyApp for MyApp.app). When there is none, codesign refuses the "
            "bundle (errSecCSBadBundleFormat). When there is one, codesign signs it, but as a "
            "plain 'bundle with Mach-O': with no CFBundlePackageType APPL it is not app-like, "
            "so Gatekeeper's assessment of the app rejects it ('the code is valid but does not "
            "seem to be an app', errSecCSNotAppLike). No notary log is known to name a missing "
            "Info.plist."
        ),
        how_to_fix=(
            "Add a Contents/Info.plist with at least CFBundleExecutable, CFBundleIdentifier, "
            "CFBundlePackageType (APPL) and LSMinimumSystemVersion; then re-sign."
        ),
        fix_applicability=Applicability.DISPLAY,
    )
)
def info_plist_missing(ctx: RuleContext) -> Iterator[Finding]:
    bundle = ctx.bundle
    for bd, main in _without_info_plist(bundle):
        path = _info_plist_path(bundle, bd)
        if main is None:
            yield ctx.finding(
                path=path,
                message=f"{bd.display} has no {bd.contents}Info.plist and no executable named "
                "after the bundle: codesign refuses it (errSecCSBadBundleFormat)",
            )
        elif _top_level(bundle, bd):
            yield ctx.finding(
                path=path,
                message=f"{bd.display} has no {bd.contents}Info.plist: codesign signs it "
                f"through {bundle.display(main)}, but not as an app (no CFBundlePackageType "
                "APPL), so Gatekeeper rejects it: the code is valid but does not seem to be an "
                "app (errSecCSNotAppLike)",
                evidence={"executable": bundle.display(main)},
            )


@rule(
    RuleMeta(
        id="BL411",
        slug="nested-info-plist-missing",
        consequence=Consequence.MAY_FAIL,
        evidence=(
            _NOT_APP_LIKE,
            source(
                "Security",
                "StaticCode.cpp",
                "SecStaticCode::validateNestedCode",
                "nested code is validated without kSecCSRestrictToAppLike, so a nested bundle "
                "need not be app-like for the outer signature to verify",
            ),
            source(
                "Security",
                "bundlediskrep.cpp",
                "BundleDiskRep::recommendedIdentifier",
                "with no CFBundleIdentifier (nor CFBundleName) the signing identifier is made "
                "from the bundle's path",
            ),
        ),
        summary="A nested app, extension or XPC service has no Contents/Info.plist",
        what=(
            "Reports a nested .app, .appex or .xpc bundle without Contents/Info.plist whose "
            "executable CFBundle finds by the bundle's name (Contents/MacOS/Helper for "
            "Helper.app). Without that executable either it is BL401's."
        ),
        why=(
            "codesign signs such a bundle (through the executable named after it) and the "
            "outer app's signature verifies, so Apple's tools let it through. But it has no "
            "CFBundleIdentifier, so the signing identifier is made up from its path, and what "
            "the system looks up by the Info.plist does not find it: an XPC service is named "
            "by its bundle identifier, an app extension by its NSExtension dictionary, a "
            "helper app by its package type."
        ),
        how_to_fix=(
            "Add a Contents/Info.plist to the nested bundle with at least CFBundleExecutable, "
            "CFBundleIdentifier and CFBundlePackageType (APPL for an app, XPC! for an XPC "
            "service or extension); then sign it and re-sign the app."
        ),
        fix_applicability=Applicability.DISPLAY,
    )
)
def nested_info_plist_missing(ctx: RuleContext) -> Iterator[Finding]:
    bundle = ctx.bundle
    for bd, main in _without_info_plist(bundle):
        if main is not None and not _top_level(bundle, bd):
            yield ctx.finding(
                path=_info_plist_path(bundle, bd),
                message=f"{bd.display} has no {bd.contents}Info.plist: it is signed through "
                f"{bundle.display(main)} with no bundle identifier, so the system cannot look "
                "it up by one",
                evidence={"executable": bundle.display(main)},
            )


@rule(
    RuleMeta(
        id="BL402",
        slug="info-plist-invalid",
        consequence=Consequence.CODESIGN_REFUSES,
        evidence=(
            source(
                "Security",
                "bundlediskrep.cpp",
                "BundleDiskRep::setup",
                "CFBundle cannot read an Info.plist CoreFoundation rejects, finds no "
                "executable, and signing fails with errSecCSBadBundleFormat",
            ),
        ),
        summary="Info.plist cannot be parsed or is not a dictionary",
        what="Parses each bundle's Info.plist (XML or binary) and reports syntax errors.",
        why="macOS ignores a bundle whose Info.plist does not parse; the app will not launch.",
        how_to_fix=(
            "Fix the syntax (`plutil -lint Contents/Info.plist` shows the line) and re-sign."
        ),
        fix_command="plutil -lint {target}",
        fix_applicability=Applicability.SAFE,
    )
)
def info_plist_invalid(ctx: RuleContext) -> Iterator[Finding]:
    for bd in _app_like_bundles(ctx.bundle):
        try:
            ctx.bundle.info_plist(bd)
        except FileSkipped:
            continue  # not read at all: BL008 says so
        except ParseError as err:
            entry = ctx.bundle.info_plist_entry(bd)
            rel = entry.relpath if entry else bd.child("Info.plist")
            yield ctx.finding(
                path=ctx.bundle.display(rel),
                offset=err.offset,
                message=f"Info.plist is invalid ({err.format}): {err.reason}",
                target=ctx.bundle.shell_path(rel),
            )


@rule(
    RuleMeta(
        id="BL408",
        slug="info-plist-nonstandard-prologue",
        consequence=Consequence.ADVICE,
        evidence=(
            policy(
                "macOS reads such an Info.plist the way CoreFoundation does, so nothing fails; "
                "only strict plist readers (other tools) refuse it",
            ),
        ),
        summary="Info.plist is read by macOS but not by strict plist readers",
        what=(
            "Reports an XML Info.plist that only a CoreFoundation-style reading accepts: no "
            "`<?xml?>` declaration (a Wails-generated Info.plist starts with `<!DOCTYPE "
            "plist ...>`), or whitespace before it. The file is checked like any other."
        ),
        why=(
            "macOS reads it: CoreFoundation skips a byte-order mark, whitespace, comments and "
            "a DOCTYPE before the first element (CF, CFPropertyList.c, "
            "`parseXMLPropertyList`). Stricter readers that sniff the format from the first "
            "bytes, such as Python's plistlib, refuse it, so build and CI tools may fail on "
            "a bundle that works."
        ),
        how_to_fix=(
            "Rewrite it in the canonical form before signing (`plutil -convert xml1` adds the "
            "declaration), or fix the template that generates it."
        ),
        fix_command="plutil -convert xml1 {target}  # " + RESIGN,
        fix_applicability=Applicability.SAFE,
    )
)
def info_plist_nonstandard_prologue(ctx: RuleContext) -> Iterator[Finding]:
    for bd in _app_like_bundles(ctx.bundle):
        info = ctx.bundle.valid_info_plist(bd)
        entry = ctx.bundle.info_plist_entry(bd)
        if info is None or info.lenient is None or entry is None:
            continue
        yield ctx.finding(
            path=entry.display,
            message=f"Info.plist parses only as CoreFoundation reads it ({info.lenient}); "
            "strict XML plist readers refuse it",
            evidence={"tolerated": info.lenient},
            target=ctx.bundle.shell_path(entry.relpath),
        )


@rule(
    RuleMeta(
        id="BL403",
        slug="bundle-executable-missing",
        consequence=Consequence.CODESIGN_REFUSES,
        evidence=(
            source(
                "Security",
                "bundlediskrep.cpp",
                "BundleDiskRep::setup",
                "CFBundleCopyExecutableURL finds no file of that name, and a bundle without its "
                "main executable is errSecCSBadBundleFormat",
            ),
        ),
        summary="CFBundleExecutable is missing or names no file in Contents/MacOS",
        what=(
            "CFBundleExecutable must be set and must name a file in Contents/MacOS. A name that "
            "matches a file only when case is ignored is BL409's (a warning), not this rule's. "
            "Without the key, CFBundle takes the executable named after the bundle "
            "(Contents/MacOS/MyApp for MyApp.app, CF CFBundle.c _CFBundleCopyExecutableName), "
            "so only a bundle without that file is reported."
        ),
        why=(
            "CFBundle looks the executable up by this name; when no file answers, codesign "
            "finds no main executable and refuses the bundle (errSecCSBadBundleFormat), and "
            "LaunchServices cannot launch it."
        ),
        how_to_fix="Make CFBundleExecutable equal the executable's file name exactly; re-sign.",
        fix_applicability=Applicability.UNSAFE,
    )
)
def bundle_executable_missing(ctx: RuleContext) -> Iterator[Finding]:
    bundle = ctx.bundle
    for bd in _app_like_bundles(bundle):
        info = bundle.valid_info_plist(bd)
        if info is None:
            continue
        plist_path = bundle.display(bd.child("Info.plist"))
        name = info.executable
        macos_dir = bd.child("MacOS")
        candidates = _macos_files(bundle, macos_dir)
        if not name:
            if bundle.layout.main_executable(bd) is not None:
                continue  # CFBundle takes the executable named after the bundle: codesign signs
            suggestion = candidates[0].name if len(candidates) == 1 else "EXECUTABLE_NAME"
            yield ctx.finding(
                path=plist_path,
                message="CFBundleExecutable is missing (or not a string)",
                command=_plutil(bundle, bd, "CFBundleExecutable", suggestion),
            )
            continue
        if bundle.entry(f"{macos_dir}/{name}") is not None:
            continue
        if _case_only_match(candidates, name) is not None:
            continue  # BL409
        if len(candidates) == 1:  # one other file there: point the key at it
            yield ctx.finding(
                path=plist_path,
                message=f"CFBundleExecutable is {name!r} but {bd.contents}MacOS/ holds "
                f"{candidates[0].name}",
                command=_plutil(bundle, bd, "CFBundleExecutable", candidates[0].name),
                evidence={"CFBundleExecutable": name},
            )
        else:  # the key may well be right: it is the executable that is missing
            present = ", ".join(e.name for e in candidates) or "nothing"
            yield ctx.finding(
                path=plist_path,
                message=f"CFBundleExecutable is {name!r} but {bd.contents}MacOS/ holds "
                f"{present}: the executable is missing",
                fix_text=f"Build or copy the executable to {bd.contents}MacOS/{name} (or set "
                "CFBundleExecutable to the name of the one that is there); then re-sign.",
                evidence={"CFBundleExecutable": name},
            )


def _macos_files(bundle: Bundle, macos_dir: str) -> list[Entry]:
    """What CFBundleExecutable may name: the entries of Contents/MacOS that are not
    directories (BL403 and BL409 both judge the key against this list)."""
    return [e for e in bundle.children(macos_dir) if e.kind is not EntryKind.DIRECTORY]


def _case_only_match(candidates: list[Entry], name: str) -> Entry | None:
    """The file whose name equals ``name`` only when case is ignored (there is no exact one)."""
    return next((e for e in candidates if e.name.casefold() == name.casefold()), None)


@rule(
    RuleMeta(
        id="BL409",
        slug="bundle-executable-case-mismatch",
        consequence=Consequence.MAY_FAIL,
        evidence=(
            doc(
                "https://support.apple.com/guide/disk-utility/"
                "file-system-formats-available-in-disk-utility-dsku19ed921c/mac",
                "Disk Utility offers APFS and APFS (Case-sensitive) as separate formats: a "
                "volume distinguishes case only when formatted with the case-sensitive one",
            ),
        ),
        summary="CFBundleExecutable matches the executable's name only when case is ignored",
        what=(
            "Reports a CFBundleExecutable that names no file in Contents/MacOS exactly but "
            "matches one when case is ignored (`MyApp` against `myapp`)."
        ),
        why=(
            "On the default, case-insensitive APFS volume the lookup finds the file, so the app "
            "signs, notarizes and launches; on a case-sensitive volume (a choice when a volume "
            "is formatted) it finds nothing and the app does not launch. It may fail, so this "
            "is a warning."
        ),
        how_to_fix="Make CFBundleExecutable equal the executable's file name exactly; re-sign.",
        fix_applicability=Applicability.UNSAFE,
    )
)
def bundle_executable_case_mismatch(ctx: RuleContext) -> Iterator[Finding]:
    bundle = ctx.bundle
    for bd in _app_like_bundles(bundle):
        info = bundle.valid_info_plist(bd)
        if info is None or not info.executable:
            continue
        name = info.executable
        macos_dir = bd.child("MacOS")
        if bundle.entry(f"{macos_dir}/{name}") is not None:
            continue
        match = _case_only_match(_macos_files(bundle, macos_dir), name)
        if match is None:
            continue
        yield ctx.finding(
            path=bundle.display(bd.child("Info.plist")),
            message=f"CFBundleExecutable is {name!r} but the file is {match.name!r}: the names "
            "differ only in case, which works on a case-insensitive volume (the default) and "
            "fails on a case-sensitive one",
            command=_plutil(bundle, bd, "CFBundleExecutable", match.name),
            evidence={"CFBundleExecutable": name, "file": match.name},
        )


@rule(
    RuleMeta(
        id="BL404",
        slug="bundle-executable-invalid",
        consequence=Consequence.CANNOT_START,
        evidence=(
            doc(
                "https://developer.apple.com/documentation/bundleresources/information-property-list/cfbundleexecutable",
                "CFBundleExecutable names the executable that launches the bundle",
            ),
        ),
        summary="The bundle's executable is not a Mach-O file or lacks the execute bit",
        what=(
            "The file CFBundleExecutable names must be a Mach-O executable with its execute "
            "permission set."
        ),
        why=(
            "A missing execute bit (common after zipping without ditto or copying through "
            "Windows) or a script in its place makes the app fail to launch, and codesign signs "
            "a script only as data."
        ),
        how_to_fix="Put the built Mach-O executable there and `chmod +x` it; then re-sign.",
        fix_command="chmod +x {target}",
        fix_applicability=Applicability.SAFE,
    )
)
def bundle_executable_invalid(ctx: RuleContext) -> Iterator[Finding]:
    bundle = ctx.bundle
    for bd in _app_like_bundles(bundle):
        info = bundle.valid_info_plist(bd)
        if info is None or not info.executable:
            continue
        main = bundle.layout.main_executable(bd)
        entry = bundle.entry(main) if main is not None else None
        if entry is None:
            continue
        target = bundle.shell_path(entry.relpath)
        if entry.kind is not EntryKind.MACHO:
            yield ctx.finding(
                path=entry.display,
                message=f"the bundle executable is not a Mach-O file (it is {entry.kind.value})",
                command=f"file {target}",
            )
        elif not entry.mode & 0o111:
            yield ctx.finding(
                path=entry.display,
                message=f"the bundle executable lacks the execute bit (mode "
                f"{entry.mode & 0o7777:o})",
                target=target,
            )


@rule(
    RuleMeta(
        id="BL405",
        slug="bundle-identifier-invalid",
        consequence=Consequence.MAY_FAIL,
        evidence=(
            doc(
                "https://developer.apple.com/documentation/bundleresources/information-property-list/cfbundleidentifier",
                "the identifier may contain only alphanumerics (A-Z, a-z, 0-9), hyphens and "
                "periods; nothing in Apple's open-source signing code rejects other characters",
            ),
        ),
        summary="CFBundleIdentifier is missing or has characters outside A-Z a-z 0-9 . -",
        what=(
            "CFBundleIdentifier must be present and use only letters, digits, hyphens and "
            "periods (reverse-DNS form)."
        ),
        why=(
            "The identifier becomes the signing identifier and the key for TCC permissions, "
            "preferences and notarization tickets. Apple documents only letters, digits, "
            "hyphens and periods; nothing in Apple's signing code rejects other characters, but "
            "App Store tooling does and other tools may, so this is a warning."
        ),
        how_to_fix="Use a reverse-DNS identifier such as com.example.myapp; then re-sign.",
    )
)
def bundle_identifier_invalid(ctx: RuleContext) -> Iterator[Finding]:
    bundle = ctx.bundle
    for bd in _app_like_bundles(bundle):
        info = bundle.valid_info_plist(bd)
        if info is None:
            continue
        plist_path = bundle.display(bd.child("Info.plist"))
        ident = info.identifier
        if not ident:
            yield ctx.finding(
                path=plist_path,
                message="CFBundleIdentifier is missing (or not a string)",
                command=_plutil(bundle, bd, "CFBundleIdentifier", "com.example.app"),
            )
        elif not BUNDLE_IDENTIFIER_PATTERN.fullmatch(ident):
            bad = sorted({c for c in ident if not re.match(r"[A-Za-z0-9.\-]", c)})
            fixed = re.sub(r"[^A-Za-z0-9.\-]", "-", ident)
            yield ctx.finding(
                path=plist_path,
                message=f"CFBundleIdentifier {ident!r} contains {''.join(bad)!r}; only "
                "A-Z a-z 0-9 . - are allowed",
                command=_plutil(bundle, bd, "CFBundleIdentifier", fixed),
                evidence={"CFBundleIdentifier": ident},
            )


@rule(
    RuleMeta(
        id="BL406",
        slug="package-type-not-appl",
        consequence=Consequence.MAY_FAIL,
        evidence=(
            doc(
                "https://developer.apple.com/documentation/bundleresources/information-property-list/cfbundlepackagetype",
                "APPL identifies the bundle as an app to LaunchServices",
            ),
        ),
        summary="An .app's CFBundlePackageType is not APPL",
        what="An .app bundle's Info.plist should set CFBundlePackageType to APPL.",
        why=(
            "LaunchServices uses the package type to decide that the bundle is an application; "
            "a missing or different value can make Finder treat it as a folder or document."
        ),
        how_to_fix="Set CFBundlePackageType to APPL; then re-sign.",
        fix_applicability=Applicability.SAFE,
    )
)
def package_type_not_appl(ctx: RuleContext) -> Iterator[Finding]:
    bundle = ctx.bundle
    for bd in _app_like_bundles(bundle):
        if not bd.is_app:
            continue
        info = bundle.valid_info_plist(bd)
        if info is None:
            continue
        value = info.package_type
        if value != "APPL":
            yield ctx.finding(
                path=bundle.display(bd.child("Info.plist")),
                message="CFBundlePackageType is missing" if value is None
                else f"CFBundlePackageType is {value!r}, expected 'APPL'",
                command=_plutil(bundle, bd, "CFBundlePackageType", "APPL"),
            )


@rule(
    RuleMeta(
        id="BL407",
        slug="minimum-system-version-too-low",
        consequence=Consequence.MAY_FAIL,
        evidence=(
            source(
                "dyld",
                "dyld/Loader.cpp",
                "Loader::resolveSymbol / Loader::tooNewErrorAddendum",
                "dyld has no minimum-OS gate: a binary built for a newer macOS starts and fails "
                "only on a missing symbol ('Symbol not found')",
            ),
            policy(
                "a notarized, stapled Developer ID app with binary minos 26.0 and "
                "LSMinimumSystemVersion 14.0 was accepted by Apple, so this is not a notary or "
                "Gatekeeper error",
            ),
        ),
        summary="LSMinimumSystemVersion is lower than the minimum OS a binary in the bundle needs",
        what=(
            "Compares the bundle's LSMinimumSystemVersion with the minimum macOS version (minos) "
            "of every Mach-O slice inside the bundle, and reports once per bundle, at its "
            "Info.plist, every binary and architecture that needs more."
        ),
        why=(
            "macOS offers to launch the app on any version from LSMinimumSystemVersion on. dyld "
            "has no minimum-OS gate: a binary built for a newer minimum starts there and fails "
            "only if it calls something the older OS lacks ('Symbol not found'). Neither the "
            "notary nor Gatekeeper checks this (a notarized app ships binaries with minos 26.0 "
            "and LSMinimumSystemVersion 14.0), so it is a warning. Go writes its own minimum "
            "(11.0 or later) regardless of what Info.plist says."
        ),
        how_to_fix=(
            "Raise LSMinimumSystemVersion to the highest minos in the bundle (or build the "
            f"binaries for the older target); {RESIGN}."
        ),
        fix_applicability=Applicability.UNSAFE,
    )
)
def minimum_system_version_too_low(ctx: RuleContext) -> Iterator[Finding]:
    bundle = ctx.bundle
    for bd in _app_like_bundles(bundle):
        info = bundle.valid_info_plist(bd)
        if info is None or info.minimum_system_version is None:
            continue
        declared_text = info.minimum_system_version
        declared = Version.parse(declared_text)
        plist_path = bundle.display(bd.child("Info.plist"))
        if declared is None:
            yield ctx.finding(
                path=plist_path,
                message=f"LSMinimumSystemVersion {declared_text!r} is not a version number",
            )
            continue
        prefix = f"{bd.relpath}/" if bd.relpath else ""
        # One finding per bundle (one cause: the declared minimum), naming every binary and
        # architecture that needs more, highest first.
        needs: dict[str, tuple[Version, str, list[str]]] = {}
        for entry, macho in bundle.machos():
            if not entry.relpath.startswith(prefix):
                continue
            for sl in macho.slices:
                bv = sl.macos_build_version
                if bv is None or bv.platform != PLATFORM_MACOS or bv.minos <= declared:
                    continue
                minos, command, archs = needs.get(entry.relpath, (bv.minos, bv.command, []))
                archs.append(sl.arch)
                needs[entry.relpath] = (max(minos, bv.minos), command, archs)
        if not needs:
            continue
        ordered = sorted(needs.items(), key=lambda kv: (-kv[1][0].packed, kv[0]))
        highest, command, _ = ordered[0][1]
        shown = ", ".join(f"{rel[len(prefix):]} [{', '.join(archs)}] {minos}"
                          for rel, (minos, _cmd, archs) in ordered[:MAX_LISTED])
        if len(ordered) > MAX_LISTED:
            shown += f" and {len(ordered) - MAX_LISTED} more"
        yield ctx.finding(
            path=plist_path,
            message=f"{bd.display} declares LSMinimumSystemVersion {declared_text} but its "
            f"binaries require macOS {highest} ({command} minos): {shown}",
            command=_plutil(bundle, bd, "LSMinimumSystemVersion", str(highest))
            + f"  # {RESIGN}",
            evidence={"minos": highest, "LSMinimumSystemVersion": declared_text,
                      "binaries": len(ordered)},
        )

