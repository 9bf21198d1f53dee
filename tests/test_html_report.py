"""``--format html`` (issue 16): one self-contained page with the file tree, the findings grouped
by file, severity filters and copy buttons; every untrusted string escaped.

The structural tests read the page back with the standard library's HTML parser. The browser
tests render it in headless Chromium (Debian ``chromium``; ``.ci/run`` installs it, and they
skip, saying so, where it is absent): a screenshot must show the tree and the findings in their
severity colours, a ``#hide=error`` fragment must take the errors off the screen, and a report
of hostile names must run nothing but the page's own script.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import html
import io
import json
import os
import plistlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from appbuilder import make_app
from htmlcheck import check_markup_is_ours
from pngpixels import pixels

from bundlelint.cli import main
from bundlelint.display import printable
from fixtures.macho_builder import MachOSpec, build_macho

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "fixtures" / "demo" / "Demo.app"
#: The page's colours for errors, warnings and the tree's background (reporters/html.py).
ERROR_RED, WARNING_ORANGE, TREE_GREY = (0xC6, 0x28, 0x28), (0xB2, 0x6A, 0x00), (0xF6, 0xF8, 0xFA)
#: A name that is markup, an attribute break-out, a script end, an entity and controls.
HOSTILE = ('<img src=x onerror="document.title=\'PWNED\'">'
           "</script><script>document.title='PWNED'</script>&amp;\"'\x1b[2J\u202e")


def _cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def _report(path: Path, fmt: str) -> str:
    code, out, err = _cli("--format", fmt, "--no-color", str(path))
    assert code == 1, err
    return out


@pytest.fixture
def hostile_app(tmp_path: Path) -> Path:
    """An app whose helper's file name and Info.plist values are hostile: the unsigned helper
    gives an error naming it, the bad identifier a finding quoting the value."""
    info = {"CFBundleExecutable": "app", "CFBundleIdentifier": HOSTILE, "CFBundleName": HOSTILE,
            "CFBundlePackageType": "APPL"}
    app = make_app(tmp_path, name="Hostile.app",  # binary: XML cannot hold ESC
                   info=plistlib.dumps(info, fmt=plistlib.FMT_BINARY))
    (app / "Contents" / "MacOS" / HOSTILE.replace("/", "_")).write_bytes(
        build_macho(MachOSpec(arch="x86_64")))
    return app


def test_every_finding_is_on_the_page_with_its_fix() -> None:
    page = _report(DEMO, "html")
    document = json.loads(_report(DEMO, "json"))
    parsed = check_markup_is_ours(page)
    text = "".join(parsed.text)
    assert document["findings"], "the demo has findings"
    for finding in document["findings"]:
        assert finding["rule_id"] in text
        assert printable(finding["message"]) in text
        if finding["fix"] and finding["fix"]["command"]:
            assert printable(finding["fix"]["command"]) in text
    # One article per file with findings, and one tree link to each.
    files = {f["path"] for f in document["findings"]}
    articles = re.findall(r'<article class="file" id="([^"]+)"><h3>([^<]*)</h3>', page)
    assert {html.unescape(name) for _, name in articles} == files
    for anchor, _ in articles:
        assert f'href="#{anchor}"' in page
    assert page.count('<button type="button" class="copy">') == sum(
        1 for f in document["findings"] if f["fix"] and f["fix"]["command"])


def test_page_loads_nothing_and_allows_only_its_own_script_and_style() -> None:
    page = _report(DEMO, "html")
    parsed = check_markup_is_ours(page)
    assert not re.search(r'\s(src|srcset)=', page)  # no external asset of any kind
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert policy is not None
    directives = dict(d.strip().split(" ", 1) for d in html.unescape(policy[1]).split(";"))
    assert directives["default-src"] == "'none'"

    def digest(source: str) -> str:
        raw = hashlib.sha256(source.encode()).digest()
        return "'sha256-" + base64.b64encode(raw).decode() + "'"

    # The hashes are of exactly the script and style the page holds: an edit to either that
    # forgot the policy would leave the page unstyled or inert in a browser.
    assert directives["script-src"] == digest(parsed.scripts[0])
    assert directives["style-src"] == digest(parsed.styles[0])


def test_hostile_names_and_values_stay_text(hostile_app: Path) -> None:
    page = _report(hostile_app, "html")
    parsed = check_markup_is_ours(page)
    assert "\x1b" not in page and "\u202e" not in page
    text = "".join(parsed.text)
    # The file name is on the page as the characters it is made of, controls escaped.
    assert printable(HOSTILE.replace("/", "_")) in text
    assert "PWNED" not in "".join(parsed.scripts)


def test_a_clean_input_says_so(tmp_path: Path) -> None:
    code, out, err = _cli("--format", "html", "--select", "BL6", str(DEMO))
    assert code == 0, err
    assert '<p class="clean">No problems found.</p>' in out
    check_markup_is_ours(out)


def test_output_file_is_the_page_and_stdout_the_summary(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    code, out, err = _cli("--format", "html", "--output", str(target), str(DEMO))
    assert code == 1, err
    assert out.startswith("4 errors, 1 warning")
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    check_markup_is_ours(page)


# --- in a real browser -----------------------------------------------------------------------

def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    pytest.skip("headless Chromium is not installed (Debian package chromium; .ci/run "
                "installs it)")


def _browse(tmp_path: Path, page: Path, *extra: str,
            fragment: str = "") -> subprocess.CompletedProcess[str]:
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    command = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--hide-scrollbars",
               f"--user-data-dir={profile}", *extra, page.as_uri() + fragment]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True,
                          env={**os.environ, "HOME": str(tmp_path)})


def _screenshot(tmp_path: Path, page: Path, fragment: str = "") -> tuple[int, int, dict[
        tuple[int, int, int], int]]:
    shot = tmp_path / f"shot{len(fragment)}.png"
    _browse(tmp_path, page, "--window-size=1000,900", f"--screenshot={shot}",
            fragment=fragment)
    width, height, counts = pixels(shot.read_bytes())
    return width, height, counts


@pytest.fixture
def demo_page(tmp_path: Path) -> Path:
    page = tmp_path / "demo.html"
    page.write_text(_report(DEMO, "html"), encoding="utf-8")
    return page


def test_chromium_screenshot_shows_tree_and_findings(tmp_path: Path, demo_page: Path) -> None:
    width, height, counts = _screenshot(tmp_path, demo_page)
    assert (width, height) == (1000, 900)
    # The tree panel is a large grey area; the error badges and tree counts red; the warning
    # badge orange. An unstyled page (a policy that blocked the style) has none of them.
    assert counts[TREE_GREY] > 20_000
    assert counts[ERROR_RED] > 500
    assert counts[WARNING_ORANGE] > 200


def test_chromium_severity_filter_hides_errors(tmp_path: Path, demo_page: Path) -> None:
    _, _, counts = _screenshot(tmp_path, demo_page, "#hide=error")
    assert counts[ERROR_RED] == 0  # badges and counts gone: the script ran the filter
    assert counts[WARNING_ORANGE] > 200
    dom = _browse(tmp_path, demo_page, "--dump-dom", fragment="#hide=error").stdout
    # The file holding only errors is hidden; the Info.plist with its warning is not.
    assert re.search(r'<article class="file" id="[^"]+" hidden="">\s*<h3>Demo\.app/Contents/'
                     r"MacOS/demo</h3>", dom)
    assert re.search(r'<article class="file" id="[^"]+"><h3>Demo\.app/Contents/Info\.plist',
                     dom)
    assert re.search(r'<body class="[^"]*\bscripted\b', dom)


def test_chromium_runs_no_script_from_a_hostile_name(tmp_path: Path, hostile_app: Path) -> None:
    page = tmp_path / "hostile.html"
    page.write_text(_report(hostile_app, "html"), encoding="utf-8")
    dom = _browse(tmp_path, page, "--dump-dom").stdout
    title = re.search(r"<title>(.*?)</title>", dom, re.S)
    assert title is not None and "PWNED" not in title[1]
    assert re.search(r'<body class="[^"]*\bscripted\b', dom)  # the page's own script ran
    assert "<img" not in dom
    check_markup_is_ours(dom)


# --- the signing tree above the findings -----------------------------------------------------

def test_signing_tree_is_drawn_with_inspects_words(tmp_path: Path) -> None:
    from test_layout import _versioned_framework

    app = make_app(tmp_path)
    _versioned_framework(app, "Kit", "KitCore")  # unsigned: BL201 on its code
    page = _report(app, "html")
    parsed = check_markup_is_ours(page)
    tree = re.search(r'<section class="signing">(.*?)</section>', page, re.S)
    assert tree is not None
    _, inspect_text, _ = _cli("inspect", str(app))
    tree_lines = inspect_text.split("\n\n")[0].splitlines()
    # The same facts as inspect's tree, node for node (inspect draws guides before them).
    for line in tree_lines:
        path, facts = line.lstrip("│├└─ ").split("  ", 1)
        assert f'<span class="node-path">{html.escape(path)}</span>' in tree[1]
        assert html.escape(facts) in tree[1]
    # The framework node counts the findings about its own files.
    kit = re.search(r'<span class="node-path">Contents/Frameworks/Kit\.framework</span>'
                    r'(<span class="count[^>]*>(\d+)</span>)+', tree[1])
    assert kit is not None
    assert "Signing tree" in "".join(parsed.text)


def test_same_named_inputs_keep_their_trees_apart(tmp_path: Path) -> None:
    """Two inputs called Sample.app: the report renames the second (keep_apart), and its
    tree's paths follow, so the page's nodes and findings still meet."""
    first = make_app(tmp_path / "a", exe_mode=0o644)
    second = make_app(tmp_path / "b", exe_mode=0o644)
    code, page, err = _cli("--format", "html", str(first), str(second))
    assert code == 1, err
    names = re.findall(r'<section class="input" id="input-\d+">\s*<h2>([^<]*)</h2>', page)
    assert len(names) == 2 and names[0] != names[1]
    trees = re.findall(r'<ul class="signing-tree">\s*<li><span class="node-path">([^<]*)</span>',
                       page)
    assert trees == names
