"""BL70x: the .zip uploaded to Apple (zip input only; quiet for directories and files), and
BL704, a symlinked .DS_Store, which codesign refuses in a zip or a directory alike. A
framework whose links a zip tool turned into copies is a structure finding (BL012, once BL702).

These rules read ``Bundle.archive`` (a ``ZipReport`` of central-directory facts) and never the
archive's bytes. Symlinks inside the app that point outside it are BL004's, which judges zip
input through the same bundle model. The fix is nearly always to zip the app again the way
Apple documents: ``ditto -c -k --keepParent MyApp.app MyApp.zip``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

from bundlelint.bundle import EntryKind
from bundlelint.errors import ParseError
from bundlelint.findings import Applicability, Finding
from bundlelint.inputs.zip import ZipMember, ZipReport
from bundlelint.layout import BUNDLE_EXTENSIONS
from bundlelint.parsers.appledouble import XATTR_FINDER_INFO, XATTR_RESOURCE_FORK
from bundlelint.rules import _evidence as E
from bundlelint.rules._commands import DITTO, ditto_command
from bundlelint.rules.base import Consequence, RuleContext, RuleMeta, doc, policy, rule, source

REZIP = (
    "Zip the app again with `ditto -c -k --keepParent MyApp.app MyApp.zip` (what Apple "
    "documents for notarization): it keeps symlinks, permissions and extended attributes "
    "as the signature needs them and adds no __MACOSX/ or ._ files."
)
#: Examples quoted in a finding that summarises many entries.
MAX_EXAMPLES = 3


def _ditto(report: ZipReport) -> str:
    """The exact ditto command for this archive's app and name."""
    return ditto_command(report)


def _shown(report: ZipReport, member: ZipMember) -> str:
    """A member inside the app reads like the bundle's own paths; others name the archive."""
    name = member.name.rstrip("/")
    if report.app_name and name.startswith(report.app_name + "/") and not member.is_unsafe:
        return name
    return report.path_of(member.name)


@rule(
    RuleMeta(
        id="BL701",
        slug="archive-unreadable",
        consequence=Consequence.NOT_CHECKED,
        evidence=(
            E.NOT_CHECKED,
        ),
        summary="The zip archive cannot be read",
        what="Reports a .zip input whose central directory cannot be read (truncated, corrupt, "
        "or not a zip at all).",
        why="Apple's notary cannot unpack it either, and nothing inside was checked.",
        how_to_fix=REZIP,
        fix_command=DITTO,
        fix_applicability=Applicability.UNSAFE,
    )
)
def archive_unreadable(ctx: RuleContext) -> Iterator[Finding]:
    report = ctx.bundle.archive
    if report is not None and report.error is not None:
        yield ctx.finding(path=report.archive_name, message=f"cannot read the zip: "
                          f"{report.error}", command=_ditto(report))


