"""Go build info in Mach-O slices (``debug/buildinfo`` semantics, docs/formats.md 5.1-5.3).

Why a parser of our own: ``go version -m`` needs a Go toolchain, accepts only thin files and
fails outright on Go binaries whose build info was stripped. bundlelint wants the Go version,
the module list and the build settings (CGO_ENABLED, -ldflags, -trimpath...) of every slice of
every file, and still wants to know that a stripped binary is Go.

Everything here reads bounded regions through a file handle (``fh.seek``/``fh.read``): the 64 KiB
window Go itself searches for the header, the two strings it points at (capped), and, for the
runtime version string of stripped binaries, ``__rodata`` in 1 MiB chunks up to a fixed cap.
Offsets in models and errors are absolute in the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import BinaryIO

from bundlelint.errors import ParseError
from bundlelint.parsers.macho import Slice
from bundlelint.parsers.reader import Reader

FORMAT = "Go build info"
MAGIC = b"\xff Go buildinf:"
#: debug/buildinfo reads at most this much of the data section when looking for the header.
SEARCH_WINDOW = 64 * 1024
HEADER_SIZE = 32
FLAG_BIG_ENDIAN = 0x1
FLAG_INLINE = 0x2
MODINFO_START = bytes.fromhex("3077af0c9274080241e1c107e6d618e6")
MODINFO_END = bytes.fromhex("f932433186182072008242104116d8f2")
#: Caps on strings read from untrusted lengths (a real modinfo of a big app is ~30 KiB).
MAX_VERSION_LEN = 256
MAX_MODINFO_LEN = 4 * 1024 * 1024
#: How much of __rodata we scan for the runtime version string of a stripped binary.
RODATA_SCAN_CAP = 32 * 1024 * 1024
SCAN_CHUNK = 1024 * 1024
_VERSION_RE = re.compile(rb"go1\.(\d{1,3})(?:\.(\d{1,3}))?(?:(rc|beta)(\d{1,2}))?")


@dataclass(frozen=True)
class GoModule:
    """One ``mod``/``dep`` line, with its ``=>`` replacement if any."""

    path: str
    version: str
    sum: str = ""
    replace: GoModule | None = None


@dataclass(frozen=True)
class GoBuildInfo:
    """What ``go version -m`` prints for one slice."""

    go_version: str
    path: str
    main: GoModule | None
    deps: tuple[GoModule, ...]
    settings: tuple[tuple[str, str], ...]  # in file order; keys may repeat in theory
    format: str  # "inline" (Go 1.18+) or "pointer" (older)
    offset: int  # absolute file offset of the 32-byte header
    modinfo: str  # the text between the sentinels, as stored

    @property
    def settings_dict(self) -> dict[str, str]:
        return dict(self.settings)

    def setting(self, key: str) -> str | None:
        for k, v in self.settings:
            if k == key:
                return v
        return None

    def dep(self, path: str) -> GoModule | None:
        for dep in self.deps:
            if dep.path == path:
                return dep
        return None

    def lines(self) -> list[str]:
        """The modinfo lines as ``go version -m`` prints them (without the leading tab)."""
        out: list[str] = []
        if self.path:
            out.append(f"path\t{self.path}")
        # BuildInfo.String prints the main module unless it is the zero Module.
        main = [] if self.main is None or _is_zero(self.main) else [("mod", self.main)]
        mods = main + [("dep", d) for d in self.deps]
        for word, mod in mods:
            out.extend(_format_module(word, mod))
        for key, value in self.settings:
            k = go_quote(key) if _quote_key(key) else key
            v = go_quote(value) if _quote_value(value) else value
            out.append(f"build\t{k}={v}")
        return out


def _is_zero(mod: GoModule) -> bool:
    return not (mod.path or mod.version or mod.sum or mod.replace)


def _format_module(word: str, mod: GoModule) -> list[str]:
    """``BuildInfo.String``'s formatMod: the sum column (even when empty) only on a line whose
    module is not replaced; a replaced module is followed by its ``=>`` line and, through a
    quirk of formatMod's recursion, an empty line."""
    head = f"{word}\t{mod.path}\t{mod.version}"
    if mod.replace is None:
        return [f"{head}\t{mod.sum}"]
    return [head, *_format_module("=>", mod.replace), ""]


