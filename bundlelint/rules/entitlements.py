"""BL3xx: entitlements embedded in code signatures."""

from __future__ import annotations

from collections.abc import Iterator

from bundlelint.findings import Finding, Severity
from bundlelint.rules._commands import codesign_command
from bundlelint.rules.base import RuleContext, RuleMeta, rule

GET_TASK_ALLOW = "com.apple.security.get-task-allow"


@rule(
    RuleMeta(
        id="BL301",
        slug="get-task-allow",
        severity=Severity.ERROR,
        summary="The signature grants com.apple.security.get-task-allow",
        what="Reports embedded entitlements in which `com.apple.security.get-task-allow` is true.",
        why=(
            "get-task-allow lets any debugger attach to the process. Xcode adds it to Debug "
            "builds; the notary rejects it in distributed software."
        ),
        how_to_fix=(
            "Remove the key from the entitlements file you sign with (or archive a Release "
            "build) and re-sign."
        ),
        notary_messages=(
            "The executable requests the com.apple.security.get-task-allow entitlement.",
        ),
    )
)
def get_task_allow(ctx: RuleContext) -> Iterator[Finding]:
    for entry, macho in ctx.bundle.machos():
        for sl in macho.slices:
            ents = sl.signature.entitlements if sl.signature else None
            if ents is None or ents.values is None:
                continue
            if ents.values.get(GET_TASK_ALLOW) is True:
                yield ctx.finding(
                    path=entry.display,
                    arch=sl.arch,
                    message=f"{sl.arch} slice's entitlements set {GET_TASK_ALLOW} to true",
                    command=codesign_command(ctx.bundle, entry, entitlements=True),
                )


@rule(
    RuleMeta(
        id="BL302",
        slug="entitlements-malformed",
        severity=Severity.ERROR,
        summary="Embedded entitlements are not a well-formed XML plist dictionary",
        what=(
            "The entitlements blob (slot 5) must be an XML property list whose top level is a "
            "dictionary, in UTF-8. A binary plist, a syntax error or another top-level type is "
            "reported."
        ),
        why=(
            "The notary parses the XML itself and rejects anything else with 'Embedded "
            "entitlements are invalid'; the kernel may then refuse the entitlements at launch."
        ),
        how_to_fix=(
            "Write the entitlements file as an XML plist (`plutil -convert xml1 "
            "app.entitlements`) and re-sign with it."
        ),
        notary_patterns=(r"^Embedded entitlements are invalid.*",),
    )
)
def entitlements_malformed(ctx: RuleContext) -> Iterator[Finding]:
    for entry, macho in ctx.bundle.machos():
        for sl in macho.slices:
            ents = sl.signature.entitlements if sl.signature else None
            if ents is None:
                continue
            if ents.is_binary_plist:
                problem = "are a binary plist, not XML"
            elif ents.error is not None:
                problem = f"do not parse: {ents.error}"
            else:
                continue
            yield ctx.finding(
                path=entry.display,
                arch=sl.arch,
                message=f"{sl.arch} slice's embedded entitlements {problem}",
                command=codesign_command(ctx.bundle, entry, entitlements=True),
            )
