"""Configuration: ``[tool.bundlelint]`` in pyproject.toml or top-level keys in bundlelint.toml.

Discovery walks from the current directory upward; in each directory ``bundlelint.toml`` is
looked at before ``pyproject.toml``, a pyproject.toml without a ``[tool.bundlelint]`` table is
skipped, and the first file found wins (no merging of several files, as in ruff). Command-line
flags then override it (``commands/check.py``). Every key and every rule code is checked: a typo
is a usage error that names the key, never a silently ignored setting.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bundlelint.errors import UsageError
from bundlelint.findings import Severity
from bundlelint.identifiers import bundle_identifier_problem, team_id_problem
from bundlelint.rules import Registry

CONFIG_FILES = ("bundlelint.toml", "pyproject.toml")
KNOWN_KEYS = (
    "select",
    "ignore",
    "severity",
    "per-path-ignores",
    "fail-on",
    "expected-team-id",
    "expected-entitlements",
    "bundle-identifier",
    "max-archive-size",
    "max-compression-ratio",
    "max-archive-members",
)
SEVERITIES = tuple(s.value for s in Severity)


@dataclass(frozen=True, kw_only=True)
class Config:
    """Validated settings from one configuration file (all empty when there is none)."""

    source: Path | None = None
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    severity: Mapping[str, Severity] = field(default_factory=dict)
    per_path_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    fail_on: Severity | None = None
    expected_team_id: str | None = None
    #: executable path inside the bundle ("Contents/MacOS/demo") -> entitlements dict
    expected_entitlements: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    bundle_identifier: str | None = None
    #: Zip input limits (``Options`` fields of the same names); ``None``: the default.
    max_archive_size: int | None = None
    max_compression_ratio: float | None = None
    max_archive_members: int | None = None

    def archive_limits(self) -> dict[str, Any]:
        """The zip limits this file sets, as ``Options`` keyword arguments."""
        values = {"max_archive_size": self.max_archive_size,
                  "max_compression_ratio": self.max_compression_ratio,
                  "max_archive_members": self.max_archive_members}
        return {k: v for k, v in values.items() if v is not None}


def find_config(start: Path) -> tuple[Path, dict[str, Any]] | None:
    """The first configuration file from ``start`` upward and its bundlelint table."""
    for directory in (start, *start.parents):
        for name in CONFIG_FILES:
            path = directory / name
            if not path.is_file():
                continue
            doc = _read_toml(path)
            if name == "pyproject.toml":
                tool = doc.get("tool")
                if not isinstance(tool, dict) or "bundlelint" not in tool:
                    continue
                table = tool["bundlelint"]
                if not isinstance(table, dict):
                    raise UsageError(f"{path}: [tool.bundlelint] must be a table")
                return path, table
            return path, doc
    return None


def discover(start: Path, registry: Registry) -> Config:
    """The configuration that applies in ``start`` (an empty one when no file is found)."""
    found = find_config(start.resolve())
    if found is None:
        return Config()
    path, table = found
    return parse_config(table, path, registry)


def load_config(path: Path, registry: Registry) -> Config:
    """An explicitly named file (``--config``): bundlelint.toml keys at the top level, or a
    pyproject.toml's ``[tool.bundlelint]`` table."""
    if not path.is_file():
        raise UsageError(f"configuration file {path} does not exist")
    doc = _read_toml(path)
    if path.name == "pyproject.toml":
        tool = doc.get("tool")
        table = tool.get("bundlelint", {}) if isinstance(tool, dict) else {}
        if not isinstance(table, dict):
            raise UsageError(f"{path}: [tool.bundlelint] must be a table")
        doc = table
    return parse_config(doc, path, registry)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from None


