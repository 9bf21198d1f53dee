"""One fuzz target per parser: feed arbitrary bytes, allow only ``ParseError`` out.

The same targets serve the coverage-guided atheris harness (``fuzz/run.py``) and the in-suite
hypothesis property tests (``tests/test_fuzz_targets.py``). A target returning normally or raising
``ParseError`` is fine; anything else is a bug, and every crash found becomes a regression test.
The ``lint_*`` targets run the whole engine (every parser, analysis and rule) over a file and
also fail on an internal-error finding (BL003), which is how the engine reports a crashed rule.
``reporters`` renders findings and a notary log made of arbitrary strings in every format and
fails on output a terminal or a CI runner would act on (``check_inert``).
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from bundlelint.errors import ParseError
from bundlelint.parsers.appledouble import parse_appledouble
from bundlelint.parsers.cms import parse_cms
from bundlelint.parsers.coderesources import parse_code_resources
from bundlelint.parsers.codesign import parse_embedded_signature
from bundlelint.parsers.der_entitlements import parse_der_entitlements
from bundlelint.parsers.gobuildinfo import find_runtime_version, parse_go_buildinfo
from bundlelint.parsers.macho import Section, Segment, Slice, parse_macho
from bundlelint.parsers.metallib import parse_metallib
from bundlelint.parsers.notary import parse_notary_log
from bundlelint.parsers.plist import parse_plist
from bundlelint.parsers.requirements import parse_requirements

Target = Callable[[bytes], object]


class InternalError(AssertionError):
    """The engine reported a crashed rule (BL003) on fuzzed input."""


def fuzz_macho(data: bytes) -> object:
    return parse_macho(io.BytesIO(data), len(data), "fuzz.macho")


def fuzz_codesign(data: bytes) -> object:
    return parse_embedded_signature(data, path="fuzz.sig")


def fuzz_plist(data: bytes) -> object:
    return parse_plist(data, "fuzz.plist")


class Disagreement(AssertionError):
    """The fast XML plist reader accepted a document differently from plistlib."""


def fuzz_xmlplist(data: bytes) -> object:
    """Differential: the fast reader returns plistlib's value or nothing, and nothing whenever
    plistlib refuses the document."""
    import plistlib

    from bundlelint.parsers.xmlplist import parse_xml_plist

    fast = parse_xml_plist(data)
    try:
        expected = plistlib.loads(data)
    except Exception:
        if fast is not None:
            raise Disagreement(f"accepted what plistlib refuses: {data[:200]!r}") from None
        return None
    if fast is not None and not same_plist(fast, expected):
        raise Disagreement(f"read differently from plistlib: {data[:200]!r}")
    return fast


def same_plist(a: object, b: object) -> bool:
    """Equality that tells True from 1 and -0.0 from 0.0 (plist types must match); NaN equals
    NaN (``<real>nan</real>`` is a valid document)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        assert isinstance(b, dict)
        return list(a) == list(b) and all(same_plist(a[k], b[k]) for k in a)
    if isinstance(a, list):
        assert isinstance(b, list)
        return len(a) == len(b) and all(same_plist(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        assert isinstance(b, float)
        return (a != a and b != b) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    return a == b


def fuzz_zipdir(data: bytes) -> object:
    from bundlelint.parsers.zipdir import scan_central_directory

    found = scan_central_directory(io.BytesIO(data), len(data), "fuzz.zip", 1000)
    assert found.counted <= 1001  # the scan stops just past its limit
    return found


class ZipDisagreement(AssertionError):
    """A zip member read in place differs from zipfile's reading, or from itself."""


def fuzz_zipmembers(data: bytes) -> object:
    """The zip source's own member reading (span checks, the measuring pass, stored windows and
    inflation from checkpoints): every member it maps reads back the same from the start, after
    a seek back, and as ``zipfile`` reads it whenever ``zipfile`` can; never past its declared
    size; failures only as ``OSError``."""
    import random
    import zipfile

    from bundlelint.inputs import zip as zip_input
    from bundlelint.options import Options

    directory = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        path = Path(tmp) / "fuzz.zip"
        path.write_bytes(data)
        source = zip_input.ZipSource(path, Options(max_archive_members=1000))
        try:
            reference: zipfile.ZipFile | None = zipfile.ZipFile(path)
        except zip_input.ZIP_ERRORS:
            reference = None
        rng = random.Random(len(data))
        for raw in source.walk():
            if not raw.is_file or raw.error is not None:
                continue
            index = source._entries[raw.relpath]
            try:
                with source.open(raw.relpath) as fh:
                    whole = fh.read()
                    at = rng.randrange(len(whole) + 1)
                    fh.seek(at)
                    again = fh.read()
            except OSError:
                continue
            if len(whole) > raw.size or again != whole[at:]:
                raise ZipDisagreement(f"{raw.relpath}: reads differ after a seek to {at}")
            if reference is not None:
                try:
                    expected = reference.read(reference.infolist()[index])
                except zip_input.ZIP_ERRORS:
                    continue
                if expected != whole:
                    raise ZipDisagreement(f"{raw.relpath}: differs from zipfile's reading")
        if reference is not None:
            reference.close()
    return source.archive


class TarDisagreement(Exception):
    """A nested tar member read back differs from what the scan listed, or a limit was passed."""


def fuzz_tar(data: bytes) -> object:
    """The nested tar scanner (``inputs.tar``) over ``data`` as stored and gzip-compressed, with
    small limits: it fails only with ``TarRefused`` or ``TAR_ERRORS``, never lists a member
    over the member limit, and every member it lists reads back starting with the bytes the
    scan kept."""
    import gzip
    import io

    from bundlelint.inputs.tar import TAR_ERRORS, Limits, TarRefused, read_member, scan

    limits = Limits(expanded=1 << 20, single_read=1 << 16, members=64)
    for raw in (data, gzip.compress(data, mtime=0)):
        head = raw[:8]
        try:
            members, produced = scan(io.BytesIO(raw), head, limits, max_member=1 << 16)
        except (TarRefused, *TAR_ERRORS):
            continue
        if produced > limits.expanded:
            raise TarDisagreement(f"produced {produced} bytes past the limit")
        for member in members:
            if member.size > 1 << 16:
                raise TarDisagreement(f"{member.name!r}: {member.size} bytes listed")
            try:
                again = read_member(io.BytesIO(raw), head, limits, member, 1 << 16)
            except (TarRefused, *TAR_ERRORS):
                continue  # a later member of the same name may be damaged
            if len(again) == member.size and not again.startswith(member.head):
                raise TarDisagreement(f"{member.name!r}: read back differs from the scan")
    return data


def fuzz_requirements(data: bytes) -> object:
    return parse_requirements(data, path="fuzz.req").text


def fuzz_cms(data: bytes) -> object:
    return parse_cms(data, path="fuzz.cms")


def fuzz_der_entitlements(data: bytes) -> object:
    return parse_der_entitlements(data, path="fuzz.der")


def fuzz_coderesources(data: bytes) -> object:
    return parse_code_resources(data, "fuzz/CodeResources")


#: Where the fuzzed build-info region sits in the synthetic Go file (and its VM address).
GO_DATA_FILEOFF = 0x10000
GO_DATA_VMADDR = 0x100010000
_GO_BASE: list[tuple[bytes, Slice]] = []


def _go_base() -> tuple[bytes, Slice]:
    """A small valid Mach-O, parsed once; fuzzed data is placed after it as a __DATA segment."""
    if not _GO_BASE:
        from fixtures.macho_builder import MachOSpec, build_macho

        head = build_macho(MachOSpec()).ljust(GO_DATA_FILEOFF, b"\0")
        _GO_BASE.append((head, parse_macho(io.BytesIO(head), len(head), "fuzz.go").slices[0]))
    return _GO_BASE[0]


def fuzz_gobuildinfo(data: bytes) -> object:
    """``data`` is the contents of a ``__DATA,__go_buildinfo`` section (header, inline strings
    or pointers into the same region, modinfo) plus a ``__rodata`` with the runtime version."""
    head, base = _go_base()
    blob = head + data
    sect = Section("__DATA", "__go_buildinfo", GO_DATA_VMADDR, len(data), GO_DATA_FILEOFF)
    rodata = Section("__TEXT", "__rodata", GO_DATA_VMADDR, len(data), GO_DATA_FILEOFF)
    seg = Segment("__DATA", GO_DATA_VMADDR, len(data), GO_DATA_FILEOFF, len(data), 3, 3,
                  (sect, rodata))
    sl = replace(base, segments=(*base.segments, seg), size=len(blob))
    fh = io.BytesIO(blob)
    return parse_go_buildinfo(fh, sl, "fuzz.go"), find_runtime_version(fh, sl)


def fuzz_metallib(data: bytes) -> object:
    return parse_metallib(data[:4096], len(data), "fuzz.metallib")


def fuzz_appledouble(data: bytes) -> object:
    return parse_appledouble(data, "fuzz/._a")


def fuzz_hfsplus(data: bytes) -> object:
    """Walk an HFS+ volume and read every file it lists (up to 1 MiB each). A path the walk
    gave that ``open`` cannot find is a bug, like any exception but ``ParseError``."""
    from bundlelint.parsers.hfsplus import HFSPlusVolume
    from bundlelint.parsers.volume import NodeKind

    volume = HFSPlusVolume(io.BytesIO(data), path="fuzz.hfs")
    count = 0
    for node in volume.walk():
        count += 1
        if node.kind is NodeKind.FILE and node.error is None:
            with volume.open(node.path) as stream:
                stream.read(1 << 20)
    return count


#: How much of each file the APFS target reads: a hole may legitimately be petabytes long.
_APFS_READ_CAP = 1 << 18


def fuzz_apfs(data: bytes) -> object:
    """An APFS container walked and every file read (up to 256 KiB). Each 4 KiB block's
    Fletcher-64 checksum is rewritten first, so mutations reach the structures behind it;
    the checksum check itself is covered by tests/test_apfs.py."""
    from bundlelint.parsers.apfs import fletcher64, read_container
    from bundlelint.parsers.volume import NodeKind

    block = 4096
    buf = bytearray(data)
    for at in range(0, len(buf) - block + 1, block):
        buf[at:at + 8] = fletcher64(bytes(buf[at:at + block])).to_bytes(8, "little")
    container = read_container(io.BytesIO(bytes(buf)), "fuzz.apfs")
    for volume in container.volumes:
        for node in volume.walk():
            if node.kind is NodeKind.FILE and node.error is None:
                with volume.open(node.path) as f:
                    remaining = _APFS_READ_CAP
                    while remaining > 0 and (chunk := f.read(min(remaining, 1 << 16))):
                        remaining -= len(chunk)
    return container


def fuzz_xar(data: bytes) -> object:
    """The xar reader, then every file read back (checksums verified) and every payload
    walked as cpio, all bounded."""
    from bundlelint.parsers.cpio import CpioVolume
    from bundlelint.parsers.decoded import open_payload
    from bundlelint.parsers.xar import XarVolume, read_xar, verify_data

    fh = io.BytesIO(data)
    volume = XarVolume(read_xar(fh, path="fuzz.pkg"), fh)
    for node in volume.walk():
        entry = volume.archive.entry(node.path)
        if entry is None or entry.data is None or node.error:
            continue
        with contextlib.suppress(ParseError):
            verify_data(fh, entry.data, path="fuzz.pkg", what=node.path)
        with contextlib.suppress(ParseError):
            _kind, decoded = open_payload(volume.source(node.path), max_ratio=100)
            cpio = CpioVolume(decoded, max_entries=1000)
            for item in cpio.walk():
                if item.kind.value == "file":
                    cpio.read(item.path, 0, 4096)
    return volume.archive


def fuzz_cpio(data: bytes) -> object:
    """A cpio archive as stored, and the same bytes as a compressed payload."""
    from bundlelint.parsers.cpio import CpioVolume
    from bundlelint.parsers.decoded import FileRange, open_payload

    source = FileRange(io.BytesIO(data), 0, len(data), fmt="payload", path="fuzz.cpio")
    nodes = []
    for decoded in (source, open_payload(source, max_ratio=100)[1]):
        with contextlib.suppress(ParseError):
            cpio = CpioVolume(decoded, max_entries=1000)
            for node in cpio.walk():
                nodes.append(node)
                if node.kind.value == "file":
                    cpio.open(node.path).read(4096)
    return nodes


def fuzz_ticket(data: bytes) -> object:
    from bundlelint.parsers.ticket import parse_ticket, ticket_from_wrapper

    with contextlib.suppress(ParseError):
        ticket_from_wrapper(data, path="fuzz.ticket")
    return parse_ticket(data, path="fuzz.ticket")


def fuzz_notary(data: bytes) -> object:
    return parse_notary_log(data, "fuzz.json")


class ReadDisagreement(AssertionError):
    """The disk reader gave different bytes for the same range read two ways."""


#: A fuzzed image may describe terabytes of zeros: the target reads at most this much of it.
_UDIF_READ = 1 << 20


def fuzz_udif(data: bytes) -> object:
    """A whole disk image: the trailer, plist, block tables, partition map and signature
    (``inspect_disk_image``), then the disk read sequentially and by ``pread`` at the same
    offsets, which must agree. Chunk errors surface as ``ParseError``."""
    from bundlelint.parsers.diskimage import inspect_disk_image
    from bundlelint.parsers.udif import open_disk

    fh = io.BytesIO(data)
    report = inspect_disk_image(fh, name="fuzz.dmg", path="fuzz.dmg", file_size=len(data))
    if report.image is None:
        return report
    disk = open_disk(report.image, fh)
    size = min(disk.size, _UDIF_READ)
    offset = 0
    while offset < size:
        piece = disk.read(min(65536, size - offset))
        if not piece:
            raise ReadDisagreement(f"read() ended at {offset} of {size}")
        if disk.pread(offset, len(piece)) != piece:
            raise ReadDisagreement(f"read() and pread() differ at {offset}")
        offset += len(piece)
    return report


def fuzz_udifchunk(data: bytes) -> object:
    """One chunk: byte 0 picks the kind, bytes 1-2 the claimed size in 16-byte units, the rest
    is the stored data. The decoder returns exactly the claimed size or raises ChunkError."""
    from bundlelint.parsers import udifchunks

    if len(data) < 3:
        return None
    kinds = sorted(udifchunks.COMPRESSED_KINDS)
    kind = kinds[data[0] % len(kinds)]
    expected = int.from_bytes(data[1:3], "big") * 16
    try:
        out = udifchunks.decompress(kind, data[3:], expected)
    except udifchunks.ChunkError:
        return None
    if len(out) != expected:
        raise ReadDisagreement(f"{kind:#x} chunk gave {len(out)} bytes for {expected}")
    return out


def _lint_file(data: bytes, suffix: str) -> object:
    from bundlelint.bundle import open_input
    from bundlelint.engine import Selection, run_rules
    from bundlelint.rules import load_registry

    directory = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        path = Path(tmp) / f"fuzz{suffix}"
        path.write_bytes(data)
        report = run_rules(open_input(path), _registry(load_registry), Selection())
    crashed = [f.message for f in report.findings if f.rule_id == "BL003"]
    if crashed:
        raise InternalError("; ".join(crashed))
    return report


_REGISTRY: list[object] = []


def _registry(load: Callable[..., object]) -> object:
    if not _REGISTRY:
        _REGISTRY.append(load(plugins=False))
    return _REGISTRY[0]


def fuzz_lint_macho(data: bytes) -> object:
    return _lint_file(data, "")


def fuzz_lint_zip(data: bytes) -> object:
    return _lint_file(data, ".zip")


class OutputInjection(AssertionError):
    """A report printed a raw control character, or a line a CI runner would execute."""


_WORKFLOW_COMMANDS = ("::error ", "::warning ", "::notice ")


def check_inert(text: str, *, github: bool = False, colour: bool = False) -> None:
    """Raise ``OutputInjection`` unless ``text`` holds no raw control character (line breaks
    aside; with ``colour``, SGR sequences aside), no lone surrogate (it must encode as
    UTF-8), and no line starting with ``::`` except, for ``github``, our own commands."""
    import re

    body = re.sub(r"\x1b\[[0-9;]*m", "", text) if colour else text
    if not body.replace("\n", "").isprintable():
        bad = sorted({ch for ch in body if not ch.isprintable() and ch != "\n"})
        raise OutputInjection(f"raw control characters {bad!r} in {text[:300]!r}")
    for line in body.split("\n"):
        if github and line and not line.startswith(_WORKFLOW_COMMANDS):
            raise OutputInjection(f"line outside a workflow command: {line[:200]!r}")
        if not github and line.lstrip().startswith("::"):
            raise OutputInjection(f"line a CI runner would execute: {line[:200]!r}")


def _fields(data: bytes, count: int) -> list[str]:
    """``data`` split at NUL into ``count`` strings decoded as file names are
    (``surrogateescape``: any byte sequence, any code point UTF-8 can spell)."""
    parts = [os.fsdecode(part) for part in data.split(b"\0")]
    return (parts + [""] * count)[:count]


def fuzz_reporters(data: bytes) -> object:
    """Every reporter over findings whose path, message, fix, arch, input name and evidence
    are arbitrary strings, and ``notary-log`` over a log whose paths and messages are: no
    output may carry a raw control character or a line that starts a workflow command."""
    from bundlelint.engine import Report
    from bundlelint.findings import Finding, Fix, Location, Severity
    from bundlelint.reporters import FORMATS, render
    from bundlelint.rules import Registry, load_registry

    full = _registry(load_registry)
    assert isinstance(full, Registry)
    registry = Registry()  # the rules the findings name: SARIF lists every registered rule
    for rule_id in ("BL201", "BL202", "BL003", "BL790"):
        registry.register(full.get(rule_id))  # type: ignore[arg-type]
    name, path, message, command, arch, key, value, log_path = _fields(data, 8)
    severities = list(Severity)
    findings = tuple(
        Finding(rule_id=rule_id, severity=severities[(len(data) + n) % 3],
                location=Location(path=f"{name}/{path}", arch=arch or None,
                                  offset=len(data) if n else None),
                message=message, fix=Fix(text=message, command=command or None),
                evidence={key: value})
        for n, rule_id in enumerate(("BL201", "BL003", "ZZ999"))
    )
    report = Report(input_name=name, findings=findings, rules_run=("BL201",))
    outputs: dict[str, str] = {}
    for fmt in FORMATS:
        for colour in (False, True) if fmt == "text" else (False,):
            out = io.StringIO()
            render(fmt, [report], registry, out, color=colour)
            check_inert(out.getvalue(), github=fmt == "github", colour=colour)
            outputs[f"{fmt}{'+colour' if colour else ''}"] = out.getvalue()
    outputs.update(_notary_outputs(registry, name, path, message, log_path))
    return outputs


def _notary_outputs(registry: object, name: str, path: str, message: str,
                    log_path: str) -> dict[str, str]:
    import json

    from bundlelint.analysis.notary import map_log
    from bundlelint.parsers.notary import parse_notary_log
    from bundlelint.reporters.notary_log import (
        NotaryResult,
        render_notary_json,
        render_notary_text,
    )
    from bundlelint.rules import Registry

    assert isinstance(registry, Registry)
    log = {"logFormatVersion": 1, "jobId": name, "status": "Invalid", "statusSummary": message,
           "statusCode": 4000, "archiveFilename": name, "sha256": path,
           "issues": [{"severity": "error", "code": None, "path": f"{name}/{log_path}",
                       "message": message, "docUrl": path, "architecture": "arm64"}],
           "ticketContents": [{"path": log_path, "digestAlgorithm": "SHA-256",
                               "cdhash": message, "arch": "arm64"}]}
    parsed = parse_notary_log(json.dumps(log).encode(), log_path)
    result = NotaryResult(map_log(parsed, (r.meta for r in registry)))
    outputs = {}
    for label, render in (("notary-text", render_notary_text),
                          ("notary-json", render_notary_json)):
        out = io.StringIO()
        render(result, registry, out, color=False)
        check_inert(out.getvalue())
        outputs[label] = out.getvalue()
    return outputs
#: Characters ``plistlib`` refuses in an XML string (entitlement keys and values must be
#: writable by the signer; other hostile values come in through the names).
_NOT_IN_XML = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20),
                             *range(0xD800, 0xE000)])
