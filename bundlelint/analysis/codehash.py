"""Code-page and special-slot hash verification for every CodeDirectory of every slice.

Why: a signature whose hashes no longer match the bytes is exactly what ``strip``, ``upx``,
``install_name_tool`` or a post-link patch leaves behind, and Apple rejects it ("The signature of
the binary is invalid."). The parsers only decode the CodeDirectory; this module reads the code
again and compares (docs/formats.md 2.4-2.9).

Each file is read once, in large chunks, whatever the number of CodeDirectories: one pass over a
slice feeds every CD of that slice. The page-hashing core (:func:`verify_pages`, in
``hashing.py`` with the worker pool that runs it on page-aligned sub-ranges across cores) takes
one file handle, one range and the CDs to check, and knows nothing of bundles.
"""

from __future__ import annotations

import enum
import hashlib
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from bundlelint.analysis import hashing
from bundlelint.analysis.hashing import ALGORITHMS as _ALGORITHMS
from bundlelint.analysis.hashing import CHUNK as CHUNK
from bundlelint.analysis.hashing import PageResult as PageResult
from bundlelint.analysis.hashing import PageSpec as PageSpec
from bundlelint.analysis.hashing import verify_pages as verify_pages
from bundlelint.bundle import Bundle, Entry, EntryKind
from bundlelint.parsers.codesign import (
    CSMAGIC_EMBEDDED_ENTITLEMENTS,
    CodeDirectory,
    EmbeddedSignature,
)
from bundlelint.parsers.macho import MachOFile, Slice
from bundlelint.parsers.plist import MAX_PLIST_BYTES

#: An embedded ``__info_plist`` section is read into memory to be hashed; it is a property
#: list, so it is held to the plist size limit. (Files are hashed by streaming: ``FileSlot``.)
MAX_SLOT_DATA = MAX_PLIST_BYTES

HASH_TYPE_NAMES = {1: "SHA-1", 2: "SHA-256", 3: "SHA-256 (truncated)", 4: "SHA-384",
                   5: "SHA-512"}

#: Special slots this module checks, with the names users read.
SLOT_NAMES = {
    1: "Info.plist",
    2: "requirements",
    3: "CodeResources",
    5: "entitlements (XML)",
    7: "entitlements (DER)",
}


class SlotStatus(enum.Enum):
    """How a special slot's stored hash compares with the data it covers."""

    MATCH = "matches"  # hashed, data present, equal
    DIFFERS = "differs"  # hashed, data present, different
    MISSING = "missing"  # hashed, but the data is gone
    UNBOUND = "unbound"  # data present, slot zero-filled or beyond nSpecialSlots
    NOT_HASHED = "not-hashed"  # no data and no hash: nothing to check
    SKIPPED = "not read"  # the file is over --max-file-size (BL008 reports it)

    @property
    def is_problem(self) -> bool:
        return self in (SlotStatus.DIFFERS, SlotStatus.MISSING)


@dataclass(frozen=True)
class SlotResult:
    """One special slot of one CodeDirectory."""

    slot: int
    name: str
    status: SlotStatus
    stored: str | None  # hex of the stored hash (None: zero-filled or absent)
    actual: str | None  # hex of the hash of the data on disk (None: no data)
    source: str | None  # where the data came from (a path, or "signature blob")


@dataclass(frozen=True)
class CDVerification:
    """The verdict on one CodeDirectory: code pages, special slots, cdhash."""

    slot: int  # 0 for the primary, 0x1000+ for alternates
    hash_type: int
    hash_name: str
    page_size: int
    code_limit: int
    n_code_slots: int
    expected_code_slots: int
    cdhash: str  # hex, truncated to 20 bytes
    full_cdhash: str  # hex, untruncated
    flags: int
    identifier: str
    pages: PageResult
    specials: tuple[SlotResult, ...]
    problems: tuple[str, ...]  # structural: slot count, codeLimit past the signature or EOF

    @property
    def slot_label(self) -> str:
        return "primary" if self.slot == 0 else f"alternate {self.slot:#x}"

    def special(self, slot: int) -> SlotResult | None:
        for result in self.specials:
            if result.slot == slot:
                return result
        return None


