"""Embedded code signatures: the SuperBlob, CodeDirectories, requirements, entitlements, CMS.

Everything here is big-endian (docs/formats.md section 2). This module only decodes structure; hash
verification reads the code itself and lives elsewhere.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from bundlelint.errors import ParseError
from bundlelint.options import MAX_SIGNATURE_BYTES
from bundlelint.parsers.plist import parse_plist
from bundlelint.parsers.reader import Reader

CSMAGIC_EMBEDDED_SIGNATURE = 0xFADE0CC0
CSMAGIC_EMBEDDED_SIGNATURE_OLD = 0xFADE0B02
CSMAGIC_DETACHED_SIGNATURE = 0xFADE0CC1
CSMAGIC_CODEDIRECTORY = 0xFADE0C02
CSMAGIC_REQUIREMENTS = 0xFADE0C01
CSMAGIC_REQUIREMENT = 0xFADE0C00
CSMAGIC_EMBEDDED_ENTITLEMENTS = 0xFADE7171
CSMAGIC_EMBEDDED_DER_ENTITLEMENTS = 0xFADE7172
CSMAGIC_LAUNCH_CONSTRAINT = 0xFADE8181
CSMAGIC_BLOBWRAPPER = 0xFADE0B01

CSSLOT_CODEDIRECTORY = 0
CSSLOT_INFOSLOT = 1
CSSLOT_REQUIREMENTS = 2
CSSLOT_RESOURCEDIR = 3
CSSLOT_APPLICATION = 4
CSSLOT_ENTITLEMENTS = 5
CSSLOT_DER_ENTITLEMENTS = 7
CSSLOT_ALTERNATE_CODEDIRECTORIES = 0x1000
CSSLOT_ALTERNATE_CODEDIRECTORY_MAX = 5
CSSLOT_SIGNATURESLOT = 0x10000
CSSLOT_IDENTIFICATIONSLOT = 0x10001
CSSLOT_TICKETSLOT = 0x10002

#: CodeDirectory flags by name, as ``codesign -dvvv`` prints them.
CD_FLAG_NAMES = {
    0x0001: "host",
    0x0002: "adhoc",
    0x0100: "hard",
    0x0200: "kill",
    0x0400: "expires",
    0x0800: "restrict",
    0x1000: "enforcement",
    0x2000: "library-validation",
    0x10000: "runtime",
    0x20000: "linker-signed",
}
CS_ADHOC = 0x0002
CS_RUNTIME = 0x10000
CS_LINKER_SIGNED = 0x20000

HASH_TYPES = {
    1: ("sha1", 20),
    2: ("sha256", 32),
    3: ("sha256-truncated", 20),
    4: ("sha384", 48),
    5: ("sha512", 64),
}

#: Each CodeDirectory field and the version that introduced it (docs/formats.md 2.4).
_V_SCATTER = 0x20100
_V_TEAM = 0x20200
_V_CODELIMIT64 = 0x20300
_V_EXECSEG = 0x20400
_V_RUNTIME = 0x20500
_V_LINKAGE = 0x20600
_V_EARLIEST = 0x20001
#: Apple's reader accepts versions below this (SEC ``compatibilityLimit``).
CD_COMPATIBILITY_LIMIT = 0x2F000

MAX_BLOBS = 64
_CODE_DIRECTORY_SLOTS = frozenset(
    (CSSLOT_CODEDIRECTORY, *range(CSSLOT_ALTERNATE_CODEDIRECTORIES,
                                  CSSLOT_ALTERNATE_CODEDIRECTORIES
                                  + CSSLOT_ALTERNATE_CODEDIRECTORY_MAX)))
#: The slots whose blobs are read whole and decoded; any other blob is only indexed.
_DECODED_SLOTS = _CODE_DIRECTORY_SLOTS | {CSSLOT_REQUIREMENTS, CSSLOT_ENTITLEMENTS,
                                          CSSLOT_DER_ENTITLEMENTS, CSSLOT_SIGNATURESLOT}


@dataclass(frozen=True)
class BlobIndexEntry:
    """One SuperBlob index entry; ``offset`` is absolute in the file."""

    slot: int
    offset: int
    magic: int
    length: int


@dataclass(frozen=True)
class CodeDirectory:
    """A decoded CodeDirectory. ``raw`` is the whole blob (its hash is the cdhash)."""

    slot: int
    offset: int  # absolute file offset of the blob
    raw: bytes
    version: int
    flags: int
    hash_offset: int
    identifier: str
    team_id: str | None
    n_special_slots: int
    n_code_slots: int
    code_limit: int  # codeLimit64 when set, else codeLimit
    hash_size: int
    hash_type: int
    platform: int
    page_size_log2: int
    scatter_offset: int | None
    exec_seg_base: int | None
    exec_seg_limit: int | None
    exec_seg_flags: int | None
    runtime: int | None
    pre_encrypt_offset: int | None

    @property
    def hash_name(self) -> str:
        return HASH_TYPES.get(self.hash_type, (f"unknown({self.hash_type})", 0))[0]

    @property
    def page_size(self) -> int:
        """Bytes per code page; 0 means a single hash over the whole range."""
        return 0 if self.page_size_log2 == 0 else 1 << self.page_size_log2

    @property
    def is_adhoc(self) -> bool:
        return bool(self.flags & CS_ADHOC)

    @property
    def is_linker_signed(self) -> bool:
        return bool(self.flags & CS_LINKER_SIGNED)

    @property
    def has_hardened_runtime(self) -> bool:
        return bool(self.flags & CS_RUNTIME)

    @property
    def flag_names(self) -> tuple[str, ...]:
        names = [name for bit, name in CD_FLAG_NAMES.items() if self.flags & bit]
        unknown = self.flags & ~sum(CD_FLAG_NAMES)
        if unknown:
            names.append(f"{unknown:#x}")
        return tuple(names)

    def special_slot_hash(self, slot: int) -> bytes | None:
        """The stored hash of special slot ``slot`` (1 = Info.plist ...), or None if absent."""
        if slot < 1 or slot > self.n_special_slots:
            return None
        start = self.hash_offset - slot * self.hash_size
        value = self.raw[start : start + self.hash_size]
        return value if len(value) == self.hash_size else None

    def code_slot_hash(self, index: int) -> bytes | None:
        if not 0 <= index < self.n_code_slots:
            return None
        start = self.hash_offset + index * self.hash_size
        value = self.raw[start : start + self.hash_size]
        return value if len(value) == self.hash_size else None

    @property
    def cdhash(self) -> bytes:
        """hash(CodeDirectory blob) with this CD's own hash type, truncated to 20 bytes."""
        algorithm = {1: "sha1", 2: "sha256", 3: "sha256", 4: "sha384", 5: "sha512"}.get(
            self.hash_type
        )
        if algorithm is None:
            return b""
        return hashlib.new(algorithm, self.raw).digest()[:20]


