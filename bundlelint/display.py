"""Untrusted text made safe to show: the one place that escapes control characters.

File names, symlink targets, zip entry names, plist values and signature fields come from the
input, and the input may be hostile. Printed raw, a newline in a file name starts a new line
that a CI runner reads as a command (GitHub Actions executes ``::error file=a::...`` lines of
a job's output, see actions/toolkit ``docs/commands.md``), an ESC sequence clears the screen,
sets the window title or plants an OSC 8 hyperlink, and a bidi override makes a name read
differently from what it is. Every human-facing output (the text report, ``inspect``,
``notary-log``, error lines) passes such strings through :func:`printable` once, when it renders
them, and a line that starts with one through :func:`line_safe` (a name that starts with
``::`` needs no control character to be a command). JSON and SARIF are data and escape
through their encoders (``ensure_ascii``), with only :func:`unicode_safe` applied so that a
file name which is not UTF-8 stays valid Unicode.

File names are bytes on disk. Python decodes the bytes that are not UTF-8 with
``surrogateescape`` (``b'\\xff'`` becomes ``'\\udcff'``); such a name stays exact inside
bundlelint and is shown as ``\\xff``.
"""

from __future__ import annotations

import re

#: The range ``surrogateescape`` maps the undecodable bytes 0x80-0xFF to.
_SURROGATE_ESCAPE_LOW = 0xDC80
_SURROGATE_ESCAPE_HIGH = 0xDCFF
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape_char(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    if _SURROGATE_ESCAPE_LOW <= code <= _SURROGATE_ESCAPE_HIGH:
        return f"\\x{code - 0xDC00:02x}"  # the byte on disk
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(text: str) -> str:
    """``text`` with every character that is not printable escaped as Python writes it.

    "Not printable" is ``str.isprintable``'s definition (the one ``repr`` uses): C0 and C1
    controls, DEL, format characters (bidi overrides and isolates, zero-width characters),
    line and paragraph separators, surrogates, private-use and unassigned code points, and
    spaces other than U+0020. A byte that is not UTF-8 (a surrogate-escaped file name) shows as
    ``\\xNN``. Backslashes are left alone, so text already escaped (a ``!r`` in a message)
    reads the same; the result never holds a character that moves the cursor or changes
    the terminal."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escape_char(ch) for ch in text)


def line_safe(line: str) -> str:
    """A printed line that cannot be a workflow command: the Actions runner reads any line
    that starts with ``::`` after leading whitespace as one (actions/runner
    ``ActionCommand.TryParseV2``), and a file or bundle may be named ``::error file=a::x``.
    Such a line's first colon is written ``\\x3a``, as :func:`printable` writes what it
    escapes. For lines that start with (or wrap to) untrusted text, after ``printable``."""
    stripped = line.lstrip()
    if not stripped.startswith("::"):
        return line
    return line[: len(line) - len(stripped)] + "\\x3a" + stripped[1:]


def unicode_safe(text: str) -> str:
    """``text`` with surrogate-escaped bytes (and any other lone surrogate) written as
    ``\\xNN`` / ``\\uNNNN``, so that it encodes as UTF-8: for JSON and SARIF, whose readers
    reject lone surrogates. Other characters, controls included, are left to the encoder."""
    if text.isascii():
        return text
    return _SURROGATE.sub(lambda m: _escape_char(m.group()), text)


def json_safe(value: object) -> object:
    """A JSON document (dicts, lists, scalars) with :func:`unicode_safe` applied to every
    string, keys included: what the JSON and SARIF writers dump."""
    if isinstance(value, str):
        return unicode_safe(value)
    if isinstance(value, dict):
        return {json_safe(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def os_bytes(text: str) -> bytes:
    """The bytes a (possibly surrogate-escaped) file name stands for, e.g. to quote in a URI.
    A lone surrogate that no byte produced (from a UTF-16 plist string) is kept as its
    UTF-8-style encoding rather than refused."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return b"".join(_char_bytes(ch) for ch in text)


def _char_bytes(ch: str) -> bytes:
    try:
        return ch.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return ch.encode("utf-8", "surrogatepass")
