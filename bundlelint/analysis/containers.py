"""Package and ticket facts of one input, memoised on the bundle: the package report of a
``.pkg`` input, the ticket stapled to an app, which of the input's code a ticket lists, and the
AppleDouble entries of a package's payloads.

Why here: rules read models, never bytes; these need the bytes again (the package file, a
ticket file, ``._`` entries), and every rule of the family asks for the same results.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from functools import partial

from bundlelint.analysis.package import PackageReport, package_report
from bundlelint.analysis.ticket import Coverage, TicketCheck, check_ticket
from bundlelint.bundle import Bundle, Entry, EntryKind
from bundlelint.errors import ParseError
from bundlelint.layout import BundleDir
from bundlelint.options import Options
from bundlelint.parsers.appledouble import AppleDouble, parse_appledouble
from bundlelint.parsers.ticket import MAX_TICKET, looks_like_ticket

_FILES = frozenset((EntryKind.DATA, EntryKind.PLIST, EntryKind.MACHO, EntryKind.METALLIB))
#: AppleDouble files larger than this are not read (real ones are a few kilobytes).
MAX_APPLEDOUBLE = 16 * 1024 * 1024


def _anchors_key(options: Options) -> str:
    return hashlib.sha256(b"".join(options.extra_trust_anchors)).hexdigest()[:16]


def package_of(bundle: Bundle, options: Options) -> PackageReport | None:
    """The checked installer package of a ``.pkg`` input, else None."""
    volume = bundle.package
    if volume is None:
        return None
    return bundle.memo("package", _anchors_key(options),
                       lambda: package_report(volume, options.extra_trust_anchors))


def _code(bundle: Bundle, under: str = "") -> list[tuple[str, tuple[tuple[int, bytes], ...]]]:
    """Each signed Mach-O slice of the input (under the directory ``under``, if given):
    (display, its CodeDirectories' (type, cdhash))."""
    out = []
    for entry, macho in bundle.machos():
        if under and not entry.relpath.startswith(f"{under}/"):
            continue
        for sl in macho.slices:
            sig = sl.signature
            if sig is None or not sig.code_directories:
                continue
            out.append((f"{entry.display} ({sl.arch})",
                        tuple((cd.hash_type, cd.cdhash) for cd in sig.code_directories)))
    return out


def code_coverage(bundle: Bundle, check: TicketCheck, under: str = "") -> tuple[Coverage, ...]:
    """Which signed slices of the input (under ``under``) the ticket lists (a slice counts as
    listed when any of its CodeDirectories' cdhashes is)."""
    ticket = check.ticket
    if ticket is None:
        return ()
    out = []
    for what, hashes in _code(bundle, under):
        listed = any(h.hash_type == t and h.digest == d[:len(h.digest)]
                     for t, d in hashes for h in ticket.hashes)
        out.append(Coverage(what, hashes[0][0], hashes[0][1], listed))
    return tuple(out)


def package_ticket(bundle: Bundle, options: Options) -> TicketCheck | None:
    """The package's stapled ticket with the payload's code coverage filled in."""
    report = package_of(bundle, options)
    if report is None or report.ticket is None:
        return None
    check = report.ticket
    return bundle.memo("package-ticket", _anchors_key(options),
                       lambda: replace(check, contained=code_coverage(bundle, check)))


@dataclass(frozen=True)
class AppTicket:
    """A file at ``Contents/CodeResources`` of the app (where ``stapler`` puts the ticket)."""

    entry: Entry
    check: TicketCheck | None  # None: the file is not a ticket
    read_error: str | None = None


def app_tickets(bundle: Bundle, options: Options) -> list[AppTicket]:
    """The ticket file of every app of the input (the input itself, or apps inside a disk
    image or package), where ``Contents/CodeResources`` exists."""
    out = []
    for bd in bundle.bundle_dirs:
        if not bd.is_app:
            continue
        relpath = f"{bd.relpath}/Contents/CodeResources" if bd.relpath else \
            "Contents/CodeResources"
        entry = bundle.entry(relpath)
        if entry is None or entry.kind not in _FILES:
            continue
        out.append(bundle.memo("app-ticket", f"{relpath}:{_anchors_key(options)}",
                               partial(_app_ticket, bundle, bd, entry, options)))
    return out


def _app_ticket(bundle: Bundle, bd: BundleDir, entry: Entry, options: Options) -> AppTicket:
    try:
        with bundle.open_entry(entry) as fh:
            data = fh.read(MAX_TICKET + 1)
    except OSError as exc:
        return AppTicket(entry, None, str(exc.strerror or exc))
    if not looks_like_ticket(data):
        return AppTicket(entry, None)
    mains: list[tuple[int, bytes]] = []
    main_path = bundle.layout.main_executable(bd)
    main = bundle.entry(main_path) if main_path else None
    if main is not None and main.kind is EntryKind.MACHO:
        try:
            macho = bundle.macho(main)
        except ParseError:
            macho = None
        for sl in macho.slices if macho is not None else ():
            if sl.signature is not None:
                mains += [(cd.hash_type, cd.cdhash) for cd in sl.signature.code_directories]
    check = check_ticket(data, where=entry.display, offset=0, own=None,
                         anchors=options.extra_trust_anchors)
    if check.ticket is not None and mains:
        listed = any(h.hash_type == t and h.digest == d[:len(h.digest)]
                     for t, d in mains for h in check.ticket.hashes)
        own = Coverage("the app's main executable", mains[0][0], mains[0][1], listed)
        check = replace(check, own=own, contained=code_coverage(bundle, check, bd.relpath))
    return AppTicket(entry, check)


def payload_appledouble(bundle: Bundle) -> list[tuple[Entry, AppleDouble | ParseError]]:
    """Every ``._name`` file in a package's payloads, parsed (pkgbuild stores extended
    attributes and resource forks this way, as ditto does in a zip)."""
    if bundle.package is None:
        return []

    def compute() -> list[tuple[Entry, AppleDouble | ParseError]]:
        out: list[tuple[Entry, AppleDouble | ParseError]] = []
        for entry in bundle.entries:
            if entry.kind not in _FILES or not entry.name.startswith("._") or \
                    "/Payload/" not in f"/{entry.relpath}":
                continue
            try:
                with bundle.open_entry(entry) as fh:
                    data = fh.read(MAX_APPLEDOUBLE + 1)
                if len(data) > MAX_APPLEDOUBLE:
                    raise ParseError("AppleDouble", entry.display, None,
                                     f"larger than {MAX_APPLEDOUBLE} bytes")
                out.append((entry, parse_appledouble(data, entry.display)))
            except ParseError as err:
                out.append((entry, err))
            except OSError as exc:
                out.append((entry, ParseError("AppleDouble", entry.display, None,
                                              str(exc.strerror or exc))))
        return out

    return bundle.memo("payload-appledouble", "", compute)