@dataclass(frozen=True)
class Entitlements:
    """The XML entitlements blob (slot 5): raw payload and, if it parses, the dict."""

    payload: bytes
    values: dict[str, object] | None
    error: str | None
    is_binary_plist: bool
    error_offset: int | None = None  # absolute offset the error names (the payload's start)


@dataclass(frozen=True)
class EmbeddedSignature:
    """The SuperBlob that LC_CODE_SIGNATURE points at."""

    offset: int  # absolute file offset
    length: int
    blobs: tuple[BlobIndexEntry, ...]
    code_directories: tuple[CodeDirectory, ...]  # primary (slot 0) first, then alternates
    requirements: bytes | None  # whole Requirements blob including header
    entitlements: Entitlements | None
    der_entitlements: bytes | None  # whole DER entitlements blob including header
    cms: bytes | None  # CMS payload; None = no slot, b"" = empty wrapper (ad-hoc)

    @property
    def primary(self) -> CodeDirectory | None:
        for cd in self.code_directories:
            if cd.slot == CSSLOT_CODEDIRECTORY:
                return cd
        return self.code_directories[0] if self.code_directories else None

    @property
    def has_cms_signature(self) -> bool:
        return bool(self.cms)

    @property
    def kind(self) -> str:
        """``linker-signed``, ``adhoc`` or ``certificate`` (a non-empty CMS blob)."""
        cd = self.primary
        if cd is not None and cd.is_linker_signed:
            return "linker-signed"
        if self.has_cms_signature and not (cd is not None and cd.is_adhoc):
            return "certificate"
        return "adhoc"


