"""BL311-BL314: entitlements that need something else in the bundle.

Restricted entitlements need a provisioning profile that authorises them (BL311, BL312);
hardened-runtime resource entitlements and the Info.plist usage strings of the same resource
need each other (BL313, BL314). Each app-like bundle is judged through its main executable,
whose entitlements are the process's.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from typing import Any

from bundlelint.analysis.entitlements import slice_entitlements
from bundlelint.analysis.provisioning import (
    PROFILE_NAME,
    embedded_profile,
    profile_allows,
    profile_signature,
    restricted_entitlements,
)
from bundlelint.bundle import Bundle, Entry
from bundlelint.errors import ParseError
from bundlelint.findings import Applicability, Finding
from bundlelint.layout import APP_LIKE_EXTENSIONS, BundleDir
from bundlelint.rules._commands import codesign_command
from bundlelint.rules.base import Consequence, RuleContext, RuleMeta, doc, rule

CS_RUNTIME = 0x10000
MEDIA_CAPTURE = ("https://developer.apple.com/documentation/avfoundation/"
                 "requesting-authorization-for-media-capture-on-macos")
HARDENED_RUNTIME = "https://developer.apple.com/documentation/security/hardened-runtime"
TN3125 = ("https://developer.apple.com/documentation/technotes/"
          "tn3125-inside-code-signing-provisioning-profiles")
E_PROFILE = doc(TN3125, "a restricted entitlement must be authorised by an embedded "
                "provisioning profile, or the program does not run")
E_PROFILE_SIGNATURE = doc(TN3125, "'When the Apple Developer website creates a profile for "
                          "you, it cryptographically signs it. When you run an app on a "
                          "device, the device checks this signature to determine if the "
                          "profile is valid'")
E_USAGE = doc(MEDIA_CAPTURE, "without the usage string the system terminates the app when "
              "it asks for access")
E_RESOURCE = doc(HARDENED_RUNTIME, "under the hardened runtime, camera, microphone and "
                 "personal-information access needs the resource-access entitlement")
#: Hardened-runtime resource entitlements and the Info.plist keys that explain the same access
#: to the user (any one of them will do).
USAGE_STRINGS: dict[str, tuple[str, ...]] = {
    "com.apple.security.device.audio-input": ("NSMicrophoneUsageDescription",),
    "com.apple.security.device.camera": ("NSCameraUsageDescription",),
    "com.apple.security.personal-information.location": (
        "NSLocationUsageDescription", "NSLocationWhenInUseUsageDescription",
        "NSLocationAlwaysAndWhenInUseUsageDescription"),
    "com.apple.security.personal-information.addressbook": ("NSContactsUsageDescription",),
    "com.apple.security.personal-information.calendars": (
        "NSCalendarsUsageDescription", "NSCalendarsFullAccessUsageDescription",
        "NSCalendarsWriteOnlyAccessUsageDescription"),
    "com.apple.security.personal-information.photos-library": (
        "NSPhotoLibraryUsageDescription", "NSPhotoLibraryAddUsageDescription"),
}


def _apps(bundle: Bundle) -> Iterator[tuple[BundleDir, Entry, dict[str, Any], bool]]:
    """Each app-like bundle with a signed main executable: (bundle, executable, the union of
    its slices' entitlements, whether every signed slice has the hardened runtime)."""
    for bd in bundle.bundle_dirs:
        if bd.extension not in APP_LIKE_EXTENSIONS or not bd.contents:
            continue
        main = bundle.layout.main_executable(bd)
        entry = bundle.entry(main) if main is not None else None
        if entry is None:
            continue
        try:
            macho = bundle.macho(entry)
        except ParseError:
            continue
        ents: dict[str, Any] = {}
        hardened = []
        for sl in macho.slices:
            cd = sl.signature.primary if sl.signature else None
            if cd is None:
                continue
            hardened.append(bool(cd.flags & CS_RUNTIME))
            for key, value in slice_entitlements(bundle, entry, sl).effective.items():
                ents.setdefault(key, value)
        if hardened:
            yield bd, entry, ents, all(hardened)


def _team(bundle: Bundle, entry: Entry) -> str | None:
    try:
        macho = bundle.macho(entry)
    except ParseError:
        return None
    for sl in macho.slices:
        cd = sl.signature.primary if sl.signature else None
        if cd is not None and cd.team_id:
            return cd.team_id
    return None


@rule(
    RuleMeta(
        id="BL311",
        slug="restricted-entitlement-unprovisioned",
        consequence=Consequence.CANNOT_START,
        evidence=(E_PROFILE,),
        summary="Restricted entitlements without an embedded provisioning profile",
        what=(
            "Reports an app, app extension or XPC service whose main executable claims a "
            "restricted entitlement (com.apple.developer.*, keychain-access-groups, the "
            "application identifier) while the bundle has no Contents/embedded.provisionprofile."
        ),
        why=(
            "On macOS only a provisioning profile can authorise a restricted entitlement. "
            "Without one the signature is accepted (even by the notary), but AMFI kills the "
            "program at launch (Apple TN3125, 'Inside Code Signing: Provisioning Profiles'; "
            "the crash report shows a code-signing termination)."
        ),
        how_to_fix=(
            "Create a Developer ID provisioning profile for the App ID with these capabilities "
            "in the developer portal, copy it to Contents/embedded.provisionprofile and "
            "re-sign; or remove the entitlements the app does not need."
        ),
        fix_command="cp profile.provisionprofile {profile}  # then re-sign: {resign}",
        fix_applicability=Applicability.DISPLAY,
        references=(TN3125,),
    )
)
def restricted_entitlement_unprovisioned(ctx: RuleContext) -> Iterator[Finding]:
    bundle = ctx.bundle
    for bd, entry, ents, _hardened in _apps(bundle):
        restricted = restricted_entitlements(ents)
        if not restricted or embedded_profile(bundle, bd) is not None:
            continue
        yield ctx.finding(
            path=entry.display,
            message=f"claims restricted entitlements ({', '.join(restricted)}) but "
            f"{bd.display} has no {bd.contents}{PROFILE_NAME}: AMFI kills it at launch",
            evidence={"restricted": ",".join(restricted)},
            profile=bundle.shell_path(bd.child(PROFILE_NAME)),
            resign=codesign_command(bundle, entry, entitlements=True),
        )


@rule(
    RuleMeta(
        id="BL312",
        slug="provisioning-profile-invalid",
        consequence=Consequence.CANNOT_START,
        evidence=(E_PROFILE, E_PROFILE_SIGNATURE),
        summary="The embedded provisioning profile does not authorise the app",
        what=(
            "Reads Contents/embedded.provisionprofile (a CMS-signed plist) and reports one that "
            "cannot be read, whose CMS signature does not verify over its plist or does not "
            "chain to Apple's root, has expired, names other Team IDs than the executable's "
            "signature, lists devices (a development profile, not Developer ID), or does not "
            "allow a restricted entitlement the executable claims."
        ),
        why=(
            "The profile is what authorises restricted entitlements; one that does not cover "
            "this team, these entitlements, today's date or every Mac leaves them "
            "unauthorised, and AMFI kills the program at launch on the user's Mac (Apple "
            "TN3125). A development profile works only on the Macs it lists."
        ),
        how_to_fix=(
            "Download a current Developer ID provisioning profile for this App ID and team, "
            "with every capability the entitlements use, embed it and re-sign."
        ),
        fix_command="cp profile.provisionprofile {profile}  # then re-sign: {resign}",
        fix_applicability=Applicability.DISPLAY,
        references=(TN3125,),
    )
)
def provisioning_profile_invalid(ctx: RuleContext) -> Iterator[Finding]:
    bundle = ctx.bundle
    now = _dt.datetime.now(_dt.UTC).replace(tzinfo=None)  # plistlib dates are naive UTC
    for bd, entry, ents, _hardened in _apps(bundle):
        profile = embedded_profile(bundle, bd)
        if profile is None:
            continue
        where = bd.child(PROFILE_NAME)
        profile_arg = bundle.shell_path(where)
        resign = codesign_command(bundle, entry, entitlements=True)
        if isinstance(profile, ParseError):
            yield ctx.finding(path=bundle.display(where), offset=profile.offset,
                              message=f"cannot be read: {profile.reason}",
                              profile=profile_arg, resign=resign)
            continue
        problems = []
        signature = profile_signature(bundle, bd, ctx.options)
        if signature is not None and not signature.valid:
            problems.append(f"is not validly signed by Apple ({'; '.join(signature.problems)})")
        if profile.expiration is not None and profile.expiration < now:
            problems.append(f"expired on {profile.expiration:%Y-%m-%d}")
        team = _team(bundle, entry)
        if team and profile.team_ids and team not in profile.team_ids:
            problems.append(f"is for Team ID {', '.join(profile.team_ids)}, the executable is "
                            f"signed by {team}")
        if profile.kind == "development":
            problems.append(f"is a development profile for {profile.device_count} listed "
                            "device(s), not a Developer ID profile for every Mac")
        refused = [k for k in restricted_entitlements(ents)
                   if not profile_allows(profile, k, ents[k])]
        if refused:
            problems.append(f"does not allow {', '.join(refused)}")
        if problems:
            yield ctx.finding(path=bundle.display(where),
                              message=f"the provisioning profile {'; '.join(problems)}",
                              evidence={"kind": profile.kind,
                                        "teams": ",".join(profile.team_ids)},
                              profile=profile_arg, resign=resign)


@rule(
    RuleMeta(
        id="BL313",
        slug="usage-description-missing",
        consequence=Consequence.CANNOT_START,
        evidence=(E_USAGE,),
        summary="A resource entitlement has no usage string in Info.plist",
        what=(
            "Reports an app whose main executable claims a hardened-runtime resource "
            "entitlement (com.apple.security.device.audio-input, .camera, "
            "personal-information.*) while its Info.plist lacks the usage string for that "
            "resource (NSMicrophoneUsageDescription, NSCameraUsageDescription, ...)."
        ),
        why=(
            "macOS shows the usage string when it asks the user for access. Without it the "
            "system terminates the app the moment it tries to use the resource (Apple, "
            "'Requesting authorization for media capture on macOS')."
        ),
        how_to_fix="Add the usage string to Contents/Info.plist, then re-sign the bundle.",
        fix_command="plutil -insert {key} -string 'Why the app needs it' {plist}  "
        "# then re-sign the bundle",
        fix_applicability=Applicability.DISPLAY,
        references=("https://developer.apple.com/documentation/avfoundation/"
                    "requesting-authorization-for-media-capture-on-macos",),
    )
)
def usage_description_missing(ctx: RuleContext) -> Iterator[Finding]:
    bundle = ctx.bundle
    for bd, entry, ents, _hardened in _apps(bundle):
        info = bundle.valid_info_plist(bd)
        if info is None:
            continue
        for entitlement, keys in USAGE_STRINGS.items():
            if ents.get(entitlement) is not True or any(info.string(k) for k in keys):
                continue
            yield ctx.finding(
                path=bundle.display(bd.child("Info.plist")),
                message=f"{entry.name} claims {entitlement} but Info.plist has no "
                f"{' or '.join(keys)}: the app is terminated when it uses the resource",
                evidence={"entitlement": entitlement, "usage_keys": ",".join(keys)},
                key=keys[0], plist=bundle.shell_path(bd.child("Info.plist")),
            )


@rule(
    RuleMeta(
        id="BL314",
        slug="resource-entitlement-missing",
        consequence=Consequence.MAY_FAIL,
        evidence=(E_RESOURCE,),
        summary="A usage string names a resource the hardened runtime does not grant",
        what=(
            "Reports an app signed with the hardened runtime whose Info.plist has a usage "
            "string (NSMicrophoneUsageDescription, NSCameraUsageDescription, ...) while its "
            "main executable lacks the matching resource entitlement "
            "(com.apple.security.device.audio-input, .camera, personal-information.*)."
        ),
        why=(
            "Under the hardened runtime the resource is available only with its entitlement: "
            "without it access fails (no prompt, no data) although the app asks for it "
            "(Apple, Hardened Runtime: Resource Access)."
        ),
        how_to_fix=(
            "Add the entitlement to the entitlements file and re-sign, or drop the usage "
            "string if the app never uses the resource."
        ),
        fix_applicability=Applicability.DISPLAY,
        references=("https://developer.apple.com/documentation/security/hardened-runtime",),
    )
)
def resource_entitlement_missing(ctx: RuleContext) -> Iterator[Finding]:
    bundle = ctx.bundle
    for bd, entry, ents, hardened in _apps(bundle):
        info = bundle.valid_info_plist(bd)
        if info is None or not hardened:
            continue
        for entitlement, keys in USAGE_STRINGS.items():
            present = [k for k in keys if info.string(k)]
            if not present or ents.get(entitlement) is True:
                continue
            yield ctx.finding(
                path=entry.display,
                message=f"Info.plist has {present[0]} but the hardened-runtime signature "
                f"lacks {entitlement}: access is denied",
                evidence={"entitlement": entitlement, "usage_key": present[0]},
                command=codesign_command(bundle, entry, entitlements=True),
            )
