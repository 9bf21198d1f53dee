"""``_CodeSignature/CodeResources``: the resource seal of a bundle (docs/formats.md section 4).

An XML plist with ``files`` (v1, SHA-1), ``files2`` (v2: hash/hash2, symlink, nested code) and
the ``rules``/``rules2`` that decided what was sealed. This module only decodes and validates the
shape; evaluating the rules against a tree and comparing hashes is ``analysis/seal.py``'s job.
Everything in the file is untrusted: wrong types, absurd counts and regular expressions that
would backtrack forever become a ``ParseError`` naming the file and the key.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from bundlelint.errors import ParseError
from bundlelint.parsers.plist import parse_plist

FORMAT = "CodeResources"
#: More rules than any real signer writes (Apple's defaults have 13): refuse beyond this.
MAX_RULES = 512
MAX_PATTERN = 1024
#: A group that holds a quantifier and is itself quantified, e.g. ``(a+)+``: the shape that
#: makes a backtracking engine take exponential time. POSIX ERE engines do not backtrack;
#: Python's does, so such a pattern is refused rather than evaluated.
_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)\s*[+*{]")


@dataclass(frozen=True)
class ResourceRule:
    """One ``rules``/``rules2`` entry: a POSIX extended regex and what a match means."""

    pattern: str
    regex: re.Pattern[str]
    omit: bool = False
    optional: bool = False
    nested: bool = False
    weight: float = 1.0
    exclusion: bool = False  # added by the signer itself (SEC adjustResources), never in a file

    def matches(self, path: str) -> bool:
        return self.regex.search(path) is not None


class SealedFile(NamedTuple):
    """One ``files``/``files2`` entry. Exactly one of the three forms is set:
    a digest (``hash`` SHA-1 and/or ``hash2`` SHA-256), a ``symlink`` target, or nested code
    (``cdhash`` plus the designated ``requirement`` text). A named tuple: a seal has one per
    resource, tens of thousands in a big app."""

    path: str
    hash: bytes | None = None
    hash2: bytes | None = None
    symlink: str | None = None
    cdhash: bytes | None = None
    requirement: str | None = None
    optional: bool = False

    @property
    def is_nested(self) -> bool:
        return self.cdhash is not None

    @property
    def is_symlink(self) -> bool:
        return self.symlink is not None


@dataclass(frozen=True)
class CodeResources:
    """A decoded CodeResources file. When the seal has a v2 part, ``files`` (v1) is decoded
    only if someone reads it: Apple's verifier ignores it then, and it is half the file."""

    files: Mapping[str, SealedFile]
    files2: Mapping[str, SealedFile]
    rules: tuple[ResourceRule, ...]
    rules2: tuple[ResourceRule, ...]

    @property
    def has_v2(self) -> bool:
        return bool(self.rules2) or bool(self.files2)


def compile_rule(pattern: str, value: Any, *, path: str, key: str) -> ResourceRule:
    """A rule from its plist value (``true`` or a dict of omit/optional/nested/weight)."""
    where = f"{key}[{pattern!r}]"
    if len(pattern) > MAX_PATTERN:
        raise ParseError(FORMAT, path, None, f"{key} pattern of {len(pattern)} characters is "
                         "too long")
    if _NESTED_QUANTIFIER.search(pattern):
        raise ParseError(FORMAT, path, None, f"{where} nests quantifiers; bundlelint refuses "
                         "patterns that can take exponential time to match")
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise ParseError(FORMAT, path, None, f"{where} is not a valid regular expression: "
                         f"{exc}") from None
    if value is True:
        return ResourceRule(pattern, regex)
    if not isinstance(value, dict):
        raise ParseError(FORMAT, path, None, f"{where} is {type(value).__name__}, expected true "
                         "or a dictionary")
    flags = {}
    for name in ("omit", "optional", "nested"):
        flag = value.get(name, False)
        if not isinstance(flag, bool):
            raise ParseError(FORMAT, path, None, f"{where}.{name} is {type(flag).__name__}, "
                             "expected a boolean")
        flags[name] = flag
    weight = value.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        raise ParseError(FORMAT, path, None, f"{where}.weight is {type(weight).__name__}, "
                         "expected a number")
    return ResourceRule(pattern, regex, weight=float(weight), **flags)


def _rules(doc: dict[str, Any], key: str, path: str) -> tuple[ResourceRule, ...]:
    raw = doc.get(key, {})
    if not isinstance(raw, dict):
        raise ParseError(FORMAT, path, None, f"{key} is {type(raw).__name__}, expected a "
                         "dictionary")
    if len(raw) > MAX_RULES:
        raise ParseError(FORMAT, path, None, f"{key} has {len(raw)} rules (limit {MAX_RULES})")
    return tuple(compile_rule(str(p), v, path=path, key=key) for p, v in raw.items())


def _data(value: Any, where: str, path: str, *, size: int | None = None) -> bytes:
    if not isinstance(value, bytes):
        raise ParseError(FORMAT, path, None, f"{where} is {type(value).__name__}, expected data")
    if size is not None and len(value) != size:
        raise ParseError(FORMAT, path, None, f"{where} is {len(value)} bytes, expected {size}")
    return value