@rule(
    RuleMeta(
        id="BL703",
        slug="appledouble-in-archive",
        consequence=Consequence.MAY_FAIL,
        evidence=(
            source(
                "Security",
                "resources.cpp",
                "ResourceBuilder::hashFile",
                "under strict checking only the com.apple.ResourceFork and com.apple.FinderInfo "
                "attributes are 'detritus' (errSecCSInvalidAssociatedFileData); other extended "
                "attributes are allowed",
            ),
            source(
                "Security",
                "OSX/libsecurity_utilities/lib/unix++.cpp",
                "checkFork",
                "FileDesc::hasExtendedAttribute counts an attribute only when it is present "
                "and non-empty",
            ),
            source(
                "copyfile",
                "copyfile.c",
                "copyfile_unpack",
                "unpacking an AppleDouble file restores com.apple.FinderInfo only when its 32 "
                "bytes are not all zero (emptyfinfo), the resource fork only when entry 2 has "
                "data; other attributes are restored as they are",
            ),
            doc(
                "https://developer.apple.com/documentation/security/customizing-the-notarization-workflow",
                "Apple documents `ditto -c -k --keepParent` for the upload zip; it stores "
                "extended attributes as ._ entries",
            ),
        ),
        summary="The zip holds a resource fork or Finder info (._ entries) or a __MACOSX/ folder",
        what=(
            "Reports a `__MACOSX/` directory, and each `._name` AppleDouble entry whose "
            "content carries a resource fork or non-zero Finder info (also when stored as the "
            "com.apple.ResourceFork or com.apple.FinderInfo attribute), naming which. A `._` "
            "entry holding only other extended attributes (com.apple.provenance, "
            "com.apple.quarantine, ...) is not reported: `ditto -c -k --keepParent` writes one "
            "for every file that has any attribute. A `._` entry that cannot be parsed is "
            "reported with its offset."
        ),
        why=(
            "When the zip is unpacked by ditto or Archive Utility, the `._` entries become "
            "extended attributes again. codesign treats only a resource fork and Finder "
            "information as 'detritus' (errSecCSInvalidAssociatedFileData, 'resource fork, "
            "Finder information, or similar detritus not allowed'; Security "
            "`ResourceBuilder::hashFile` in resources.cpp): strict verification of the "
            "unpacked app fails on them, while other attributes are allowed. An all-zero "
            "Finder info is not restored by copyfile, so it is not reported. Unpacked by a "
            "plain unzip, the entries are files the seal does not list instead. Whether the "
            "notary's own unpacking trips on them is not documented, so this is a warning."
        ),
        how_to_fix="Strip the resource fork and Finder info from the app (`xattr -cr "
        "MyApp.app` clears every attribute), sign it again, then zip it again with `ditto -c "
        "-k --keepParent MyApp.app MyApp.zip` (what Apple documents for notarization).",
        fix_command=DITTO,
    )
)
def appledouble_in_archive(ctx: RuleContext) -> Iterator[Finding]:
    report = ctx.bundle.archive
    if report is None:
        return
    macosx = [m for m in report.members if m.parts and m.parts[0] == "__MACOSX"]
    if macosx:
        examples = ", ".join(m.name for m in macosx[:MAX_EXAMPLES])
        yield ctx.finding(path=report.path_of("__MACOSX"),
                          message=f"__MACOSX/ holds {len(macosx)} AppleDouble entries "
                          f"(e.g. {examples})", evidence={"count": len(macosx)},
                          command=_ditto(report))
    if not report.inspected:
        return  # members were not read (BL701 or the archive limits say why)
    for member in report.members:
        if not (member.parts and member.parts[0] != "__MACOSX"
                and member.parts[-1].startswith("._") and not member.is_dir
                and not member.is_symlink):
            continue
        try:
            double = ctx.bundle.appledouble(member)
        except ParseError as err:
            yield ctx.finding(path=_shown(report, member), offset=err.offset,
                              message=f"AppleDouble file cannot be parsed: {err.reason}",
                              command=_ditto(report))
            continue
        detritus = double.detritus
        if detritus:
            owner = member.parts[-1][2:]
            yield ctx.finding(path=_shown(report, member),
                              message=f"AppleDouble file gives {owner} "
                              f"{' and '.join(_DETRITUS[d] for d in detritus)}: detritus "
                              "codesign refuses once unpacked",
                              evidence={"attributes": ", ".join(detritus)},
                              command=_ditto(report))


_DETRITUS = {XATTR_RESOURCE_FORK: "a resource fork (com.apple.ResourceFork)",
             XATTR_FINDER_INFO: "non-zero Finder info (com.apple.FinderInfo)"}


