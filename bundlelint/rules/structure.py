"""BL010-BL020: bundle structure as codesign, Gatekeeper and dyld see it.

Each rule names the Apple error it prevents. The geometry (content base, nested-code places,
versioned frameworks) comes from the bundle model; the rules only compare it with what
Security's ``BundleDiskRep`` and ``ResourceBuilder`` accept:

* the root of a bundle with ``Contents/`` holds nothing else (``errSecCSUnsealedAppRoot``);
* a versioned framework's root holds only ``Versions`` and symlinks into the current version
  (``BundleDiskRep::validateFrameworkRoot``, ``errSecCSUnsealedFrameworkRoot``); links turned
  into copies are one finding per framework (BL012), whatever else they break;
* everything codesign signs as nested code is code (``SecCodeSigner::Signer::signNested``);
* load commands do not point at the build machine (Gatekeeper's "dangling load commands");
* entitlements sit only on main executables.

One cause, one finding: a framework whose links became copies is BL012's alone (the copies are
skipped by the other rules and by the Mach-O rules, see ``Bundle.framework_copies``); a
directory codesign takes for a nested bundle is BL014's, and the files inside it are not judged
again by BL016.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from bundlelint.analysis.linkage import (
    is_system_path,
    library_validation,
    main_executable_for,
    process_slice,
)
from bundlelint.bundle import Bundle, Entry, EntryKind
from bundlelint.findings import Applicability, Finding
from bundlelint.inputs.zip import ZipReport, resolve_in_archive
from bundlelint.layout import (
    APP_LIKE_EXTENSIONS,
    BASE_NAMES_NOT_NESTED,
    BundleDir,
    BundleFormat,
    Place,
    bundle_format,
    code_location_of,
    resource_base,
    sealed_as_nested_bundle,
)
from bundlelint.layout.bundles import suffix
from bundlelint.parsers.macho import MH_BUNDLE, MH_DYLIB, MH_EXECUTE, MachOFile
from bundlelint.rules import _evidence as E
from bundlelint.rules._commands import codesign_command, ditto_command
from bundlelint.rules.base import Consequence, RuleContext, RuleMeta, doc, rule, source
from bundlelint.shellquote import quote, quote_path

PLACING_CONTENT = "https://developer.apple.com/documentation/bundleresources/placing-content-in-a-bundle"
DANGLING_LOAD_COMMANDS = "https://developer.apple.com/forums/thread/706414"
DISTRIBUTION_SIGNED = (
    "https://developer.apple.com/documentation/xcode/creating-distribution-signed-code-for-the-mac"
)
FRAMEWORK_ANATOMY = ("https://developer.apple.com/library/archive/documentation/MacOSX/"
                     "Conceptual/BPFrameworks/Concepts/FrameworkAnatomy.html")
PLACING_CONTENT_DOC = doc(
    PLACING_CONTENT,
    "'If you put content in the wrong location, you may encounter hard-to-debug code signing "
    "and distribution problems'; code goes in the code locations (Contents/MacOS, Frameworks, "
    "PlugIns, Helpers, XPCServices, Library/...), everything else in Contents/Resources",
)
STRICT_IS_NOTARY = E.MODIFIED_AFTER_SIGNING
GATEKEEPER_STRUCTURE = source(
    "Security", "policyengine.cpp", "PolicyEngine::evaluateCode",
    "errSecCSUnsealedAppRoot, errSecCSUnsealedFrameworkRoot, errSecCSAmbiguousBundleFormat and "
    "errSecCSBadFrameworkVersion from strict validation reject the code unless Apple "
    "allow-lists it",
)
REPACK = (
    "Copy and archive bundles with tools that keep symlinks: `ditto` (`ditto -c -k "
    "--keepParent MyApp.app MyApp.zip` for the notary), `zip -y -r`, `tar`, BSD `cp -R` or "
    "GNU `cp -a` (not `cp -r`, which copies what a link points at). GitHub's "
    "actions/upload-artifact does not keep symlinks: upload a tarball (`tar -czf app.tgz "
    "MyApp.app`) or a ditto zip instead of the .app folder."
)
#: Files a bundle with Contents/ may hold beside it (Security, bundlediskrep.cpp,
#: ``BundleDiskRep::setup``: the DirValidator's allow rule; regular, not executable).
APP_ROOT_ALLOWED = frozenset((".LSOverride", ".DS_Store", "Icon\r", ".SoftwareDepot.tracking"))
#: ``Versions/Current``'s target must be one version name (validateFrameworkRoot's pattern).
CURRENT_TARGET = re.compile(r"^(\./)?(\.\.[^/]+|\.?[^\./][^/]*)$")
#: Mach-O file types that run or are loaded, and so need a signature of their own.
LOADABLE = frozenset((MH_EXECUTE, MH_DYLIB, MH_BUNDLE))
#: Examples named in a finding that summarises many entries.
MAX_EXAMPLES = 4


def _examples(names: list[str]) -> str:
    shown = ", ".join(names[:MAX_EXAMPLES])
    more = len(names) - MAX_EXAMPLES
    return f"{shown} and {more} more" if more > 0 else shown


def _root_is_bundle(bundle: Bundle) -> bool:
    """Whether the input's root is a bundle: not a single file or a container (a disk image,
    a package), and not a zip without a single app (BL705's)."""
    if bundle.root_bundle is None:
        return False
    archive = bundle.archive
    return archive is None or (archive.inspected and archive.app_name is not None)


def _judged_bundles(bundle: Bundle) -> Iterator[BundleDir]:
    """The bundles codesign signs and validates as bundles: the input itself, those in
    nested-code places (signed as nested code), and any other whose main executable is
    Mach-O (signed on its own). A resource bundle of data in Resources is only files to the
    seal, and its shape is nobody's business."""
    root_ok = _root_is_bundle(bundle)
    sites = {e.relpath for e in _nested_bundle_sites(bundle)}
    for bd in bundle.bundle_dirs:
        if bundle.in_framework_copy(bd.relpath):
            continue
        if bd.relpath == "":
            if root_ok:
                yield bd
        elif bd.relpath in sites or _has_macho_executable(bundle, bd):
            yield bd


def _has_macho_executable(bundle: Bundle, bd: BundleDir) -> bool:
    main = bundle.layout.main_executable(bd)
    entry = bundle.entry(main) if main is not None else None
    return entry is not None and entry.kind is EntryKind.MACHO


def _children(bundle: Bundle, directory: str) -> list[Entry]:
    return bundle.children(directory)


def _prefix(bd: BundleDir) -> str:
    return f"{bd.relpath}/" if bd.relpath else ""


def _is_appledouble_of_zip(bundle: Bundle, name: str) -> bool:
    """A ``._`` entry of a zip input: BL703 judges those by their content."""
    return bundle.archive is not None and name.startswith("._")


# --- versioned frameworks ------------------------------------------------------------------


@dataclass(frozen=True)
class _Versioned:
    """A bundle with ``Versions/`` and no ``Contents/`` (a versioned framework, as CFBundle and
    codesign see it), with what its ``Versions/Current`` says."""

    bd: BundleDir
    prefix: str
    current: Entry | None  # the Versions/Current entry, whatever it is
    version: str | None  # the version directory Current names (or the real one of a copy)


def _versioned(bundle: Bundle, bd: BundleDir) -> _Versioned | None:
    """``bd`` as a versioned bundle, judged in the version directory the layout descends into
    (the one Versions/Current names; ``A`` or the only version when Current is a copy, a
    file or missing, so a flattened framework is judged once, through its real files)."""
    if bd.format is not BundleFormat.VERSIONED:
        return None
    prefix = bd.prefix
    current = bundle.entry(prefix + "Versions/Current")
    base = bundle.content_base(bd)
    version = base[len(prefix) + len("Versions/"):-1] if base.startswith(
        prefix + "Versions/") else None
    if current is not None and current.kind is EntryKind.SYMLINK:
        target = (current.symlink_target or "").removeprefix("./")
        if target != version:
            version = None  # Current names no version directory: BL011 says so
    return _Versioned(bd, prefix, current, version)


def _framework_texts(bundle: Bundle) -> dict[str, str]:
    """Input-relative paths of files that hold a symlink's text (a zip that stored each link
    as a small file), with that text."""
    report = bundle.archive
    if report is None:
        return {}
    app = f"{report.app_name}/" if report.app_name else ""
    return bundle.memo("structure", "link-texts", lambda: {
        name[len(app):]: text for name, text in _flattened_link_texts(report).items()
        if name.startswith(app)})


def _through_links(path: str | None, links: dict[str, str]) -> str | None:
    """``path`` with linked directory components replaced by their targets
    (Foo.framework/Versions/Current -> A), a bounded number of times; ``None`` if it leaves the
    archive or loops."""
    for _ in range(40):  # the kernel's MAXSYMLINKS
        if path is None:
            return None
        parts = path.split("/")
        for i in range(1, len(parts)):  # directory components only: the last is the file
            prefix = "/".join(parts[:i])
            if prefix in links:
                rest = "/".join(parts[i:])
                path = f"{links[prefix]}/{rest}" if rest else links[prefix]
                break
        else:
            return path
    return None


def _flattened_link_texts(report: ZipReport) -> dict[str, str]:
    """Zip members (by name) that are small regular files holding the relative path of
    another entry of the archive: symlinks a tool stored as their target's text."""
    names = {m.name.rstrip("/") for m in report.members}
    names |= {"/".join(m.parts[:i]) for m in report.members for i in range(1, len(m.parts))}
    links = {}  # member name -> what it points at, for real and flattened links alike
    for m in report.members:
        text = m.symlink_target if m.is_symlink else m.link_like_text
        target = resolve_in_archive(m.name, text) if text is not None else None
        if target is not None:
            links[m.name.rstrip("/")] = target
    out = {}
    for member in report.members:
        text = member.link_like_text
        if text is None:
            continue
        target = _through_links(links.get(member.name.rstrip("/")), links)
        if target is not None and target in names:
            out[member.name.rstrip("/")] = text
    return out


@dataclass(frozen=True)
class _RootJudgement:
    """What is wrong at one versioned framework's root: entries that should be links (BL012)
    and everything else validateFrameworkRoot refuses (BL011)."""

    flattened: tuple[tuple[str, str], ...]  # (name, what it is instead of a link)
    unsealed: tuple[str, ...]  # descriptions


def _judge_root(bundle: Bundle, fw: _Versioned) -> _RootJudgement:
    """What BL011 and BL012 report for ``fw`` (judged once for both)."""
    return bundle.memo("structure", f"root:{fw.bd.relpath}",
                       lambda: _compute_root(bundle, fw, _framework_texts(bundle)))


def _compute_root(bundle: Bundle, fw: _Versioned, texts: dict[str, str]) -> _RootJudgement:
    prefix = fw.prefix
    flattened: list[tuple[str, str]] = []
    unsealed: list[str] = []
    current = fw.current
    if current is None:
        unsealed.append("Versions/Current is missing (it must be a symlink to the version)")
    elif current.kind is EntryKind.SYMLINK:
        target = current.symlink_target or ""
        if not CURRENT_TARGET.match(target) or fw.version is None:
            unsealed.append(f"Versions/Current -> {target} does not name a version directory")
    else:
        flattened.append(("Versions/Current", _what_instead(current, texts)))
    if fw.version is None and (current is None or current.kind is not EntryKind.SYMLINK):
        unsealed.append("Versions/ holds no version directory")
    versions_ok = {"Current", ".DS_Store"}
    for child in _children(bundle, prefix + "Versions"):
        name = child.relpath[len(prefix) + len("Versions/"):]
        if child.kind is EntryKind.DIRECTORY and name != "Current":
            continue
        if name in versions_ok and (name == "Current" or _plain_file(child)):
            continue
        if _is_appledouble_of_zip(bundle, name):
            continue
        unsealed.append(f"Versions/{name} (a {_kind(child)}; only version directories and "
                        "the Current link belong there)")
    allowed_versions = {"Current"} | ({fw.version} if fw.version else set())
    ambiguous_plist = _ambiguous_info_plist(bundle, fw)
    for child in _children(bundle, fw.bd.relpath):
        name = child.relpath[len(prefix):]
        if name == "Versions" or _is_appledouble_of_zip(bundle, name):
            continue
        if name == "Info.plist" and ambiguous_plist:
            continue  # BL013's
        if child.kind is EntryKind.SYMLINK:
            target = (child.symlink_target or "").removeprefix("./")
            parts = target.split("/")
            if not (len(parts) == 3 and parts[0] == "Versions" and parts[1] in allowed_versions
                    and parts[2] == name):
                unsealed.append(f"{name} -> {child.symlink_target} (a root link must point at "
                                f"Versions/Current/{name})")
            continue
        if name in (".DS_Store", "module.map") and _plain_file(child):
            continue
        namesake = fw.version is not None and bundle.entry(
            f"{prefix}Versions/{fw.version}/{name}") is not None
        if namesake or child.relpath in texts:
            flattened.append((name, _what_instead(child, texts)))
        else:
            unsealed.append(f"{name} (a {_kind(child)} with no namesake in the current version)")
    flattened.sort(key=lambda item: (item[0] != "Versions/Current", item[0]))
    return _RootJudgement(tuple(flattened), tuple(unsealed))


def _plain_file(entry: Entry) -> bool:
    """A regular file without execute bits (what the DirValidator's ``noexec`` allows)."""
    return entry.kind in (EntryKind.DATA, EntryKind.PLIST, EntryKind.MACHO,
                          EntryKind.METALLIB) and not entry.mode & 0o111


def _kind(entry: Entry) -> str:
    if entry.kind is EntryKind.DIRECTORY:
        return "directory"
    if entry.kind is EntryKind.SYMLINK:
        return "symlink"
    return "file"


def _what_instead(entry: Entry, texts: dict[str, str]) -> str:
    text = texts.get(entry.relpath)
    if text is not None:
        return f"a file containing {text!r}"
    return f"a {_kind(entry)}"


def _ambiguous_info_plist(bundle: Bundle, fw: _Versioned) -> bool:
    """A versioned bundle whose root has an Info.plist and no Resources: CFBundle reads the
    root as a flat bundle before codesign descends into Versions/Current, and the two
    Info.plist paths differ (bundlediskrep.cpp ``BundleDiskRep::checkMoved``)."""
    if fw.version is None:
        return False
    names = {c.relpath[len(fw.prefix):].lower(): c for c in _children(bundle, fw.bd.relpath)}
    plist = names.get("info.plist")
    return "resources" not in names and plist is not None and plist.kind not in (
        EntryKind.SYMLINK, EntryKind.DIRECTORY)


def _versioned_frameworks(bundle: Bundle) -> Iterator[_Versioned]:
    for bd in _judged_bundles(bundle):
        if bd.extension == ".framework" or not bd.contents:
            fw = _versioned(bundle, bd)
            if fw is not None:
                yield fw


# --- BL010 -----------------------------------------------------------------------------------


@rule(
    RuleMeta(
        id="BL010",
        slug="unsealed-bundle-root",
        consequence=Consequence.NOTARY_REJECTS,
        evidence=(
            source("Security", "bundlediskrep.cpp", "BundleDiskRep::setup",
                   "a bundle with Contents/ may hold only Contents and the files .DS_Store, "
                   ".LSOverride, Icon\\r and .SoftwareDepot.tracking at its root; anything else "
                   "is errSecCSUnsealedAppRoot, 'unsealed contents present in the bundle root', "
                   "recorded as a strict-validation error"),
            source("Security", "StaticCode.cpp", "SecStaticCode::staticValidate",
                   "strict validation (codesign --strict, and signing with strict preflight in "
                   "SecCodeSigner::Signer::prepare) throws the recorded error"),
            STRICT_IS_NOTARY,
            GATEKEEPER_STRUCTURE,
        ),
        summary="Files or folders sit at a bundle's root beside Contents",
        what=(
            "For the app and every nested bundle that has a Contents directory, lists what "
            "else is at the bundle's root: anything but Contents and the Finder's .DS_Store, "
            ".LSOverride, Icon\\r and .SoftwareDepot.tracking files. One finding per bundle."
        ),
        why=(
            "The signature seals Contents only, so codesign refuses anything beside it: "
            "'unsealed contents present in the bundle root' (errSecCSUnsealedAppRoot). Strict "
            "verification, which the notary applies, fails the same way, and Gatekeeper "
            "rejects the app."
        ),
        how_to_fix=(
            "Move the files into Contents/Resources (or delete them), then re-sign the "
            "bundle. A README or licence for users belongs beside the app in the disk image, "
            "not inside it."
        ),
        fix_applicability=Applicability.UNSAFE,
    )
)
def unsealed_bundle_root(ctx: RuleContext) -> Iterator[Finding]:
    bundle = ctx.bundle
    for bd in _judged_bundles(bundle):
        if not bd.contents:
            continue
        prefix = _prefix(bd)
        stray: list[Entry] = []
        for child in _children(bundle, bd.relpath):
            name = child.relpath[len(prefix):]
            if name == "Contents" and child.kind is EntryKind.DIRECTORY:
                continue
            if name in APP_ROOT_ALLOWED and _plain_file(child):
                continue
            if _is_appledouble_of_zip(bundle, name):
                continue
            stray.append(child)
        if not stray:
            continue
        names = [f"{e.relpath[len(prefix):]} (a {_kind(e)})" for e in stray]
        resources = bundle.shell_path(bd.child("Resources/"))
        command = ("mv -- " + " ".join(str(bundle.shell_path(e.relpath)) for e in stray)
                   + f" {resources}  # then re-sign the bundle")
        yield ctx.finding(
            path=bd.display,
            message=f"{len(stray)} item(s) beside Contents at the bundle's root: "
            f"{_examples(names)}; codesign: 'unsealed contents present in the bundle root'",
            evidence={"count": len(stray)},
            command=command,
        )


# --- BL011 / BL012 / BL013 -------------------------------------------------------------------


@rule(
    RuleMeta(
        id="BL011",
        slug="unsealed-framework-root",
        consequence=Consequence.NOTARY_REJECTS,
        evidence=(
            source("Security", "bundlediskrep.cpp", "BundleDiskRep::validateFrameworkRoot",
                   "a versioned framework's root may hold only Versions (with version "
                   "directories and a Current symlink naming one), symlinks to the namesake in "
                   "Versions/Current, .DS_Store and module.map; anything else is "
                   "errSecCSUnsealedFrameworkRoot, 'unsealed contents present in the root "
                   "directory of an embedded framework', under strict validation"),
            STRICT_IS_NOTARY,
            GATEKEEPER_STRUCTURE,
        ),
        summary="A versioned framework's root or Versions folder holds something that is not "
        "a link into the current version",
        what=(
            "In every versioned framework, checks that Versions/Current is a symlink naming a "
            "version directory, that every entry at the framework root (besides Versions, "
            ".DS_Store and module.map) is a symlink to its namesake in Versions/Current, and "
            "that Versions/ holds only version directories and Current. Links that became "
            "copies of their targets are BL012's; this rule reports everything else: stray "
            "files, links pointing elsewhere, a missing Current."
        ),
        why=(
            "Only the current version is sealed. codesign's strict validation refuses anything "
            "else at the root: 'unsealed contents present in the root directory of an embedded "
            "framework' (errSecCSUnsealedFrameworkRoot); the notary applies strict validation "
            "and Gatekeeper rejects it."
        ),
        how_to_fix=(
            "Put the content inside the version (Versions/A/Resources for data), make each "
            "root entry a symlink to Versions/Current/<name>, and Versions/Current a symlink "
            "to the version (`ln -s A Versions/Current`); then re-sign the framework and the "
            "app."
        ),
        fix_applicability=Applicability.DISPLAY,
    )
)
def unsealed_framework_root(ctx: RuleContext) -> Iterator[Finding]:
    bundle = ctx.bundle
    for fw in _versioned_frameworks(bundle):
        judged = _judge_root(bundle, fw)
        if judged.unsealed:
            yield ctx.finding(
                path=fw.bd.display,
                message="not what codesign allows at a framework root: "
                + "; ".join(judged.unsealed),
                evidence={"count": len(judged.unsealed)},
            )


def _relink_command(bundle: Bundle, fw: _Versioned, names: list[str]) -> str:
    """Commands that put the framework's symlinks back (for a directory input)."""
    q = quote_path  # a name starting with '-' must not read as an option of ln
    version = fw.version or "A"
    steps = [f"cd {bundle.shell_path(fw.bd.relpath)}",
             "rm -rf -- " + " ".join(str(q(n)) for n in names)]
    for name in names:
        if name == "Versions/Current":
            steps.append(f"ln -s {q(version)} Versions/Current")
        else:
            steps.append(f"ln -s {q('Versions/Current/' + name)} {q(name)}")
    return " && ".join(steps) + "  # then re-sign the framework and the app"


@rule(
    RuleMeta(
        id="BL012",
        slug="framework-symlink-flattened",
        aliases=("BL702",),
        consequence=Consequence.NOTARY_REJECTS,
        evidence=(
            source("Security", "bundlediskrep.cpp", "BundleDiskRep::validateFrameworkRoot",
                   "Versions/Current must be a symlink and root entries symlinks into it: a "
                   "copy is errSecCSUnsealedFrameworkRoot under strict validation"),
            source("Security", "bundlediskrep.cpp", "BundleDiskRep::checkMoved",
                   "a root copy of the binary or of Resources/Info.plist resolves to another "
                   "path than the version's own: errSecCSAmbiguousBundleFormat, 'bundle format "
                   "is ambiguous (could be app or framework)'"),
            source("Security", "StaticCode.cpp", "SecStaticCode::validateResource",
                   "a sealed symlink that is now a regular file changed type: "
                   "errSecCSBadResource (kSecCFErrorResourceAltered)"),
            E.SIGNATURE_INVALID,
        ),
        summary="A framework's symlinks were replaced by copies or by files holding their text",
        what=(
            "In every versioned framework (of a zip or a directory), checks that "
            "Versions/Current and each root entry that has a namesake in the current version "
            "are symlinks. A copy in their place (Versions/Current as a full directory, the "
            "binary or Resources at the root as real files) or a small file holding the link "
            "text is reported once per framework, naming every entry that should be a link; "
            "the copies are not judged again by any other rule."
        ),
        why=(
            "`cp -r`, `zip -r` without `-y`, and CI artifact uploads follow symlinks and store "
            "what they point at: a full copy of Versions/A under Versions/Current and copies of "
            "the binary and Resources at the framework root. Some tools store the link's text "
            "as a regular file instead. Either way the framework is no longer what was signed: "
            "codesign's strict validation refuses the root ('unsealed contents present in the "
            "root directory of an embedded framework', or 'bundle format is ambiguous (could be "
            "app or framework)') and the notary rejects the upload ('The signature of the "
            "binary is invalid.')."
        ),
        how_to_fix=REPACK + " In a directory, delete the copies and re-create the links, "
        "then re-sign the framework and the app.",
        fix_command="ditto -c -k --keepParent {app} {zip}",
    )
)
def framework_symlink_flattened(ctx: RuleContext) -> Iterator[Finding]:
    bundle = ctx.bundle
    for fw in _versioned_frameworks(bundle):
        judged = _judge_root(bundle, fw)
        if not judged.flattened:
            continue
        should = []
        for name, instead in judged.flattened:
            target = (fw.version or "A") if name == "Versions/Current" else \
                f"Versions/Current/{name}"
            should.append(f"{name} -> {target} (is {instead})")
        as_text = any("containing" in instead for _, instead in judged.flattened)
        cause = ("a tool stored the links as files holding their text" if as_text else
                 "a tool that does not keep symlinks (cp -r, zip without -y, an artifact "
                 "upload) copied what they point at")
        report = bundle.archive
        if report is not None:
            command = ditto_command(report)
        else:
            command = _relink_command(bundle, fw, [n for n, _ in judged.flattened])
        yield ctx.finding(
            path=fw.bd.display,
            message="these should be symlinks: " + ", ".join(should) + f"; {cause}",
            evidence={"entries": len(judged.flattened)},
            command=command,
        )


@rule(
    RuleMeta(
        id="BL013",
        slug="ambiguous-bundle-format",
        consequence=Consequence.NOTARY_REJECTS,
        evidence=(
            source("Security", "bundlediskrep.cpp", "BundleDiskRep::checkMoved",
                   "the Info.plist CFBundle finds at the bundle root differs from the one in "
                   "Versions/Current: errSecCSAmbiguousBundleFormat, 'bundle format is "
                   "ambiguous (could be app or framework)', a strict-validation error"),
            STRICT_IS_NOTARY,
            GATEKEEPER_STRUCTURE,
        ),
        summary="A versioned bundle also has an Info.plist at its root",
        what=(
            "Reports a bundle with Versions/Current (a versioned framework) whose root holds a "
            "regular Info.plist and no Resources link: read from the root it looks like a flat "
            "bundle, read from Versions/Current like a framework."
        ),
        why=(
            "Before descending into Versions/Current, codesign asks CFBundle for the root's "
            "Info.plist; without a Resources link that is the root's own file, which is not the "
            "version's Resources/Info.plist, so strict validation fails with 'bundle format is "
            "ambiguous (could be app or framework)'."
        ),
        how_to_fix=(
            "Keep the Info.plist in Versions/A/Resources/ only, link Resources at the root "
            "(`ln -s Versions/Current/Resources Resources`), remove the root Info.plist, and "
            "re-sign."
        ),
        fix_applicability=Applicability.DISPLAY,
    )
)
def ambiguous_bundle_format(ctx: RuleContext) -> Iterator[Finding]:
    bundle = ctx.bundle
    for fw in _versioned_frameworks(bundle):
        if _ambiguous_info_plist(bundle, fw):
            yield ctx.finding(
                path=bundle.display(fw.prefix + "Info.plist"),
                message=f"{fw.bd.display} has Versions/{fw.version} and an Info.plist of its "
                "own at the root with no Resources link: codesign reads it as two bundles",
            )


# --- BL014 / BL015: bundles codesign cannot read ----------------------------------------------


def _nested_bundle_sites(bundle: Bundle) -> list[Entry]:
    """Directories codesign signs as nested bundles: a directory with a dot in its name in a
    nested-code place (resources.cpp, ``ResourceBuilder::scan``), except ``.dSYM`` (weight 11
    beats the nested rule). Inside a site that is not a bundle the model knows, nothing
    deeper is listed (codesign skips its subtree)."""
    def compute() -> list[Entry]:
        known = {bd.relpath for bd in bundle.bundle_dirs}
        sites: list[Entry] = []
        unknown: list[str] = []
        for entry in bundle.entries_of(EntryKind.DIRECTORY):
            rel = entry.relpath
            name = rel.rpartition("/")[2]
            # a .dSYM is matched by rules2's weight-11 '.*\\.dSYM($|/)', not the nested rule
            if not rel or not sealed_as_nested_bundle(name) or name.endswith(".dSYM"):
                continue
            if any(rel.startswith(u + "/") for u in unknown):
                continue
            if bundle.in_framework_copy(rel):
                continue
            if bundle.place_in(rel.rpartition("/")[0]) is not Place.CODE:
                continue
            sites.append(entry)
            if rel not in known:
                unknown.append(rel)
        return sites

    return bundle.memo("structure", "nested-bundle-sites", compute)


def _unknown_sites(bundle: Bundle) -> list[str]:
    known = {bd.relpath for bd in bundle.bundle_dirs}
    return [e.relpath for e in _nested_bundle_sites(bundle) if e.relpath not in known]


@dataclass(frozen=True)
class _BundleFiles:
    """Where CFBundle finds a bundle's Info.plist and main executable."""

    info_plist: str | None
    executable_name: str
    executable: str | None
    signable: bool  # the layout's word: an executable or an Info.plist, or not read


def _directories_and_links(bundle: Bundle) -> tuple[frozenset[str], frozenset[str]]:
    def compute() -> tuple[frozenset[str], frozenset[str]]:
        dirs = frozenset(e.relpath for e in bundle.entries_of(EntryKind.DIRECTORY))
        links = frozenset(e.relpath for e in bundle.entries_of(EntryKind.SYMLINK))
        return dirs, links

    return bundle.memo("structure", "dirs-and-links", compute)


def _bundle_files(bundle: Bundle, relpath: str) -> _BundleFiles:
    """Info.plist and main executable of the bundle (or of a directory codesign takes for
    one) at ``relpath``, as the layout finds them the way CFBundle does."""
    bd = bundle.layout.bundle_at(relpath) if relpath else bundle.root_bundle
    if bd is None:
        dirs, links = _directories_and_links(bundle)
        ext = suffix(relpath)
        bd = BundleDir(relpath, bundle.display(relpath), ext,
                       bundle_format(relpath, ext, dirs, links))
    geometry = bundle.layout.geometry(bd)
    return _BundleFiles(geometry.info_plist, geometry.executable_name or "",
                        geometry.main_executable, geometry.signable)


@rule(
    RuleMeta(
        id="BL014",
        slug="nested-bundle-unrecognized",
        consequence=Consequence.CODESIGN_REFUSES,
        evidence=(
            source("Security", "resources.cpp", "ResourceBuilder::scan",
                   "a directory with a dot in its name in a nested-code place is handed to the "
                   "signer as a nested bundle, and its subtree is not scanned as files"),
            source("Security", "diskrep.cpp", "DiskRep::bestGuess",
                   "nested code that is a directory is always read as a bundle "
                   "(BundleDiskRep)"),
            source("Security", "bundlediskrep.cpp", "BundleDiskRep::setup",
                   "a bundle in which CFBundle finds neither an executable nor an Info.plist "
                   "(nor a .dist file) is errSecCSBadBundleFormat, 'bundle format "
                   "unrecognized, invalid, or unsuitable'"),
            PLACING_CONTENT_DOC,
        ),
        summary="A folder codesign must sign as a nested bundle has no Info.plist and no "
        "executable",
        what=(
            "Lists the directories codesign treats as nested bundles (a dot in the name, in "
            "Contents/MacOS, Frameworks, PlugIns, Helpers, XPCServices, Library/LoginItems... "
            "or directly in Contents) and reports those where CFBundle would find neither an "
            "Info.plist nor an executable named after the bundle: a framework without "
            "Resources/Info.plist whose binary has another name, or a plain folder such as "
            "numpy.libs or foo.dist-info that a packager put next to the executable. Apps, "
            "app extensions and XPC services without Info.plist are BL401's."
        ),
        why=(
            "codesign stops with 'bundle format unrecognized, invalid, or unsuitable' (In "
            "subcomponent: ...) and signs nothing; a folder that is not a bundle does not "
            "belong in a code location at all."
        ),
        how_to_fix=(
            "A real bundle needs its Info.plist (Contents/Info.plist, or Resources/Info.plist "
            "in a framework's version) with CFBundleExecutable. A data folder goes to "
            "Contents/Resources; leave a symlink in its old place if the program looks for it "
            "there (symlinks in code locations are sealed as resources); sign any code in it "
            "on its own. Then re-sign the app."
        ),
        fix_applicability=Applicability.UNSAFE,
    )
)
def nested_bundle_unrecognized(ctx: RuleContext) -> Iterator[Finding]:
    bundle = ctx.bundle
    known = {bd.relpath: bd for bd in bundle.bundle_dirs}
    for site in _nested_bundle_sites(bundle):
        bd = known.get(site.relpath)
        if bd is not None and bd.extension in APP_LIKE_EXTENSIONS and bd.contents:
            continue  # BL401
        files = _bundle_files(bundle, site.relpath)
        if files.signable:
            continue
        name = site.relpath.rpartition("/")[2]
        if bd is not None:
            message = (f"{name} has no Info.plist and no executable named "
                       f"{files.executable_name!r}: codesign cannot sign it ('bundle format "
                       "unrecognized, invalid, or unsuitable')")
            command = None
        else:
            message = (f"{name} is a folder with a dot in its name in a code location, so "
                       "codesign signs it as a nested bundle, and fails: it has no Info.plist "
                       "and no executable ('bundle format unrecognized, invalid, or "
                       "unsuitable')")
            command = _move_to_resources(bundle, site.relpath, keep_link=True)
        yield ctx.finding(path=site.display, message=message, command=command)


@rule(
    RuleMeta(
        id="BL015",
        slug="framework-info-plist-missing",
        consequence=Consequence.MAY_FAIL,
        evidence=(
            doc(FRAMEWORK_ANATOMY,
                "'The system identifies a framework by the .framework extension on its "
                "directory name and by the Resources directory at the top level of the "
                "framework bundle. Inside the Resources directory is the Info.plist file'"),
            source("Security", "bundlediskrep.cpp", "BundleDiskRep::setup",
                   "without an Info.plist codesign still signs the binary CFBundle finds by "
                   "the bundle's name, but nothing binds an identifier or version to it"),
        ),
        summary="A framework has no Resources/Info.plist",
        what=(
            "Reports frameworks signed as nested code (or given as the input) whose version "
            "has no Resources/Info.plist but a binary named after the framework. Without that "
            "binary codesign cannot sign it at all (BL014)."
        ),
        why=(
            "CFBundle falls back to the framework's name to find its binary, so codesign "
            "signs it; but the framework has no bundle identifier or version, the signing "
            "identifier is made up from the file name, and tools that embed and sign "
            "frameworks (Xcode, packagers) and NSBundle lookups by identifier fail on it."
        ),
        how_to_fix=(
            "Add Versions/A/Resources/Info.plist with CFBundleExecutable, CFBundleIdentifier, "
            "CFBundlePackageType FMWK and CFBundleShortVersionString, link Resources at the "
            "root, and re-sign the framework and the app."
        ),
        fix_applicability=Applicability.DISPLAY,
    )
)
def framework_info_plist_missing(ctx: RuleContext) -> Iterator[Finding]:
    bundle = ctx.bundle
    sites = {e.relpath for e in _nested_bundle_sites(bundle)}
    for bd in _judged_bundles(bundle):
        if bd.extension != ".framework" or (bd.relpath and bd.relpath not in sites):
            continue
        files = _bundle_files(bundle, bd.relpath)
        if files.info_plist is None and files.executable is not None:
            yield ctx.finding(
                path=bd.display,
                message=f"{bd.display.rpartition('/')[2]} has no Resources/Info.plist; "
                f"codesign finds its binary {files.executable_name!r} by the framework's name "
                "only",
            )


# --- BL016 / BL017: content in the wrong place --------------------------------------------------


def _content_base(bundle: Bundle, relpath: str) -> tuple[BundleDir, str] | None:
    """The innermost bundle around ``relpath`` and the prefix its seal rules match against
    (``bundlelint.layout.resource_base``)."""
    owner = bundle.bundle_dir_of(relpath)
    base = resource_base(owner, relpath)
    return None if base is None else (owner, base)


def _code_location(inner: str) -> str:
    """The nested-code directory ``inner`` (relative to the content base) is in; "" for a
    file directly in the base."""
    location = code_location_of(inner)
    return location.path if location is not None else ""


def _move_to_resources(bundle: Bundle, relpath: str, *, keep_link: bool) -> str | None:
    """``mv`` of ``relpath`` into its bundle's Resources, and a relative symlink back."""
    found = _content_base(bundle, relpath)
    if found is None:
        return None
    _owner, base = found
    inner = relpath[len(base):]
    location = _code_location(inner)
    name = inner.rpartition("/")[2]
    depth = inner.count("/")
    resources = base + "Resources/"
    command = (f"mkdir -p {bundle.shell_path(resources)} && mv -- "
               f"{bundle.shell_path(relpath)} {bundle.shell_path(resources + name)}")
    if keep_link:
        up = "../" * depth
        command += f" && ln -s {quote(up + 'Resources/' + name)} {bundle.shell_path(relpath)}"
    where = location or "the content base"
    return f"{command}  # from {where}; then re-sign the bundle"


def _main_executable_path(bundle: Bundle, owner: BundleDir) -> str | None:
    """The input-relative path of ``owner``'s main executable, as CFBundle finds it."""
    return bundle.layout.main_executable(owner)


@dataclass(frozen=True)
class _Misplaced:
    top: str  # the file, or the first directory under the code location, holding the files
    location: str
    files: tuple[Entry, ...]


def _data_in_code_locations(bundle: Bundle) -> list[_Misplaced]:
    unknown = _unknown_sites(bundle)
    groups: dict[str, list[Entry]] = {}
    locations: dict[str, str] = {}
    mains: dict[str, str | None] = {}
    for entry in bundle.entries:
        if entry.kind not in (EntryKind.DATA, EntryKind.PLIST, EntryKind.METALLIB):
            continue
        if entry.place is not Place.CODE or entry.container is not None:
            continue
        rel = entry.relpath
        name = rel.rpartition("/")[2]
        if name == ".DS_Store" or entry.mode & 0o111 or _is_appledouble_of_zip(bundle, name):
            continue  # omitted by rules2; a signed script; attributes ditto stored (BL703)
        if bundle.in_framework_copy(rel) or any(rel.startswith(u + "/") for u in unknown):
            continue
        found = _content_base(bundle, rel)
        if found is None:
            continue
        owner, base = found
        inner = rel[len(base):]
        if "/" not in inner and inner in BASE_NAMES_NOT_NESTED:
            continue
        if owner.relpath not in mains:
            mains[owner.relpath] = _main_executable_path(bundle, owner)
        if rel == mains[owner.relpath]:
            continue  # the bundle's executable itself: BL404's
        location = _code_location(inner)
        rest = inner[len(location) + 1:] if location else inner
        top = base + (f"{location}/" if location else "") + rest.split("/")[0]
        groups.setdefault(top, []).append(entry)
        locations[top] = location
    return [_Misplaced(top, locations[top], tuple(files)) for top, files in groups.items()]


@rule(
    RuleMeta(
        id="BL016",
        slug="data-in-code-location",
        aliases=("BL504",),
        consequence=Consequence.CODESIGN_REFUSES,
        evidence=(
            source("Security", "signer.cpp", "SecCodeSigner::Signer::signNested",
                   "every file the resource rules mark nested is signed as code of its own; "
                   "one without a code signature is errSecCSUnsigned, 'code object is not "
                   "signed at all', In subcomponent: <file>"),
            source("Security", "bundlediskrep.cpp", "BundleDiskRep::defaultResourceRules",
                   "rules2 mark files directly in Contents and everything under MacOS, "
                   "Frameworks, SharedFrameworks, PlugIns, Plug-ins, XPCServices, Helpers and "
                   "Library/{Automator,Spotlight,LoginItems} nested"),
            PLACING_CONTENT_DOC,
            doc("https://developer.apple.com/forums/thread/781885",
                "Apple DTS: a data file signed as if it were code keeps its signature in "
                "extended attributes, which break when the file travels without them; the "
                "usual cause is a bundle that does not follow Placing Content in a Bundle"),
        ),
        summary="A data file sits where codesign expects code (Contents/MacOS, Frameworks...)",
        what=(
            "Reports regular files that are not Mach-O code (a zip, JSON, a Metal library, "
            "Python sources...) in a place codesign signs as nested code: directly in Contents "
            "(other than Info.plist, PkgInfo, version.plist, embedded.provisionprofile), in "
            "Contents/MacOS, Frameworks, PlugIns, Helpers, XPCServices, Library/LoginItems, "
            "or directly in a framework's version directory. Files under one folder are one "
            "finding. Executable files (a script may carry a signature of its own) and "
            "symlinks (sealed as resources) are not reported."
        ),
        why=(
            "codesign signs and verifies every file there as code; a data file has no "
            "signature, so signing the app fails with 'code object is not signed at all' (In "
            "subcomponent: ...) and the notary cannot accept it. PyInstaller-style layouts "
            "(base_library.zip next to the executable), a config.json beside the binary, and "
            "a .metallib in MacOS are the usual cases."
        ),
        how_to_fix=(
            "Move the file or folder to Contents/Resources (a Metal library is found there by "
            "newDefaultLibrary); if the program looks for it next to the executable, leave a "
            "symlink in its place. Then re-sign the bundle."
        ),
        fix_applicability=Applicability.UNSAFE,
    )
)
def data_in_code_location(ctx: RuleContext) -> Iterator[Finding]:
    bundle = ctx.bundle
    if bundle.is_single_file:
        return
    for group in _data_in_code_locations(bundle):
        first = group.files[0]
        where = f"Contents/{group.location}" if group.location else "the content base"
        if len(group.files) == 1 and first.relpath == group.top:
            what = "Metal library" if first.kind is EntryKind.METALLIB else "data file"
            message = (f"{what} in {where}: codesign signs everything there as code and "
                       "fails on it ('code object is not signed at all')")
            if first.kind is EntryKind.METALLIB:
                message += "; move it to Resources, where Metal finds it"
            keep_link = first.kind is not EntryKind.METALLIB
            path = first.display
        else:
            names = [e.relpath[len(group.top) + 1:] for e in group.files]
            message = (f"{len(group.files)} data file(s) under {where} "
                       f"({_examples(names)}): codesign signs everything there as code and "
                       "fails on them ('code object is not signed at all')")
            keep_link = True
            path = bundle.display(group.top)
        yield ctx.finding(
            path=path,
            message=message,
            evidence={"files": len(group.files), "location": group.location},
            command=_move_to_resources(bundle, group.top, keep_link=keep_link),
        )


def _loadable(macho: MachOFile) -> bool:
    return bool(macho.slices) and all(sl.filetype in LOADABLE for sl in macho.slices)


def _is_nested(bundle: Bundle, bd: BundleDir) -> bool:
    """Whether ``bd`` sits inside another bundle (not at the top of a disk image or package,
    where it is the thing shipped, not content of a bundle)."""
    parent = bd.relpath.rpartition("/")[0]
    owner = bundle.bundle_dir_of(f"{parent}/-" if parent else "-")
    return bool(owner.relpath) or bundle.root_bundle is not None


def _in_code_location(bundle: Bundle, relpath: str) -> bool:
    """Whether ``relpath`` sits where code belongs: a place codesign signs as nested code, a
    code location Apple documents that the default rules seal as resources
    (Library/LaunchServices, Library/SystemExtensions, Library/QuickLook), or outside every
    bundle of a container (an app at the top of a disk image)."""
    parent = relpath.rpartition("/")[0]
    if bundle.in_no_bundle(relpath):
        return True  # beside the apps of a disk image or package: no bundle seals it
    if bundle.place_in(parent) is Place.CODE:
        return True
    return bundle.layout.code_location(f"{parent}/-" if parent else "-") is not None


@rule(
    RuleMeta(
        id="BL017",
        slug="code-in-resource-location",
        consequence=Consequence.MAY_FAIL,
        evidence=(
            PLACING_CONTENT_DOC,
            doc("https://developer.apple.com/forums/thread/129980",
                "Apple DTS, --deep Considered Harmful: codesign 'only finds code in nested "
                "code sites. If you put code in a place where the system is expecting to find "
                "data, --deep won't sign it'"),
            source("Security", "bundlediskrep.cpp", "BundleDiskRep::defaultResourceRules",
                   "outside the nested places everything is sealed as a resource: hashed, "
                   "never signed or verified as code"),
        ),
        summary="Code sits in a resource location and needs a signature of its own",
        what=(
            "Reports executables, dylibs and plug-ins (and bundles holding them) outside the "
            "places codesign signs as nested code and the code locations Apple documents "
            "(Library/LaunchServices, Library/SystemExtensions, Library/QuickLook): "
            "Contents/Resources, SharedSupport and other folders. Loose files are grouped by "
            "folder; a nested bundle in such a place is one finding."
        ),
        why=(
            "The bundle's signature only hashes them as data. Each must be signed on its own, "
            "with the hardened runtime and a timestamp, before the bundle: `codesign --deep` "
            "does not look there, the notary rejects unsigned code wherever it is, and the "
            "kernel kills unsigned code on Apple silicon."
        ),
        how_to_fix=(
            "Move helper tools to Contents/Helpers or Contents/MacOS, libraries to "
            "Contents/Frameworks and plug-ins to Contents/PlugIns, then re-sign inside-out. "
            "If it must stay (a third-party layout), sign it on its own first, then the "
            "bundle."
        ),
        fix_applicability=Applicability.DISPLAY,
    )
)
def code_in_resource_location(ctx: RuleContext) -> Iterator[Finding]:
    bundle = ctx.bundle
    if bundle.is_single_file:
        return
    bundles_reported: set[str] = set()
    loose: dict[str, list[Entry]] = {}
    mains: dict[str, str | None] = {}
    for entry, macho in bundle.machos():
        if entry.container is not None or not _loadable(macho):
            continue
        rel = entry.relpath
        chain = [bd for bd in bundle.bundle_dirs
                 if bd.relpath and rel.startswith(bd.relpath + "/") and _is_nested(bundle, bd)]
        misplaced = next((bd for bd in sorted(chain, key=lambda b: len(b.relpath))
                          if not _in_code_location(bundle, bd.relpath)), None)
        if misplaced is not None:
            if misplaced.relpath not in bundles_reported:
                bundles_reported.add(misplaced.relpath)
                yield ctx.finding(
                    path=misplaced.display,
                    message=f"{misplaced.display.rpartition('/')[2]} holds code but sits in a "
                    "resource location: the app's signature seals it as data, so it must be "
                    "signed on its own first (codesign --deep does not look there)",
                    command=codesign_command(bundle, entry),
                )
            continue
        if _in_code_location(bundle, rel):
            continue
        owner = bundle.bundle_dir_of(rel)
        if owner.relpath not in mains:
            mains[owner.relpath] = _main_executable_path(bundle, owner)
        if rel == mains[owner.relpath]:
            continue  # a (flat) bundle's own executable: judged with its bundle
        loose.setdefault(rel.rpartition("/")[0], []).append(entry)
    for directory, entries in loose.items():
        names = [e.relpath.rpartition("/")[2] for e in entries]
        yield ctx.finding(
            path=entries[0].display if len(entries) == 1 else bundle.display(directory),
            message=f"{len(entries)} Mach-O file(s) in a resource location ({_examples(names)}):"
            " sealed as data, so each must be signed on its own before the bundle",
            evidence={"files": len(entries)},
            command=codesign_command(bundle, entries[0]),
        )


# --- BL018 / BL019: load commands that point at the build machine ------------------------------


@dataclass(frozen=True)
class _Dangling:
    entry: Entry
    command: str  # LC_RPATH, LC_LOAD_WEAK_DYLIB...
    path: str
    archs: tuple[str, ...]
    validation: bool | None  # library validation of the process (None: no process known)


_DYLIB_COMMANDS = {"weak": "LC_LOAD_WEAK_DYLIB", "reexport": "LC_REEXPORT_DYLIB",
                   "load": "LC_LOAD_DYLIB", "lazy": "LC_LAZY_LOAD_DYLIB",
                   "upward": "LC_LOAD_UPWARD_DYLIB"}


def _dangling(bundle: Bundle) -> list[_Dangling]:
    """Absolute LC_RPATHs, and absolute weak dylib references (a non-weak one is BL104's),
    outside /System and /usr/lib, per file and path, with the architectures that carry it."""
    def compute() -> list[_Dangling]:
        found: dict[tuple[str, str, str], list[tuple[str, bool | None]]] = {}
        entries: dict[str, Entry] = {}
        for entry, macho in bundle.machos():
            if entry.container is not None:
                continue
            main = main_executable_for(bundle, entry, macho)
            entries[entry.relpath] = entry
            for sl in macho.slices:
                candidates = [("LC_RPATH", p) for p in sl.rpaths]
                candidates += [(_DYLIB_COMMANDS.get(r.kind, r.kind), r.path) for r in sl.dylibs
                               if r.kind == "weak"]
                process = process_slice(bundle, main, entry, sl)
                lv = library_validation(process) if process is not None else None
                for command, path in candidates:
                    if path.startswith("/") and not is_system_path(path.rstrip("/") + "/"):
                        key = (entry.relpath, command, path)
                        found.setdefault(key, []).append((sl.arch, lv))
        out = []
        for (rel, command, path), slices in found.items():
            archs = tuple(a for a, _ in slices)
            states = {lv for _, lv in slices}
            validation = False if False in states else (None if None in states else True)
            out.append(_Dangling(entries[rel], command, path, archs, validation))
        return out

    return bundle.memo("structure", "dangling", compute)


def _dangling_fix(bundle: Bundle, d: _Dangling) -> str:
    target = bundle.shell_path(d.entry.relpath)
    if d.command == "LC_RPATH":
        change = f"install_name_tool -delete_rpath {quote(d.path)} {target}"
    else:
        name = d.path.rstrip("/").rpartition("/")[2]
        change = f"install_name_tool -change {quote(d.path)} {quote('@rpath/' + name)} {target}"
    return f"{change} && {codesign_command(bundle, d.entry)}"


DANGLING_DOC = doc(
    DANGLING_LOAD_COMMANDS,
    "Apple DTS, Resolving Gatekeeper Problems Caused by Dangling Load Command Paths: 'The most "
    "common reason for Gatekeeper to block an app is a dangling load command'; when library "
    "validation is disabled Gatekeeper checks the app's Mach-O images' load command paths, "
    "when it is enabled it skips that check",
)


@rule(
    RuleMeta(
        id="BL018",
        slug="dangling-load-command",
        consequence=Consequence.GATEKEEPER_BLOCKS,
        evidence=(
            DANGLING_DOC,
            source("dyld", "dyld/Loader.cpp", "Loader::forEachResolvedAtPathVar",
                   "an absolute LC_RPATH is joined with the @rpath tail and tried as written, "
                   "on the user's disk"),
        ),
        summary="A load command points at the build machine, and library validation is off",
        what=(
            "In a process whose main executable runs without library validation (no hardened "
            "runtime, or the disable-library-validation entitlement), reports absolute "
            "LC_RPATHs and absolute weak dylib paths outside /System and /usr/lib, such as "
            "/Users/runner/work/... left by a CI build, Homebrew or toolchain paths. "
            "Non-weak absolute dependencies are BL104's (they stop the launch)."
        ),
        why=(
            "Apple: 'The most common reason for Gatekeeper to block an app is a dangling load "
            "command.' Without library validation, Gatekeeper checks where every load command "
            "of the app's Mach-O images points, so a path into someone's home folder or build "
            "directory gets the app blocked on first launch."
        ),
        how_to_fix=(
            "Delete the rpath (`install_name_tool -delete_rpath`), or point the reference at "
            "@rpath/ inside the bundle (`install_name_tool -change`), then re-sign inside-out. "
            "Better: stop the linker writing it (no `-Wl,-rpath,/abs/path`; Go: no absolute "
            "-rpath in -extldflags; SwiftPM: -no-toolchain-stdlib-rpath), and keep library "
            "validation on (hardened runtime without disable-library-validation)."
        ),
        fix_applicability=Applicability.UNSAFE,
    )
)
def dangling_load_command(ctx: RuleContext) -> Iterator[Finding]:
    for d in _dangling(ctx.bundle):
        if d.validation is False:
            yield ctx.finding(
                path=d.entry.display,
                arch=d.archs[0] if len(d.archs) == 1 else None,
                message=f"{d.command} {d.path} [{', '.join(d.archs)}] points outside the app "
                "and the OS, and the process runs without library validation: Gatekeeper "
                "blocks such dangling load commands",
                evidence={"command": d.command, "path": d.path, "archs": ",".join(d.archs)},
                command=_dangling_fix(ctx.bundle, d),
            )


@rule(
    RuleMeta(
        id="BL019",
        slug="build-machine-load-path",
        consequence=Consequence.ADVICE,
        evidence=(DANGLING_DOC,),
        summary="A load command points at the build machine (library validation is on)",
        what=(
            "The same leftovers as BL018 (absolute LC_RPATHs and weak dylib paths outside "
            "/System and /usr/lib) in code whose process keeps library validation on, or "
            "whose process is not in the input (a lone library)."
        ),
        why=(
            "With library validation on, Gatekeeper skips its load-command check and dyld "
            "loads nothing from there that your team did not sign, so the path only costs a "
            "lookup at launch. It becomes BL018 (Gatekeeper blocks) the day the app disables "
            "library validation, and it leaks the build machine's paths."
        ),
        how_to_fix=(
            "Delete the rpath with `install_name_tool -delete_rpath` (or stop the linker "
            "writing it) and re-sign."
        ),
        fix_applicability=Applicability.UNSAFE,
    )
)
def build_machine_load_path(ctx: RuleContext) -> Iterator[Finding]:
    for d in _dangling(ctx.bundle):
        if d.validation is not False:
            state = ("library validation is on" if d.validation else
                     "no main executable in the input decides library validation")
            yield ctx.finding(
                path=d.entry.display,
                arch=d.archs[0] if len(d.archs) == 1 else None,
                message=f"{d.command} {d.path} [{', '.join(d.archs)}] points outside the app "
                f"and the OS ({state})",
                evidence={"command": d.command, "path": d.path, "archs": ",".join(d.archs)},
                command=_dangling_fix(ctx.bundle, d),
            )


# --- BL020 -------------------------------------------------------------------------------------


@rule(
    RuleMeta(
        id="BL020",
        slug="entitlements-on-library",
        consequence=Consequence.MAY_FAIL,
        evidence=(
            doc(DISTRIBUTION_SIGNED,
                "'Don't apply entitlements to library code. It doesn't do anything useful and "
                "can prevent your code from running.'"),
            doc("https://developer.apple.com/forums/thread/129980",
                "Apple DTS: signing library code with entitlements (what --deep does) 'may "
                "cause the trusted execution system to block your program from running'"),
        ),
        summary="A dylib, framework or plug-in is signed with entitlements",
        what=(
            "Reports library code (dylibs, framework binaries, loadable bundles: anything but "
            "an executable) whose signature carries entitlements, XML or DER."
        ),
        why=(
            "A process gets the entitlements of its main executable only, so on a library they "
            "do nothing, and restricted ones (com.apple.developer.*, application identifier) "
            "can get the code refused at load. They usually come from `codesign --deep "
            "--entitlements`, which puts the app's entitlements on everything."
        ),
        how_to_fix=(
            "Re-sign the library without --entitlements (inside-out, before the app), and sign "
            "the app itself with its entitlements, without --deep."
        ),
        fix_applicability=Applicability.UNSAFE,
    )
)
def entitlements_on_library(ctx: RuleContext) -> Iterator[Finding]:
    from bundlelint.analysis.entitlements import slice_entitlements

    bundle = ctx.bundle
    for entry, macho in bundle.machos():
        carrying = []
        keys: set[str] = set()
        for sl in macho.slices:
            if sl.filetype == MH_EXECUTE or sl.signature is None:
                continue
            ents = slice_entitlements(bundle, entry, sl)
            values = ents.xml if ents.xml is not None else ents.der
            if values:
                carrying.append(sl.arch)
                keys.update(values)
        if not carrying:
            continue
        shown = sorted(keys)
        yield ctx.finding(
            path=entry.display,
            arch=carrying[0] if len(carrying) == 1 else None,
            message=f"library code signed with entitlements [{', '.join(carrying)}]: "
            f"{_examples(shown)}; a library gets none of them, and they can stop it loading",
            evidence={"entitlements": ",".join(shown)},
            command=codesign_command(bundle, entry, entitlements=False),
        )
