"""The lint pipeline and bundlelint's Python API: ``bundlelint.lint`` and ``bundlelint.lint_all``.

The ``check`` command is a thin layer over this module (it parses flags, finds the configuration
file and renders), so a script, a test and the command line lint through the same steps:

1. settings: the configuration (a file or a ``Config``) with explicit settings on top, the way
   command-line flags override the file (``select`` and ``fail_on`` replace, ``ignore`` adds,
   the expectations replace), validated by the same functions;
2. per input: the early hasher starts digests of a sealed directory's files while the walk
   lists them, the input is opened, ``prefetch`` schedules the remaining hashes, then the rules
   run, those waiting for hashes last (``analysis.hashing.hash_stage``);
3. the worker pool is shut down whatever happens (work no rule asked for is cancelled), and
   progress bars are switched back to what they were: a call leaves no process-wide state
   behind, so two calls in one process give the same results;
4. same-named inputs are renamed apart, and a baseline (if any) excuses recorded findings,
   counting them in ``Report.baselined``.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bundlelint.engine import InputProblem, Report, Selection
from bundlelint.errors import UsageError
from bundlelint.exitstatus import EXIT_CLEAN, EXIT_FINDINGS, EXIT_INTERNAL, EXIT_USAGE
from bundlelint.findings import Finding, Severity
from bundlelint.identifiers import bundle_identifier_problem, team_id_problem
from bundlelint.options import Options

if TYPE_CHECKING:
    from bundlelint.config import Config
    from bundlelint.rules import Registry

StrPath = str | os.PathLike[str]


@dataclass(frozen=True)
class LintResult:
    """The outcome of linting several inputs: one report per input that could be read, one
    problem per input that could not."""

    reports: tuple[Report, ...]
    problems: tuple[InputProblem, ...] = ()

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for r in self.reports for f in r.findings)

    @property
    def exit_status(self) -> int:
        """What ``bundlelint check`` exits with: 3 a rule crashed, 2 an input could not be
        read, 1 a finding at or above its report's ``fail_on``, else 0."""
        if any(r.has_internal_error for r in self.reports):
            return EXIT_INTERNAL
        if self.problems:
            return EXIT_USAGE
        return EXIT_FINDINGS if any(r.failed for r in self.reports) else EXIT_CLEAN


def lint(
    path: StrPath,
    *,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] = (),
    config: Config | StrPath | None = None,
    fail_on: Severity | str | None = None,
    expected_team_id: str | None = None,
    bundle_identifier: str | None = None,
    trust_anchors: Iterable[bytes | StrPath] = (),
    max_file_size: int | None = None,
    jobs: int | None = None,
    baseline: StrPath | None = None,
    options: Options | None = None,
    registry: Registry | None = None,
) -> Report:
    """Lint one app bundle, Mach-O file or zip; see :func:`lint_all` for the settings.

    Raises ``OSError`` when ``path`` cannot be read at all, and ``UsageError`` for a bad
    setting (an unknown rule code, a malformed Team ID...). Problems *in* the input are
    findings, never exceptions."""
    registry = registry or _registry()
    selection, opts = settings(registry, config=config, select=select, ignore=ignore,
                               fail_on=fail_on, expected_team_id=expected_team_id,
                               bundle_identifier=bundle_identifier, trust_anchors=trust_anchors,
                               max_file_size=max_file_size, jobs=jobs, options=options)
    recorded = _baseline(baseline, registry)
    with _scope(progress_bars=False):
        report = _lint_one(str(path), registry, selection, opts)
    if recorded is not None:
        from bundlelint.baseline import apply_baseline

        [report] = apply_baseline([report], recorded)
    return report