def _entry(name: str, value: Any, key: str, path: str) -> SealedFile:
    if type(value) is dict and len(value) == 2:  # the common case: {hash, hash2}, checked fast
        h1, h2 = value.get("hash"), value.get("hash2")
        if type(h1) is bytes and len(h1) == 20 and type(h2) is bytes and len(h2) == 32:
            return SealedFile(name, h1, h2)
    where = f"{key}[{name!r}]"
    if isinstance(value, bytes):  # v1 shorthand, and SHA-1-only v2 entries
        return SealedFile(name, hash=_data(value, where, path, size=20))
    if not isinstance(value, dict):
        raise ParseError(FORMAT, path, None, f"{where} is {type(value).__name__}, expected data "
                         "or a dictionary")
    optional = value.get("optional", False)
    if not isinstance(optional, bool):
        raise ParseError(FORMAT, path, None, f"{where}.optional is not a boolean")
    symlink = value.get("symlink")
    if symlink is not None and not isinstance(symlink, str):
        raise ParseError(FORMAT, path, None, f"{where}.symlink is not a string")
    requirement = value.get("requirement")
    if requirement is not None and not isinstance(requirement, str):
        raise ParseError(FORMAT, path, None, f"{where}.requirement is not a string")
    h1 = _data(value["hash"], f"{where}.hash", path, size=20) if "hash" in value else None
    h2 = _data(value["hash2"], f"{where}.hash2", path, size=32) if "hash2" in value else None
    cdhash = _data(value["cdhash"], f"{where}.cdhash", path) if "cdhash" in value else None
    if cdhash is not None and len(cdhash) not in (20, 32, 48):
        raise ParseError(FORMAT, path, None, f"{where}.cdhash is {len(cdhash)} bytes")
    forms = sum(x is not None for x in (symlink, cdhash)) + (h1 is not None or h2 is not None)
    if forms != 1:
        raise ParseError(FORMAT, path, None, f"{where} must have exactly one of a hash, a "
                         "symlink or a cdhash")
    return SealedFile(name, hash=h1, hash2=h2, symlink=symlink, cdhash=cdhash,
                      requirement=requirement, optional=optional)


def _files(doc: dict[str, Any], key: str, path: str) -> dict[str, SealedFile]:
    raw = doc.get(key, {})
    if not isinstance(raw, dict):
        raise ParseError(FORMAT, path, None, f"{key} is {type(raw).__name__}, expected a "
                         "dictionary")
    return {str(name): _entry(str(name), value, key, path) for name, value in raw.items()}


class _LazyFiles(Mapping[str, SealedFile]):
    """``files`` of a seal that also has a v2 part: decoded (and validated, raising
    ``ParseError``) on first use only."""

    def __init__(self, doc: dict[str, Any], path: str) -> None:
        self._doc: dict[str, Any] | None = {"files": doc.get("files", {})}  # not the rest
        self._path = path
        self._decoded: dict[str, SealedFile] = {}

    def _files(self) -> dict[str, SealedFile]:
        if self._doc is not None:
            self._decoded, self._doc = _files(self._doc, "files", self._path), None
        return self._decoded

    def __getitem__(self, name: str) -> SealedFile:
        return self._files()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._files())

    def __len__(self) -> int:
        return len(self._files())


def parse_code_resources(data: bytes, path: str) -> CodeResources:
    """Decode ``data`` (the raw bytes of a CodeResources file) or raise ``ParseError``."""
    doc = parse_plist(data, path).value
    if not isinstance(doc, dict):
        raise ParseError(FORMAT, path, None, f"top level is {type(doc).__name__}, not a "
                         "dictionary")
    if not any(k in doc for k in ("files", "files2", "rules", "rules2")):
        raise ParseError(FORMAT, path, None, "has none of files, files2, rules, rules2")
    v2 = bool(doc.get("files2")) or bool(doc.get("rules2"))  # as CodeResources.has_v2
    return CodeResources(
        files=_LazyFiles(doc, path) if v2 else _files(doc, "files", path),
        files2=_files(doc, "files2", path),
        rules=_rules(doc, "rules", path),
        rules2=_rules(doc, "rules2", path),
    )


#: Apple's default rules2 for a bundle with Resources/ (SEC bundlediskrep.cpp, docs/formats.md 4).
DEFAULT_RULES2: dict[str, Any] = {
    "^.*": True,
    "^[^/]+$": {"nested": True, "weight": 10.0},
    "^(Frameworks|SharedFrameworks|PlugIns|Plug-ins|XPCServices|Helpers|MacOS|Library/"
    "(Automator|Spotlight|LoginItems))/": {"nested": True, "weight": 10.0},
    ".*\\.dSYM($|/)": {"weight": 11.0},
    "^(.*/)?\\.DS_Store$": {"omit": True, "weight": 2000.0},
    "^Info\\.plist$": {"omit": True, "weight": 20.0},
    "^version\\.plist$": {"weight": 20.0},
    "^embedded\\.provisionprofile$": {"weight": 20.0},
    "^PkgInfo$": {"omit": True, "weight": 20.0},
    "^Resources/": {"weight": 20.0},
    "^Resources/.*\\.lproj/": {"optional": True, "weight": 1000.0},
    "^Resources/Base\\.lproj/": {"weight": 1010.0},
    "^Resources/.*\\.lproj/locversion.plist$": {"omit": True, "weight": 1100.0},
}

#: Apple's default v1 rules.
DEFAULT_RULES: dict[str, Any] = {
    "^version.plist$": True,
    "^Resources/": True,
    "^Resources/.*\\.lproj/": {"optional": True, "weight": 1000.0},
    "^Resources/Base\\.lproj/": {"weight": 1010.0},
    "^Resources/.*\\.lproj/locversion.plist$": {"omit": True, "weight": 1100.0},
}


def default_rules2() -> tuple[ResourceRule, ...]:
    """Apple's default rules2, compiled (used to judge an unsealed bundle)."""
    return tuple(compile_rule(p, v, path="<default rules>", key="rules2")
                 for p, v in DEFAULT_RULES2.items())
