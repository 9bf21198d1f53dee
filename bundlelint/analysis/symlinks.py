"""Where symlinks in the input point, resolved lexically and never followed on disk.

codesign refuses a bundle whose symlinks point outside it ("invalid destination for symbolic
link in bundle"), and a loop hangs naive tools. We resolve each link's target as a path inside
the input, hop by hop, with a hop limit, touching nothing but the bundle model.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from bundlelint.bundle import Bundle, Entry, EntryKind

MAX_HOPS = 40  # the kernel's MAXSYMLINKS
#: Where strict validation lets an absolute symlink point (Security,
#: ``SecStaticCode::validateSymlinkResource``: ``allowedDestinations``).
ALLOWED_ABSOLUTE_PREFIXES = ("/System/", "/Library/")


def allowed_absolute_target(target: str) -> bool:
    """Whether an absolute symlink target is one strict validation accepts.

    ``SecStaticCode::validateSymlinkResource`` (Security, StaticCode.cpp) resolves an absolute
    target with ``realpath`` and accepts it when the result is strictly longer than, and
    starts with, ``/System/`` or ``/Library/``. The target is normalised lexically here (the
    verifying Mac's file system is not at hand), so ``/Library/../etc`` stays refused.
    """
    if not target.startswith("/"):
        return False
    norm = posixpath.normpath(target)
    if norm.startswith("//"):
        norm = "/" + norm.lstrip("/")
    return any(norm.startswith(p) and len(norm) > len(p) for p in ALLOWED_ABSOLUTE_PREFIXES)


@dataclass(frozen=True)
class SymlinkResolution:
    """``target`` is the input-relative path the chain ends at (None if it leaves the input or
    loops); ``escapes`` names the first hop that leaves the input; ``loop`` is set for cycles."""

    entry: Entry
    target: str | None
    escapes: str | None
    loop: bool
    dangling: bool


def _step(link_relpath: str, target: str) -> str | None:
    """The input-relative path ``target`` denotes from the link at ``link_relpath``, or None
    if it is absolute or climbs above the input root."""
    if target.startswith("/"):
        return None
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(link_relpath), target))
    if joined == ".":
        return ""
    if joined == ".." or joined.startswith("../"):
        return None
    return joined


def resolve(bundle: Bundle, entry: Entry) -> SymlinkResolution:
    """Resolve ``entry`` (a symlink) within the input."""
    seen = {entry.relpath}
    current = entry
    for _ in range(MAX_HOPS):
        assert current.symlink_target is not None
        nxt = _step(current.relpath, current.symlink_target)
        if nxt is None:
            return SymlinkResolution(entry, None, current.symlink_target, False, False)
        # a path through a symlinked directory: resolve its first symlinked component
        hop = _through_links(bundle, nxt)
        if hop is not None and hop.relpath != nxt:
            nxt_entry: Entry | None = hop
        else:
            nxt_entry = bundle.entry(nxt)
        if nxt_entry is None:
            return SymlinkResolution(entry, nxt, None, False, True)
        if nxt_entry.kind is not EntryKind.SYMLINK:
            return SymlinkResolution(entry, nxt, None, False, False)
        if nxt_entry.relpath in seen:
            return SymlinkResolution(entry, None, None, True, False)
        seen.add(nxt_entry.relpath)
        current = nxt_entry
    return SymlinkResolution(entry, None, None, True, False)


def _through_links(bundle: Bundle, relpath: str) -> Entry | None:
    """The first symlink among the parent directories of ``relpath``, if any."""
    parts = relpath.split("/")
    for i in range(1, len(parts)):
        prefix = "/".join(parts[:i])
        found = bundle.entry(prefix)
        if found is not None and found.kind is EntryKind.SYMLINK:
            return found
    return None


def symlink_resolutions(bundle: Bundle) -> tuple[SymlinkResolution, ...]:
    """Every symlink of the input, resolved (cached)."""
    return bundle.memo(
        "symlinks", "",
        lambda: tuple(resolve(bundle, e) for e in bundle.entries_of(EntryKind.SYMLINK)),
    )