def lint_all(
    paths: Iterable[StrPath],
    *,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] = (),
    config: Config | StrPath | None = None,
    fail_on: Severity | str | None = None,
    expected_team_id: str | None = None,
    bundle_identifier: str | None = None,
    trust_anchors: Iterable[bytes | StrPath] = (),
    max_file_size: int | None = None,
    jobs: int | None = None,
    baseline: StrPath | None = None,
    options: Options | None = None,
    registry: Registry | None = None,
) -> LintResult:
    """Lint several inputs with the same settings, as ``bundlelint check PATH...`` does.

    - ``select`` / ``ignore``: rule codes or prefixes (``"BL2"``, ``"ALL"``); ``select``
      replaces the configured list, ``ignore`` adds to it.
    - ``config``: a ``bundlelint.toml`` / ``pyproject.toml`` path or a ``Config``; ``None``
      reads no file (the library never searches the current directory on its own).
    - ``fail_on``: the lowest severity that makes a report ``failed`` (default ``"error"``).
    - ``expected_team_id``, ``bundle_identifier``: BL240 and BL410's expectations.
    - ``trust_anchors``: extra root certificates (DER bytes, or PEM/DER file paths) for test
      fixtures signed by your own CA; they never make anything count as Apple-issued.
    - ``max_file_size``, ``jobs``: as ``--max-file-size`` and ``--jobs``.
    - ``baseline``: a file written by ``--write-baseline``; recorded findings are dropped from
      the reports and counted in ``Report.baselined``.
    - ``options``: every judging setting at once (what the command line builds); the keyword
      settings above override its fields.
    - ``registry``: the rules (default: the built-in rules and installed plugins).

    An input that cannot be read becomes a ``LintResult.problems`` entry (exit status 2)."""
    registry = registry or _registry()
    selection, opts = settings(registry, config=config, select=select, ignore=ignore,
                               fail_on=fail_on, expected_team_id=expected_team_id,
                               bundle_identifier=bundle_identifier, trust_anchors=trust_anchors,
                               max_file_size=max_file_size, jobs=jobs, options=options)
    return run([str(p) for p in paths], registry, selection, opts,
               baseline=_baseline(baseline, registry))


def settings(
    registry: Registry,
    *,
    config: Config | StrPath | None = None,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] = (),
    fail_on: Severity | str | None = None,
    expected_team_id: str | None = None,
    bundle_identifier: str | None = None,
    trust_anchors: Iterable[bytes | StrPath] = (),
    max_file_size: int | None = None,
    jobs: int | None = None,
    options: Options | None = None,
) -> tuple[Selection, Options]:
    """Which rules run and how they judge: the configuration with explicit settings on top
    (the command line's precedence). Raises ``UsageError`` for anything malformed."""
    from bundlelint.config import Config

    if config is None:
        cfg = Config()
    elif isinstance(config, Config):
        cfg = config
    else:
        from bundlelint.config import load_config

        cfg = load_config(Path(config), registry)
    for value, problem in ((expected_team_id, team_id_problem),
                           (bundle_identifier, bundle_identifier_problem)):
        if value is not None and (reason := problem(value)) is not None:
            raise UsageError(reason)
    if select is not None and not select:
        raise UsageError("select names no rule code (use \"ALL\" for every rule)")
    threshold = fail_on if fail_on is not None else cfg.fail_on or Severity.ERROR
    try:
        threshold = Severity(threshold)
    except ValueError:
        raise UsageError(f"fail_on must be error, warning or info, not {fail_on!r}") from None
    selection = Selection(
        select=tuple(select) if select is not None else cfg.select or ("ALL",),
        ignore=(*cfg.ignore, *ignore),
        severity_overrides=dict(cfg.severity),
        per_path_ignores=cfg.per_path_ignores,
        fail_on=threshold,
    )
    selection.validate(registry)
    selection = selection.resolved(registry)  # rule slugs as rule IDs
    base = options or Options()
    anchors = _anchors(trust_anchors)
    opts = replace(
        base,
        extra_trust_anchors=(*base.extra_trust_anchors, *anchors),
        max_file_size=max_file_size if max_file_size is not None else base.max_file_size,
        jobs=jobs if jobs is not None else base.jobs,
        expected_team_id=expected_team_id or cfg.expected_team_id or base.expected_team_id,
        expected_bundle_identifier=(bundle_identifier or cfg.bundle_identifier
                                    or base.expected_bundle_identifier),
        expected_entitlements=cfg.expected_entitlements or base.expected_entitlements,
        **cfg.archive_limits(),
    )
    return selection, opts


def run(paths: Sequence[str], registry: Registry, selection: Selection, options: Options, *,
        baseline: Counter[str] | None = None, progress_bars: bool = False,
        with_tree: bool = False) -> LintResult:
    """The pipeline over ``paths`` (as given: fix commands name files through them).
    ``with_tree``: each report also carries its input's signing tree (``Report.tree``), for
    a reporter that draws it."""
    reports: list[Report] = []
    given: list[str] = []
    problems: list[InputProblem] = []
    with _scope(progress_bars):
        for raw in paths:
            try:
                reports.append(_lint_one(raw, registry, selection, options, with_tree))
            except OSError as exc:
                problems.append(InputProblem(path=Path(raw).name or raw,
                                             reason=str(exc.strerror or exc), given=raw))
                continue
            given.append(raw)
    reports = keep_apart(reports, given)
    if baseline is not None:
        from bundlelint.baseline import apply_baseline

        reports = apply_baseline(reports, baseline)
    return LintResult(tuple(reports), tuple(problems))


