"""Resource-seal verification: ``_CodeSignature/CodeResources`` against the files on disk.

Why: after signing, any change inside a bundle (an edited resource, a file dropped in by a build
step, a re-signed nested framework) breaks the seal; ``codesign --verify`` and the notary then
reject the whole app. This module replays what Apple's verifier does (SEC resources.cpp,
docs/formats.md section 4): walk the bundle below its seal base (``Contents/`` for an app), pick for
every path the ``rules2`` rule of highest weight (an exclusion wins outright), and compare each
sealed path's SHA-256 (``hash2``; SHA-1 only when no ``hash2``), symlink target, or nested
code's cdhash.

Where each bundle's seal base, seal file and main executable are comes from the bundle's
geometry (``bundlelint.layout``): ``Contents/`` of an app, the version directory
``Versions/Current`` points at of a framework.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from bundlelint.analysis import hashing
from bundlelint.analysis.codehash import signed_cdhashes
from bundlelint.bundle import Bundle, Entry, EntryKind
from bundlelint.errors import ParseError
from bundlelint.layout import BundleDir, BundleGeometry, sealed_as_nested_bundle
from bundlelint.parsers.coderesources import (
    CodeResources,
    ResourceRule,
    SealedFile,
    default_rules2,
    parse_code_resources,
)
from bundlelint.parsers.plist import MAX_PLIST_BYTES

READ_CHUNK = 1 << 20
#: Paths Apple's signer always leaves out of the seal (SEC BundleDiskRep::adjustResources).
ALWAYS_EXCLUDED = ("_CodeSignature", "CodeResources", "_MASReceipt")


class IssueKind(enum.Enum):
    MODIFIED = "modified"
    MISSING = "missing"
    ADDED = "added"
    NESTED = "nested code modified"


@dataclass(frozen=True)
class SealIssue:
    """One difference between the seal and the disk."""

    kind: IssueKind
    path: str  # display path (input name first)
    relpath: str  # relative to the seal base, as written in CodeResources
    detail: str
    expected: str | None = None
    actual: str | None = None


@dataclass(frozen=True)
class SealVerification:
    """The verdict on one bundle's resource seal."""

    bundle_dir: BundleDir
    base: str  # input-relative seal base ("X.app/Contents/")
    code_resources: str  # display path of _CodeSignature/CodeResources
    present: bool  # a regular CodeResources file exists
    error: ParseError | None = None
    version: str = "v2"  # which files/rules were evaluated: "v2" or "v1"
    sealed_count: int = 0  # entries in files2 (or files)
    issues: tuple[SealIssue, ...] = ()

    def of_kind(self, kind: IssueKind) -> tuple[SealIssue, ...]:
        return tuple(i for i in self.issues if i.kind is kind)


def find_rule(rules: tuple[ResourceRule, ...], path: str) -> ResourceRule | None:
    """Apple's choice (SEC ``ResourceBuilder::findRule``): an exclusion that matches wins at
    once; otherwise the matching rule of highest weight, the earlier one on a tie."""
    best: ResourceRule | None = None
    for rule in rules:
        if rule.matches(path):
            if rule.exclusion:
                return rule
            if best is None or rule.weight > best.weight:
                best = rule
    return best


#: ``^literal`` or ``^literal$`` where the literal has no regex meaning: tested with string
#: comparison instead of the regex engine.
_LITERAL_RULE = re.compile(r"\^((?:[A-Za-z0-9_/ ,@~-]|\\[^A-Za-z0-9])*)(\$?)\Z")


def _rule_test(rule: ResourceRule) -> Callable[[str], object]:
    """A test equivalent to ``rule.matches``, as cheap as the pattern allows."""
    literal = _LITERAL_RULE.match(rule.pattern)
    if literal is None:
        return rule.regex.search
    text = re.sub(r"\\(.)", r"\1", literal.group(1))
    if literal.group(2):  # Python's $ also matches before a final newline
        exact = (text, text + "\n")
        return exact.__contains__
    return lambda path: path.startswith(text)


