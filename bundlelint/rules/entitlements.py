"""BL3xx: entitlements embedded in code signatures."""

from __future__ import annotations

from collections.abc import Iterator

from bundlelint.analysis.entitlements import slice_entitlements
from bundlelint.analysis.golang import UNNEEDED_ENTITLEMENTS, renderer_note, slice_go_info
from bundlelint.findings import Finding
from bundlelint.parsers.macho import MH_EXECUTE
from bundlelint.rules import _evidence as E
from bundlelint.rules._commands import codesign_command
from bundlelint.rules.base import Consequence, Rule, RuleContext, RuleMeta, doc, rule, source

GET_TASK_ALLOW = "com.apple.security.get-task-allow"


@rule(
    RuleMeta(
        id="BL301",
        slug="get-task-allow",
        consequence=Consequence.NOTARY_REJECTS,
        evidence=(
            E.GET_TASK_ALLOW,
        ),
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
            if sl.signature is None:
                continue
            # The XML dict, else (absent or malformed: BL302) the DER one the kernel reads.
            if slice_entitlements(ctx.bundle, entry, sl).effective.get(GET_TASK_ALLOW) is True:
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
        consequence=Consequence.NOTARY_REJECTS,
        evidence=(
            E.ENTITLEMENTS_INVALID,
            source(
                "Security",
                "signer.cpp",
                "SecCodeSigner::Signer::cookEntitlements",
                "codesign refuses entitlements that are not a plist dictionary with "
                "errSecCSInvalidEntitlements",
            ),
        ),
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
            if ents.is_binary_plist and ents.error is None:
                problem = "are a binary plist, not XML"
            elif ents.is_binary_plist:
                problem = f"are a binary plist, not XML, and do not parse: {ents.error}"
            elif ents.error is not None:
                problem = f"do not parse: {ents.error}"
            else:
                continue
            yield ctx.finding(
                path=entry.display,
                arch=sl.arch,
                offset=ents.error_offset,
                message=f"{sl.arch} slice's embedded entitlements {problem}",
                command=codesign_command(ctx.bundle, entry, entitlements=True),
            )


@rule(
    RuleMeta(
        id="BL303",
        slug="entitlements-der-mismatch",
        consequence=Consequence.MAY_FAIL,
        evidence=(
            doc(
                "https://developer.apple.com/documentation/xcode/using-the-latest-code-signature-format",
                "the DER entitlements requirement was announced for iOS 15, iPadOS 15, tvOS 15 "
                "and watchOS 8; on macOS a disagreement means the running code may get other "
                "entitlements than the reviewed XML says",
            ),
        ),
        summary="The XML and DER entitlements in a signature disagree",
        what=(
            "Decodes the DER entitlements blob (slot 7) and compares it by meaning with the XML "
            "entitlements (slot 5): same keys, same types, same values. A DER blob that does "
            "not decode is reported too."
        ),
        why=(
            "codesign writes the entitlements twice, as XML (slot 5) and DER (slot 7). Apple "
            "announced the DER form as required for iOS 15, iPadOS 15, tvOS 15 and watchOS 8 "
            "(not for a macOS release). When the two disagree (a tool edited one, or a stale "
            "blob was kept), what the OS enforces may differ from the XML that people and the "
            "notary read."
        ),
        how_to_fix=(
            "Re-sign with a current codesign (macOS 11 or later) and your entitlements file: it "
            "writes both blobs from the same plist."
        ),
    )
)
def entitlements_der_mismatch(ctx: RuleContext) -> Iterator[Finding]:
    for entry, macho in ctx.bundle.machos():
        for sl in macho.slices:
            if sl.signature is None:
                continue
            ents = slice_entitlements(ctx.bundle, entry, sl)
            if ents.der_error is not None:
                message = (f"{sl.arch} slice's DER entitlements do not decode: "
                           f"{ents.der_error.reason}")
                offset = ents.der_error.offset
            elif ents.differences:
                message = (f"{sl.arch} slice's XML and DER entitlements disagree: "
                           + "; ".join(ents.differences))
                offset = None
            else:
                continue
            yield ctx.finding(
                path=entry.display,
                arch=sl.arch,
                offset=offset,
                message=message,
                command=codesign_command(ctx.bundle, entry, entitlements=True),
            )


def _weakening_rule(rule_id: str, slug: str, key: str, weakens: str) -> Rule:
    """A warning for one hardened-runtime exception entitlement set to true."""
    meta = RuleMeta(
        id=rule_id,
        slug=slug,
        consequence=Consequence.ADVICE,
        evidence=(E.EXCEPTIONS_OPT_IN,),
        summary=f"The signature grants {key}",
        what=f"Reports signed code whose entitlements set `{key}` to true.",
        why=(
            f"`{key}` is a hardened-runtime exception: it {weakens}. The notary accepts it, but "
            f"every exception widens what an attacker who gets code into the process can do."
        ),
        how_to_fix=(
            f"Remove `{key}` from the entitlements file unless the app really needs it (a "
            "JavaScript or other JIT engine, a plug-in host), then re-sign."
        ),
    )

    def check(ctx: RuleContext) -> Iterator[Finding]:
        for entry, macho in ctx.bundle.machos():
            granted = [  # library code with entitlements is BL020's (they do nothing there)
                sl for sl in macho.slices
                if sl.signature is not None and sl.filetype == MH_EXECUTE
                and slice_entitlements(ctx.bundle, entry, sl).effective.get(key) is True
            ]
            if not granted:
                continue
            arches = [sl.arch for sl in granted]
            message = f"{', '.join(arches)}: entitlements set {key} to true; it {weakens}."
            go = next((info for sl in granted
                       if (info := slice_go_info(ctx.bundle, entry, sl)) is not None), None)
            if go is not None and key in UNNEEDED_ENTITLEMENTS:
                message += " " + renderer_note(go.toolkits)
            yield ctx.finding(
                path=entry.display,
                arch=arches[0] if len(arches) == 1 else None,
                message=message,
                command=codesign_command(ctx.bundle, entry, entitlements=True),
                evidence={"entitlement": key, "arches": ",".join(arches)},
            )

    return rule(meta)(check)


allow_jit = _weakening_rule(
    "BL304", "allow-jit", "com.apple.security.cs.allow-jit",
    "lets the process create writable-and-executable memory with MAP_JIT",
)
allow_unsigned_executable_memory = _weakening_rule(
    "BL305", "allow-unsigned-executable-memory",
    "com.apple.security.cs.allow-unsigned-executable-memory",
    "lets the process make any memory executable without a code signature, the widest of "
    "the JIT exceptions",
)
disable_library_validation = _weakening_rule(
    "BL306", "disable-library-validation", "com.apple.security.cs.disable-library-validation",
    "lets the process load libraries and plug-ins signed by anyone (or ad hoc), not only by "
    "Apple or your own team; it exists for apps that host third-party plug-ins",
)
allow_dyld_environment_variables = _weakening_rule(
    "BL307", "allow-dyld-environment-variables",
    "com.apple.security.cs.allow-dyld-environment-variables",
    "lets DYLD_INSERT_LIBRARIES and other DYLD_* variables inject code into the process",
)
disable_executable_page_protection = _weakening_rule(
    "BL308", "disable-executable-page-protection",
    "com.apple.security.cs.disable-executable-page-protection",
    "turns off code-signing enforcement of executable pages entirely, so modified code pages "
    "run",
)
