"""SBOM writers: ``analysis.components.Inventory`` as CycloneDX JSON or SPDX 2.3 JSON.

They sit at the reporters' level (they only render what an analysis built) and are imported by
``commands/sbom`` alone, so ``bundlelint check`` never loads them or cyclonedx-python-lib.

Reproducible output: with ``SOURCE_DATE_EPOCH`` set (reproducible-builds.org's convention, which
release pipelines that build reproducibly already export), the timestamp is that instant and
the serial number / document namespace is derived from the document's content, so the same
bundle gives the same bytes. Without it, each document gets the current time and a random
UUID, as both specifications ask of distinct documents.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import os
import uuid
from collections.abc import Mapping

from bundlelint.analysis.components import Inventory

#: Namespace for content-derived UUIDs (uuid5 of the document's canonical JSON).
_UUID_NAMESPACE = uuid.UUID("6f1c3e0a-5a47-4d8e-9c59-6b756e646c65")


class SbomSettingsError(ValueError):
    """``SOURCE_DATE_EPOCH`` is set but not a non-negative integer."""


def source_date(environ: Mapping[str, str] | None = None) -> datetime.datetime | None:
    """``SOURCE_DATE_EPOCH`` as an aware UTC datetime, None when unset or empty."""
    env = os.environ if environ is None else environ
    raw = env.get("SOURCE_DATE_EPOCH", "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise SbomSettingsError(f"SOURCE_DATE_EPOCH={raw!r} is not a number of seconds")
    try:
        return datetime.datetime.fromtimestamp(int(raw), tz=datetime.UTC)
    except (OverflowError, OSError, ValueError) as err:
        raise SbomSettingsError(f"SOURCE_DATE_EPOCH={raw!r} is out of range") from err


def content_uuid(inventory: Inventory) -> uuid.UUID:
    """A UUID that depends only on the inventory (for reproducible documents)."""
    blob = json.dumps(dataclasses.asdict(inventory), sort_keys=True, ensure_ascii=True)
    return uuid.uuid5(_UUID_NAMESPACE, hashlib.sha256(blob.encode()).hexdigest())
