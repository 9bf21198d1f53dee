"""``bundlelint plan PATH``: the signing and notarization commands for this exact bundle.

Why: most notarization failures are signing-order mistakes (``--deep``, a framework signed
through its inner binary, a helper signed after the app that seals it, entitlements on a
dylib). The plan is computed by ``build_plan`` from the bundle model as data (tests assert on
it), then rendered as shell commands or JSON.

Order: ``analysis.signing_order`` (shared with ``inspect``'s tree): a post-order walk of the
containment tree, so everything inside a bundle is signed before the bundle (codesign seals
nested code by its cdhash); among siblings, loose Mach-O files and frameworks come before
helpers, XPC services, extensions and nested apps. Frameworks are signed
as bundles (``Foo.framework``), never through their binary. ``--deep`` is never used for
signing (it re-signs nested code with the app's entitlements); it is fine for verifying.
"""

from __future__ import annotations

import argparse
import json
import plistlib
import sys
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from bundlelint.analysis.golang import UNNEEDED_ENTITLEMENTS, bundle_toolkits
from bundlelint.analysis.signing_order import ARCHIVE_MEMBER, signing_tree
from bundlelint.bundle import Bundle, Entry, EntryKind
from bundlelint.commands import EXIT_CLEAN, EXIT_USAGE, open_or_report
from bundlelint.display import printable
from bundlelint.errors import ParseError
from bundlelint.rules import Registry
from bundlelint.rules._commands import archive_member_command
from bundlelint.shellquote import comment, quote, quote_path

NAME = "plan"
HELP = "print the signing and notarization commands for a bundle, inside-out"
DEFAULT_IDENTITY = "Developer ID Application: YOUR NAME (TEAMID)"
DEFAULT_INSTALLER_IDENTITY = "Developer ID Installer: YOUR NAME (TEAMID)"
DEFAULT_PROFILE = "notary-profile"
#: Never carried into a release signature: the notary rejects get-task-allow.
DROPPED_ENTITLEMENTS = ("com.apple.security.get-task-allow",)


@dataclass(frozen=True)
class SignStep:
    """One ``codesign`` invocation. ``entitlements_file`` is None when none is passed."""

    path: str  # input-relative ("" = the input itself)
    kind: str  # "dylib", "bundle", "executable", ".framework", ".app", ".xpc", ...
    entitlements_file: str | None
    command: str


@dataclass(frozen=True)
class EntitlementsFile:
    name: str
    for_path: str
    values: dict[str, Any]
    source: str  # why these values

    @property
    def xml(self) -> str:
        return plistlib.dumps(self.values, sort_keys=True).decode()


@dataclass(frozen=True)
class Plan:
    input: str
    identity: str
    keychain_profile: str
    sign: tuple[SignStep, ...]
    entitlements: tuple[EntitlementsFile, ...]
    notarize: tuple[str, ...]
    verify: tuple[str, ...]
    notes: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["entitlements"] = [dict(asdict(e), xml=e.xml) for e in self.entitlements]
        return doc


def _current_entitlements(bundle: Bundle, entry: Entry | None,
                          notes: list[str] | None = None) -> dict[str, Any] | None:
    """The XML entitlements ``entry`` is signed with, minus any key an XML plist cannot hold
    (a control character in a key or string, from a binary-plist blob): no entitlements file
    can carry those, so they are left out and ``notes`` says so."""
    if entry is None:
        return None
    try:
        macho = bundle.macho(entry)
    except ParseError:
        return None
    for sl in macho.slices:
        ents = sl.signature.entitlements if sl.signature else None
        if ents is not None and ents.values:
            kept = {k: v for k, v in ents.values.items() if _xml_writable(k, v)}
            if notes is not None:
                notes.extend(f"Left out entitlement {k!r} of {entry.display!r}: an XML plist "
                             "cannot hold its key or value." for k in ents.values if k not in kept)
            return kept
    return None


def _xml_writable(key: str, value: Any) -> bool:
    try:
        plistlib.dumps({key: value})
    except (ValueError, TypeError, OverflowError):
        return False
    return True


def _executable_of(bundle: Bundle, path: str) -> Entry | None:
    """The main executable of the bundle at ``path`` (or the file itself)."""
    entry = bundle.entry(path)
    if entry is not None and entry.kind is EntryKind.MACHO:
        return entry
    bundle_dir = bundle.layout.bundle_at(path)
    main = bundle.layout.main_executable(bundle_dir) if bundle_dir is not None else None
    return bundle.entry(main) if main is not None else None


