"""Property lists (XML and binary) through the standard library's ``plistlib``, and the one
check that bounds every decoded plist or DER value before anything compares, shows or
serialises it.

Why the bound: ``plistlib`` returns one Python object for every binary-plist object, shared
by every reference to it, and builds a cycle for an array that refers to itself. Decoding is
cheap, but anything that walks the value (``repr``, ``==``, JSON, ``plistlib.dumps``) walks
the expansion: a 17 KB file that expands to 4.3e9 leaves takes gigabytes, a cycle or 100,000
levels of XML nesting a ``RecursionError``. :func:`check_value_bounds` walks each shared
object once, so its own cost is the size of the file, not of the expansion.

Plists are read as CoreFoundation reads them: this is the one place Info.plists, entitlements
and the other plists of a bundle are decoded. ``plistlib`` decides the format by sniffing the
first bytes (``<?xml`` or ``<plist``, after an optional byte-order mark) and refuses anything
else, while macOS reads property lists with CoreFoundation, which is more forgiving (CF,
CFPropertyList.c: ``_CFPropertyListCreateWithData`` tries the binary form, then
``encodingForXMLData`` skips a byte-order mark and ``parseXMLPropertyList`` skips whitespace,
comments, processing instructions and a DOCTYPE in any order before the first element). A
Wails-generated Info.plist, for one, starts with ``<!DOCTYPE plist ...>`` and has no
``<?xml?>`` declaration: macOS reads it, ``plistlib.loads`` does not. So when the strict
reading fails, the document is read again as CoreFoundation would (prologue skipped, parsed as
XML without sniffing), and the result says what was tolerated, so that a rule can tell the
user that stricter tools will refuse the file.
"""

from __future__ import annotations

import plistlib
import reprlib
from dataclasses import dataclass
from typing import Any

from bundlelint.errors import ParseError
from bundlelint.options import MAX_VALUE_DEPTH, MAX_VALUES_PER_BYTE
from bundlelint.parsers.xmlplist import parse_xml_plist

MAX_PLIST_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class PlistDocument:
    """A decoded plist and the form it was stored in (``xml`` or ``binary``). ``lenient`` says
    what only CoreFoundation's reading tolerated (``None`` when ``plistlib`` reads it as is)."""

    value: Any
    form: str
    lenient: str | None = None


_BOM = b"\xef\xbb\xbf"
_XML_SPACE = b" \t\r\n"


def _tolerated(data: bytes) -> str | None:
    """What a strict reader trips over at the start of an XML ``data`` that CoreFoundation
    skips: leading whitespace (after an optional UTF-8 byte-order mark), or a missing
    ``<?xml?>`` declaration (``plistlib`` sniffs for ``<?xml`` or ``<plist``); ``None`` if
    nothing."""
    notes = []
    body = data[len(_BOM):] if data.startswith(_BOM) else data
    stripped = body.lstrip(_XML_SPACE)
    if len(stripped) != len(body):
        notes.append("leading whitespace")
    if not stripped.startswith((b"<?xml", b"<plist")):
        notes.append("no <?xml?> declaration before " + repr(stripped[:9].decode("latin-1")))
    return ", ".join(notes) or None


def parse_plist(data: bytes, path: str, *, base: int | None = None) -> PlistDocument:
    """Decode ``data``; any failure (including a too-deep binary plist, and a value over
    :func:`check_value_bounds`) is a ``ParseError``. ``base`` is the absolute offset of
    ``data`` in ``path`` when the plist is embedded in a bigger file (errors name it)."""
    if len(data) > MAX_PLIST_BYTES:
        raise ParseError("plist", path, base, f"{len(data)} bytes is over the "
                         f"{MAX_PLIST_BYTES} byte limit for a property list")
    form = "binary" if data.startswith(b"bplist") else "xml"
    if form == "xml":
        fast = parse_xml_plist(data)
        if fast is not None:
            check_value_bounds(fast, len(data), f"{form} plist", path, base or 0)
            return PlistDocument(value=fast, form=form)
    lenient = _tolerated(data) if form == "xml" else None
    try:
        if lenient is None:
            value = plistlib.loads(data)
        else:
            # CoreFoundation's reading: past the byte-order mark and whitespace, XML without
            # sniffing (expat itself accepts a DOCTYPE, comments and processing instructions
            # before the root element, as CF does).
            body = data[len(_BOM):] if data.startswith(_BOM) else data
            value = plistlib.loads(body.lstrip(_XML_SPACE), fmt=plistlib.FMT_XML)
    except RecursionError:
        raise ParseError(f"{form} plist", path, base, "nesting is too deep") from None
    except Exception as exc:  # plistlib raises InvalidFileException, ExpatError, ValueError...
        reason = str(exc) or type(exc).__name__
        raise ParseError(f"{form} plist", path, base, reason) from None
    check_value_bounds(value, len(data), f"{form} plist", path, base or 0)
    return PlistDocument(value=value, form=form, lenient=lenient)