def parse_embedded_signature(data: bytes, *, path: str = "", base: int = 0) -> EmbeddedSignature:
    """Decode a SuperBlob held in ``data``; ``base`` is its absolute offset in ``path``."""
    return read_embedded_signature(lambda offset, size: data[offset : offset + size], len(data),
                                   path=path, base=base)


def read_embedded_signature(read: Callable[[int, int], bytes], available: int, *,
                            path: str = "", base: int = 0) -> EmbeddedSignature:
    """Decode the SuperBlob at ``base`` in ``path``, reading it through ``read(offset, size)``
    (offsets relative to the SuperBlob, at most ``available`` bytes: LC_CODE_SIGNATURE's
    datasize).

    Reads the header, the index, each indexed blob's header, and whole only the blobs decoded
    here, each after its length is checked: a claimed size never becomes an allocation. The
    SuperBlob may claim at most :data:`MAX_SIGNATURE_BYTES` (40 MiB, Apple's kernel limit).
    """
    head = Reader(read(0, 12), fmt="code signature", path=path, base=base)
    magic = head.u32be(0, "SuperBlob magic")
    if magic != CSMAGIC_EMBEDDED_SIGNATURE:
        raise head.error(0, f"SuperBlob magic is {magic:#010x}, expected 0xfade0cc0")
    length = head.u32be(4, "SuperBlob length")
    count = head.u32be(8, "SuperBlob count")
    if length < 12 or length > available:
        raise head.error(4, f"SuperBlob length {length:#x} is outside 12..{available:#x}")
    if length > MAX_SIGNATURE_BYTES:
        raise head.error(4, f"SuperBlob length {length:#x} is over {MAX_SIGNATURE_BYTES:#x} "
                         "bytes, the most the kernel loads (xnu CS_MAX_BLOB_SIZE, 40 MiB)")
    if count > MAX_BLOBS or 12 + 8 * count > length:
        raise head.error(8, f"SuperBlob count {count} does not fit in {length:#x} bytes")
    index = Reader(read(0, 12 + 8 * count), fmt="code signature", path=path, base=base)
    blobs: list[BlobIndexEntry] = []
    cds: list[CodeDirectory] = []
    requirements = der = cms = None
    entitlements: Entitlements | None = None
    seen: set[int] = set()
    for i in range(count):
        slot = index.u32be(12 + 8 * i, f"blob index {i} type")
        offset = index.u32be(16 + 8 * i, f"blob index {i} offset")
        if slot in seen:
            raise index.error(12 + 8 * i, f"slot {slot:#x} appears twice in the SuperBlob index")
        seen.add(slot)
        if offset < 12 + 8 * count or offset + 8 > length:
            raise index.error(16 + 8 * i, f"blob {i} (slot {slot:#x}) offset {offset:#x} is "
                              "outside the SuperBlob")
        header = Reader(read(offset, 8), fmt="code signature", path=path, base=base + offset)
        bmagic = header.u32be(0, f"blob {i} magic")
        blen = header.u32be(4, f"blob {i} length")
        if blen < 8 or offset + blen > length:
            raise header.error(4, f"blob {i} (slot {slot:#x}) length {blen:#x} runs past "
                               f"the SuperBlob end {length:#x}")
        blobs.append(BlobIndexEntry(slot=slot, offset=base + offset, magic=bmagic, length=blen))
        if slot not in _DECODED_SLOTS:
            continue
        blob = Reader(read(offset, blen), fmt="code signature", path=path, base=base + offset)
        blob.check(0, blen, f"blob {i}")
        if slot in _CODE_DIRECTORY_SLOTS:
            _expect(blob, bmagic, CSMAGIC_CODEDIRECTORY, slot)
            cds.append(parse_code_directory(blob, slot))
        elif slot == CSSLOT_REQUIREMENTS:
            _expect(blob, bmagic, CSMAGIC_REQUIREMENTS, slot)
            requirements = blob.bytes(0, blen, "requirements")
        elif slot == CSSLOT_ENTITLEMENTS:
            _expect(blob, bmagic, CSMAGIC_EMBEDDED_ENTITLEMENTS, slot)
            entitlements = _parse_entitlements(blob.bytes(8, blen - 8, "entitlements"), path,
                                               base + offset + 8)
        elif slot == CSSLOT_DER_ENTITLEMENTS:
            _expect(blob, bmagic, CSMAGIC_EMBEDDED_DER_ENTITLEMENTS, slot)
            der = blob.bytes(0, blen, "DER entitlements")
        elif slot == CSSLOT_SIGNATURESLOT:
            _expect(blob, bmagic, CSMAGIC_BLOBWRAPPER, slot)
            cms = blob.bytes(8, blen - 8, "CMS signature")
    cds.sort(key=lambda cd: cd.slot)
    return EmbeddedSignature(
        offset=base,
        length=length,
        blobs=tuple(blobs),
        code_directories=tuple(cds),
        requirements=requirements,
        entitlements=entitlements,
        der_entitlements=der,
        cms=cms,
    )