#: What may stand unquoted in a plan line: shlex's safe word characters and our operators.
_BARE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-")
_ANSI_C = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'"}


class NotInert(AssertionError):
    """Rendered shell text holds something outside quotes that a name could have put there."""


def shell_words(text: str) -> list[str]:
    """The words of shell text written the way ``bundlelint.shellquote`` writes it, decoded.

    The oracle of the plan target: a strict reader of the only forms our output uses (bare safe
    characters, ``'...'``, ``"'"``, ``$'...'`` with ``\\n \\t \\r \\\\ \\' \\xHH``, ``>``, ``&&``, a
    trailing `` \\`` continuation, whole-line ``#`` comments with no control character). Any
    other character outside quotes, or a quote left open at the end of a line, raises
    ``NotInert``: that is where attacker text would become shell syntax."""
    words: list[str] = []
    for line in text.replace(" \\\n", " ").split("\n"):
        if line.startswith("#"):
            if not line.isprintable():
                raise NotInert(f"control character in a comment: {line!r}")
            continue
        i = 0
        while i < len(line):
            if line[i] == " ":
                i += 1
                continue
            word, i = _shell_word(line, i)
            words.append(word)
    return words


def _shell_word(line: str, i: int) -> tuple[str, int]:
    out: list[str] = []
    raw = bytearray()  # $'...' escapes are bytes
    while i < len(line) and line[i] != " ":
        if line.startswith("$'", i):
            i += 2
            while True:
                if i >= len(line):
                    raise NotInert(f"unterminated $'...': {line!r}")
                char = line[i]
                if char == "'":
                    break
                if char == "\\":
                    nxt = line[i + 1 : i + 2]
                    if nxt == "x":
                        raw.append(int(line[i + 2 : i + 4], 16))
                        i += 4
                        continue
                    if nxt not in _ANSI_C:
                        raise NotInert(f"unexpected escape in $'...': {line!r}")
                    raw.extend(_ANSI_C[nxt].encode())
                    i += 2
                    continue
                raw.extend(char.encode("utf-8", "surrogateescape"))
                i += 1
            out.append(raw.decode("utf-8", "surrogateescape"))
            raw.clear()
            i += 1
        elif line[i] == "'":
            end = line.find("'", i + 1)
            if end < 0:
                raise NotInert(f"unterminated quote: {line!r}")
            out.append(line[i + 1 : end])
            i = end + 1
        elif line.startswith("\"'\"", i):  # how shlex.quote writes a quote inside '...'
            out.append("'")
            i += 3
        elif line[i] in _BARE:
            out.append(line[i])
            i += 1
        elif line.startswith("&&", i) or line[i] == ">":
            if out:
                raise NotInert(f"operator inside a word: {line!r}")
            size = 2 if line[i] == "&" else 1
            return line[i : i + size], i + size
        else:
            raise NotInert(f"unquoted {line[i]!r}: {line!r}")
    return "".join(out), i


