"""Every message Apple's notary service is known to write, with where it was seen.

This is data, not mapping logic: the mapping reads the rules' metadata. The catalogue exists so
that a test (like flake8's test that every pyflakes message has a code) can prove every known
Apple message maps to a real rule rather than to BL790. Sources: docs/formats.md section 7.
"""

from __future__ import annotations

from dataclasses import dataclass

DOC_BASE = (
    "https://developer.apple.com/documentation/security/"
    "notarizing_macos_software_before_distribution/resolving_common_notarization_issues"
)


@dataclass(frozen=True, kw_only=True)
class KnownMessage:
    """One Apple message: the exact text (or, for a varying one, a real example of it)."""

    message: str
    doc_anchor: str | None  # "#3087721"; None where no log or page shows one
    varies: bool = False  # Apple fills in a detail; rules must answer it with a pattern
    evidence: str = ""

    @property
    def doc_url(self) -> str | None:
        return f"{DOC_BASE}{self.doc_anchor}" if self.doc_anchor else None


KNOWN_MESSAGES: tuple[KnownMessage, ...] = (
    KnownMessage(message="The binary is not signed.", doc_anchor="#3087721",
                 evidence="SanPy log (docUrl present); datasette log (docUrl null)"),
    KnownMessage(message="The binary is not signed with a valid Developer ID certificate.",
                 doc_anchor="#3087721", evidence="UE write-up, KnowledgeFocus logs"),
    KnownMessage(message="The signature does not include a secure timestamp.",
                 doc_anchor="#3087733", evidence="several logs"),
    KnownMessage(message="The executable does not have the hardened runtime enabled.",
                 doc_anchor="#3087724", evidence="UE, KnowledgeFocus logs"),
    KnownMessage(
        message="The executable requests the com.apple.security.get-task-allow entitlement.",
        doc_anchor="#3087731", evidence="UE log"),
    KnownMessage(message="The signature of the binary is invalid.", doc_anchor="#3087735",
                 evidence="nuitka and electron-builder #7958 logs"),
    KnownMessage(message="The binary uses an SDK older than the 10.9 SDK.",
                 doc_anchor="#3087723",
                 evidence="real logs show docUrl null; anchor from Apple's page via quill"),
    KnownMessage(message="The signature algorithm used is too weak.", doc_anchor=None,
                 evidence="WalletWasabi #3183 (error); reported elsewhere as a warning"),
    KnownMessage(message="Embedded entitlements are invalid: syntax error near line 1",
                 doc_anchor="#3561456", varies=True,
                 evidence="Apple's resolving page as quoted by third parties (UNCONFIRMED)"),
)