@contextmanager
def _scope(progress_bars: bool) -> Iterator[None]:
    """One lint's process-wide resources: progress bars as asked (switched back after), and
    the hashing workers, shut down on the way out (prefetched work nobody asked for is
    cancelled, not awaited)."""
    from bundlelint import progress

    before = progress.set_enabled(progress_bars)
    try:
        yield
    finally:
        try:
            if "bundlelint.analysis.hashing" in sys.modules:  # a pool exists only if imported
                from bundlelint.analysis import hashing

                hashing.shutdown()
        finally:
            progress.set_enabled(before)


def _lint_one(raw: str, registry: Registry, selection: Selection, options: Options,
              with_tree: bool = False) -> Report:
    """Open and lint one input; raises ``OSError`` if it cannot be read at all."""
    from bundlelint.analysis import hashing
    from bundlelint.bundle import open_input
    from bundlelint.engine import run_rules

    hashes = any(selection.enabled(r) for r in registry if hashing.needs_hashes(r.check))
    # With a seal to verify, the workers start hashing while the walk goes on.
    early = (hashing.EarlyHasher.for_input(raw, options.jobs, options.max_file_size)
             if hashes else None)
    bundle = open_input(Path(raw), options, observer=early.see if early else None)
    if early is not None:
        early.adopt(bundle)
    if hashes:
        hashing.prefetch(bundle)  # the workers hash while the other rules run
    report = run_rules(bundle, registry, selection, options,
                       order=lambda r: hashing.hash_stage(r.check))
    if not with_tree:
        return report
    from bundlelint.analysis.inspection import signing_tree_record

    # After the rules: the signatures and seals it shows are already parsed and cached.
    return replace(report, tree=signing_tree_record(bundle, options))


def keep_apart(reports: list[Report], given: list[str]) -> list[Report]:
    """Reports whose inputs share a name (``Demo.app`` and a ``demo.zip`` holding it, or two
    build directories' ``Demo.app``) renamed apart, finding paths included, so that no output
    merges them: an archive's report becomes ``demo.zip/Demo.app`` (the app inside it); if
    names still collide, each is named by the path as given."""
    named = list(reports)
    for step in ("archive", "path"):
        counts = Counter(r.input_name for r in named)
        for i, (report, raw) in enumerate(zip(named, given, strict=True)):
            if counts[report.input_name] < 2:
                continue
            path = Path(raw)
            if step == "archive" and path.name != report.input_name:
                named[i] = _renamed(report, f"{path.name}/{report.input_name}")
            elif step == "path":
                named[i] = _renamed(report, str(path))
    return named


def _renamed(report: Report, new: str) -> Report:
    old = report.input_name
    findings = tuple(
        replace(f, location=replace(f.location, path=new + f.location.path[len(old):]))
        if f.location.path == old or f.location.path.startswith(old + "/") else f
        for f in report.findings)
    tree = _renamed_tree(report.tree, old, new) if report.tree is not None else None
    return replace(report, input_name=new, findings=findings, tree=tree)


def _renamed_tree(node: Mapping[str, Any], old: str, new: str) -> dict[str, Any]:
    """A signing tree whose paths start with ``new`` instead of ``old`` (see ``_renamed``)."""
    path = node["path"]
    if path == old or path.startswith(old + "/"):
        path = new + path[len(old):]
    return {**node, "path": path,
            "children": [_renamed_tree(child, old, new) for child in node["children"]]}


def _anchors(items: Iterable[bytes | StrPath]) -> tuple[bytes, ...]:
    from bundlelint.trust import load_anchor

    return tuple(item if isinstance(item, bytes) else load_anchor(Path(item)) for item in items)


def _baseline(path: StrPath | None, registry: Registry) -> Counter[str] | None:
    if path is None:
        return None
    from bundlelint.baseline import load_baseline

    return load_baseline(Path(path), registry)


def _registry() -> Registry:
    from bundlelint.rules import load_registry

    return load_registry()


__all__ = ["LintResult", "keep_apart", "lint", "lint_all", "run", "settings"]