def _expect(blob: Reader, magic: int, expected: int, slot: int) -> None:
    if magic != expected:
        raise blob.error(0, f"slot {slot:#x} holds magic {magic:#010x}, expected {expected:#010x}")


def parse_code_directory(r: Reader, slot: int = 0) -> CodeDirectory:
    """Decode one CodeDirectory blob; fields are read only if its version has them."""
    length = len(r)
    version = r.u32be(8, "CodeDirectory version")
    if version < _V_EARLIEST or version >= CD_COMPATIBILITY_LIMIT:
        raise r.error(8, f"CodeDirectory version {version:#x} is outside "
                      f"{_V_EARLIEST:#x}..{CD_COMPATIBILITY_LIMIT - 1:#x}")
    flags = r.u32be(12, "flags")
    hash_offset = r.u32be(16, "hashOffset")
    ident_offset = r.u32be(20, "identOffset")
    n_special = r.u32be(24, "nSpecialSlots")
    n_code = r.u32be(28, "nCodeSlots")
    code_limit = r.u32be(32, "codeLimit")
    hash_size = r.u8(36, "hashSize")
    hash_type = r.u8(37, "hashType")
    platform = r.u8(38, "platform")
    page_size_log2 = r.u8(39, "pageSize")

    def field(min_version: int, offset: int, width: int, name: str) -> int | None:
        if version < min_version:
            return None
        return r.u64be(offset, name) if width == 8 else r.u32be(offset, name)

    scatter = field(_V_SCATTER, 0x2C, 4, "scatterOffset")
    team_offset = field(_V_TEAM, 0x30, 4, "teamOffset")
    limit64 = field(_V_CODELIMIT64, 0x38, 8, "codeLimit64")
    exec_base = field(_V_EXECSEG, 0x40, 8, "execSegBase")
    exec_limit = field(_V_EXECSEG, 0x48, 8, "execSegLimit")
    exec_flags = field(_V_EXECSEG, 0x50, 8, "execSegFlags")
    runtime = field(_V_RUNTIME, 0x58, 4, "runtime")
    pre_encrypt = field(_V_RUNTIME, 0x5C, 4, "preEncryptOffset")
    if version >= _V_LINKAGE:
        r.check(0x60, 12, "linkage fields")

    expected_size = HASH_TYPES.get(hash_type, (None, None))[1]
    if expected_size is None:
        raise r.error(37, f"unknown hashType {hash_type}")
    if hash_size != expected_size:
        raise r.error(36, f"hashSize {hash_size} does not match hashType {hash_type} "
                      f"({expected_size} bytes)")
    if page_size_log2 > 30:
        raise r.error(39, f"pageSize 2^{page_size_log2} is absurd")
    # Every hash must lie inside the blob: check the arithmetic before any slicing.
    if hash_offset < n_special * hash_size:
        raise r.error(16, f"hashOffset {hash_offset:#x} leaves no room for {n_special} special "
                      "slots")
    # Blame the field that lies, not the computed position (which may be far past the file).
    if hash_offset > length:
        raise r.error(16, f"hashOffset {hash_offset:#x} is past the end of the {length:#x}-byte "
                      "CodeDirectory")
    if hash_offset + n_code * hash_size > length:
        raise r.error(28, f"nCodeSlots {n_code} hashes of {hash_size} bytes from hashOffset "
                      f"{hash_offset:#x} run past the end of the {length:#x}-byte CodeDirectory")
    if ident_offset >= length:
        raise r.error(20, f"identOffset {ident_offset:#x} is past the end of the {length:#x}-byte "
                      "CodeDirectory")
    if team_offset and team_offset >= length:
        raise r.error(0x30, f"teamOffset {team_offset:#x} is past the end of the {length:#x}-byte "
                      "CodeDirectory")
    identifier = r.cstring(ident_offset, "identifier")
    team_id = r.cstring(team_offset, "team ID") if team_offset else None
    effective_limit = limit64 if limit64 else code_limit
    return CodeDirectory(
        slot=slot,
        offset=r.base + r.start,
        raw=r.bytes(0, length, "CodeDirectory"),
        version=version,
        flags=flags,
        hash_offset=hash_offset,
        identifier=identifier,
        team_id=team_id,
        n_special_slots=n_special,
        n_code_slots=n_code,
        code_limit=effective_limit,
        hash_size=hash_size,
        hash_type=hash_type,
        platform=platform,
        page_size_log2=page_size_log2,
        scatter_offset=scatter or None,
        exec_seg_base=exec_base,
        exec_seg_limit=exec_limit,
        exec_seg_flags=exec_flags,
        runtime=runtime,
        pre_encrypt_offset=pre_encrypt,
    )


