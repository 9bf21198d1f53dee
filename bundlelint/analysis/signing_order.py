"""What codesign is pointed at, nested as the bundle nests it, in the order it must be signed.

Why one module: ``plan`` prints the signing commands in this order and ``inspect`` draws the
same tree with each node's signature state, so the two can never disagree about what is a
signing target or which comes first.

Order: everything inside a bundle is signed before the bundle, because codesign seals nested
code by its cdhash (Security, resources.cpp ``ResourceBuilder`` and bundlediskrep.cpp: a nested
bundle or Mach-O in a code location is recorded with its cdhash and designated requirement); a
post-order walk of the containment tree gives that. Among siblings, loose Mach-O files and
frameworks come before helpers, XPC services, extensions and nested apps, which may load them.
A bundle's main executable is signed through its bundle (``Layout.signing_target``).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field

from bundlelint.bundle import Bundle
from bundlelint.layout import BundleKind
from bundlelint.parsers.macho import MH_BUNDLE, MH_DYLIB, MH_EXECUTE

SIGNABLE = (MH_EXECUTE, MH_DYLIB, MH_BUNDLE)
#: Sibling order inside one container: loose code, frameworks and plug-ins first, then the
#: bundles that run as processes of their own (by ``bundlelint.layout.BundleKind``).
RUNS_ON_ITS_OWN = frozenset((BundleKind.APP, BundleKind.LOGIN_ITEM, BundleKind.APP_EXTENSION,
                             BundleKind.XPC_SERVICE, BundleKind.SYSTEM_EXTENSION))
#: The kind of a node that is code inside an archive nested in the bundle.
ARCHIVE_MEMBER = "archive member"
_MACHO_KIND = {MH_DYLIB: "dylib", MH_BUNDLE: "bundle", MH_EXECUTE: "executable"}


@dataclass
class SigningNode:
    """One signing target: a bundle (``kind`` is its extension) or a Mach-O file that is its
    own target (``dylib``, ``bundle``, ``executable``). ``children`` are in signing order.
    The root is the input itself (``path`` "")."""

    path: str
    kind: str
    children: list[SigningNode] = field(default_factory=list)
    #: Sibling order: 1 for a bundle that runs as a process of its own, else 0.
    group: int = 0
    #: For the root only: the display paths of bundle directories codesign refuses to sign
    #: as bundles (no main executable and no Info.plist: bundlediskrep.cpp
    #: ``BundleDiskRep::setup`` fails with errSecCSBadBundleFormat), whose code is therefore
    #: signed file by file.
    unsignable: list[str] = field(default_factory=list)

    def post_order(self) -> Iterator[SigningNode]:
        """This node's subtree in signing order: deepest first, this node last."""
        for child in self.children:
            yield from child.post_order()
        yield self


def _targets(bundle: Bundle, unsignable: list[str]) -> list[SigningNode]:
    """Every signing target except the input itself: every nested bundle codesign can sign,
    and every signable Mach-O file that is its own signing target."""
    found: list[SigningNode] = []
    for bd in bundle.bundle_dirs:
        if not bd.relpath:
            continue
        if bundle.layout.geometry(bd).signable:
            found.append(SigningNode(bd.relpath, bd.extension,
                                     group=int(bd.kind in RUNS_ON_ITS_OWN)))
        else:
            unsignable.append(bd.display)
    for entry, macho in bundle.machos():
        if not entry.relpath or not any(sl.filetype in SIGNABLE for sl in macho.slices):
            continue
        if entry.container is not None:
            # Code in an archive nested in the bundle (a dylib in a .jar): not a path
            # codesign can open; it is signed outside the archive and put back, before the
            # bundle whose seal covers the archive.
            found.append(SigningNode(entry.relpath, ARCHIVE_MEMBER))
            continue
        if bundle.layout.signing_target(entry.relpath) != entry.relpath:
            continue
        found.append(SigningNode(entry.relpath,
                                 _MACHO_KIND.get(macho.slices[0].filetype, "macho")))
    return found


def _sort(nodes: list[SigningNode]) -> None:
    nodes.sort(key=lambda n: (n.group, n.path))
    for node in nodes:
        _sort(node.children)


def root_kind(bundle: Bundle) -> str:
    """What the input itself is, as a signing target."""
    if bundle.is_single_file:
        return "executable"
    return bundle.root_bundle.extension if bundle.root_bundle else "bundle"


def signing_tree(bundle: Bundle) -> SigningNode:
    """The input and everything inside it that codesign signs, nested by containment, each
    node's children in signing order (cached per bundle)."""
    def build() -> SigningNode:
        root = SigningNode("", root_kind(bundle))
        targets = _targets(bundle, root.unsignable)
        by_path = {t.path: t for t in targets}
        for target in targets:
            parent = posixpath.dirname(target.path)
            while parent and parent not in by_path:
                parent = posixpath.dirname(parent)
            (by_path[parent] if parent else root).children.append(target)
        _sort(root.children)
        return root

    return bundle.memo("signing-tree", "", build)


def signing_order(bundle: Bundle) -> list[SigningNode]:
    """Every signing target, the input last: the order of the ``codesign`` commands."""
    return list(signing_tree(bundle).post_order())