class _OverBudget(Exception):
    """A value broke a bound; ``where`` collects the keys and indexes leading to it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.where: list[object] = []


_KEY = reprlib.Repr()
_KEY.maxstring = 40


def check_value_bounds(value: Any, encoded_size: int, fmt: str, path: str,
                       offset: int | None) -> None:
    """Raise ``ParseError(fmt, path, offset, ...)`` unless ``value`` (decoded from
    ``encoded_size`` bytes) nests at most :data:`MAX_VALUE_DEPTH` levels, contains no cycle,
    and counts at most :data:`MAX_VALUES_PER_BYTE` values per encoded byte once every shared
    reference is expanded.

    Every parser of plist or DER values calls this on what it returns, so every consumer gets a
    value it can walk, compare and print; ``offset`` is where the document starts (plist values
    carry no positions of their own), and the message names the key path where a bound broke.
    """
    if type(value) is not dict and type(value) is not list:
        return  # a scalar is one value
    budget = max(encoded_size, 1) * MAX_VALUES_PER_BYTE
    try:
        _count(value, 0, budget, {}, set())
    except _OverBudget as over:
        where = "".join(f"[{_KEY.repr(part)}]" for part in reversed(over.where[-8:]))
        at = f", under {where}" if where else ""
        raise ParseError(fmt, path, offset, f"{over.reason}{at}") from None


def _count(node: Any, depth: int, budget: int, known: dict[int, tuple[int, int]],
           open_: set[int]) -> tuple[int, int]:
    """(values, height) of the container ``node`` at ``depth``; shared containers are counted
    from ``known`` (by identity) instead of walked again. Recursion stays under
    ``MAX_VALUE_DEPTH`` frames: deeper is refused before descending."""
    key = id(node)
    seen = known.get(key)
    if seen is not None:
        if depth + seen[1] > MAX_VALUE_DEPTH:
            raise _OverBudget(f"values nest deeper than {MAX_VALUE_DEPTH} levels")
        return seen
    if key in open_:
        raise _OverBudget("a container contains itself (a reference cycle)")
    if depth >= MAX_VALUE_DEPTH:
        raise _OverBudget(f"values nest deeper than {MAX_VALUE_DEPTH} levels")
    open_.add(key)
    is_dict = type(node) is dict
    total = 1 + (2 * len(node) if is_dict else len(node))  # itself, keys, values
    height = 1
    items = node.items() if is_dict else enumerate(node)
    for name, child in items:
        if type(child) is dict or type(child) is list:
            try:
                count, child_height = _count(child, depth + 1, budget, known, open_)
            except _OverBudget as over:
                over.where.append(name)
                raise
            total += count - 1
            height = max(height, child_height + 1)
        if total > budget:
            raise _OverBudget(f"shared references expand to more than {budget} values, more "
                              "than an encoding of this size holds without them")
    open_.discard(key)
    known[key] = (total, height)
    return total, height


@dataclass(frozen=True)
class InfoPlist:
    """A bundle's Info.plist: the dict plus typed access to the keys rules read."""

    values: dict[str, Any]
    form: str
    #: What only CoreFoundation's lenient reading tolerated (see ``PlistDocument.lenient``).
    lenient: str | None = None

    def string(self, key: str) -> str | None:
        """The value of ``key`` if it is a string, else ``None``."""
        value = self.values.get(key)
        return value if isinstance(value, str) else None

    @property
    def executable(self) -> str | None:
        return self.string("CFBundleExecutable")

    @property
    def identifier(self) -> str | None:
        return self.string("CFBundleIdentifier")

    @property
    def package_type(self) -> str | None:
        return self.string("CFBundlePackageType")

    @property
    def minimum_system_version(self) -> str | None:
        return self.string("LSMinimumSystemVersion")
