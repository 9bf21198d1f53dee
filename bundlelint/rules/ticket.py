"""Stapled notarization tickets (BL840-BL844; docs/formats.md 14): an app's
``Contents/CodeResources``, the data after a package's archive, slot 0x10002 of a disk
image's signature (read by ``analysis.diskimage``).

What can be known offline: whether a ticket is stapled, whether it is Apple's (signature and
chain), and whether it lists this artifact and its code. What cannot: whether an artifact with
no stapled ticket is notarized, and whether Apple revoked a ticket (both are online lookups
Gatekeeper makes; bundlelint never goes online).
"""

from __future__ import annotations

from collections.abc import Iterator

from bundlelint.analysis.cms import LeafKind
from bundlelint.analysis.containers import app_tickets, package_of, package_ticket
from bundlelint.analysis.ticket import TicketCheck
from bundlelint.findings import Finding
from bundlelint.rules._evidence import NOT_CHECKED
from bundlelint.rules.base import Consequence, RuleContext, RuleMeta, doc, rule

NOTARIZING = "https://developer.apple.com/documentation/security/notarizing-macos-software-before-distribution"
STAPLE_DOC = doc(
    NOTARIZING,
    "staple the ticket to the software with stapler so that Gatekeeper can find it when "
    "there is no network connection; otherwise Gatekeeper looks the ticket up online",
)
STAPLER = "xcrun stapler staple {artifact}"
MAX_LISTED = 5


def _tickets(ctx: RuleContext) -> Iterator[tuple[str, TicketCheck]]:
    """(artifact display name, ticket check) for the input's stapled tickets."""
    check = package_ticket(ctx.bundle, ctx.options)
    report = package_of(ctx.bundle, ctx.options)
    if check is not None and report is not None:
        yield report.name, check
    for app in app_tickets(ctx.bundle, ctx.options):
        if app.check is not None:
            yield app.entry.display, app.check
    if getattr(ctx.bundle, "disk_image", None) is not None:
        from bundlelint.analysis.diskimage import image_ticket

        image = image_ticket(ctx.bundle, ctx.options)
        if image is not None:
            yield image.where, image


@rule(RuleMeta(
    id="BL840",
    slug="ticket-unreadable",
    consequence=Consequence.NOT_CHECKED,
    evidence=(NOT_CHECKED,),
    summary="A stapled ticket cannot be read",
    what="Reports a stapled ticket (magic `s8ch`) whose structure is broken, with the offset.",
    why="Gatekeeper cannot use a ticket it cannot read; bundlelint could not check what it "
    "lists.",
    how_to_fix="Staple the ticket again: `xcrun stapler staple` on the notarized artifact.",
    fix_command=STAPLER,
))
def ticket_unreadable(ctx: RuleContext) -> Iterator[Finding]:
    for _where, check in _tickets(ctx):
        if check.parse_error is not None:
            yield ctx.finding(path=check.where, offset=check.parse_error.offset,
                              message=f"the stapled ticket cannot be read: "
                              f"{check.parse_error.reason}", artifact=ctx.bundle.input_path)


@rule(RuleMeta(
    id="BL841",
    slug="ticket-not-apples",
    consequence=Consequence.MAY_FAIL,
    evidence=(STAPLE_DOC,),
    summary="A stapled ticket is not validly signed by Apple",
    what="Verifies the ticket's ECDSA signature with its signer certificate and the chain to "
    "Apple Root CA - G3 (or a `--trust-anchor`); reports a signature that does not verify or "
    "a chain that does not end at Apple.",
    why="A ticket is Apple's signed statement that the notary accepted this code; one whose "
    "signature fails is worth nothing, so the first launch needs the online check, and "
    "offline the launch is refused like an unnotarized one.",
    how_to_fix="Staple Apple's ticket again: `xcrun stapler staple` on the notarized artifact.",
    fix_command=STAPLER,
))
def ticket_not_apples(ctx: RuleContext) -> Iterator[Finding]:
    for _where, check in _tickets(ctx):
        if check.ticket is None:
            continue
        if check.signature_problem:
            yield ctx.finding(path=check.where, offset=check.offset,
                              message=f"ticket signature: {check.signature_problem}",
                              artifact=ctx.bundle.input_path)
        elif check.chain is not None and not check.chain.trusted:
            yield ctx.finding(path=check.where, offset=check.offset,
                              message=f"the ticket's certificate chain is "
                              f"{check.chain.status.value}",
                              artifact=ctx.bundle.input_path)