def parse_config(table: Mapping[str, Any], path: Path, registry: Registry) -> Config:
    """Validate a bundlelint table; every problem is a ``UsageError`` naming the key."""
    where = "[tool.bundlelint]" if path.name == "pyproject.toml" else "configuration"
    for key in table:
        if key not in KNOWN_KEYS:
            hint = _close_match(key)
            raise UsageError(f"{path}: unknown key {key!r} in {where}"
                             + (f" (did you mean {hint!r}?)" if hint else ""))

    def fail(key: str, problem: str) -> UsageError:
        return UsageError(f"{path}: {key}: {problem}")

    def code_list(key: str, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
            raise fail(key, "must be a list of rule codes")
        codes = []
        for text in value:
            code = registry.code(text)  # a slug becomes its rule ID
            if code is None:
                raise fail(key, f"unknown rule code {text.strip().upper()!r} "
                                "(see `bundlelint rules`)")
            codes.append(code)
        return tuple(codes)

    def severity(key: str, value: Any) -> Severity:
        if value not in SEVERITIES:
            raise fail(key, f"must be one of {', '.join(SEVERITIES)}, not {value!r}")
        return Severity(value)

    select = code_list("select", table["select"]) if "select" in table else None
    if select == ():
        raise fail("select", "selects no rule (leave it out, or write [\"ALL\"])")
    ignore = code_list("ignore", table.get("ignore", []))
    overrides: dict[str, Severity] = {}
    sev_table = table.get("severity", {})
    if not isinstance(sev_table, dict):
        raise fail("severity", "must be a table of rule ID = \"error\" | \"warning\" | \"info\"")
    for code, value in sev_table.items():
        rule = registry.get(code)
        if rule is None:
            raise fail(f"severity.{code}", "unknown rule ID (give a full ID such as BL406)")
        overrides[rule.meta.id] = severity(f"severity.{code}", value)
    per_path: list[tuple[str, tuple[str, ...]]] = []
    pp_table = table.get("per-path-ignores", {})
    if not isinstance(pp_table, dict):
        raise fail("per-path-ignores", "must be a table of glob = [rule codes]")
    for glob, codes in pp_table.items():
        per_path.append((glob, code_list(f"per-path-ignores.{glob!r}", codes)))
    fail_on = severity("fail-on", table["fail-on"]) if "fail-on" in table else None
    team = table.get("expected-team-id")
    if team is not None and (problem := team_id_problem(team)):
        raise fail("expected-team-id", problem)
    ident = table.get("bundle-identifier")
    if ident is not None and (problem := bundle_identifier_problem(ident)):
        raise fail("bundle-identifier", problem)
    def positive(key: str, kind: type) -> Any:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0 or (
                kind is int and not isinstance(value, int)):
            raise fail(key, f"must be a positive {'integer' if kind is int else 'number'}, "
                       f"not {value!r}")
        return kind(value)

    return Config(
        source=path,
        max_archive_size=positive("max-archive-size", int),
        max_compression_ratio=positive("max-compression-ratio", float),
        max_archive_members=positive("max-archive-members", int),
        select=select,
        ignore=ignore,
        severity=overrides,
        per_path_ignores=tuple(per_path),
        fail_on=fail_on,
        expected_team_id=team,
        expected_entitlements=_entitlements(table.get("expected-entitlements", {}), path),
        bundle_identifier=ident,
    )


def _entitlements(value: Any, path: Path) -> dict[str, dict[str, Any]]:
    """``expected-entitlements``: executable path -> inline table, or a .entitlements plist
    file named relative to the configuration file."""
    if not isinstance(value, dict):
        raise UsageError(f"{path}: expected-entitlements: must be a table of executable path "
                         "= {entitlements} or \"file.entitlements\"")
    result: dict[str, dict[str, Any]] = {}
    for exe, spec in value.items():
        key = f"expected-entitlements.{exe!r}"
        norm = exe.strip().lstrip("/").removeprefix("./")
        if not norm or ".." in norm.split("/"):
            raise UsageError(f"{path}: {key}: must be a path inside the bundle such as "
                             "\"Contents/MacOS/MyApp\"")
        if isinstance(spec, dict):
            result[norm] = spec
        elif isinstance(spec, str):
            result[norm] = _read_entitlements_file(path.parent / spec, f"{path}: {key}")
        else:
            raise UsageError(f"{path}: {key}: must be an inline table or a path to a "
                             ".entitlements file")
    return result


def _read_entitlements_file(file: Path, context: str) -> dict[str, Any]:
    """The expected entitlements in ``file``, read like every plist (bounded in size, depth and
    expansion, since BL310 compares them with the signature's)."""
    from bundlelint.errors import ParseError
    from bundlelint.parsers.plist import MAX_PLIST_BYTES, parse_plist

    try:
        with file.open("rb") as fh:
            doc = parse_plist(fh.read(MAX_PLIST_BYTES + 1), str(file)).value
    except OSError as exc:
        raise UsageError(f"{context}: cannot read {file}: {exc.strerror or exc}") from None
    except ParseError as err:
        raise UsageError(f"{context}: {file} is not a property list: {err.reason}") from None
    if not isinstance(doc, dict):
        raise UsageError(f"{context}: {file} is not a dictionary")
    return doc


def _close_match(key: str) -> str | None:
    import difflib

    matches = difflib.get_close_matches(key.replace("_", "-"), KNOWN_KEYS, n=1)
    return matches[0] if matches else None
