"""A provisioning profile (``Contents/embedded.provisionprofile``): a CMS SignedData whose
encapsulated content is an XML property list.

Why: on macOS a program that claims a restricted entitlement (``com.apple.developer.*``,
``keychain-access-groups``, the application identifier) runs only if an embedded profile
authorises it for the signing team, and is killed at launch otherwise (Apple, TN3125 "Inside
Code Signing: Provisioning Profiles"). Rules need the few fields that decide that: the
entitlements the profile allows, its Team IDs, its expiry and whether it is tied to listed
devices (a development profile) or to every Mac (Developer ID). This module decodes them and
keeps the decoded CMS (``bundlelint.parsers.cms``) so that ``analysis.cms`` can verify Apple's
signature over the plist; nothing is verified here.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bundlelint.errors import ParseError
from bundlelint.parsers.plist import parse_plist

if TYPE_CHECKING:
    from bundlelint.parsers.cms import CmsSignature

_FMT = "provisioning profile"
#: Larger than any real profile (they are a few to a few dozen KiB).
MAX_PROFILE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ProvisioningProfile:
    """The fields of a profile's plist that decide whether the code it ships with may run."""

    name: str | None
    team_ids: tuple[str, ...]
    entitlements: dict[str, Any]
    expiration: _dt.datetime | None
    provisions_all_devices: bool
    device_count: int
    platforms: tuple[str, ...]
    #: The SignedData around the plist, for signature verification (``analysis.cms``).
    signature: CmsSignature | None = field(default=None, compare=False, repr=False)

    @property
    def kind(self) -> str:
        """``developer-id`` (every Mac), ``development`` (listed devices) or ``other``."""
        if self.provisions_all_devices:
            return "developer-id"
        if self.device_count:
            return "development"
        return "other"


def parse_provisioning_profile(data: bytes, path: str) -> ProvisioningProfile:
    """Decode ``data``; any failure is a ``ParseError`` naming ``path``."""
    if len(data) > MAX_PROFILE_BYTES:
        raise ParseError(_FMT, path, None, f"{len(data)} bytes is over the "
                         f"{MAX_PROFILE_BYTES} byte limit for a provisioning profile")
    from asn1crypto import cms  # imported here: most inputs carry no profile (start-up time)

    from bundlelint.parsers.cms import parse_cms

    try:
        info = cms.ContentInfo.load(data, strict=True)
        if info["content_type"].native != "signed_data":
            raise ValueError(f"content type is {info['content_type'].native}, not signed data")
        content = info["content"]["encap_content_info"]["content"]
        payload = content.native if content is not None else None
    except (ValueError, TypeError, KeyError) as exc:
        raise ParseError(_FMT, path, 0, f"not a CMS SignedData: {exc}") from None
    if not isinstance(payload, bytes):
        raise ParseError(_FMT, path, None, "the CMS SignedData carries no content")
    signature = parse_cms(data, path=path)  # its certificates and SignerInfo
    doc = parse_plist(payload, path).value
    if not isinstance(doc, dict):
        raise ParseError(_FMT, path, None, f"its plist is a {type(doc).__name__}, not a dict")
    ents = doc.get("Entitlements")
    teams = doc.get("TeamIdentifier")
    expiry = doc.get("ExpirationDate")
    devices = doc.get("ProvisionedDevices")
    platforms = doc.get("Platform")
    name = doc.get("Name")
    return ProvisioningProfile(
        name=name if isinstance(name, str) else None,
        team_ids=tuple(t for t in teams if isinstance(t, str)) if isinstance(teams, list)
        else (),
        entitlements=ents if isinstance(ents, dict) else {},
        expiration=expiry if isinstance(expiry, _dt.datetime) else None,
        provisions_all_devices=doc.get("ProvisionsAllDevices") is True,
        device_count=len(devices) if isinstance(devices, list) else 0,
        platforms=tuple(p for p in platforms if isinstance(p, str))
        if isinstance(platforms, list) else (),
        signature=signature,
    )