@dataclass(frozen=True)
class SliceVerification:
    """Every CodeDirectory of one slice."""

    arch: str
    offset: int  # of the slice in the file
    size: int
    signature_offset: int | None  # LC_CODE_SIGNATURE dataoff, relative to the slice
    code_directories: tuple[CDVerification, ...]

    @property
    def hash_types(self) -> tuple[int, ...]:
        return tuple(cd.hash_type for cd in self.code_directories)


@dataclass(frozen=True)
class CodeVerification:
    """Hash verification of one Mach-O file: one entry per signed slice."""

    path: str
    slices: tuple[SliceVerification, ...]
    error: str | None = None  # the file could not be read


# --- the hashing core lives in hashing.py (re-exported here) ----------------------------------


def _digest_for(hash_type: int) -> tuple[Callable[..., hashlib._Hash], int] | None:
    return _ALGORITHMS.get(hash_type)


# --- per file ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileSlot:
    """Special-slot data that is a file of the bundle (Info.plist, CodeResources): its digest is
    streamed through the shared hashing (cached, never read into memory whole), so a file of
    any size costs one buffer."""

    bundle: Bundle
    entry: Entry

    def digest(self, hash_type: int) -> bytes | None:
        """The file's digest for ``hash_type``, or ``None`` if it cannot be read."""
        name = HASH_NAMES.get(hash_type)
        if name is None:
            return None
        try:
            return hashing.file_digest(self.bundle, self.entry, name)
        except OSError:
            return None


@dataclass(frozen=True)
class NotRead:
    """Special-slot data that exists but was not read: the file (or the Info.plist that says
    which executable is the bundle's main one) is over ``--max-file-size``."""

    entry: Entry


#: What a special slot is compared with: bytes from the signature or a section, a file of the
#: bundle, a file not read, or nothing.
SlotData = bytes | FileSlot | NotRead | None

#: hashType -> hashlib name (type 3 is SHA-256, truncated by the caller).
HASH_NAMES = {1: "sha1", 2: "sha256", 3: "sha256", 4: "sha384", 5: "sha512"}


def _file_slot(bundle: Bundle, entry: Entry) -> FileSlot | None:
    """Slot data for a regular file; ``None`` for a directory, symlink or special file."""
    if entry.kind in (EntryKind.DIRECTORY, EntryKind.SYMLINK, EntryKind.SPECIAL,
                      EntryKind.UNREADABLE):
        return None
    return FileSlot(bundle, entry)


def _skipped_info_plist(bundle: Bundle, entry: Entry) -> Entry | None:
    """The Info.plist of the bundle holding ``entry`` when it exists but is over
    ``--max-file-size`` (so whether ``entry`` is that bundle's main executable is unknown)."""
    if bundle.is_single_file:
        return None
    geometry = bundle.layout.geometry(bundle.bundle_dir_of(entry.relpath))
    if not geometry.executable_unknown or geometry.info_plist is None:
        return None
    return bundle.entry(geometry.info_plist)


def verify_code(bundle: Bundle, entry: Entry) -> CodeVerification:
    """Verify every CodeDirectory of every signed slice of ``entry`` (cached per file).

    Raises ``ParseError`` if the file is not a readable Mach-O (the Mach-O rules report that).
    """
    macho = bundle.macho(entry)
    return bundle.memo("codehash", entry.relpath, lambda: _verify(bundle, entry, macho))