# --- Go string quoting (strconv.Quote / Unquote, enough for build lines) -------------------


def _quote_key(key: str) -> bool:
    return len(key) == 0 or any(c in key for c in '= \t\r\n"`')


def _quote_value(value: str) -> bool:
    return any(c in value for c in ' \t\r\n"`')


_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
            "\v": "\\v", "\\": "\\\\", '"': '\\"'}


def go_quote(text: str) -> str:
    """``strconv.Quote``: ``\\a``-style escapes, ``\\xNN`` for controls, DEL and bytes that are
    not UTF-8 (held surrogate-escaped, as ``go_unquote`` leaves them), ``\\u``/``\\U`` for other
    characters that are not printable."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif 0xDC80 <= code <= 0xDCFF:  # a byte that is not UTF-8
            out.append(f"\\x{code - 0xDC00:02x}")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif not ch.isprintable() and code > 0x7F:
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


_SIMPLE_UNESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
                     "v": "\v", "\\": "\\", '"': '"', "'": "'"}


def go_quoted_prefix(text: str) -> str | None:
    """``strconv.QuotedPrefix``: the quoted string at the start of ``text``, or None."""
    if not text or text[0] not in '"`':
        return None
    quote = text[0]
    if quote == "`":
        end = text.find("`", 1)
        return text[: end + 1] if end > 0 else None
    i = 1
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "\n":
            return None
        if c == '"':
            return text[: i + 1]
        i += 1
    return None


def go_unquote(text: str) -> str | None:
    """``strconv.Unquote`` for double-quoted and raw strings; None if malformed.

    Go strings are bytes: ``\\xNN`` and octal escapes give single bytes, so ``"\\xc3\\xa9"`` is
    "é". The result is those bytes decoded as UTF-8, with any byte that is not UTF-8 kept
    surrogate-escaped (``go_quote`` writes it back as ``\\xNN``)."""
    if len(text) < 2 or text[0] != text[-1] or text[0] not in '"`':
        return None
    body = text[1:-1]
    if text[0] == "`":
        return None if "`" in body else body.replace("\r", "")
    out = bytearray()
    i = 0
    while i < len(body):
        c = body[i]
        if c == '"' or c == "\n":
            return None
        if c != "\\":
            out += c.encode("utf-8", "surrogateescape")
            i += 1
            continue
        if i + 1 >= len(body):
            return None
        e = body[i + 1]
        if e in _SIMPLE_UNESCAPES and e != "'":
            out += _SIMPLE_UNESCAPES[e].encode()
            i += 2
        elif e in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[e]
            digits = body[i + 2 : i + 2 + width]
            if len(digits) != width or not all(d in "0123456789abcdefABCDEF" for d in digits):
                return None
            code = int(digits, 16)
            if e == "x":
                out.append(code)
            elif code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:  # utf8.ValidRune
                return None
            else:
                out += chr(code).encode()
            i += 2 + width
        elif e in "01234567":
            digits = body[i + 1 : i + 4]
            if len(digits) != 3 or not all(d in "01234567" for d in digits):
                return None
            code = int(digits, 8)
            if code > 0xFF:
                return None
            out.append(code)
            i += 4
        else:
            return None
    return out.decode("utf-8", "surrogateescape")


# --- modinfo text --------------------------------------------------------------------------


def parse_modinfo(text: str, *, path: str = "", base: int | None = None
                  ) -> tuple[str, GoModule | None, tuple[GoModule, ...],
                             tuple[tuple[str, str], ...]]:
    """Parse modinfo lines like ``runtime/debug.ParseBuildInfo``.

    Returns ``(path, main, deps, settings)``. A malformed line raises ``ParseError`` at the
    line's absolute offset (``base`` is the offset of the text in the file, if known).
    """
    main_path = ""
    main: GoModule | None = None
    deps: list[GoModule] = []
    settings: list[tuple[str, str]] = []
    last: str | None = None  # "main" or "dep"
    cursor = 0
    line_no = 0

    def fail(reason: str) -> ParseError:
        where = None if base is None else base + cursor
        return ParseError(FORMAT, path, where, f"modinfo line {line_no}: {reason}")

    def module(cols: list[str], what: str) -> GoModule:
        # ParseBuildInfo: readModuleLine takes 2 or 3 columns; a "=>" line needs all 3.
        allowed = (3,) if what == "replacement" else (2, 3)
        if len(cols) not in allowed:
            expected = " or ".join(str(n) for n in allowed)
            raise fail(f"expected {expected} columns for {what}; got {len(cols)}")
        return GoModule(cols[0], cols[1], cols[2] if len(cols) == 3 else "")

    remaining = text
    while remaining:
        line, sep, rest = remaining.partition("\n")
        if not sep:
            break  # Go ignores an unterminated last line
        line_no += 1
        if line.startswith("path\t"):
            main_path = line[5:]
        elif line.startswith("mod\t"):
            main = module(line[4:].split("\t"), "mod")
            last = "main"
        elif line.startswith("dep\t"):
            deps.append(module(line[4:].split("\t"), "dep"))
            last = "dep"
        elif line.startswith("=>\t"):
            rep = module(line[3:].split("\t"), "replacement")
            if last == "main" and main is not None:
                main = GoModule(main.path, main.version, main.sum, rep)
            elif last == "dep" and deps:
                d = deps[-1]
                deps[-1] = GoModule(d.path, d.version, d.sum, rep)
            else:
                raise fail("replacement with no module on previous line")
            last = None
        elif line.startswith("build\t"):
            settings.append(_build_setting(line[6:], fail))
        cursor += len(line.encode("utf-8", "surrogateescape")) + 1
        remaining = rest
    return main_path, main, tuple(deps), tuple(settings)


def _build_setting(kv: str, fail: object) -> tuple[str, str]:
    def error(reason: str) -> ParseError:
        return fail(reason)  # type: ignore[operator,no-any-return]

    if not kv:
        raise error("build line missing '='")
    if kv[0] == "=":
        raise error("build line with missing key")
    if kv[0] in '"`':
        raw_key = go_quoted_prefix(kv)
        key = go_unquote(raw_key) if raw_key else None
        if raw_key is None or key is None:
            raise error("invalid quoted key in build line")
        if len(kv) == len(raw_key) or kv[len(raw_key)] != "=":
            raise error("build line missing '=' after quoted key")
        raw_value = kv[len(raw_key) + 1 :]
    else:
        key, eq, raw_value = kv.partition("=")
        if not eq:
            raise error("build line missing '=' after key")
        if _quote_key(key):
            raise error(f"unquoted key {key!r} must be quoted")
    value = raw_value
    if raw_value and raw_value[0] in '"`':
        unquoted = go_unquote(raw_value)
        if unquoted is None:
            raise error("invalid quoted value in build line")
        value = unquoted
    elif _quote_value(raw_value):
        raise error(f"unquoted value {raw_value!r} must be quoted")
    return key, value


# --- locating and reading the blob ---------------------------------------------------------


def _read_at(fh: BinaryIO, offset: int, size: int) -> bytes:
    fh.seek(offset)
    return fh.read(size)


def data_start(sl: Slice) -> tuple[int, int] | None:
    """(vmaddr, size) where Go looks for the header: ``__go_buildinfo``, else the first
    segment with a non-zero address and file size that is RW in both prot fields."""
    for seg in sl.segments:
        for sect in seg.sections:
            if sect.name == "__go_buildinfo":
                return sect.addr, sect.size
    for seg in sl.segments:
        if seg.vmaddr and seg.filesize and seg.initprot == 3 and seg.maxprot == 3:
            return seg.vmaddr, seg.vmsize
    return None


def vm_to_file(sl: Slice, addr: int) -> tuple[int, int] | None:
    """Absolute file offset of ``addr`` and how many bytes of file data follow it in its
    segment; ``__PAGEZERO`` and addresses outside every segment's file data give None."""
    for seg in sl.segments:
        if seg.name == "__PAGEZERO" or seg.filesize == 0:
            continue
        if seg.vmaddr <= addr < seg.vmaddr + seg.filesize:
            inside = addr - seg.vmaddr
            if seg.fileoff + seg.filesize > sl.size:
                return None
            return sl.offset + seg.fileoff + inside, seg.filesize - inside
    return None


