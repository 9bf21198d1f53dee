"""Property (issue 15, "What it must show"): for random hostile strings in file names, plist
values and signature fields, no output format emits a raw control character or a line that
starts with ``::`` outside ``--format github``'s own commands.

Each example writes a bundle on disk: a helper whose *file name* is hostile bytes (not
necessarily UTF-8), an Info.plist (binary, so it can hold any control character) whose values
are hostile, and an executable signed with a hostile Identifier and TeamIdentifier; and a
notary log whose paths and messages are hostile. Then every output runs through the CLI:
check in text/json/sarif/github/html (whose markup must stay the reporter's own),
inspect text/json, notary-log text/json with ``--bundle``, sbom CycloneDX/SPDX (each
schema-valid).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import plistlib
import tempfile
from pathlib import Path

from appbuilder import make_app
from htmlcheck import check_markup_is_ours
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sbomcheck import assert_valid_cyclonedx, assert_valid_spdx

from bundlelint.cli import main
from fixtures.macho_builder import MachOSpec, build_macho
from fixtures.signer import CS_RUNTIME, sign_macho
from fuzz.targets import check_inert

#: What attacks look like: line breaks before a workflow command, terminal escapes (CSI,
#: OSC title, OSC 8 link, C1 CSI), bidi and line separators, rich markup, percent signs.
PIECES = ["\n", "\r", "\r\n", "\x1b", "\x1b[2J", "\x1b]0;title\x07", "\x1b]8;;x\x1b\\",
          "\x9b", "\x85", "\x7f", "\u202e", "\u2066", "\u2028", "\ufeff", "::error file=a::x",
          "::", "[bold red]", "[link=x]", "%0A", "\\", "\t", "é", "名"]
#: Text with every code point but surrogates and NUL (UTF-8 and C strings cannot hold those).
TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\0"),
               max_size=6)
HOSTILE = st.lists(st.one_of(st.sampled_from(PIECES), TEXT), min_size=1,
                   max_size=6).map("".join)


def _file_name(raw: bytes) -> bytes:
    name = raw.replace(b"/", b"_").replace(b"\0", b"_")[:200]
    return name if name not in (b"", b".", b"..") else b"_" + name


FILE_NAMES = st.one_of(HOSTILE.map(lambda s: s.encode()), st.binary(min_size=1, max_size=24),
                       ).map(_file_name)


def _run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def _build(root: Path, file_name: bytes, value: str, identifier: str, team: str) -> Path:
    exe = sign_macho(build_macho(MachOSpec()), identifier=identifier, flags=CS_RUNTIME,
                     team_id=team)
    info = {"CFBundleExecutable": "app", "CFBundleIdentifier": value, "CFBundleName": value,
            "CFBundlePackageType": "APPL", "CFBundleShortVersionString": value,
            "LSMinimumSystemVersion": value, value: value}
    app = make_app(root, name="Hostile.app", executable=exe,
                   info=plistlib.dumps(info, fmt=plistlib.FMT_BINARY))
    with open(os.path.join(os.fsencode(app / "Contents" / "MacOS"), file_name), "wb") as fh:
        fh.write(build_macho(MachOSpec(arch="x86_64")))
    return app


def _notary_log(root: Path, name: str, text: str) -> Path:
    log = {"logFormatVersion": 1, "jobId": text, "status": "Invalid", "statusSummary": text,
           "statusCode": 4000, "archiveFilename": f"{name}.zip", "sha256": text,
           "issues": [{"severity": "error", "code": None,
                       "path": f"{name}.zip/Hostile.app/Contents/MacOS/{name}",
                       "message": text, "docUrl": text, "architecture": "x86_64"},
                      {"severity": "error", "code": None,
                       "path": "x.zip/Hostile.app/Contents/MacOS/app",
                       "message": "The binary is not signed.", "docUrl": None,
                       "architecture": "x86_64"}],
           "ticketContents": [{"path": text, "digestAlgorithm": "SHA-256", "cdhash": text,
                               "arch": "arm64"}]}
    path = root / "log.json"
    path.write_text(json.dumps(log))
    return path


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(file_name=FILE_NAMES, value=HOSTILE, identifier=HOSTILE, team=HOSTILE, text=HOSTILE)
def test_no_output_format_emits_controls_or_workflow_commands(
        file_name: bytes, value: str, identifier: str, team: str, text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        app = _build(root, file_name, value, identifier, team)
        for fmt in ("text", "json", "sarif", "github", "html"):
            code, out, err = _run("--format", fmt, "--no-color", str(app))
            assert code == 1, err  # the unsigned helper is an error
            check_inert(out, github=fmt == "github")
            check_inert(err)
            if fmt in ("json", "sarif"):
                json.loads(out)
            if fmt == "html":
                check_markup_is_ours(out)
        for fmt in ("text", "json"):
            code, out, err = _run("inspect", "--format", fmt, str(app))
            assert code == 0, err
            check_inert(out)
            log = _notary_log(root, os.fsdecode(file_name), text)
            code, out, err = _run("notary-log", "--no-color", "--format", fmt, str(log),
                                  "--bundle", str(app))
            assert code == 1, err
            check_inert(out)
            check_inert(err)
        for fmt, valid in (("cyclonedx-json", assert_valid_cyclonedx),
                           ("spdx-json", assert_valid_spdx)):
            code, out, err = _run("sbom", "--format", fmt, str(app))
            assert code == 0, err
            check_inert(out)
            out.encode("utf-8", "strict")
            valid(out)