@rule(
    RuleMeta(
        id="BL704",
        slug="ds-store-symlink",
        consequence=Consequence.CODESIGN_REFUSES,
        evidence=(
            source(
                "Security",
                "resources.cpp",
                "ResourceBuilder::scan",
                "a symlink named .DS_Store is errSecCSDSStoreSymlink, '.DS_Store files cannot "
                "be a symlink', when signing and when verifying; a regular .DS_Store is omitted "
                "by the default seal rules",
            ),
        ),
        summary="A .DS_Store inside a bundle is a symlink",
        what=(
            "Reports a `.DS_Store` (any case) inside a bundle that is a symlink, in a zip or a "
            "directory. Regular .DS_Store files are not reported: the default seal rules omit "
            "them (`^(.*/)?\\.DS_Store$`, omit), so Finder can write them without breaking "
            "the signature."
        ),
        why=(
            "codesign's resource scan refuses a symlinked .DS_Store outright "
            "(errSecCSDSStoreSymlink, '.DS_Store files cannot be a symlink'; Security "
            "`ResourceBuilder::scan` in resources.cpp), both when signing and when verifying, "
            "so the bundle cannot be signed and a signed one fails verification."
        ),
        how_to_fix="Delete the link (a .DS_Store is never needed in a bundle) and re-sign.",
        fix_command="rm {link}  # then re-sign the bundle",
        fix_applicability=Applicability.UNSAFE,
    )
)
def ds_store_symlink(ctx: RuleContext) -> Iterator[Finding]:
    bundle = ctx.bundle
    for entry in bundle.entries_of(EntryKind.SYMLINK):
        if entry.relpath.rpartition("/")[2].lower() != ".ds_store":
            continue
        if bundle.bundle_dir_of(entry.relpath).extension not in BUNDLE_EXTENSIONS:
            continue  # beside the app in a zip: no signer scans it
        yield ctx.finding(path=entry.display,
                          message=f"symlinked .DS_Store (-> {entry.symlink_target}): codesign "
                          "refuses it (errSecCSDSStoreSymlink)",
                          evidence={"target": entry.symlink_target or ""},
                          link=bundle.shell_path(entry.relpath))


@rule(
    RuleMeta(
        id="BL705",
        slug="no-single-app",
        consequence=Consequence.ADVICE,
        evidence=(
            doc(
                "https://developer.apple.com/documentation/security/customizing-the-notarization-workflow",
                "the notary accepts a zip of an app, a bare tool or several items; Apple "
                "documents `ditto -c -k --keepParent` to zip the app",
            ),
        ),
        summary="The zip does not hold exactly one .app at its top level",
        what=(
            "A zip for notarization should hold `MyApp.app/...` at its top level (what "
            "`ditto -c -k --keepParent` writes). Reports archives with no top-level .app (for "
            "example a zip of `Contents/`, or of a lone text file) or with several. A zip "
            "holding just one Mach-O file (a command-line tool) is fine: it is linted as that "
            "file."
        ),
        why=(
            "The notary accepts a zip of an app, of a bare tool or of several items, so this is "
            "advice: without the .app directory the bundle has no name when unpacked, and with "
            "several apps each must be stapled on its own, which is easy to get wrong. "
            "bundlelint lints the whole archive in that case."
        ),
        how_to_fix=REZIP,
        fix_command=DITTO,
    )
)
def no_single_app(ctx: RuleContext) -> Iterator[Finding]:
    report = ctx.bundle.archive
    if report is None or report.error is not None or report.app_name is not None:
        return
    if report.single_tool:
        return
    apps = [t for t in report.top_level if t.endswith(".app")]
    shown = ", ".join(report.top_level[:MAX_EXAMPLES]) or "nothing"
    if apps:
        message = f"{len(apps)} .app bundles at the top level: {', '.join(apps)}"
    else:
        message = f"no .app at the top level (it holds {shown})"
    yield ctx.finding(path=report.archive_name, message=message,
                      evidence={"top_level": ",".join(report.top_level)}, command=_ditto(report))


