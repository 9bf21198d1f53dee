"""The rule registry: built-in rule modules plus plugins from the ``bundlelint.rules`` group.

IDs are validated when a rule is registered; a duplicate or malformed ID is an error, never a
silent override. A renamed rule keeps answering to its old ID through ``RuleMeta.aliases``.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from collections.abc import Iterable, Iterator
from types import ModuleType

from bundlelint.errors import RegistryError
from bundlelint.rules.base import Rule, RuleMeta, iter_rules

ENTRY_POINT_GROUP = "bundlelint.rules"
#: Modules in this package that hold shared code, not rules. Helper modules start with "_".
NON_RULE_MODULES = frozenset({"base"})


def builtin_rule_modules() -> list[str]:
    """Every rule module of this package: one module per rule family, found by name so that a
    new family needs no registration edit (and an empty one is an error, not a silent gap)."""
    return sorted(
        f"{__name__}.{info.name}"
        for info in pkgutil.iter_modules(__path__)
        if not info.name.startswith("_") and info.name not in NON_RULE_MODULES
    )


class Registry:
    """All known rules by ID, in ID order."""

    def __init__(self) -> None:
        self._rules: dict[str, Rule] = {}
        self._aliases: dict[str, str] = {}
        self._slugs: dict[str, str] = {}  # slug -> rule ID: findings print both

    def register(self, rule: Rule, origin: str = "bundlelint") -> None:
        try:
            rule.meta.validate()
        except ValueError as exc:
            raise RegistryError(f"{origin}: {exc}") from None
        for rid in (rule.meta.id, *rule.meta.aliases):
            if rid in self._rules or rid in self._aliases:
                raise RegistryError(f"{origin}: rule ID {rid} is already registered")
        if rule.meta.slug in self._slugs:
            raise RegistryError(f"{origin}: rule {rule.meta.id}'s name {rule.meta.slug} is "
                                f"already {self._slugs[rule.meta.slug]}'s")
        self._rules[rule.meta.id] = rule
        self._slugs[rule.meta.slug] = rule.meta.id
        for alias in rule.meta.aliases:
            self._aliases[alias] = rule.meta.id

    def register_from(self, obj: object, origin: str) -> None:
        """Register a module's rules, a single ``Rule``, or an iterable of rules."""
        if isinstance(obj, Rule):
            self.register(obj, origin)
        elif isinstance(obj, ModuleType):
            found = list(iter_rules(vars(obj)))
            if not found:
                raise RegistryError(f"{origin}: module {obj.__name__} defines no rules")
            for rule in found:
                self.register(rule, origin)
        elif isinstance(obj, Iterable):
            for item in obj:
                if not isinstance(item, Rule):
                    raise RegistryError(f"{origin}: {item!r} is not a bundlelint Rule")
                self.register(item, origin)
        else:
            raise RegistryError(f"{origin}: {obj!r} is not a rule, module or list of rules")

    def __iter__(self) -> Iterator[Rule]:
        return iter(sorted(self._rules.values(), key=lambda r: r.meta.id))

    def __len__(self) -> int:
        return len(self._rules)

    def get(self, rule_id: str) -> Rule | None:
        """The rule a user's name for it means: its ID, an old ID, or its slug (any case)."""
        return self._rules.get(self.resolve(rule_id))

    def meta(self, rule_id: str) -> RuleMeta:
        rule = self.get(rule_id)
        if rule is None:
            raise KeyError(rule_id)
        return rule.meta

    def resolve(self, rule_id: str) -> str:
        """The current ID a (possibly old) ID or a slug answers to; anything else upper-cased."""
        slug = self._slugs.get(rule_id.strip().lower())
        if slug is not None:
            return slug
        return self._aliases.get(rule_id.upper(), rule_id.upper())

    def code(self, text: str) -> str | None:
        """A rule code as ``--select``/``--ignore`` and the config take it, canonical: ``ALL``,
        a rule ID or ID prefix (``BL2``), or the ID of the rule a slug names (a slug matches
        whole, never as a prefix). None when it names no rule."""
        code = text.strip().upper()
        if code == "ALL":
            return code
        slug = self._slugs.get(text.strip().lower())
        if slug is not None:
            return slug
        if any(rid.startswith(code) for rid in self.known_ids()) and code:
            return code
        return None

    def known_ids(self) -> set[str]:
        return set(self._rules) | set(self._aliases)


def load_registry(*, plugins: bool = True) -> Registry:
    """The built-in rules, plus installed plugins unless ``plugins`` is false."""
    registry = Registry()
    for name in builtin_rule_modules():
        registry.register_from(importlib.import_module(name), name)
    if plugins and _may_have_plugins():
        from importlib.metadata import entry_points

        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                loaded = ep.load()
            except Exception as exc:
                raise RegistryError(f"plugin {ep.name} ({ep.value}) failed to load: {exc}") from exc
            registry.register_from(loaded, f"plugin {ep.name}")
    return registry


def _may_have_plugins(paths: list[str] | None = None) -> bool:
    """Whether any installed distribution declares the ``bundlelint.rules`` group.

    A cheap look at the ``entry_points.txt`` files on ``sys.path`` before paying for
    ``importlib.metadata`` (about 15 ms of start-up, more than parsing a Mach-O). It errs on the
    side of yes: any unreadable or unusual path defers to importlib.metadata.
    """
    marker = f"[{ENTRY_POINT_GROUP}]"
    for directory in sys.path if paths is None else paths:
        try:
            with os.scandir(directory or ".") as it:
                names = [e.name for e in it if e.name.endswith((".dist-info", ".egg-info"))]
        except NotADirectoryError:
            return True  # a zip on sys.path: let importlib.metadata look inside
        except OSError:
            continue
        for name in names:
            try:
                with open(os.path.join(directory or ".", name, "entry_points.txt"),
                          encoding="utf-8", errors="replace") as fh:
                    if marker in fh.read():
                        return True
            except FileNotFoundError:
                continue
            except OSError:
                return True
    return False