def _main_entitlements(bundle: Bundle, name: str, notes: list[str]) -> EntitlementsFile:
    """What the main app should be signed with: its current entitlements minus the ones no
    release needs (and, for Go GUI toolkits, minus JIT/unsigned memory, which neither Metal,
    OpenGL nor WKWebView needs in the app's process)."""
    toolkits = bundle_toolkits(bundle)
    current = _current_entitlements(bundle, bundle.main_executable, notes) or {}
    drop = set(DROPPED_ENTITLEMENTS) | (set(UNNEEDED_ENTITLEMENTS) if toolkits else set())
    values = {k: v for k, v in current.items() if k not in drop}
    if toolkits:
        names = ", ".join(f"{tk.name} {tk.version}" for tk in toolkits)
        drawn = "; ".join(f"{tk.name} draws with {tk.facts.renders_with}" for tk in toolkits)
        source = (f"Go app using {names} ({drawn}): none needs an entitlement under the "
                  "hardened runtime (no allow-jit, no allow-unsigned-executable-memory)")
    elif current:
        source = "the entitlements the app is signed with today, minus get-task-allow"
    else:
        source = "none found; an empty dictionary is what most apps need"
    removed = sorted(set(current) & drop)
    if removed:
        source += f"; removed {', '.join(removed)}"
    return EntitlementsFile(f"{name}.entitlements", "", values, source)


def _kept_entitlements(bundle: Bundle, path: str, kind: str, ent_files: list[EntitlementsFile],
                       notes: list[str]) -> str | None:
    """The entitlements file a nested app, extension, XPC service or executable is signed
    with (its current entitlements, less the dropped ones), added to ``ent_files``; ``None``
    when it has none or is no such code."""
    if kind not in (".app", ".appex", ".xpc", "executable"):
        return None
    current = _current_entitlements(bundle, _executable_of(bundle, path), notes)
    if not current:
        return None
    kept = {k: v for k, v in current.items() if k not in DROPPED_ENTITLEMENTS}
    name = _file_name(PurePosixPath(path).stem, ent_files)
    ent_files.append(EntitlementsFile(name, path, kept, "its current entitlements, kept"))
    return name


def _file_name(stem: str, taken: list[EntitlementsFile]) -> str:
    """``stem.entitlements``, numbered when another target with the same name (a helper
    called like the app) already has that file: each target keeps its own entitlements."""
    names = {ef.name for ef in taken}
    name, n = f"{stem}.entitlements", 1
    while name in names:
        n += 1
        name = f"{stem}-{n}.entitlements"
    return name


def build_plan(bundle: Bundle, *, identity: str = DEFAULT_IDENTITY,
               keychain_profile: str = DEFAULT_PROFILE) -> Plan:
    """The signing, notarization and verification plan for ``bundle`` (pure: no I/O beyond
    reading the bundle model)."""
    q = quote_path
    sign_prefix = "codesign --force --options runtime --timestamp"
    steps: list[SignStep] = []
    ent_files: list[EntitlementsFile] = []
    notes: list[str] = []
    tree = signing_tree(bundle)
    notes.extend(f"{display!r} has neither a main executable nor an Info.plist: "
                 "codesign refuses it as a bundle, so only the code inside it is signed, "
                 "file by file." for display in tree.unsignable)
    order = list(tree.post_order())
    for target in order[:-1]:  # the input itself last, with the app's entitlements
        ents_file = _kept_entitlements(bundle, target.path, target.kind, ent_files, notes)
        member = bundle.entry(target.path) if target.kind == ARCHIVE_MEMBER else None
        if member is not None:  # code in a .jar: the same command check prints
            steps.append(SignStep(target.path, target.kind, None,
                                  archive_member_command(bundle, member, quote(identity))))
            continue
        flag = f" --entitlements {q(ents_file)}" if ents_file else ""
        steps.append(SignStep(target.path, target.kind, ents_file,
                              f"{sign_prefix}{flag} --sign {quote(identity)} "
                              f"{bundle.shell_path(target.path)}"))
    input_path = bundle.input_path
    stem = PurePosixPath(bundle.name).stem
    main = _main_entitlements(bundle, stem, notes)
    main = replace(main, name=_file_name(stem, ent_files))
    ent_files.append(main)
    steps.append(SignStep("", order[-1].kind, main.name,
                          f"{sign_prefix} --entitlements {q(main.name)} --sign {quote(identity)} "
                          f"{q(input_path)}"))
    zip_path = str(Path(input_path).with_name(f"{stem}.zip"))
    if zip_path.casefold() == input_path.casefold():  # never write the archive over the input
        zip_path = str(Path(input_path).with_name(f"{stem}-notarize.zip"))
    notarize = [
        f"ditto -c -k --keepParent {q(input_path)} {q(zip_path)}",
        f"xcrun notarytool submit {q(zip_path)} --keychain-profile {quote(keychain_profile)} "
        "--wait",
    ]
    verify = [f"codesign --verify --deep --strict --verbose=2 {q(input_path)}"]
    if bundle.is_single_file:
        notes.append("A bare Mach-O cannot be stapled: Gatekeeper looks its ticket up online.")
    else:
        notarize.append(f"xcrun stapler staple {q(input_path)}")
        verify += [f"spctl --assess --type execute -vv {q(input_path)}",
                   f"xcrun stapler validate {q(input_path)}"]
    notes.append("Never sign with --deep: it re-signs nested code with the app's entitlements.")
    return Plan(input=input_path, identity=identity, keychain_profile=keychain_profile,
                sign=tuple(steps), entitlements=tuple(ent_files), notarize=tuple(notarize),
                verify=tuple(verify), notes=tuple(dict.fromkeys(notes)))


