"""Every command bundlelint prints stays inert shell whatever attacker-controlled values it holds
(issue 15, items 1 and 2).

The oracle is bash itself: the printed text runs under ``bash`` with the macOS tools replaced by
stubs that record their argv (tests/shellstubs.py) and a real ``touch`` on PATH. Passing means
no ``PWNED`` file appeared, no other command ran, and the stubs received each hostile value,
byte for byte, inside one argument.
"""

from __future__ import annotations

import json
import os
import plistlib
import re
import shlex
import subprocess
import zipfile
from pathlib import Path
from typing import Any, cast

import pytest
from appbuilder import developer_id_like, make_app
from hypothesis import given, settings
from hypothesis import strategies as st
from lintutil import REGISTRY, lint
from shellstubs import HOSTILE, Run, run_under_bash

import bundlelint
from bundlelint.analysis.notary import map_log
from bundlelint.cli import main
from bundlelint.parsers.notary import parse_notary_log
from bundlelint.rules.base import RuleContext
from bundlelint.shellquote import fill_template, placeholders, quote, quote_path
from fixtures.macho_builder import LIBSYSTEM, MH_DYLIB, DylibSpec, MachOSpec, build_macho

#: Hostile values that can be file names (no "/" and no NUL; the others all can).
HOSTILE_NAMES = tuple(v for v in HOSTILE if "/" not in v)
#: Zip member names are UTF-8 here, and zip readers take a backslash for a separator.
ZIP_NAMES = tuple(v for v in HOSTILE_NAMES if "\\" not in v and "\udcff" not in v)
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def _bash_prints(words: list[str]) -> list[str]:
    """What bash makes of each quoted word (one ``printf '%s\\0'`` per word)."""
    script = "".join(f"printf '%s\\0' {word}\n" for word in words)
    out = subprocess.run(["/bin/bash", "--noprofile", "--norc", "-c", script],
                         capture_output=True, env={"LC_ALL": "C"}, check=True).stdout
    return [f.decode("utf-8", "surrogateescape") for f in out.split(b"\0")[:-1]]


# --- the quoting function itself ---------------------------------------------------------

def test_quote_round_trips_hostile_values_in_bash() -> None:
    assert _bash_prints([quote(v) for v in HOSTILE]) == list(HOSTILE)


def test_quoted_text_carries_no_control_character() -> None:
    for value in HOSTILE:
        assert quote(value).isprintable(), quote(value)
    assert quote("a\nb") == "$'a\\nb'" and quote("\udcff") == "$'\\xff'"


@settings(max_examples=40, deadline=None)
@given(values=st.lists(
    st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), max_size=20)
    | st.binary(max_size=12).map(
        lambda b: b.replace(b"\0", b"").decode("utf-8", "surrogateescape"))))
def test_quote_round_trips_arbitrary_text(values: list[str]) -> None:
    quoted = [quote(v) for v in values]
    assert all(q.isprintable() for q in quoted)
    assert _bash_prints(quoted) == values


def test_quote_path_keeps_a_leading_dash_from_reading_as_an_option() -> None:
    assert quote_path("-rf") == "./-rf"
    assert quote_path("/abs/-rf") == "/abs/-rf"
    assert quote(quote("$(x)")) == quote("$(x)")  # a quoted word is never quoted twice


def test_only_shellquote_quotes_for_the_shell() -> None:
    """One owner: no other module of the package reaches for shlex."""
    package = Path(bundlelint.__file__).parent
    users = sorted(str(p.relative_to(package)) for p in package.rglob("*.py")
                   if p.name != "shellquote.py" and re.search(r"\bshlex\b", p.read_text()))
    assert users == []


# --- every rule's fix-command template ---------------------------------------------------

TEMPLATED = sorted((r.meta for r in REGISTRY if r.meta.fix_command), key=lambda m: m.id)