def _fuzz_name(text: str) -> str:
    """``text`` as one file name (no ``/``, not empty, not ``.`` or ``..``)."""
    name = text[:80].replace("/", "_")
    return name if name not in ("", ".", "..") else "x"


_PLAN_BASE: list[bytes] = []


def fuzz_plan(data: bytes) -> object:
    """``plan`` for an app whose name, nested helper name, dylib name and entitlement key and
    value come from ``data`` (NUL-separated). The text must parse under ``bash -n`` and be
    inert: ``shell_words`` accepts it (nothing unquoted but safe characters) and every name
    reaches its words intact."""
    import plistlib
    import subprocess

    from bundlelint.bundle import open_input
    from bundlelint.commands.plan import build_plan, render_text
    from fixtures.signer import sign_macho

    if not _PLAN_BASE:
        from fixtures.macho_builder import MachOSpec, build_macho

        _PLAN_BASE.append(build_macho(MachOSpec()))
    app, helper, dylib, key, value = _fields(data, 5)
    names = [_fuzz_name(app), _fuzz_name(helper), _fuzz_name(dylib)]
    ent_key = key.translate(_NOT_IN_XML) or "k"
    ent_value = value.translate(_NOT_IN_XML)
    exe = sign_macho(_PLAN_BASE[0], identifier="f", entitlements={ent_key: ent_value})
    info = plistlib.dumps({"CFBundleExecutable": "e", "CFBundlePackageType": "APPL"})
    directory = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        root = Path(tmp) / f"{names[0]}.app"
        files = {"Contents/MacOS/e": exe, "Contents/Info.plist": info,
                 f"Contents/Helpers/{names[1]}.app/Contents/MacOS/e": exe,
                 f"Contents/Helpers/{names[1]}.app/Contents/Info.plist": info,
                 f"Contents/Frameworks/{names[2]}.dylib": _PLAN_BASE[0]}
        for rel, content in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(content)
        text = render_text(build_plan(open_input(root), identity=names[1]))
    words = shell_words(text)
    joined = "\0".join(words)
    for name in names:
        if name not in joined:
            raise NotInert(f"{name!r} does not reach the plan's words intact")
    checked = subprocess.run(["bash", "-n"], input=text.encode("utf-8", "surrogateescape"),
                             capture_output=True, check=False)
    if checked.returncode != 0:
        raise NotInert(f"bash -n: {checked.stderr!r}")
    return words