def build_package_plan(bundle: Bundle, *, identity: str = DEFAULT_INSTALLER_IDENTITY,
                       keychain_profile: str = DEFAULT_PROFILE) -> Plan:
    """The plan for an installer package: ``productsign`` with a Developer ID Installer
    identity, notarize, staple, verify. The code inside is signed before the package is built
    (a signed package cannot be changed), so it is listed in the notes, not signed here."""
    q = quote_path
    input_path = bundle.input_path
    stem = input_path[:-4] if input_path.lower().endswith(".pkg") else input_path
    signed = f"{stem}-signed.pkg"
    if identity == DEFAULT_IDENTITY:
        identity = DEFAULT_INSTALLER_IDENTITY
    notes = []
    apps = sorted({bd.display for bd in bundle.bundle_dirs if bd.is_app})
    for app in apps:
        notes.append(f"Sign {quote(app)} with Developer ID Application before building the "
                     "package: run bundlelint plan on the app, then pkgbuild/productbuild.")
    notes.append("A package is signed with Developer ID Installer, never Developer ID "
                 "Application.")
    sign = (SignStep("", ".pkg", None, f"productsign --sign {quote(identity)} "
                                       f"{q(input_path)} {q(signed)}"),)
    notarize = (f"xcrun notarytool submit {q(signed)} --keychain-profile "
                f"{quote(keychain_profile)} --wait", f"xcrun stapler staple {q(signed)}")
    verify = (f"pkgutil --check-signature {q(signed)}",
              f"spctl --assess --type install -vv {q(signed)}",
              f"xcrun stapler validate {q(signed)}")
    return Plan(input=input_path, identity=identity, keychain_profile=keychain_profile,
                sign=sign, entitlements=(), notarize=notarize, verify=verify,
                notes=tuple(notes))


def build_disk_image_plan(bundle: Bundle, *, identity: str = DEFAULT_IDENTITY,
                          keychain_profile: str = DEFAULT_PROFILE) -> Plan:
    """The plan for a disk image: sign the code in the folder the image is made from
    (inside-out, as for an app), make the image from that folder, sign the image itself with
    Developer ID Application (no hardened-runtime option and no entitlements: it is not
    executable), then notarize and staple the image (docs/formats.md 8.5)."""
    q = quote_path
    input_path = bundle.input_path
    dmg = PurePosixPath(input_path).name
    stem = PurePosixPath(dmg).stem or "image"
    folder = stem if stem != dmg else f"{stem}-contents"
    notes = [f"Paths are relative to {quote(folder + '/')}, the folder the image is made from "
             f"(what {quote(bundle.name)} holds today)."]
    ent_files: list[EntitlementsFile] = []
    steps: list[SignStep] = []
    tree = signing_tree(bundle)
    for target in tree.post_order():
        if not target.path:
            continue  # the image's root is no bundle: the image is signed below
        if target.kind == ARCHIVE_MEMBER:
            notes.append(f"{quote(target.path)} is code inside an archive: sign it outside the "
                         "archive and put it back before the bundle around it (bundlelint "
                         "check prints the commands).")
            continue
        ents_file = _kept_entitlements(bundle, target.path, target.kind, ent_files, notes)
        flag = f" --entitlements {q(ents_file)}" if ents_file else ""
        steps.append(SignStep(target.path, target.kind, ents_file,
                              f"codesign --force --options runtime --timestamp{flag} --sign "
                              f"{quote(identity)} {q(f'{folder}/{target.path}')}"))
    steps.append(SignStep("", ".dmg", None,
                          f"hdiutil create -volname {quote(stem)} -srcfolder {q(folder)} -ov "
                          f"-format UDZO {q(input_path)} && codesign --force --timestamp "
                          f"--sign {quote(identity)} {q(input_path)}"))
    notarize = (f"xcrun notarytool submit {q(input_path)} --keychain-profile "
                f"{quote(keychain_profile)} --wait", f"xcrun stapler staple {q(input_path)}")
    verify = (f"codesign --verify --strict --verbose=2 {q(input_path)}",
              f"spctl --assess --type open --context context:primary-signature -vv "
              f"{q(input_path)}",
              f"xcrun stapler validate {q(input_path)}")
    notes.append("Sign everything inside before making the image: a signed image cannot be "
                 "changed without breaking its signature.")
    notes.append("Never sign with --deep: it re-signs nested code with the app's entitlements.")
    return Plan(input=input_path, identity=identity, keychain_profile=keychain_profile,
                sign=tuple(steps), entitlements=tuple(ent_files), notarize=notarize,
                verify=verify, notes=tuple(dict.fromkeys(notes)))


