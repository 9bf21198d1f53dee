"""BL311-BL314: restricted entitlements and their provisioning profile; resource entitlements
and their Info.plist usage strings, both directions."""

from __future__ import annotations

import datetime as dt
import plistlib
from pathlib import Path
from typing import Any

import pytest
from appbuilder import TEAM, developer_id_like, make_app
from lintutil import TEST_OPTIONS, by_rule, lint

from bundlelint.errors import ParseError
from bundlelint.parsers.provisioning import parse_provisioning_profile
from fixtures import test_ca
from fixtures.cms_signer import sign_content

PROFILE = "Contents/embedded.provisionprofile"
ICLOUD = "com.apple.developer.icloud-container-identifiers"
APP_ID = "com.apple.application-identifier"
MIC = "com.apple.security.device.audio-input"


def profile_plist(**overrides: Any) -> bytes:
    """The plist of a Developer ID provisioning profile as Apple's portal issues it."""
    values: dict[str, Any] = {
        "Name": "Example Developer ID", "Platform": ["OSX"], "TeamIdentifier": [TEAM],
        "ProvisionsAllDevices": True,
        "ExpirationDate": dt.datetime(2040, 1, 1),
        "Entitlements": {APP_ID: f"{TEAM}.com.example.app", ICLOUD: ["iCloud.*"],
                         "com.apple.developer.team-identifier": TEAM},
    }
    values.update(overrides)
    values = {k: v for k, v in values.items() if v is not None}
    return plistlib.dumps(values)


def profile_bytes(**overrides: Any) -> bytes:
    """The profile: a CMS SignedData around the plist, signed under the test root (trusted by
    ``lint`` as ``--trust-anchor`` would), as Apple's provisioning signer signs real ones."""
    return sign_content(profile_plist(**overrides))


def app_with(tmp_path: Path, entitlements: dict[str, Any], *, profile: bytes | None = None,
             info: dict[str, Any] | None = None, **sign: Any) -> Path:
    files = {PROFILE: profile} if profile is not None else {}
    return make_app(tmp_path, executable=developer_id_like(entitlements=entitlements, **sign),
                    info_overrides=info, files=files)


RESTRICTED = {APP_ID: f"{TEAM}.com.example.app", ICLOUD: ["iCloud.com.example.app"]}


def test_parse_profile_fields() -> None:
    profile = parse_provisioning_profile(profile_bytes(), "p")
    assert profile.team_ids == (TEAM,) and profile.kind == "developer-id"
    assert profile.expiration == dt.datetime(2040, 1, 1) and profile.platforms == ("OSX",)
    with pytest.raises(ParseError):
        parse_provisioning_profile(b"\x30\x03\x02\x01\x01", "p")


def test_bl311_restricted_entitlements_without_a_profile(tmp_path: Path) -> None:
    [finding] = by_rule(lint(app_with(tmp_path, RESTRICTED)), "BL311")
    assert finding.location.path == "Sample.app/Contents/MacOS/app"
    assert finding.message == (
        f"claims restricted entitlements ({APP_ID}, {ICLOUD}) but Sample.app has no "
        "Contents/embedded.provisionprofile: AMFI kills it at launch")


def test_bl311_quiet_for_unrestricted_or_profiled(tmp_path: Path) -> None:
    plain = app_with(tmp_path / "a", {"com.apple.security.cs.allow-jit": True})
    assert not by_rule(lint(plain), "BL311")
    profiled = lint(app_with(tmp_path / "b", RESTRICTED, profile=profile_bytes()))
    assert not by_rule(profiled, "BL311") and not by_rule(profiled, "BL312")