@rule(
    RuleMeta(
        id="BL706",
        slug="unsafe-archive-path",
        consequence=Consequence.NOT_CHECKED,
        evidence=(
            policy(
                "an entry that would unpack outside its folder is never mapped into the bundle, "
                "so it is not checked; no Apple tool writes one",
            ),
        ),
        summary="A zip entry's name escapes the folder it unpacks into or is ambiguous",
        what="Reports entries whose names start with `/` or a drive letter, contain a "
        "backslash, have a `..` component or a NUL byte, or differ from the name in their local "
        "header, and names stored more than once. Such entries are never mapped into the "
        "bundle (of a name stored twice, bundlelint checks the last copy).",
        why=(
            "Such an entry unpacks outside the folder it is unpacked into (zip slip), or "
            "unpacks differently depending on the tool: C-string tools cut a name at its NUL "
            "(`a\\0b/../../etc/passwd` becomes `a`), some tools read the local header's name "
            "and others the central directory's, and a second entry of the same name replaces "
            "the first. What was checked or signed is then not necessarily what is unpacked, "
            "and bundlelint never maps such an entry into the bundle, so it is not checked: an "
            "error by bundlelint's policy (nothing public shows what Apple's service does with "
            "one). No honest build produces such an archive."
        ),
        how_to_fix=REZIP,
        fix_command=DITTO,
    )
)
def unsafe_archive_path(ctx: RuleContext) -> Iterator[Finding]:
    report = ctx.bundle.archive
    if report is None:
        return
    for member in report.members:
        if member.has_nul:
            cut = member.name.split("\0", 1)[0]
            message = (f"entry name {member.name!r} holds a NUL byte: tools that stop there "
                       f"unpack it as {cut!r}, others under the whole name")
        elif member.local_name is not None:
            message = (f"entry name {member.name!r} is {member.local_name!r} in its local "
                       f"header at offset {member.header_offset}: tools unpack one or the "
                       "other")
        elif member.is_unsafe:
            message = f"entry name {member.name!r} escapes the folder it is unpacked into"
        else:
            continue
        yield ctx.finding(path=report.path_of(member.name), offset=member.header_offset,
                          message=message, command=_ditto(report))
    seen: dict[str, list[ZipMember]] = {}
    for member in report.members:
        seen.setdefault(member.name.rstrip("/"), []).append(member)
    for name, copies in seen.items():
        if len(copies) < 2 or not name:
            continue
        offsets = ", ".join(str(m.header_offset) for m in copies[:MAX_EXAMPLES])
        more = ", ..." if len(copies) > MAX_EXAMPLES else ""
        yield ctx.finding(path=_shown(report, copies[-1]), offset=copies[0].header_offset,
                          message=f"{len(copies)} entries are named {name!r} (local headers "
                          f"at offsets {offsets}{more}): unpacking keeps one of them, which "
                          "one depends on the tool; bundlelint checked the last",
                          evidence={"copies": len(copies)}, command=_ditto(report))


@rule(
    RuleMeta(
        id="BL707",
        slug="archive-too-large",
        consequence=Consequence.NOT_CHECKED,
        evidence=(
            E.NOT_CHECKED,
        ),
        summary="The zip is a zip bomb: over the configured limits, or its members overlap",
        what=(
            "Sums the uncompressed sizes in the central directory and compares them, the "
            "compression ratio (overall and of each member of 1 MiB or more) and the number of "
            "entries with `max_archive_size` (default 8 GiB), `max_compression_ratio` (default "
            "200:1) and `max_archive_members` (default 250,000; the entries are counted by "
            "walking the record headers before anything is loaded). Then every member's local "
            "header and data must lie in a span of its own, and every member is streamed once "
            "counting the compressed bytes really read against the bytes produced: a member "
            "whose real data inflates past the ratio limit is stopped there, whatever sizes its "
            "central directory declares. Over any limit the archive is not walked at all, so "
            "its content is not checked."
        ),
        why=(
            "A zip bomb inflates to far more than any app, and a directory of millions of "
            "entries would need as many objects in memory; checking either would exhaust "
            "memory or disk. Members that share their bytes (David Fifield's \"better zip "
            "bomb\") or declare a compressed size larger than their real data make the "
            "declared ratio look harmless. A real app bundle compresses about 2-5:1, and no "
            "zip tool writes overlapping members."
        ),
        how_to_fix="Check what made the archive so large, so full or so compressible; if it "
        "is genuine, raise the limit in the configuration (`max-archive-size`, "
        "`max-compression-ratio`, `max-archive-members` in bundlelint.toml or "
        "[tool.bundlelint]).",
        fix_applicability=Applicability.DISPLAY,
    )
)
def archive_too_large(ctx: RuleContext) -> Iterator[Finding]:
    report = ctx.bundle.archive
    if report is None or report.error is not None:
        return
    reason = report.refused
    if reason is None:  # the rule's own options may be stricter than the walk's
        opts = ctx.options
        if report.total_uncompressed > opts.max_archive_size:
            reason = (f"declares {report.total_uncompressed} bytes uncompressed, over the "
                      f"{opts.max_archive_size} byte limit (max_archive_size)")
        elif (report.total_uncompressed >= 1024 * 1024
              and report.ratio > opts.max_compression_ratio):
            reason = (f"compression ratio {report.ratio:.0f}:1 is over the "
                      f"{opts.max_compression_ratio:g}:1 limit (max_compression_ratio)")
    if reason is not None:
        yield ctx.finding(
            path=report.archive_name,
            offset=report.refused_offset,
            message=f"the archive {reason}; its content was not inflated or checked",
            evidence={"uncompressed": report.total_uncompressed,
                      "compressed": report.total_compressed},
        )


