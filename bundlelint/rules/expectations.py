"""BL240, BL310, BL410: the bundle is not what the project says it should be.

These rules compare the input with expectations from configuration (``expected-team-id``,
``expected-entitlements``, ``bundle-identifier``; see ``bundlelint.config``) and stay quiet when
the option is not set. They catch mistakes the notary accepts but users notice: a build signed
with a colleague's certificate, entitlements silently dropped by ``codesign --deep``, a bundle
identifier that changed and lost every user's preferences and privacy grants.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from bundlelint.bundle import EntryKind
from bundlelint.errors import ParseError
from bundlelint.findings import Applicability, Finding
from bundlelint.rules import _evidence as E
from bundlelint.rules._commands import codesign_command
from bundlelint.rules.base import Consequence, RuleContext, RuleMeta, rule


@rule(
    RuleMeta(
        id="BL240",
        slug="team-id-unexpected",
        consequence=Consequence.EXPECTATION_BROKEN,
        evidence=(
            E.YOUR_EXPECTATION,
        ),
        summary="Code is signed by a Team ID other than the expected one",
        what=(
            "With `expected-team-id` set, reports every certificate-signed Mach-O slice whose "
            "CodeDirectory Team ID differs from it (or is absent). Ad-hoc and unsigned code is "
            "left to BL201/BL202."
        ),
        why=(
            "The notary accepts any valid Developer ID, so a bundle signed on the wrong machine "
            "(a colleague's certificate, a leftover personal identity, a third-party framework "
            "shipped pre-signed) passes notarization; but library validation under the hardened "
            "runtime refuses to load code from another team, and keychain items and TCC grants "
            "tied to your Team ID stop matching."
        ),
        how_to_fix=(
            "Re-sign the reported code with your own Developer ID Application identity (the one "
            "whose Team ID is configured), inside-out, without --deep."
        ),
        fix_applicability=Applicability.UNSAFE,
    )
)
def team_id_unexpected(ctx: RuleContext) -> Iterator[Finding]:
    expected = ctx.options.expected_team_id
    if not expected:
        return
    for entry, macho in ctx.bundle.machos():
        for sl in macho.slices:
            sig = sl.signature
            cd = sig.primary if sig else None
            if sig is None or cd is None or sig.kind != "certificate":
                continue
            if cd.team_id == expected:
                continue
            actual = f"Team ID {cd.team_id}" if cd.team_id else "no Team ID"
            yield ctx.finding(
                path=entry.display,
                arch=sl.arch,
                message=f"{sl.arch} slice is signed with {actual}, expected {expected}",
                command=codesign_command(ctx.bundle, entry),
                evidence={"team_id": cd.team_id or "", "expected": expected},
            )


DEEP_NOTE = (
    "this is what `codesign --deep` does when it re-signs the main executable without its "
    "entitlements"
)


@rule(
    RuleMeta(
        id="BL310",
        slug="entitlements-unexpected",
        consequence=Consequence.EXPECTATION_BROKEN,
        evidence=(
            E.YOUR_EXPECTATION,
        ),
        summary="An executable's embedded entitlements differ from the expected ones",
        what=(
            "With `expected-entitlements` set for an executable (a path inside the bundle such "
            "as Contents/MacOS/MyApp), compares the entitlements embedded in each slice's "
            "signature with the expected dictionary and names the missing, extra and different "
            "keys. A configured path that is not a Mach-O file in the bundle is reported too."
        ),
        why=(
            "The notary accepts a signature with no entitlements, so losing them is silent "
            "until the app runs: camera, microphone, network server or Apple Events access "
            "fails, or sandboxed file access breaks. The usual cause is `codesign --deep` (or a "
            "packaging tool that uses it), which re-signs the main executable without the "
            "--entitlements file it was signed with."
        ),
        how_to_fix=(
            "Re-sign the executable with its entitlements file, inside-out and without --deep: "
            "nested code first, then the app with `--entitlements`."
        ),
        fix_applicability=Applicability.UNSAFE,
    )
)
def entitlements_unexpected(ctx: RuleContext) -> Iterator[Finding]:
    bundle = ctx.bundle
    for relpath, expected in sorted(ctx.options.expected_entitlements.items()):
        target = "" if bundle.is_single_file and relpath in (".", bundle.name) else relpath
        entry = bundle.entry(target)
        if entry is None or entry.kind is not EntryKind.MACHO:
            what = "no such file" if entry is None else f"a {entry.kind.value}, not Mach-O"
            yield ctx.finding(
                path=bundle.display(target),
                message=f"expected-entitlements names {relpath}, but it is {what} in "
                f"{bundle.name}",
                fix_text="Correct the executable path in expected-entitlements (it is relative "
                "to the bundle, e.g. Contents/MacOS/MyApp).",
            )
            continue
        try:
            macho = bundle.macho(entry)
        except ParseError:
            continue  # reported by BL001
        for sl in macho.slices:
            sig = sl.signature
            if sig is None:
                continue  # unsigned: BL201
            ents = sig.entitlements
            if ents is not None and ents.values is None:
                continue  # malformed: BL302
            actual: Mapping[str, Any] = ents.values if ents is not None and ents.values else {}
            problems = _diff(expected, actual)
            if not problems:
                continue
            lead = (f"{sl.arch} slice carries no entitlements" if not actual
                    else f"{sl.arch} slice's embedded entitlements differ from the expected ones")
            missing = [k for k in expected if k not in actual]
            note = f" ({DEEP_NOTE})" if missing else ""
            yield ctx.finding(
                path=entry.display,
                arch=sl.arch,
                message=f"{lead}: {'; '.join(problems)}{note}",
                command=codesign_command(bundle, entry, entitlements=True),
                evidence={"missing": ",".join(sorted(missing)),
                          "extra": ",".join(sorted(k for k in actual if k not in expected))},
            )


def _diff(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> list[str]:
    """Human-readable differences: missing keys, extra keys, keys with other values."""
    missing = sorted(k for k in expected if k not in actual)
    extra = sorted(k for k in actual if k not in expected)
    different = sorted(k for k in expected if k in actual and not same(expected[k], actual[k]))
    problems = []
    if missing:
        problems.append("missing " + ", ".join(missing))
    if extra:
        problems.append("extra " + ", ".join(extra))
    if different:
        problems.append("different " + ", ".join(
            f"{k} (expected {show(expected[k])}, embedded {show(actual[k])})" for k in different))
    return problems


def same(a: Any, b: Any) -> bool:
    """Plist equality that keeps ``true`` and ``1`` apart (Python's ``True == 1`` does not)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a is b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and bool(a == b)


def show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    return str(value)


@rule(
    RuleMeta(
        id="BL410",
        slug="bundle-identifier-unexpected",
        consequence=Consequence.EXPECTATION_BROKEN,
        evidence=(
            E.YOUR_EXPECTATION,
        ),
        summary="CFBundleIdentifier differs from the expected bundle identifier",
        what=(
            "With `bundle-identifier` set, compares the app's CFBundleIdentifier (the root "
            "bundle's Contents/Info.plist) with it. A missing or malformed identifier is left "
            "to BL405."
        ),
        why=(
            "The notary accepts any valid identifier, but macOS keys preferences, the keychain, "
            "privacy (TCC) grants, login items and notarization tickets on it: a build whose "
            "identifier changed (a debug suffix, a template default, a typo) looks like a "
            "different app to every user who upgrades."
        ),
        how_to_fix=(
            "Set CFBundleIdentifier to the expected value in the Info.plist your build writes "
            "(Xcode: PRODUCT_BUNDLE_IDENTIFIER; Wails: info.json; Fyne: FyneApp.toml AppID), "
            "then re-sign the bundle."
        ),
        fix_command="plutil -replace CFBundleIdentifier -string {expected} {plist}",
        fix_applicability=Applicability.UNSAFE,
    )
)
def bundle_identifier_unexpected(ctx: RuleContext) -> Iterator[Finding]:
    expected = ctx.options.expected_bundle_identifier
    root = ctx.bundle.root_bundle
    if not expected or root is None:
        return
    entry = ctx.bundle.info_plist_entry(root)
    info = ctx.bundle.valid_info_plist(root)
    if info is None or entry is None or info.identifier is None:
        return  # BL401 / BL402 / BL405
    if info.identifier != expected:
        yield ctx.finding(
            path=entry.display,
            message=f"CFBundleIdentifier is {info.identifier!r}, expected {expected!r}",
            evidence={"identifier": info.identifier, "expected": expected},
            expected=expected,
            plist=ctx.bundle.shell_path(entry.relpath),
        )