@pytest.mark.parametrize(("overrides", "says"), [
    ({"ExpirationDate": dt.datetime(2020, 1, 1)}, "expired on 2020-01-01"),
    ({"TeamIdentifier": ["ZZZZZ99999"]}, "is for Team ID ZZZZZ99999, the executable is signed "
                                         f"by {TEAM}"),
    ({"ProvisionsAllDevices": None, "ProvisionedDevices": ["UDID-1", "UDID-2"]},
     "is a development profile for 2 listed device(s)"),
    ({"Entitlements": {APP_ID: f"{TEAM}.*"}}, f"does not allow {ICLOUD}"),
])
def test_bl312_profile_that_does_not_authorise(tmp_path: Path, overrides: dict[str, Any],
                                               says: str) -> None:
    [finding] = by_rule(lint(app_with(tmp_path, RESTRICTED, profile=profile_bytes(**overrides))),
                        "BL312")
    assert finding.location.path == f"Sample.app/{PROFILE}"
    assert says in finding.message


def test_bl312_unreadable_profile(tmp_path: Path) -> None:
    [finding] = by_rule(lint(app_with(tmp_path, RESTRICTED, profile=b"not cms")), "BL312")
    assert finding.message.startswith("cannot be read: ")


def test_bl312_quiet_for_a_profile_signed_under_a_trusted_root(tmp_path: Path) -> None:
    from bundlelint.analysis.cms import ChainStatus, verify_signed_content

    profile = parse_provisioning_profile(profile_bytes(), "p")
    assert profile.signature is not None
    verified = verify_signed_content(profile.signature, TEST_OPTIONS)  # test root trusted
    assert verified.valid and verified.chain.status is ChainStatus.EXTRA_ANCHOR
    assert not by_rule(lint(app_with(tmp_path, RESTRICTED, profile=profile_bytes())), "BL312")


def test_bl312_profile_changed_after_signing(tmp_path: Path) -> None:
    signed = profile_bytes()
    at = signed.index(b"Example Developer ID")
    tampered = signed[:at] + b"X" + signed[at + 1:]  # one byte of the plist, same length
    [finding] = by_rule(lint(app_with(tmp_path, RESTRICTED, profile=tampered)), "BL312")
    assert finding.location.path == f"Sample.app/{PROFILE}"
    assert "is not validly signed by Apple" in finding.message
    assert "messageDigest is not the hash of the content" in finding.message


def test_bl312_profile_signed_by_an_untrusted_ca(tmp_path: Path) -> None:
    rogue = test_ca.rogue_developer_id_leaf()
    profile = sign_content(profile_plist(), leaf=rogue, chain=(rogue, test_ca.other_root()))
    [finding] = by_rule(lint(app_with(tmp_path, RESTRICTED, profile=profile)), "BL312")
    assert "is not validly signed by Apple" in finding.message
    assert "rooted at a certificate that is not an Apple root" in finding.message
    assert "signer's signature does not verify" not in finding.message  # only the chain fails


def test_bl312_unsigned_profile(tmp_path: Path) -> None:
    from asn1crypto import cms

    unsigned = cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData({
        "version": "v1", "digest_algorithms": [],
        "encap_content_info": {"content_type": "data", "content": profile_plist()},
        "signer_infos": []})}).dump()
    [finding] = by_rule(lint(app_with(tmp_path, RESTRICTED, profile=unsigned)), "BL312")
    assert "the SignedData has no SignerInfo" in finding.message


def test_bl313_entitlement_without_usage_string(tmp_path: Path) -> None:
    [finding] = by_rule(lint(app_with(tmp_path, {MIC: True})), "BL313")
    assert finding.location.path == "Sample.app/Contents/Info.plist"
    assert "claims com.apple.security.device.audio-input but Info.plist has no " \
        "NSMicrophoneUsageDescription" in finding.message
    quiet = app_with(tmp_path / "q", {MIC: True},
                     info={"NSMicrophoneUsageDescription": "Dictation"})
    assert not by_rule(lint(quiet), "BL313") and not by_rule(lint(quiet), "BL314")


def test_bl314_usage_string_without_entitlement_under_hardened_runtime(tmp_path: Path) -> None:
    info = {"NSCameraUsageDescription": "Video calls"}
    [finding] = by_rule(lint(app_with(tmp_path / "a", {}, info=info)), "BL314")
    assert "lacks com.apple.security.device.camera" in finding.message
    # Without the hardened runtime nothing gates the camera on the entitlement.
    assert not by_rule(lint(app_with(tmp_path / "b", {}, info=info, flags=0)), "BL314")
