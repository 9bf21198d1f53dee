"""Entitlements as the kernel and the notary see them: the XML dict and the DER dict, compared.

Why: rules must not decode bytes, and the DER blob (slot 7) needs decoding before it can be
compared with the XML one (slot 5). One cached result per slice serves every entitlement rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bundlelint.bundle import Bundle, Entry
from bundlelint.errors import ParseError
from bundlelint.parsers.codesign import CSSLOT_DER_ENTITLEMENTS
from bundlelint.parsers.macho import Slice


@dataclass(frozen=True)
class SliceEntitlements:
    """The XML dict (None if absent or malformed), the DER dict (None if absent or malformed),
    the DER parse error, and how they differ (only when both decoded)."""

    xml: dict[str, Any] | None
    der: dict[str, Any] | None
    der_error: ParseError | None
    differences: tuple[str, ...]

    @property
    def effective(self) -> dict[str, Any]:
        """What the code asks for: the XML dict, else the DER one, else nothing."""
        if self.xml is not None:
            return self.xml
        return self.der or {}


def slice_entitlements(bundle: Bundle, entry: Entry, slice_: Slice) -> SliceEntitlements:
    """Decode and compare ``slice_``'s entitlements (cached per input and slice)."""
    return bundle.memo("entitlements", f"{entry.relpath}@{slice_.offset}",
                       lambda: _compute(entry, slice_))


def _compute(entry: Entry, sl: Slice) -> SliceEntitlements:
    sig = sl.signature
    if sig is None:
        return SliceEntitlements(None, None, None, ())
    xml = sig.entitlements.values if sig.entitlements is not None else None
    der = None
    error = None
    if sig.der_entitlements is not None:
        # imported here: the DER decoder pulls in asn1crypto, which most inputs never need
        from bundlelint.parsers.der_entitlements import (
            entitlements_differences,
            parse_der_entitlements,
        )

        offset = next((b.offset for b in sig.blobs if b.slot == CSSLOT_DER_ENTITLEMENTS), 0)
        try:
            der = parse_der_entitlements(sig.der_entitlements, path=entry.display,
                                         base=offset).values
        except ParseError as err:
            error = err
        if xml is not None and der is not None:
            return SliceEntitlements(xml, der, error, entitlements_differences(xml, der))
    return SliceEntitlements(xml, der, error, ())