class RuleMatcher:
    """:func:`find_rule` for one rule set, precomputed for the thousands of paths of a bundle:
    exclusions first in their order, then the other rules by falling weight (stable, so the
    earlier rule wins a tie), so the first rule that matches is the answer; anchored literal
    patterns (``^Resources/``, ``^Info\\.plist$``) are compared as strings."""

    def __init__(self, rules: tuple[ResourceRule, ...]) -> None:
        self.rules = rules
        weights = [r.weight for r in rules]
        # NaN weights make "highest" meaningless for sorting: keep the plain loop then.
        self._linear = any(w != w for w in weights)
        ordered = [r for r in rules if r.exclusion] + sorted(
            (r for r in rules if not r.exclusion), key=lambda r: -r.weight)
        self._tests = [(_rule_test(r), r) for r in ordered]

    def __call__(self, path: str) -> ResourceRule | None:
        if self._linear:
            return find_rule(self.rules, path)
        for test, rule in self._tests:
            if test(path):
                return rule
        return None


def _exclusions(geometry: BundleGeometry) -> tuple[ResourceRule, ...]:
    names = list(ALWAYS_EXCLUDED)
    if geometry.main_executable and geometry.main_executable.startswith(geometry.base):
        names.append(geometry.rel(geometry.main_executable))
    return tuple(
        ResourceRule(f"^{re.escape(n)}$", re.compile(f"^{re.escape(n)}$"), exclusion=True)
        for n in names
    )


def verify_seal(bundle: Bundle, bundle_dir: BundleDir) -> SealVerification:
    """Verify ``bundle_dir``'s resource seal (cached per bundle)."""
    return bundle.memo("seal", bundle_dir.relpath, lambda: _verify(bundle, bundle_dir))


def sealed_bundles(bundle: Bundle) -> Iterator[SealVerification]:
    """The seal verification of every bundle in the input that has a CodeResources file."""
    for geometry in bundle.layout.geometries():
        result = verify_seal(bundle, geometry.bundle_dir)
        if result.present:
            yield result


def _verify(bundle: Bundle, bundle_dir: BundleDir) -> SealVerification:
    if bundle.is_single_file:  # a single-file input has no bundles
        return SealVerification(bundle_dir, "", bundle.display(""), present=False)
    geometry = bundle.layout.geometry(bundle_dir)
    display = bundle.display(geometry.code_resources)
    loaded = load_code_resources(bundle, geometry)
    if loaded is None:
        return SealVerification(bundle_dir, geometry.base, display, present=False)
    if isinstance(loaded, ParseError):
        return SealVerification(bundle_dir, geometry.base, display, present=True, error=loaded)
    return _compare(bundle, geometry, display, loaded)


def load_code_resources(bundle: Bundle,
                        geometry: BundleGeometry) -> CodeResources | ParseError | None:
    """The parsed ``_CodeSignature/CodeResources`` of ``geometry`` (cached); ``None`` when there
    is no regular file there. Parsing a big seal is slow (pure-Python XML), so the hashing
    prefetch calls this while the workers hash."""
    return bundle.memo("seal-file", geometry.bundle_dir.relpath,
                       lambda: _load(bundle, geometry))


def _load(bundle: Bundle, geometry: BundleGeometry) -> CodeResources | ParseError | None:
    display = bundle.display(geometry.code_resources)
    entry = bundle.entry(geometry.code_resources)
    if entry is None or entry.kind in (EntryKind.DIRECTORY, EntryKind.SYMLINK,
                                       EntryKind.SPECIAL):
        return None
    skipped = bundle.skip_error(entry)
    if skipped is not None:
        return skipped.with_path(display)
    try:
        if entry.size > MAX_PLIST_BYTES:
            raise ParseError("CodeResources", display, None, f"{entry.size} bytes is over the "
                             f"{MAX_PLIST_BYTES}-byte limit")
        with bundle.open_entry(entry) as fh:
            data = fh.read(MAX_PLIST_BYTES + 1)
        return parse_code_resources(data, display)
    except ParseError as err:
        return err
    except OSError as err:
        return ParseError("CodeResources", display, None, f"cannot read: {err}")