def _read_vm(fh: BinaryIO, sl: Slice, addr: int, size: int, path: str, what: str,
             blame: int) -> bytes:
    where = vm_to_file(sl, addr)
    if where is None or where[1] < size:
        raise ParseError(FORMAT, path, blame,
                         f"{what} at address {addr:#x}+{size:#x} is not in the file's data")
    data = _read_at(fh, where[0], size)
    if len(data) != size:
        raise ParseError(FORMAT, path, where[0], f"{what} is truncated")
    return data


def _uvarint(r: Reader, at: int, what: str) -> tuple[int, int]:
    value = 0
    shift = 0
    for i in range(10):
        b = r.u8(at + i, what)
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, at + i + 1
        shift += 7
    raise r.error(at, f"{what} is not a valid uvarint")


def parse_go_buildinfo(fh: BinaryIO, sl: Slice, path: str) -> GoBuildInfo | None:
    """The build info of slice ``sl`` of the file open as ``fh``; None if it has none.

    A header that is found but malformed (lengths past the data, bad sentinels, a modinfo line
    Go would reject) raises ``ParseError`` at its absolute offset.
    """
    start = data_start(sl)
    if start is None:
        return None
    addr, size = start
    where = vm_to_file(sl, addr)
    if where is None:
        return None
    file_off, available = where
    window = _read_at(fh, file_off, min(size, SEARCH_WINDOW, available))
    at = -1
    pos = 0
    while True:
        pos = window.find(MAGIC, pos)
        if pos < 0:
            break
        if pos % 16 == 0:
            at = pos
            break
        pos += 1
    if at < 0:
        return None
    header_off = file_off + at
    # The string data of the inline format follows the header; read what the window holds and,
    # if the strings are longer, re-read with the exact length below.
    r = Reader(window, fmt=FORMAT, path=path, base=file_off, start=at)
    r.check(0, HEADER_SIZE, "Go build info header")
    ptr_size = r.u8(14, "pointer size")
    flags = r.u8(15, "flags")
    if flags & FLAG_INLINE:
        return _parse_inline(fh, r, header_off, file_off + at, available - at, path)
    if ptr_size not in (4, 8):
        raise r.error(14, f"pointer size {ptr_size} is not 4 or 8")
    return _parse_pointer(fh, sl, r, header_off, ptr_size, bool(flags & FLAG_BIG_ENDIAN), path)


