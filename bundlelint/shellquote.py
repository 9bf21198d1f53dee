"""Shell-safe text: the one place that turns an untrusted value into an inert shell word.

Why one owner: people paste bundlelint's fix commands and ``plan`` output into a shell, and the
values in them (file names, install names, bundle and zip names, entitlement keys, notary-log
paths) come from the file being inspected, i.e. from whoever built it. Every such value goes
through ``quote`` (or ``quote_path`` for a path argument), and templates are filled by
``fill_template``, which quotes every placeholder; no other module quotes for the shell.

The quoted form must be inert *and* exact:

* Printable text is quoted the POSIX way (``shlex.quote``: bare when only ``[\\w@%+=:,./-]``,
  else in single quotes, where nothing is special).
* Text holding anything ``str.isprintable`` rejects (newline, ESC and the other C0/C1 controls,
  DEL, bidi overrides, line separators, surrogate-escaped non-UTF-8 bytes) uses bash's ANSI-C
  quoting ``$'...'`` with every such character written as ``\\xHH`` escapes of its UTF-8 bytes
  (surrogate escapes give back the original byte). The printed command then carries no raw
  control character to the terminal and no newline that could end a ``#`` comment, and bash
  turns it back into the exact original bytes. ``$'...'`` is bash/zsh/ksh syntax (POSIX.1-2024
  adopted it too); macOS's default shells (zsh, bash) accept it.
* A NUL cannot be part of an argument; it is written ``\\x00`` (bash ends the word there),
  never raw.

Values that ``quote`` produced are marked (``ShellWord``) and pass through it unchanged, so a
pre-quoted path (``Bundle.shell_path``) given as a template placeholder is not quoted twice.
"""

from __future__ import annotations

import shlex
import string

#: Escapes bash's ``$'...'`` understands that read better than ``\\xHH``.
_NAMED_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r", "\\": "\\\\", "'": "\\'"}


class ShellWord(str):
    """Text made inert by ``quote``: one shell word that expands to exactly the original."""

    __slots__ = ()


def _escape(char: str) -> str:
    """A character other than printable ASCII as the ``\\xHH`` bytes it stands for (UTF-8;
    a surrogate escape gives back its original byte), so no locale is involved."""
    return "".join(f"\\x{byte:02x}" for byte in char.encode("utf-8", "surrogateescape"))


def _ansi_c(text: str) -> str:
    out = ["$'"]
    for char in text:
        if char in _NAMED_ESCAPES:
            out.append(_NAMED_ESCAPES[char])
        elif " " <= char <= "~":  # printable ASCII: literal inside $'...'
            out.append(char)
        else:
            out.append(_escape(char))
    out.append("'")
    return "".join(out)


def quote(text: str) -> ShellWord:
    """``text`` as one inert shell word that bash expands back to exactly ``text``."""
    if isinstance(text, ShellWord):
        return text
    return ShellWord(shlex.quote(text) if text.isprintable() else _ansi_c(text))


def quote_path(path: str) -> ShellWord:
    """A path argument: quoted, and with ``./`` before a relative path that starts with ``-``
    so that no tool reads it as an option (the same file, named safely)."""
    if isinstance(path, ShellWord):
        return path
    return quote(f"./{path}" if path.startswith("-") else path)


def comment(text: str) -> str:
    """``text`` as one ``#`` comment line: characters ``str.isprintable`` rejects are written
    as ``\\xHH``, so no newline ends the comment early and no control character reaches the
    terminal. Names inside ``text`` should already be ``quote``d (so they read unambiguously)."""
    return "# " + "".join(c if c.isprintable() else _escape(c) for c in text)


def placeholders(template: str) -> list[str]:
    """The ``{names}`` a fix-command template expects, in order of appearance."""
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def fill_template(template: str, **values: str) -> str:
    """``template`` with every placeholder replaced by its quoted value.

    A template whose placeholders are not all given is returned as written (its ``{names}``
    show what to fill in), never half-filled and never an exception.
    """
    try:
        return template.format(**{name: quote(value) for name, value in values.items()})
    except (KeyError, IndexError):
        return template