def _compare(bundle: Bundle, geometry: BundleGeometry, display: str,
             seal: CodeResources) -> SealVerification:
    v2 = seal.has_v2
    files = seal.files2 if v2 else seal.files
    rules = (seal.rules2 if v2 else seal.rules) + _exclusions(geometry)
    on_disk = sealable_paths(bundle, geometry, rules, set(files))
    issues: list[SealIssue] = []
    for rel, sealed in files.items():
        issue = _check_one(bundle, geometry, rel, sealed, rules)
        if issue is not None:
            issues.append(issue)
    main_unknown = geometry.executable_unknown
    for rel in sorted(set(on_disk) - set(files)):
        entry = on_disk[rel]
        if main_unknown and _could_be_main_executable(rel):
            continue  # Apple leaves the main executable out of the seal; which one it is, the
            # Info.plist over --max-file-size would have said
        what = "bundle" if entry.kind is EntryKind.DIRECTORY else entry.kind.value
        issues.append(SealIssue(IssueKind.ADDED, entry.display, rel,
                                f"{rel} ({what}) is not in the seal: it was added or replaced "
                                "after signing"))
    return SealVerification(geometry.bundle_dir, geometry.base, display, present=True,
                            version="v2" if v2 else "v1", sealed_count=len(files),
                            issues=tuple(issues))


def _could_be_main_executable(rel: str) -> bool:
    """Where CFBundleExecutable may point (relative to the seal base): MacOS/NAME or NAME."""
    name = rel.removeprefix("MacOS/")
    return "/" not in name


def sealable_paths(bundle: Bundle, geometry: BundleGeometry, rules: tuple[ResourceRule, ...],
                   nested_keys: set[str] | None = None) -> dict[str, Entry]:
    """What the signer would put in the seal today: paths (relative to the seal base) of files,
    symlinks and nested bundles that ``rules`` neither exclude nor omit."""
    nested_keys = nested_keys or set()
    out: dict[str, Entry] = {}
    skipped: set[str] = set()
    match = RuleMatcher(rules)
    own = bundle.entry(geometry.bundle_dir.relpath) if geometry.bundle_dir.relpath else None
    own_container = own.container if own is not None else None
    for entry in bundle.entries:
        if not entry.relpath.startswith(geometry.base) or entry.relpath == geometry.base:
            continue
        if entry.container != own_container:
            continue  # inside an archive nested in the bundle: the archive file is sealed
        rel = geometry.rel(entry.relpath)
        if not rel or (skipped and _under(rel, skipped)):
            continue
        rule = match(rel)
        if entry.kind is EntryKind.DIRECTORY:
            if rule is not None and rule.exclusion:
                skipped.add(rel)
                continue
            is_bundle = sealed_as_nested_bundle(rel.rpartition("/")[2])
            if (rule is not None and rule.nested and is_bundle) or rel in nested_keys:
                out[rel] = entry
                skipped.add(rel)
            continue
        if rule is None or rule.exclusion or rule.omit:
            continue
        out[rel] = entry
    return out


def _under(rel: str, skipped: set[str]) -> bool:
    """Whether a parent directory of ``rel`` is in ``skipped``."""
    at = rel.find("/")
    while at != -1:
        if rel[:at] in skipped:
            return True
        at = rel.find("/", at + 1)
    return False