def _expected_words(template: str) -> tuple[list[str], list[str]]:
    """The argv words and NAME=value assignments a template's placeholders end up in,
    with ``VALUE`` standing for the placeholder value."""
    names = placeholders(template)
    rendered = fill_template(template, **{n: f"MARK{i}X" for i, n in enumerate(names)})
    lexer = shlex.shlex(rendered, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    words, assignments = [], []
    for token in lexer:
        if "MARK" not in token:
            continue
        generic = re.sub(r"MARK\d+X", "{VALUE}", token)
        (assignments if _ASSIGNMENT.match(token) else words).append(generic)
    return words, assignments


@pytest.mark.parametrize("meta", TEMPLATED, ids=lambda m: m.id)
def test_every_fix_command_template_is_inert(meta: Any, tmp_path: Path) -> None:
    assert meta.fix_command is not None
    ctx = RuleContext(bundle=cast(Any, None), meta=meta)
    names = placeholders(meta.fix_command)
    commands = [ctx.finding(path="x", message="m", **dict.fromkeys(names, value)).fix.command
                for value in HOSTILE]
    assert all(c is not None and c.isprintable() for c in commands)
    words, assignments = _expected_words(meta.fix_command)
    env_names = tuple(sorted({a.split("=", 1)[0] for a in assignments}))
    run = run_under_bash("\n".join(cast(list[str], commands)) + "\n", tmp_path, env_names)
    run.assert_inert()
    for value in HOSTILE:
        for word in words:
            assert word.replace("{VALUE}", value) in run.arguments, (word, value)
        for assignment in assignments:
            assert any(assignment.replace("{VALUE}", value) in env for env in run.environment)


def test_a_hostile_template_value_is_never_half_filled() -> None:
    assert fill_template("rm {target} {other}", target="$(x)") == "rm {target} {other}"


# --- hand-built commands, through real rules on hostile bundles ----------------------------

def _hostile_app(root: Path, value: str) -> Path:
    """An app named ``value``: unsigned executables named ``value`` (BL201), one linking
    ``/opt/homebrew/lib/lib<value>.dylib`` (BL104), an Info.plist naming another executable
    than the one present (BL403), an unsigned dylib named ``value`` (BL201)."""
    homebrew = DylibSpec(f"/opt/homebrew/lib/lib{value}.dylib")
    exe = build_macho(MachOSpec(dylibs=(LIBSYSTEM, homebrew)))
    return make_app(root, name=f"{value}.app", executable=exe, exe_name=value, files={
        f"Contents/Frameworks/lib{value}.dylib": build_macho(MachOSpec(
            filetype=MH_DYLIB, id_dylib=f"@rpath/lib{value}.dylib")),
    })


def _assert_paths_exact(run: Run, root: Path, value: str) -> None:
    """Every argument naming a file under ``root`` names it exactly (it exists), and the
    hostile value reached the stubs inside such an argument."""
    paths = [a for a in run.arguments if a.startswith(str(root))]
    assert paths and all(os.path.lexists(p) for p in paths), paths
    assert any(value in p for p in paths)


@pytest.mark.parametrize("value", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_fix_commands_of_a_hostile_bundle_are_inert(value: str, tmp_path: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    app = _hostile_app(root, value)
    report = lint(app)
    fired = {f.rule_id for f in report.findings if f.fix and f.fix.command}
    assert {"BL104", "BL201", "BL403"} <= fired
    for finding in report.findings:
        if not (finding.fix and finding.fix.command):
            continue
        command = finding.fix.command
        assert command.isprintable(), (finding.rule_id, command)
        run = run_under_bash(command + "\n", tmp_path)
        run.assert_inert()
        if finding.rule_id == "BL104":
            # the parser reads install names as UTF-8 (a raw 0xff becomes U+FFFD): the
            # command must carry exactly the reference the rule saw
            reference = finding.evidence["reference"]
            assert reference.startswith("/opt/homebrew/lib/lib")
            loader = next(a for a in run.arguments if a.startswith(str(root)))
            assert run.calls == [["install_name_tool", "-change", reference,
                                  f"@rpath/{reference.rsplit('/', 1)[1]}", loader]]
        elif finding.rule_id == "BL403":
            assert run.calls[0][:5] == ["plutil", "-replace", "CFBundleExecutable", "-string",
                                        value]
        if finding.rule_id in ("BL104", "BL201", "BL403"):
            _assert_paths_exact(run, root, value)


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


@pytest.mark.parametrize("value", ZIP_NAMES, ids=range(len(ZIP_NAMES)))
def test_ditto_command_for_a_hostile_zip_is_inert(value: str, tmp_path: Path) -> None:
    """A zip whose .app is named by the attacker and that carries __MACOSX/ (an archive rule
    fires and prints the ditto command naming the app and the zip)."""
    app = f"{value}.app"
    zpath = _zip(tmp_path / f"{value}.zip", {
        f"{app}/Contents/Info.plist": plistlib.dumps({"CFBundleExecutable": "app"}),
        f"{app}/Contents/MacOS/app": developer_id_like(),
        f"__MACOSX/{app}/._Info.plist": b"x"})
    commands = [f.fix.command for f in lint(zpath).findings
                if f.fix and f.fix.command and f.fix.command.startswith("ditto")]
    assert commands
    for command in commands:
        run = run_under_bash(command + "\n", tmp_path)
        run.assert_inert()
        assert run.calls[0][-2:] in ([app, f"{value}.zip"], [f"./{app}", f"./{value}.zip"])


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_notary_log_fix_commands_are_inert(value: str, tmp_path: Path) -> None:
    """The path in a notary log is attacker-chosen text too (it names files in the upload)."""
    path = f"S.zip/{value}.app/Contents/MacOS/{value}"
    doc = {"logFormatVersion": 1, "jobId": "1", "status": "Invalid", "statusCode": 4000,
           "archiveFilename": "S.zip", "ticketContents": None, "issues": [
               {"severity": "error", "code": None, "path": path, "architecture": "arm64",
                "message": "The signature of the binary is invalid.", "docUrl": None},
               {"severity": "error", "code": None, "path": path, "architecture": "arm64",
                "message": "The binary uses an SDK older than the 10.9 SDK.", "docUrl": None}]}
    log = parse_notary_log(json.dumps(doc).encode(), "log.json")
    mapping = map_log(log, [r.meta for r in REGISTRY])
    commands = [m.finding.fix.command for m in mapping.issues
                if m.finding.fix and m.finding.fix.command]
    assert commands
    for command in commands:
        run = run_under_bash(command + "\n", tmp_path)
        run.assert_inert()
        assert run.calls[0][-1] in (f"{value}.app/Contents/MacOS/{value}",
                                    f"./{value}.app/Contents/MacOS/{value}")


# --- the whole plan -----------------------------------------------------------------------

def _entitled(entitlements: dict[str, Any], identifier: str = "com.example.app") -> bytes:
    return developer_id_like(identifier=identifier, entitlements=entitlements)


def _plan_app(root: Path, value: str) -> tuple[Path, dict[str, Any]]:
    """An app, a nested helper app and a dylib all named ``value``; the main executable and
    the helper carry entitlement keys and values holding ``value`` (newlines, EOF lines)."""
    text = _xml_text(value)
    ents = {f"com.example.{text}": True, "com.example.list": [text, f"\nEOF\n{text}"],
            "com.apple.security.cs.allow-jit": True}
    helper = f"Contents/Helpers/{value}.app"
    app = make_app(root, name=f"{value}.app", executable=_entitled(ents), files={
        f"{helper}/Contents/MacOS/h": _entitled({f"{text}\nEOF": text}, "com.example.h"),
        f"{helper}/Contents/Info.plist": plistlib.dumps(
            {"CFBundleExecutable": "h", "CFBundleIdentifier": "com.example.h",
             "CFBundlePackageType": "APPL"}),
        f"Contents/Frameworks/{value}.dylib": developer_id_like(
            MachOSpec(filetype=MH_DYLIB, id_dylib=f"@rpath/{value}.dylib"), identifier="d"),
    })
    return app, ents


def _xml_text(value: str) -> str:
    """``value`` where a plist can hold it (XML refuses most control characters), else
    another hostile string."""
    try:
        plistlib.dumps({value: value})
    except ValueError:
        return "x\nEOF\n$(touch PWNED)"
    return value


def _run_plan(argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    assert main(["plan", *argv]) == 0
    text = capsys.readouterr().out
    assert all(line.isprintable() for line in text.splitlines()), "a raw control character"
    assert all(line.startswith("# ") for line in text.splitlines() if "#" in line[:1])
    run = run_under_bash(text, tmp_path)
    run.assert_inert()
    return run


@pytest.mark.parametrize("value", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_plan_for_a_hostile_bundle_is_inert(value: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "in"
    root.mkdir()
    app, ents = _plan_app(root, value)
    identity = f"Developer ID Application: {value}"
    run = _run_plan(["--identity", identity, str(app)], tmp_path, capsys)
    signed = [c[-1] for c in run.calls if c[0] == "codesign" and "--sign" in c]
    assert str(app) in signed and f"{app}/Contents/Helpers/{value}.app" in signed
    assert f"{app}/Contents/Frameworks/{value}.dylib" in signed
    assert all(os.path.lexists(p) for p in signed)
    assert all(c[c.index("--sign") + 1] == identity for c in run.calls if "--sign" in c)
    # each target is signed with the entitlements file printf wrote for it, holding exactly
    # its values (the app and its helper share a name: their files must not collide)
    ents_of = {c[-1]: plistlib.loads((run.workdir / c[c.index("--entitlements") + 1])
                                     .read_bytes())
               for c in run.calls if "--entitlements" in c}
    assert ents_of[str(app)] == ents
    text = _xml_text(value)
    assert ents_of[f"{app}/Contents/Helpers/{value}.app"] == {f"{text}\nEOF": text}
    ditto = next(c for c in run.calls if c[0] == "ditto")
    assert ditto[-2:] == [str(app), str(root / f"{value}.zip")]


@pytest.mark.parametrize("value", ZIP_NAMES, ids=range(len(ZIP_NAMES)))
def test_plan_for_a_hostile_zip_prints_no_shell(value: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """``plan`` refuses an archive (it needs the unzipped bundle), so a zip's .app name never
    reaches a plan: nothing on stdout to paste, and the error line is printable."""
    app = f"{value}.app"
    zpath = _zip(tmp_path / f"{value}.zip", {
        f"{app}/Contents/Info.plist": plistlib.dumps({"CFBundleExecutable": "app"}),
        f"{app}/Contents/MacOS/app": _entitled({f"k\nEOF\n{_xml_text(value)}": True})})
    assert main(["plan", str(zpath)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.rstrip("\n").isprintable()


def test_plan_json_keeps_names_as_data(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    value = "x\nEOF\n$(touch PWNED)"
    root = tmp_path / "in"
    root.mkdir()
    app, ents = _plan_app(root, value)
    assert main(["plan", "--format", "json", str(app)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["input"] == str(app)
    assert doc["entitlements"][-1]["values"] == ents
    assert f"Contents/Helpers/{value}.app" in [s["path"] for s in doc["sign"]]



def test_plan_comments_hold_hostile_toolkit_versions(tmp_path: Path) -> None:
    """The ``source`` note names Go toolkits and their versions, read from the binary's build
    info (attacker text): render_text keeps it inside its ``#`` line."""
    from dataclasses import replace

    from bundlelint.bundle import open_input
    from bundlelint.commands.plan import build_plan, render_text

    root = tmp_path / "in"
    root.mkdir()
    plan = build_plan(open_input(make_app(root)))
    hostile = "Go app using Fyne v2.5.0\ntouch PWNED\n\x1b[2J"
    plan = replace(plan, entitlements=tuple(replace(e, source=hostile)
                                            for e in plan.entitlements),
                   notes=(*plan.notes, hostile))
    text = render_text(plan)
    assert all(line.isprintable() for line in text.splitlines())
    assert "# Note: Go app using Fyne v2.5.0\\x0atouch PWNED\\x0a\\x1b[2J" in text
    run_under_bash(text, tmp_path).assert_inert()