def _parse_inline(fh: BinaryIO, r: Reader, header_off: int, blob_off: int, available: int,
                  path: str) -> GoBuildInfo:
    vlen, after = _uvarint(r, HEADER_SIZE, "version length")
    if vlen > MAX_VERSION_LEN:
        raise r.error(HEADER_SIZE, f"version length {vlen} exceeds {MAX_VERSION_LEN}")
    version_bytes = r.bytes(after, vlen, "Go version string")
    mlen_at = after + vlen
    mlen, mod_at = _uvarint(r, mlen_at, "modinfo length")
    if mlen > MAX_MODINFO_LEN or mod_at + mlen > available:
        raise r.error(mlen_at, f"modinfo length {mlen} runs past the data segment")
    if mod_at + mlen <= len(r):
        mod = r.bytes(mod_at, mlen, "modinfo")
    else:
        mod = _read_at(fh, blob_off + mod_at, mlen)
        if len(mod) != mlen:
            raise r.error(mlen_at, f"modinfo of {mlen} bytes is truncated")
    return _finish(version_bytes, mod, "inline", header_off, blob_off + mod_at, path)


def _parse_pointer(fh: BinaryIO, sl: Slice, r: Reader, header_off: int, ptr_size: int,
                   big: bool, path: str) -> GoBuildInfo:
    def ptr(data: bytes, at: int) -> int:
        return int.from_bytes(data[at : at + ptr_size], "big" if big else "little")

    head = r.bytes(0, HEADER_SIZE, "header")
    strings: list[tuple[bytes, int]] = []
    for i, (what, cap) in enumerate((("Go version", MAX_VERSION_LEN),
                                      ("modinfo", MAX_MODINFO_LEN))):
        field_off = header_off + 16 + i * ptr_size
        str_hdr_addr = ptr(head, 16 + i * ptr_size)
        str_hdr = _read_vm(fh, sl, str_hdr_addr, 2 * ptr_size, path,
                           f"{what} string header", field_off)
        data_addr, length = ptr(str_hdr, 0), ptr(str_hdr, ptr_size)
        if length > cap:
            raise ParseError(FORMAT, path, field_off,
                             f"{what} string length {length} exceeds {cap}")
        if length == 0:
            strings.append((b"", field_off))
            continue
        data = _read_vm(fh, sl, data_addr, length, path, f"{what} string", field_off)
        loc = vm_to_file(sl, data_addr)
        strings.append((data, loc[0] if loc else field_off))
    (version_bytes, _), (mod, mod_off) = strings
    return _finish(version_bytes, mod, "pointer", header_off, mod_off, path)