def _check_one(bundle: Bundle, geometry: BundleGeometry, rel: str, sealed: SealedFile,
               rules: tuple[ResourceRule, ...]) -> SealIssue | None:
    relpath = geometry.base + rel
    entry = bundle.entry(relpath)
    if entry is None:
        rule = find_rule(rules, rel)
        if sealed.optional or (rule is not None and rule.optional):
            return None
        return SealIssue(IssueKind.MISSING, bundle.display(relpath), rel,
                         f"{rel} is sealed but missing")
    display = entry.display
    if sealed.is_nested:
        return _check_nested(bundle, entry, rel, sealed)
    if sealed.is_symlink:
        if entry.kind is not EntryKind.SYMLINK:
            return SealIssue(IssueKind.MODIFIED, display, rel,
                             f"{rel} was sealed as a symlink to {sealed.symlink!r} but is now a "
                             f"{entry.kind.value}", sealed.symlink, entry.kind.value)
        if entry.symlink_target != sealed.symlink:
            return SealIssue(IssueKind.MODIFIED, display, rel,
                             f"{rel} points to {entry.symlink_target!r}, sealed as "
                             f"{sealed.symlink!r}", sealed.symlink, entry.symlink_target)
        return None
    if entry.kind in (EntryKind.DIRECTORY, EntryKind.SYMLINK, EntryKind.SPECIAL):
        return SealIssue(IssueKind.MODIFIED, display, rel,
                         f"{rel} was sealed as a file but is now a {entry.kind.value}",
                         "file", entry.kind.value)
    if bundle.skipped(entry):
        return None  # over --max-file-size: not hashed, so neither sealed-ok nor modified (BL008)
    algorithm, expected = ("sha256", sealed.hash2) if sealed.hash2 else ("sha1", sealed.hash)
    assert expected is not None  # the parser guarantees one of the three forms
    try:
        actual = _hash_file(bundle, entry, algorithm)
    except OSError as err:
        return SealIssue(IssueKind.MODIFIED, display, rel,
                         f"{rel} cannot be read: {err.strerror or err}")
    if actual != expected:
        name = "SHA-256" if algorithm == "sha256" else "SHA-1"
        return SealIssue(IssueKind.MODIFIED, display, rel,
                         f"{rel} changed after signing ({name} {actual.hex()[:16]}..., sealed "
                         f"{expected.hex()[:16]}...)", expected.hex(), actual.hex())
    return None


def _hash_file(bundle: Bundle, entry: Entry, algorithm: str) -> bytes:
    """The file's digest: hashed once per bundle, on the shared pool (often already done by the
    prefetch that the first hashing analysis starts)."""
    return hashing.file_digest(bundle, entry, algorithm)


def nested_cdhashes(bundle: Bundle, entry: Entry) -> tuple[str, ...]:
    """Full hex hashes of every CodeDirectory of the code ``entry`` stands for (a Mach-O file,
    or a bundle directory whose main executable is used). Empty: unsigned or unreadable.

    Apple records one cdhash, chosen for the verifying machine's architecture and preferred
    hash type, so any CD of any slice is accepted as a match."""
    target: Entry | None = entry
    if entry.kind is EntryKind.DIRECTORY:
        target = None
        nested = bundle.layout.bundle_at(entry.relpath)
        main = bundle.layout.main_executable(nested) if nested is not None else None
        if main is not None:
            target = bundle.entry(main)
    if target is None:
        return ()
    if target.kind is not EntryKind.MACHO:
        return ()
    try:
        return signed_cdhashes(bundle.macho(target))
    except ParseError:
        return ()


def _check_nested(bundle: Bundle, entry: Entry, rel: str, sealed: SealedFile) -> SealIssue | None:
    assert sealed.cdhash is not None
    want = sealed.cdhash.hex()
    actual = nested_cdhashes(bundle, entry)
    if any(h.startswith(want) for h in actual):
        return None
    got = ", ".join(h[:40] for h in actual) if actual else "no signature"
    return SealIssue(IssueKind.NESTED, entry.display, rel,
                     f"nested code {rel} has cdhash {got}, sealed as {want}: it was changed or "
                     "re-signed after the bundle was signed", want, got)


def unsealed_content(bundle: Bundle, geometry: BundleGeometry) -> tuple[str, ...]:
    """Paths Apple's default rules2 would seal in a bundle that has no CodeResources."""
    rules = default_rules2() + _exclusions(geometry)
    return tuple(sorted(sealable_paths(bundle, geometry, rules)))