TARGETS: dict[str, Target] = {
    "macho": fuzz_macho,
    "codesign": fuzz_codesign,
    "plist": fuzz_plist,
    "xmlplist": fuzz_xmlplist,
    "requirements": fuzz_requirements,
    "cms": fuzz_cms,
    "der_entitlements": fuzz_der_entitlements,
    "coderesources": fuzz_coderesources,
    "gobuildinfo": fuzz_gobuildinfo,
    "metallib": fuzz_metallib,
    "appledouble": fuzz_appledouble,
    "hfsplus": fuzz_hfsplus,
    "apfs": fuzz_apfs,
    "xar": fuzz_xar,
    "cpio": fuzz_cpio,
    "ticket": fuzz_ticket,
    "notary": fuzz_notary,
    "zipdir": fuzz_zipdir,
    "zipmembers": fuzz_zipmembers,
    "tar": fuzz_tar,
    "lint_macho": fuzz_lint_macho,
    "lint_zip": fuzz_lint_zip,
    "reporters": fuzz_reporters,
    "plan": fuzz_plan,
    "udif": fuzz_udif,
    "udifchunk": fuzz_udifchunk,
}


def run_one(target: Target, data: bytes) -> None:
    """Run ``target`` on ``data``; re-raise anything that is not a ``ParseError``."""
    with contextlib.suppress(ParseError):
        target(data)