@rule(RuleMeta(
    id="BL842",
    slug="ticket-for-other-code",
    consequence=Consequence.MAY_FAIL,
    evidence=(STAPLE_DOC, doc(NOTARIZING, "the notary issues a ticket for the code it "
                              "checked; changing the code after notarization needs a new "
                              "submission")),
    summary="The stapled ticket does not list this artifact",
    what="Reports a stapled ticket that does not list the artifact it is stapled to: for a "
    "package its TOC checksum, for an app its main executable's cdhash (docs/formats.md 14).",
    why="The artifact changed after it was notarized (re-signed, rebuilt) or the ticket of "
    "another build was stapled. Gatekeeper finds no ticket for this code: the first launch "
    "needs the online check, and offline it is refused.",
    how_to_fix="Notarize the artifact as it is now and staple the new ticket.",
    fix_command=STAPLER,
))
def ticket_for_other_code(ctx: RuleContext) -> Iterator[Finding]:
    for _where, check in _tickets(ctx):
        if check.own is not None and not check.own.listed:
            yield ctx.finding(path=check.where, offset=check.offset,
                              message=f"the stapled ticket does not list {check.own.what} "
                              f"({check.own.digest[:20].hex()})",
                              evidence={"hash": check.own.digest[:20].hex()},
                              artifact=ctx.bundle.input_path)


@rule(RuleMeta(
    id="BL843",
    slug="ticket-misses-code",
    consequence=Consequence.ADVICE,
    evidence=(STAPLE_DOC,),
    summary="Code in the artifact is not listed in its stapled ticket",
    what="Lists signed Mach-O slices inside the artifact whose cdhashes the stapled ticket "
    "does not list (the tickets of real packages list every slice of their payload's code).",
    why="Code changed after notarization, or came from another build. Gatekeeper judges that "
    "code by its own ticket lookup when it first runs.",
    how_to_fix="Notarize the artifact as it is now and staple the new ticket.",
    fix_command=STAPLER,
))
def ticket_misses_code(ctx: RuleContext) -> Iterator[Finding]:
    for _where, check in _tickets(ctx):
        missing = check.unlisted
        if check.ticket is None or not missing or (check.own is not None and
                                                   not check.own.listed):
            continue
        names = ", ".join(c.what for c in missing[:MAX_LISTED])
        more = f" and {len(missing) - MAX_LISTED} more" if len(missing) > MAX_LISTED else ""
        yield ctx.finding(path=check.where, offset=check.offset,
                          message=f"{len(missing)} signed slice(s) not in the ticket: "
                          f"{names}{more}", evidence={"count": len(missing)},
                          artifact=ctx.bundle.input_path)


@rule(RuleMeta(
    id="BL844",
    slug="not-stapled",
    consequence=Consequence.ADVICE,
    evidence=(STAPLE_DOC,),
    summary="No notarization ticket is stapled",
    what="Reports a Developer ID Installer-signed package with no stapled ticket. Whether it "
    "is notarized cannot be known offline: this says only that no ticket travels with it.",
    why="Without a stapled ticket Gatekeeper must ask Apple on first launch or installation; "
    "a Mac without a network connection refuses it as if it were not notarized.",
    how_to_fix="After notarization succeeds, staple the ticket: `xcrun stapler staple`.",
    fix_command=STAPLER,
))
def not_stapled(ctx: RuleContext) -> Iterator[Finding]:
    report = package_of(ctx.bundle, ctx.options)
    if report is None or report.archive.ticket is not None:
        return
    primary = report.primary
    if primary is not None and primary.leaf_kind is LeafKind.DEVELOPER_ID_INSTALLER:
        yield ctx.finding(path=report.name, message="no notarization ticket is stapled to "
                          "the package", artifact=ctx.bundle.input_path)