def _form(name: str) -> str | None:
    if name.isascii():
        return None
    nfc, nfd = unicodedata.normalize("NFC", name), unicodedata.normalize("NFD", name)
    if nfc == nfd:
        return None
    return "NFC" if name == nfc else "NFD" if name == nfd else "mixed"


@rule(
    RuleMeta(
        id="BL708",
        slug="mixed-unicode-normalisation",
        consequence=Consequence.MAY_FAIL,
        evidence=(
            source(
                "Security",
                "StaticCode.cpp",
                "SecStaticCode::validateResource",
                "the seal looks files up by their names as stored; a name in another "
                "normalisation form is not found and is reported as missing or added",
            ),
        ),
        summary="Entry names in the zip mix Unicode normalisation forms",
        what=(
            "Compares the names of entries with accented characters: the same name stored in "
            "both NFC and NFD form, or an archive where some names are NFC and others NFD."
        ),
        why=(
            "APFS keeps names as written while the code signature's resource seal compares "
            "them byte for byte: a file renamed to another form by a zip tool or a non-Apple "
            "file system no longer matches its seal, and two forms of one name can collide on "
            "unpacking."
        ),
        how_to_fix=REZIP + " Build and zip on the Mac that signs, so that names keep the form "
        "they were sealed in.",
        fix_command=DITTO,
    )
)
def mixed_unicode_normalisation(ctx: RuleContext) -> Iterator[Finding]:
    report = ctx.bundle.archive
    if report is None:
        return
    groups: dict[str, list[ZipMember]] = {}
    forms: dict[str, list[ZipMember]] = {}
    for member in report.members:
        form = _form(member.name)
        if form is None:
            continue
        groups.setdefault(unicodedata.normalize("NFC", member.name), []).append(member)
        forms.setdefault(form, []).append(member)
    for members in groups.values():
        distinct = sorted({m.name for m in members})
        if len(distinct) > 1:
            yield ctx.finding(path=_shown(report, members[0]),
                              message=f"the same name is stored in {len(distinct)} "
                              f"normalisation forms: {', '.join(repr(n) for n in distinct)}",
                              command=_ditto(report))
    if "NFC" in forms and "NFD" in forms:
        yield ctx.finding(
            path=report.archive_name,
            message=f"{len(forms['NFC'])} names are NFC (e.g. {forms['NFC'][0].name!r}) and "
            f"{len(forms['NFD'])} are NFD (e.g. {forms['NFD'][0].name!r})",
            evidence={"nfc": len(forms["NFC"]), "nfd": len(forms["NFD"])},
            command=_ditto(report),
        )
