"""The provisioning profile of an app-like bundle, and which entitlements need one.

Why: on macOS a restricted entitlement is honoured only when an embedded provisioning profile
authorises it for the signing team; AMFI kills a program whose restricted entitlements no valid
profile covers, at launch (Apple, TN3125 "Inside Code Signing: Provisioning Profiles",
https://developer.apple.com/documentation/technotes/tn3125-inside-code-signing-provisioning-profiles).
The ``com.apple.security.*`` entitlements (sandbox, hardened-runtime exceptions and resource
access) are unrestricted; ``com.apple.developer.*``, ``keychain-access-groups`` and the
application identifier are restricted.
"""

from __future__ import annotations

import fnmatch
import hashlib
from typing import Any

from bundlelint.analysis.cms import SignedContentVerification, verify_signed_content
from bundlelint.bundle import Bundle, EntryKind
from bundlelint.errors import ParseError
from bundlelint.layout import BundleDir
from bundlelint.options import Options
from bundlelint.parsers.provisioning import (
    MAX_PROFILE_BYTES,
    ProvisioningProfile,
    parse_provisioning_profile,
)

PROFILE_NAME = "embedded.provisionprofile"
RESTRICTED_PREFIXES = ("com.apple.developer.",)
RESTRICTED_KEYS = frozenset({"keychain-access-groups", "com.apple.application-identifier",
                             "application-identifier"})


def restricted_entitlements(entitlements: dict[str, Any]) -> tuple[str, ...]:
    """The keys of ``entitlements`` that only a provisioning profile can authorise."""
    return tuple(sorted(k for k in entitlements
                        if k in RESTRICTED_KEYS or k.startswith(RESTRICTED_PREFIXES)))


def profile_allows(profile: ProvisioningProfile, key: str, value: Any) -> bool:
    """Whether the profile's entitlements authorise ``key`` with ``value``: the key must be
    there, and each requested string must match one of its values (``*`` is a wildcard, as in
    ``TEAMID.*``)."""
    if key not in profile.entitlements:
        return False
    allowed = profile.entitlements[key]
    allowed_items = allowed if isinstance(allowed, list) else [allowed]
    wanted = value if isinstance(value, list) else [value]
    for item in wanted:
        if isinstance(item, str):
            if not any(isinstance(a, str) and fnmatch.fnmatchcase(item, a)
                       for a in allowed_items):
                return False
        elif item not in allowed_items and allowed is not True:
            return False
    return True


def embedded_profile(bundle: Bundle, bundle_dir: BundleDir
                     ) -> ProvisioningProfile | ParseError | None:
    """The bundle's ``Contents/embedded.provisionprofile``: parsed, why not, or ``None`` when
    there is none (cached)."""

    def compute() -> ProvisioningProfile | ParseError | None:
        entry = bundle.entry(bundle_dir.child(PROFILE_NAME))
        if entry is None:
            return None
        if entry.kind in (EntryKind.DIRECTORY, EntryKind.SYMLINK, EntryKind.SPECIAL,
                          EntryKind.UNREADABLE):
            return ParseError("provisioning profile", entry.display, None,
                              f"is a {entry.kind.value}, not a file")
        try:
            with bundle.open_entry(entry) as fh:
                data = fh.read(MAX_PROFILE_BYTES + 1)
            return parse_provisioning_profile(data, entry.display)
        except ParseError as err:
            return err
        except OSError as err:
            return ParseError("provisioning profile", entry.display, None,
                              f"cannot read: {err.strerror}")

    return bundle.memo("provisioning", bundle_dir.relpath, compute)


def profile_signature(bundle: Bundle, bundle_dir: BundleDir,
                      options: Options | None = None) -> SignedContentVerification | None:
    """Apple's CMS signature over the bundle's embedded profile: valid over this plist and
    chained to a trusted root (cached per bundle directory and trust anchors), or ``None``
    when there is no readable profile. AMFI rejects a profile whose signature fails."""
    opts = options or Options()
    profile = embedded_profile(bundle, bundle_dir)
    if not isinstance(profile, ProvisioningProfile) or profile.signature is None:
        return None
    signature = profile.signature
    anchors_key = hashlib.sha256(b"".join(opts.extra_trust_anchors)).hexdigest()[:16]
    return bundle.memo("provisioning-signature", f"{bundle_dir.relpath}:{anchors_key}",
                       lambda: verify_signed_content(signature, opts))