def _finish(version_bytes: bytes, mod: bytes, fmt: str, header_off: int, mod_off: int,
            path: str) -> GoBuildInfo:
    version = version_bytes.decode("utf-8", "replace")
    text = ""
    text_off = mod_off
    if len(mod) >= 33 and mod[len(mod) - 17] == 0x0A:
        text = mod[16:-16].decode("utf-8", "replace")
        text_off = mod_off + 16
    main_path, main, deps, settings = parse_modinfo(text, path=path, base=text_off)
    return GoBuildInfo(go_version=version, path=main_path, main=main, deps=deps,
                       settings=settings, format=fmt, offset=header_off, modinfo=text)


# --- Go binaries without build info --------------------------------------------------------


def is_go_slice(sl: Slice) -> bool:
    """Whether the slice was linked by Go: it has ``__gopclntab`` or ``__go_buildinfo``."""
    return any(
        sect.name in ("__gopclntab", "__go_buildinfo")
        for seg in sl.segments
        for sect in seg.sections
    )


def version_key(version: str) -> tuple[int, int, int, int]:
    """Sort key for ``go1.21.3`` / ``go1.22rc1`` (releases sort after their pre-releases)."""
    m = _VERSION_RE.match(version.encode())
    if not m:
        return (0, 0, 0, 0)
    minor = int(m.group(1))
    patch = int(m.group(2) or 0)
    pre = int(m.group(4)) if m.group(3) else 1000
    return (1, minor, patch, pre)


def find_runtime_version(fh: BinaryIO, sl: Slice) -> tuple[str, int] | None:
    """The Go runtime's version string (``runtime.buildVersion``) and its absolute offset,
    found by scanning ``__rodata`` (``__TEXT`` first, then ``__DATA_CONST``) for ``go1.N[.P]``.

    The highest version mentioned wins: the toolchain's own version is the newest one its
    standard library can refer to. At most ``RODATA_SCAN_CAP`` bytes are read.
    """
    best: tuple[tuple[int, int, int, int], str, int] | None = None
    budget = RODATA_SCAN_CAP
    sections = [s for seg in sl.segments for s in seg.sections if s.name == "__rodata"]
    sections.sort(key=lambda s: 0 if s.segment == "__TEXT" else 1)
    for sect in sections:
        if sect.offset == 0 or sect.offset + sect.size > sl.size:
            continue
        pos = 0
        while pos < sect.size and budget > 0:
            n = min(SCAN_CHUNK, sect.size - pos, budget)
            base = sl.offset + sect.offset + pos
            chunk = _read_at(fh, base, n + 16)  # overlap so a string on the boundary is seen
            budget -= n
            for m in _VERSION_RE.finditer(chunk):
                if m.start() >= n:
                    break
                text = m.group(0).decode()
                key = version_key(text)
                if best is None or key > best[0]:
                    best = (key, text, base + m.start())
            pos += n
        if best is not None:
            break
    return None if best is None else (best[1], best[2])
