"""Evidence shared by several rules: Apple's notary messages as real logs show them, Apple's
documentation pages, and bundlelint's own two policies. One place, so that a URL or a quoted
message is written (and corrected) once."""

from __future__ import annotations

from bundlelint.rules.base import doc, notary, policy, source

RESOLVING = "https://developer.apple.com/documentation/security/resolving-common-notarization-issues"
HARDENED_RUNTIME = "https://developer.apple.com/documentation/security/hardened-runtime"
GON_FAILURE_LOG = (
    "https://github.com/mitchellh/gon/blob/184f2663ea8ef704ba11f955f06cedb673fcff26/"
    "notarize/testdata/log_zip_failure.json"
)

SIGNATURE_INVALID = notary("The signature of the binary is invalid.",
                           f"{RESOLVING}#Ensure-a-valid-code-signature")
MODIFIED_AFTER_SIGNING = doc(
    f"{RESOLVING}#Ensure-a-valid-code-signature",
    "if you make a modification to the bundle after signing, notarization fails with 'The "
    "signature of the binary is invalid.'; `codesign --strict` matches what notarization requires",
)
NOT_SIGNED = notary("The binary is not signed.", GON_FAILURE_LOG)
NOT_DEVELOPER_ID = notary("The binary is not signed with a valid Developer ID certificate.",
                          f"{RESOLVING}#Use-a-valid-Developer-ID-certificate")
DEVELOPER_ID_ONLY = doc(
    f"{RESOLVING}#Use-a-valid-Developer-ID-certificate",
    "you can only notarize apps signed with a Developer ID certificate; any other (Mac App "
    "Distribution, self-signed) fails",
)
NO_TIMESTAMP = notary("The signature does not include a secure timestamp.", GON_FAILURE_LOG)
NO_HARDENED_RUNTIME = notary("The executable does not have the hardened runtime enabled.",
                             GON_FAILURE_LOG)
OLD_SDK = notary("The binary uses an SDK older than the 10.9 SDK.",
                 "https://github.com/electron-userland/electron-builder/issues/5376")
SDK_10_9 = doc(f"{RESOLVING}#Use-the-macOS-109-SDK-or-later",
               "notarization only works for binaries linked against the macOS 10.9 SDK or later")
GET_TASK_ALLOW = notary(
    "The executable requests the com.apple.security.get-task-allow entitlement.",
    "https://developer.apple.com/forums/thread/663988",
)
ENTITLEMENTS_INVALID = notary("Embedded entitlements are invalid: syntax error near line 1",
                              "https://github.com/electron-userland/electron-builder/issues/4825")
VERIFY_SIGNATURE = source("Security", "StaticCode.cpp", "SecStaticCode::verifySignature",
                          "a CMS signature that does not verify throws errSecCSSignatureFailed")
EXCEPTIONS_OPT_IN = doc(
    HARDENED_RUNTIME,
    "the runtime exception entitlements are opt-ins that relax the hardened runtime; the "
    "notary accepts them",
)

NOT_CHECKED = policy(
    "bundlelint reports what it could not check as an error, so that a CI gate never passes "
    "input nobody checked; this is bundlelint's rule, not an action of Apple's tools"
)
YOUR_EXPECTATION = policy(
    "the rule compares the build with a value you configured; Apple accepts either value, so "
    "the error is your own release rule, not Apple's"
)
