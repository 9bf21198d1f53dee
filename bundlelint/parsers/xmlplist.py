"""A fast reader for the XML property lists that signing tools write, exact or silent.

Why: ``plistlib`` drives expat with three Python callbacks per element, so the seal of an app
with 20,000 resources (a 6.6 MB CodeResources) takes about 0.25 s to load, on the critical path
of every verification. Such files are machine-written and regular: ``<key>`` followed by a
small ``<dict>`` of ``hash``/``hash2`` data, again and again. This module reads exactly that
subset of XML with a few regular expressions and a loop over whole entries.

The contract is narrow on purpose: :func:`parse_xml_plist` returns the value ``plistlib.loads``
would return, or ``None`` when the document steps outside the subset (comments, CDATA, numeric
character references, attributes, dates, ``\\r`` in text, a character XML forbids, anything
else unexpected), and then the caller uses ``plistlib`` itself, which also produces the error
messages for broken files. It never accepts a document ``plistlib`` rejects (property-tested
against ``plistlib`` in tests/test_xmlplist.py, including on mutated documents).
"""

from __future__ import annotations

import binascii
import re
from typing import Any

#: The prologue ``plistlib`` and Apple's tools write, up to and including ``<plist ...>``.
_PROLOGUE = re.compile(
    r'<\?xml version="1\.0" encoding="UTF-8"\?>[ \t\r\n]*'
    r'(?:<!DOCTYPE plist PUBLIC "-//Apple(?: Computer)?//DTD PLIST 1\.0//EN" '
    r'"http://www\.apple\.com/DTDs/PropertyList-1\.0\.dtd">[ \t\r\n]*)?'
    r'<plist version="1\.0">'
)
_EPILOGUE = re.compile(r"[ \t\r\n]*</plist>[ \t\r\n]*\Z")
_WS = "[ \\t\\r\\n]*"
#: Text XML allows and that needs no decoding: no markup, no entity, no ``\\r`` (XML would
#: normalise it), no ``]`` (to stay clear of ``]]>``), no character XML 1.0 forbids.
_PLAIN = "[^<&\\]\\r\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\ufffe\\uffff]*"
_BASE64 = "[A-Za-z0-9+/= \\t\\n]*"
#: One element (or the closing tag of a container), after optional whitespace.
_TOKEN = re.compile(
    _WS + "<(?:"
    r"(key|string|data|integer|real)>([^<]*)</\1>"  # 1, 2: a text element
    r"|(dict|array)>"  # 3: a container opens
    r"|/(dict|array)>"  # 4: a container closes
    r"|(true|false|dict|array|key|string|data)/>"  # 5: an empty element
    ")"
)
#: The shape of nearly every ``files``/``files2`` entry, matched whole: the key, then either v1
#: shorthand data or a dict of hash / hash2 / optional in the order writers sort them.
_ENTRY = re.compile(
    _WS + "<key>(" + _PLAIN + ")</key>" + _WS + "(?:"
    "<data>(" + _BASE64 + ")</data>"
    "|<dict>" + _WS
    + "(?:<key>hash</key>" + _WS + "<data>(" + _BASE64 + ")</data>" + _WS + ")?"
    + "(?:<key>hash2</key>" + _WS + "<data>(" + _BASE64 + ")</data>" + _WS + ")?"
    + "(?:<key>optional</key>" + _WS + "<(true|false)/>" + _WS + ")?"
    + "</dict>)"
)
#: Characters that make a text node need decoding or refusal.
_SPECIAL = re.compile("[&\\]\\r\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\ufffe\\uffff]")
_FORBIDDEN = re.compile("[\\r\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\ufffe\\uffff]|\\]\\]>")
_ENTITY = re.compile("&([a-z]+);|&")
_PREDEFINED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
#: Deeper than any real plist; beyond it the fast path gives up (plistlib decides).
MAX_DEPTH = 256


class _Unsupported(Exception):
    """The document is outside the subset: let plistlib read it."""


def parse_xml_plist(data: bytes) -> Any | None:
    """The value of the XML plist ``data`` exactly as ``plistlib.loads`` gives it, or ``None``
    when the fast path does not apply (then ``plistlib`` must be used)."""
    if not data.startswith(b"<?xml"):
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    head = _PROLOGUE.match(text)
    if head is None:
        return None
    try:
        value, end = _parse(text, head.end())
    except (_Unsupported, ValueError, binascii.Error):
        return None
    if _EPILOGUE.match(text, end) is None:
        return None
    return value


def _text(raw: str) -> str:
    """A text node's value: predefined entities decoded; anything else unsupported."""
    if _SPECIAL.search(raw) is None:
        return raw
    if _FORBIDDEN.search(raw) is not None:
        raise _Unsupported

    def entity(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None or name not in _PREDEFINED:
            raise _Unsupported  # a bare '&', a character reference or an unknown entity
        return _PREDEFINED[name]

    return _ENTITY.sub(entity, raw)


def _scalar(tag: str, raw: str) -> Any:
    """A text element's value, converted as plistlib converts it."""
    value = _text(raw)
    if tag == "string":
        return value
    if tag == "data":
        return binascii.a2b_base64(value.encode("utf-8"))
    if tag == "integer":
        if value.startswith(("0x", "0X")):
            return int(value, 16)
        return int(value)
    return float(value)  # real


_EMPTY: dict[str, Any] = {"string": "", "data": b""}


def _parse(text: str, pos: int) -> tuple[Any, int]:
    """Read one value at ``pos``; return it and the position after it."""
    stack: list[Any] = []  # open containers
    key: str | None = None  # a dict key waiting for its value
    root: Any = None
    have_root = False
    token = _TOKEN.match
    entry = _ENTRY.match
    a2b = binascii.a2b_base64
    while True:
        container = stack[-1] if stack else None
        if type(container) is dict and key is None:
            # Fast path: a whole files/files2 entry in one match.
            m = entry(text, pos)
            if m is not None:
                name, short, h1, h2, optional = m.groups()
                if short is not None:
                    container[name] = a2b(short.encode("ascii"))
                else:
                    sealed: dict[str, Any] = {}
                    if h1 is not None:
                        sealed["hash"] = a2b(h1.encode("ascii"))
                    if h2 is not None:
                        sealed["hash2"] = a2b(h2.encode("ascii"))
                    if optional is not None:
                        sealed["optional"] = optional == "true"
                    container[name] = sealed
                pos = m.end()
                continue
        m = token(text, pos)
        if m is None:
            raise _Unsupported
        pos = m.end()
        tag, raw, opened, closed, empty = m.groups()
        if closed is not None:
            if key is not None or container is None or \
                    type(container) is not (dict if closed == "dict" else list):
                raise _Unsupported
            stack.pop()
            if not stack:
                return container, pos
            continue
        if tag == "key" or empty == "key":
            if type(container) is not dict or key is not None:
                raise _Unsupported
            key = _text(raw) if tag else ""
            continue
        value: Any
        if opened is not None:
            value = {} if opened == "dict" else []
        elif tag is not None:
            value = _scalar(tag, raw)
        elif empty == "true" or empty == "false":
            value = empty == "true"
        elif empty == "dict":
            value = {}
        elif empty == "array":
            value = []
        else:
            value = _EMPTY[empty]
        if container is None:
            if have_root:
                raise _Unsupported
            root, have_root = value, True
        elif type(container) is dict:
            if key is None:
                raise _Unsupported
            container[key] = value
            key = None
        else:
            container.append(value)
        if opened is not None:
            if len(stack) >= MAX_DEPTH:
                raise _Unsupported
            stack.append(value)
        elif not stack:
            return root, pos