def _verify(bundle: Bundle, entry: Entry, macho: MachOFile) -> CodeVerification:
    layout = bundle.layout.bundle_of_main_executable(entry.relpath)
    info_data: SlotData = None
    info_source: str | None = None
    resources_data: SlotData = None
    resources_source: str | None = None
    if layout is not None:
        if layout.info_plist is not None:
            info_entry = bundle.entry(layout.info_plist)
            if info_entry is not None:
                info_data = _file_slot(bundle, info_entry)
                info_source = info_entry.display
        cr = bundle.entry(layout.code_resources)
        if cr is not None:
            resources_data = _file_slot(bundle, cr)
            resources_source = cr.display
    unread_info = None if layout is not None else _skipped_info_plist(bundle, entry)
    slices = []
    try:
        with bundle.open_entry(entry) as fh:
            for sl in macho.slices:
                sig = sl.signature
                if sig is None or not sig.code_directories:
                    continue
                if layout is None and unread_info is not None:
                    # Which executable is the main one is written in the Info.plist nobody
                    # read: slots 1 and 3 may bind it and CodeResources, or nothing.
                    info_data = resources_data = NotRead(unread_info)
                    info_source = resources_source = unread_info.display
                elif layout is None:
                    info_data, info_source = _embedded_info_plist(fh, sl, entry)
                slices.append(_verify_slice(bundle, entry, sl, sig, {
                    1: (info_data, info_source),
                    2: (sig.requirements, "signature blob"),
                    3: (resources_data, resources_source),
                    5: (_entitlements_blob(sig), "signature blob"),
                    7: (sig.der_entitlements, "signature blob"),
                }))
    except OSError as err:
        return CodeVerification(entry.display, tuple(slices), f"cannot read: {err}")
    return CodeVerification(entry.display, tuple(slices))


def _entitlements_blob(sig: EmbeddedSignature) -> bytes | None:
    """The whole slot-5 blob (header included), which is what special slot 5 hashes."""
    if sig.entitlements is None:
        return None
    payload = sig.entitlements.payload
    return struct.pack(">II", CSMAGIC_EMBEDDED_ENTITLEMENTS, 8 + len(payload)) + payload


def _embedded_info_plist(fh: BinaryIO, sl: Slice, entry: Entry) -> tuple[bytes | None,
                                                                           str | None]:
    """``__TEXT,__info_plist`` of a standalone Mach-O slice (slot 1 hashes it)."""
    sect = sl.section("__TEXT", "__info_plist")
    if sect is None or sect.size == 0:
        return None, None
    if sect.offset + sect.size > sl.size or sect.size > MAX_SLOT_DATA:
        return None, None
    fh.seek(sl.offset + sect.offset)
    return fh.read(sect.size), f"{entry.display} (__TEXT,__info_plist)"


def slice_pages(entry: Entry, macho: MachOFile) -> list[tuple[int, int, list[PageSpec], str]]:
    """(slice offset, bytes of code that exist, the CDs' page specs, label) of every signed
    slice: what :mod:`hashing` needs to verify code pages, in any process."""
    out = []
    for sl in macho.slices:
        sig = sl.signature
        if sig is None or not sig.code_directories:
            continue
        sig_off = sl.code_signature.dataoff if sl.code_signature else None
        available = sl.size if sig_off is None else min(sl.size, sig_off)
        specs = [_page_spec(cd) for cd in sig.code_directories]
        label = f"{entry.display} ({sl.arch})" if len(macho.slices) > 1 else entry.display
        out.append((sl.offset, available, specs, label))
    return out


def _verify_slice(bundle: Bundle, entry: Entry, sl: Slice,
                  sig: EmbeddedSignature,
                  slot_data: dict[int, tuple[SlotData, str | None]]) -> SliceVerification:
    sig_off = sl.code_signature.dataoff if sl.code_signature else None
    cds = sig.code_directories
    specs = [_page_spec(cd) for cd in cds]
    available = sl.size if sig_off is None else min(sl.size, sig_off)
    pages = hashing.page_results(bundle, entry, sl.offset, available, specs,
                                 f"{entry.display} ({sl.arch})")
    out = []
    for cd, result in zip(cds, pages, strict=True):
        out.append(_cd_verification(cd, result, sl, sig_off, slot_data))
    return SliceVerification(sl.arch, sl.offset, sl.size, sig_off, tuple(out))


def full_cdhash(cd: CodeDirectory) -> str:
    """The untruncated hex hash of the CodeDirectory blob with its own hash type (SHA-256
    for a type Apple's verifier does not know). Reads no page of the code."""
    algo = _digest_for(cd.hash_type)
    return (algo[0] if algo is not None else hashlib.sha256)(cd.raw).hexdigest()


def signed_cdhashes(macho: MachOFile) -> tuple[str, ...]:
    """:func:`full_cdhash` of every CodeDirectory of every signed slice, in slice order: what a
    seal's nested-code entry is compared with. Computed from the parsed signature alone, so
    a seal check never waits for the code pages to be hashed."""
    return tuple(full_cdhash(cd) for sl in macho.slices if sl.signature is not None
                 for cd in sl.signature.code_directories)