def render_text(plan: Plan) -> str:
    """The plan as a shell script that stays inert whatever the bundle's names and values hold:
    every name is a quoted word (``bundlelint.shellquote``), comment lines are escaped, and the
    entitlements are written by ``printf`` from quoted lines (no heredoc a key could close)."""
    lines = [comment(f"Signing and notarization plan for {quote(plan.input)}"), ""]
    for ef in plan.entitlements:
        target = quote(ef.for_path) if ef.for_path else "the app"
        lines.append(comment(f"{quote(ef.name)} (for {target}; {ef.source}):"))
        lines.append(f"printf '%s\\n' > {quote_path(ef.name)} \\")
        xml_lines = ef.xml.removesuffix("\n").split("\n")
        lines.extend(f"  {quote(line)} \\" for line in xml_lines[:-1])
        lines.append(f"  {quote(xml_lines[-1])}")
        lines.append("")
    kinds = {step.kind for step in plan.sign}
    lines.append("# 1. Sign the package with Developer ID Installer." if ".pkg" in kinds else
                 "# 1. Sign inside-out, make the image, then sign the image." if ".dmg" in kinds
                 else "# 1. Sign inside-out: nested code first, the app last.")
    lines.extend(step.command for step in plan.sign)
    lines.append("")
    lines.append("# 2. Notarize and staple.")
    lines.extend(plan.notarize)
    lines.append("")
    lines.append("# 3. Verify.")
    lines.extend(plan.verify)
    lines.extend(comment(f"Note: {note}") for note in plan.notes)
    return "\n".join(lines) + "\n"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help=".app bundle, Mach-O file, .dmg or .pkg")
    parser.add_argument("--identity", default=DEFAULT_IDENTITY,
                        help='signing identity (default: "%(default)s")')
    parser.add_argument("--keychain-profile", default=DEFAULT_PROFILE,
                        help="notarytool keychain profile (default: %(default)s)")
    parser.add_argument("--format", choices=("text", "json"), default="text")


def refusal(bundle: Bundle) -> str | None:
    """Why there is no signing plan for ``bundle`` (``None`` when there is one): codesign signs
    Mach-O code and bundles of it, nothing else."""
    if bundle.is_single_file:
        entry = bundle.entries[0] if bundle.entries else None
        if entry is None or entry.kind is not EntryKind.MACHO:
            return f"{bundle.name} is not a Mach-O file or an app bundle: nothing to sign"
        return None
    if next(bundle.machos(), None) is None:
        return f"{bundle.name} holds no Mach-O code: nothing to sign"
    return None


def run(args: argparse.Namespace, registry: Registry) -> int:
    from bundlelint.inputs.zip import looks_like_zip

    path = Path(args.path)
    if path.is_file() and looks_like_zip(path):
        # codesign signs the unzipped bundle; a plan naming an app beside the zip would sign
        # something that is not there, and its `ditto` could overwrite the zip.
        print(f"bundlelint: error: plan needs the bundle, not an archive: unzip "
              f"{printable(args.path)} (ditto -x -k ARCHIVE DIR) and run `bundlelint plan "
              "DIR/NAME.app`", file=sys.stderr)
        return EXIT_USAGE
    bundle = open_or_report(args.path)
    if bundle is None:
        return EXIT_USAGE
    if bundle.package is not None:
        plan = build_package_plan(bundle, identity=args.identity,
                                  keychain_profile=args.keychain_profile)
    elif bundle.disk_image is not None:
        plan = build_disk_image_plan(bundle, identity=args.identity,
                                     keychain_profile=args.keychain_profile)
    elif (reason := refusal(bundle)) is not None:
        print(f"bundlelint: error: {printable(reason)}", file=sys.stderr)
        return EXIT_USAGE
    else:
        plan = build_plan(bundle, identity=args.identity,
                          keychain_profile=args.keychain_profile)
    if args.format == "json":
        sys.stdout.write(json.dumps(plan.to_json(), indent=2) + "\n")
    else:
        sys.stdout.write(render_text(plan))
    return EXIT_CLEAN