def _parse_entitlements(payload: bytes, path: str, offset: int) -> Entitlements:
    """Entitlements must be an XML plist dict; a binary plist is recorded as such (the notary
    rejects it with 'Embedded entitlements are invalid'). ``offset``: where the payload starts.

    Parsed by ``parse_plist`` like every plist, so the value is bounded in depth and expanded
    size before anything compares or prints it (a hostile value becomes ``error``)."""
    is_binary = payload.startswith(b"bplist")
    try:
        # Read as CoreFoundation reads plists (parsers.plist): leading whitespace before <?xml
        # is tolerated by Apple's parsers (Node.js has shipped Developer ID-signed binaries
        # whose entitlements start with two spaces), not by expat.
        stripped = payload.lstrip(b" \t\r\n")
        value = parse_plist(stripped, path, base=offset + len(payload) - len(stripped)).value
    except ParseError as err:
        return Entitlements(payload=payload, values=None, error=err.reason,
                            is_binary_plist=is_binary, error_offset=err.offset)
    if not isinstance(value, dict):
        return Entitlements(payload=payload, values=None,
                            error=f"top level is {type(value).__name__}, not a dict",
                            is_binary_plist=is_binary, error_offset=offset)
    return Entitlements(payload=payload, values=value, error=None, is_binary_plist=is_binary)