def _page_spec(cd: CodeDirectory) -> PageSpec:
    hs = cd.hash_size
    start = cd.hash_offset
    return PageSpec(
        hash_type=cd.hash_type,
        page_size=cd.page_size,
        code_limit=cd.code_limit,
        hashes=cd.raw[start : start + cd.n_code_slots * hs],
        hash_size=hs,
    )


def expected_code_slots(cd: CodeDirectory) -> int:
    """ceil(codeLimit / pageSize); one slot for pageSize 0 (none if the range is empty)."""
    if cd.code_limit == 0:
        return 0
    if cd.page_size == 0:
        return 1
    return -(-cd.code_limit // cd.page_size)


def _cd_verification(cd: CodeDirectory, pages: PageResult, sl: Slice, sig_off: int | None,
                     slot_data: dict[int, tuple[SlotData, str | None]]) -> CDVerification:
    problems = []
    expected = expected_code_slots(cd)
    if cd.n_code_slots != expected:
        problems.append(f"nCodeSlots is {cd.n_code_slots} but codeLimit {cd.code_limit:#x} "
                        f"with {cd.page_size or 'one'}-byte pages needs {expected}")
    if sig_off is not None and cd.code_limit > sig_off:
        problems.append(f"codeLimit {cd.code_limit:#x} runs past the signature at slice offset "
                        f"{sig_off:#x}")
    if cd.code_limit > sl.size:
        problems.append(f"codeLimit {cd.code_limit:#x} runs past the end of the "
                        f"{sl.size:#x}-byte slice")
    if cd.hash_type not in _ALGORITHMS:
        problems.append(f"hash type {cd.hash_type} is not one Apple's verifier knows")
    full = full_cdhash(cd)
    specials = tuple(_special(cd, slot, *slot_data.get(slot, (None, None)))
                     for slot in SLOT_NAMES)
    return CDVerification(
        slot=cd.slot,
        hash_type=cd.hash_type,
        hash_name=HASH_TYPE_NAMES.get(cd.hash_type, f"hash type {cd.hash_type}"),
        page_size=cd.page_size,
        code_limit=cd.code_limit,
        n_code_slots=cd.n_code_slots,
        expected_code_slots=expected,
        cdhash=full[:40],
        full_cdhash=full,
        flags=cd.flags,
        identifier=cd.identifier,
        pages=pages,
        specials=specials,
        problems=tuple(problems),
    )


def _special(cd: CodeDirectory, slot: int, data: SlotData,
             source: str | None) -> SlotResult:
    stored = cd.special_slot_hash(slot)
    if stored is not None and not any(stored):
        stored = None
    if isinstance(data, NotRead) or (isinstance(data, FileSlot)
                                     and data.bundle.skipped(data.entry)):
        return SlotResult(slot=slot, name=SLOT_NAMES[slot], status=SlotStatus.SKIPPED,
                          stored=stored.hex() if stored is not None else None, actual=None,
                          source=source)
    algo = _digest_for(cd.hash_type)
    actual = None
    if isinstance(data, FileSlot):
        digest = data.digest(cd.hash_type) if algo is not None else None
        if digest is None and algo is not None:
            data = None  # unreadable: as if missing
        elif digest is not None:
            actual = digest[: cd.hash_size]
    elif data is not None and algo is not None:
        actual = algo[0](data).digest()[: cd.hash_size]
    if stored is None:
        status = SlotStatus.NOT_HASHED if data is None else SlotStatus.UNBOUND
    elif data is None:
        status = SlotStatus.MISSING
    else:
        status = SlotStatus.MATCH if actual == stored else SlotStatus.DIFFERS
    return SlotResult(
        slot=slot,
        name=SLOT_NAMES[slot],
        status=status,
        stored=stored.hex() if stored is not None else None,
        actual=actual.hex() if actual is not None else None,
        source=source if data is not None else None,
    )


def code_verifications(bundle: Bundle) -> list[tuple[Entry, CodeVerification]]:
    """Every Mach-O of the input that parsed, with its verification (signed slices only)."""
    out = []
    for entry, _ in bundle.machos():
        out.append((entry, verify_code(bundle, entry)))
    return out
