"""Fix commands shared by rules: what exactly to run to re-sign a piece of code.

Code inside a bundle is signed inside-out, each piece on its own, never with ``--deep`` (which
re-signs the main executable without its entitlements). What to point codesign at is the
bundle geometry's answer (``bundlelint.layout.Layout.signing_target``), the same one ``plan``
uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bundlelint.bundle import Bundle, Entry
from bundlelint.errors import ParseError
from bundlelint.shellquote import fill_template, quote, quote_path

if TYPE_CHECKING:
    from bundlelint.inputs.zip import ZipReport

IDENTITY = '"Developer ID Application: YOUR NAME (TEAMID)"'
#: How Apple documents zipping an app for the notary: keeps symlinks, modes and attributes.
DITTO = "ditto -c -k --keepParent {app} {zip}"


def ditto_command(report: ZipReport) -> str:
    """The exact ditto command that re-zips this archive's app under the same name."""
    apps = [t for t in report.top_level if t.endswith(".app")]
    app = report.app_name or (apps[0] if apps else "MyApp.app")
    return fill_template(DITTO, app=quote_path(app), zip=quote_path(report.archive_name))


def signing_target(bundle: Bundle, entry: Entry) -> str:
    """The input-relative path ``codesign`` should be pointed at to re-sign ``entry``: the
    bundle whose main executable it is, else the file itself."""
    return bundle.layout.signing_target(entry.relpath)


def has_entitlements(bundle: Bundle, entry: Entry) -> bool:
    """Whether any slice of ``entry`` is signed with a non-empty entitlements dict."""
    try:
        macho = bundle.macho(entry)
    except ParseError:
        return False
    return any(
        sl.signature is not None
        and sl.signature.entitlements is not None
        and bool(sl.signature.entitlements.values)
        for sl in macho.slices
    )


def codesign_command(bundle: Bundle, entry: Entry, *, entitlements: bool | None = None) -> str:
    """``codesign`` with hardened runtime and a secure timestamp for ``entry``'s target.

    ``--entitlements`` is added when the code is signed with entitlements today (re-signing
    without them would silently drop them) or when the caller asks for it; a Metal app needs
    none, so none are suggested by default.
    """
    if entry.container is not None:
        return archive_member_command(bundle, entry)
    target = signing_target(bundle, entry)
    wanted = has_entitlements(bundle, entry) if entitlements is None else entitlements
    ents = " --entitlements app.entitlements" if wanted else ""
    return (
        f"codesign --force --options runtime --timestamp{ents} --sign {IDENTITY} "
        f"{bundle.shell_path(target)}"
    )


def _zip_rebuildable(name: str) -> bool:
    """Whether the archive ``name`` is zip-format (found by magic, whatever its name), so that
    ``unzip`` and ``zip`` can put a signed member back; tar archives, disk images and packages
    are rebuilt from their sources instead."""
    return not name.lower().endswith((".tar", ".tar.gz", ".tgz", ".dmg", ".pkg"))


def archive_member_command(bundle: Bundle, entry: Entry, identity: str = IDENTITY) -> str:
    """Code inside a nested archive (a dylib in a .jar) is signed outside it and put back;
    the bundle must then be re-signed, since its seal covers the archive file. ``identity``
    is a shell word (``plan`` passes its ``--identity`` quoted). ``check`` and ``plan`` both
    print this."""
    assert entry.container is not None
    member = quote(entry.relpath[len(entry.container) + 1 :])
    if not _zip_rebuildable(entry.container):
        # A tar archive, disk image or package is rebuilt from its sources: sign there.
        return (f"codesign --force --options runtime --timestamp --sign {identity} {member}"
                "  # in the directory the archive or image is built from, before it is built")
    return (
        f"jar=$(realpath {bundle.shell_path(entry.container)}) && tmp=$(mktemp -d) && "
        f'unzip -q "$jar" {member} -d "$tmp" && '
        f'codesign --force --options runtime --timestamp --sign {identity} "$tmp"/{member} && '
        f'(cd "$tmp" && zip -q "$jar" {member})  # then re-sign the bundle'
    )
