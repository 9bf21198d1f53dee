"""Options that change how rules judge (not which rules run: that is ``engine.Selection``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: Bounds on what a hostile file can make bundlelint hold or walk, whatever it claims. They live
#: here, together, so that one look shows every limit; parsers import them (this module imports
#: nothing of bundlelint's).

#: The deepest a property-list or DER value may nest (root = 0): entitlements (XML and DER),
#: Info.plist, CodeResources, the CMS hash-agility plist. Real documents nest under 10 levels;
#: consumers (comparison, ``repr``, JSON) recurse, so an unbounded depth is a crash.
MAX_VALUE_DEPTH = 32

#: A decoded plist or DER value may count at most this many values (dict keys included) per byte
#: of its encoding. A document that stores every value once always fits (each value costs at
#: least one byte: a binary plist's one-byte object reference, a DER tag, an XML tag), so only
#: shared references, a binary plist's "billion laughs" (16 references to an array of 16
#: references to ... 8 levels deep: 4.3e9 leaves in 17 KB), exceed it.
MAX_VALUES_PER_BYTE = 1

#: The most bytes a code signature's SuperBlob may claim. Apple's own limit: xnu refuses a
#: signature blob over 40 MiB (``CS_MAX_BLOB_SIZE`` in bsd/kern/kern_descrip.c,
#: ``sys_fcntl_nocancel``, ``F_ADDSIGS``: the path dyld uses to load every library's signature),
#: so such a file cannot be loaded. Security's ``MachORep::signingData``
#: (libsecurity_codesigning/lib/machorep.cpp, through ``BlobCore::readBlob`` in
#: libsecurity_utilities/lib/blob.cpp) has no limit of its own: it reads the header, then
#: allocates the SuperBlob's claimed length (up to LC_CODE_SIGNATURE's datasize).
MAX_SIGNATURE_BYTES = 40 * 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class Options:
    """Settings from the command line and configuration that rules and analyses read.

    ``extra_trust_anchors`` are DER certificates trusted *in addition to* the pinned Apple roots,
    for test fixtures signed by a throwaway CA; they never replace or widen Apple's roots for
    anything they did not issue.
    """

    extra_trust_anchors: tuple[bytes, ...] = ()
    expected_team_id: str | None = None
    expected_bundle_identifier: str | None = None
    expected_entitlements: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    max_file_size: int | None = None
    jobs: int | None = None
    #: Zip input: the most the archive may declare uncompressed, and the highest compression
    #: ratio (overall, or of one member of 1 MiB or more). Over either, nothing is inflated.
    max_archive_size: int = 8 * 1024**3
    max_compression_ratio: float = 200.0
    #: Zip input: the most central directory entries read. Python's zipfile keeps an object per
    #: entry (and so does the bundle model), so this bounds memory whatever the archive claims;
    #: the largest app bundles seen have well under 100,000 files.
    max_archive_members: int = 250_000
