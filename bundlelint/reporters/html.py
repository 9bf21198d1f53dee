"""One self-contained HTML page for a CI artifact: the signing tree (when the report carries it:
``check --format html`` asks the pipeline for it), the files with findings as a tree, the
findings grouped by file, severity filters, and each fix command with a copy button.

Why self-contained: a CI artifact is opened from a download or an artifact viewer, with no
network and often under a strict policy; the page therefore carries its own style and script
and loads nothing. Its Content-Security-Policy allows exactly that style and that script (by
their sha256), so even a string that escaped escaping could not run: defence in depth behind
``_text``, through which every untrusted string (paths, messages, fix commands, input names)
goes: control characters escaped once by ``display.printable``, then HTML-escaped, quotes
included, because several land in attributes.

Without script the page still shows everything; the filters and copy buttons need it. A
fragment ``#hide=warning,info`` opens the page with those severities hidden (a link can say
what it wants to show).
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any, TextIO

from bundlelint import __version__
from bundlelint.display import printable
from bundlelint.engine import Report
from bundlelint.findings import Finding, Severity
from bundlelint.reporters.rules_doc import rule_doc_url
from bundlelint.reporters.signing_tree import count_steps, node_facts, relative_path
from bundlelint.reporters.summary import summary_line
from bundlelint.rules import Registry

SEVERITIES = (Severity.ERROR, Severity.WARNING, Severity.INFO)

_STYLE = """
:root { color-scheme: light; --error: #c62828; --warning: #b26a00; --info: #1565c0;
        --line: #d0d7de; --muted: #57606a; --tree: #f6f8fa; }
body { font: 15px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0;
       color: #1f2328; background: #fff; }
header { padding: 16px 24px; border-bottom: 1px solid var(--line); }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 20px 0 8px; }
section.input > h2 { padding: 0 24px; }
h3 { font: 600 14px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; margin: 0;
     overflow-wrap: anywhere; }
.summary { margin: 0 0 8px; }
.filters label { margin-right: 16px; cursor: pointer; }
.layout { display: flex; align-items: flex-start; }
nav.tree { flex: 0 0 320px; background: var(--tree); border-right: 1px solid var(--line);
           padding: 8px 16px 16px; font: 13px/1.5 ui-monospace, SFMono-Regular, Menlo, monospace;
           overflow-wrap: anywhere; }
nav.tree ul { list-style: none; margin: 0; padding-left: 14px; }
nav.tree > ul { padding-left: 0; }
nav.tree a { color: inherit; }
main { flex: 1; padding: 0 24px 24px; min-width: 0; }
article.file { border: 1px solid var(--line); border-radius: 6px; margin: 12px 0;
               padding: 10px 14px; }
ol.findings { list-style: none; margin: 8px 0 0; padding: 0; }
li.finding { border-top: 1px solid var(--line); padding: 8px 0; }
li.finding:first-child { border-top: 0; }
.badge { display: inline-block; min-width: 58px; text-align: center; border-radius: 4px;
         color: #fff; font: 600 12px/20px sans-serif; margin-right: 6px; }
.sev-error .badge, .count-error { background: var(--error); }
.sev-warning .badge, .count-warning { background: var(--warning); }
.sev-info .badge, .count-info { background: var(--info); }
.count { display: inline-block; color: #fff; border-radius: 8px; padding: 0 6px;
         font: 600 11px/16px sans-serif; margin-left: 4px; }
.rule { font-weight: 600; }
.slug, .where { color: var(--muted); }
.message { margin: 4px 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.fix-text { margin: 4px 0; color: var(--muted); }
.command { display: flex; gap: 8px; align-items: flex-start; }
.command pre { flex: 1; margin: 0; background: #f6f8fa; border: 1px solid var(--line);
               border-radius: 4px; padding: 6px 8px; overflow-x: auto; }
button.copy { font: 12px sans-serif; padding: 4px 10px; cursor: pointer; }
.hide-error .sev-error, .hide-warning .sev-warning, .hide-info .sev-info { display: none; }
.clean { color: #1a7f37; font-weight: 600; }
section.signing { padding: 0 24px; }
ul.signing-tree, ul.signing-tree ul { list-style: none; margin: 0; padding-left: 20px;
  border-left: 1px dashed var(--line); }
ul.signing-tree { padding-left: 0; border-left: 0; }
ul.signing-tree li { margin: 3px 0; }
.node-path { font: 600 13px/1.5 ui-monospace, SFMono-Regular, Menlo, monospace;
             overflow-wrap: anywhere; }
.node-facts { color: var(--muted); font-size: 13px; }
footer { color: var(--muted); padding: 8px 24px 24px; font-size: 13px; }
"""

_SCRIPT = """
(function () {
  "use strict";
  var body = document.body;
  function refresh() {
    document.querySelectorAll("article.file").forEach(function (file) {
      var shown = Array.prototype.some.call(file.querySelectorAll("li.finding"), function (li) {
        return getComputedStyle(li).display !== "none";
      });
      file.hidden = !shown;
    });
  }
  function apply(sev, show) {
    body.classList.toggle("hide-" + sev, !show);
    refresh();
  }
  var wanted = /^#hide=([a-z,]*)$/.exec(location.hash);
  var hidden = wanted ? wanted[1].split(",") : [];
  document.querySelectorAll("input[data-severity]").forEach(function (box) {
    var sev = box.getAttribute("data-severity");
    if (hidden.indexOf(sev) >= 0) { box.checked = false; }
    apply(sev, box.checked);
    box.addEventListener("change", function () { apply(sev, box.checked); });
  });
  document.querySelectorAll("button.copy").forEach(function (button) {
    button.addEventListener("click", function () {
      var text = button.parentNode.querySelector("code").textContent;
      function done() { button.textContent = "Copied"; }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { select(); });
      } else { select(); }
      function select() {
        var range = document.createRange();
        range.selectNodeContents(button.parentNode.querySelector("code"));
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        if (document.execCommand && document.execCommand("copy")) { done(); }
      }
    });
  });
  body.classList.add("scripted");
})();
"""


def _csp_hash(source: str) -> str:
    digest = hashlib.sha256(source.encode()).digest()
    return "'sha256-" + base64.b64encode(digest).decode() + "'"


#: Only this page's own style and script run; nothing is loaded from anywhere.
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src {_csp_hash(_STYLE)}; script-src {_csp_hash(_SCRIPT)}; "
    "base-uri 'none'; form-action 'none'"
)


def _text(value: str) -> str:
    """An untrusted string as HTML text or attribute value: control characters escaped
    (``\\x1b``), then ``& < > " '`` as entities."""
    return html.escape(printable(value), quote=True)


@dataclass
class _Node:
    """A folder or file of the tree beside the findings, with its findings' counts."""

    children: dict[str, _Node] = field(default_factory=dict)
    anchor: str | None = None  # the id of the file's article, for a file with findings
    counts: dict[Severity, int] = field(default_factory=dict)


def _tree(files: Iterable[tuple[str, str, list[Finding]]]) -> _Node:
    root = _Node()
    for path, anchor, findings in files:
        node = root
        for part in [p for p in path.split("/") if p] or [path]:
            node = node.children.setdefault(part, _Node())
            for finding in findings:
                node.counts[finding.severity] = node.counts.get(finding.severity, 0) + 1
        node.anchor = anchor
    return root


def _counts(counts: dict[Severity, int]) -> str:
    return "".join(
        f'<span class="count count-{s.value} sev-{s.value}" title="{s.value}">{counts[s]}</span>'
        for s in SEVERITIES if counts.get(s))


def _tree_html(node: _Node) -> Iterator[str]:
    yield "<ul>"
    for name, child in node.children.items():
        label = _text(name)
        if child.anchor is not None:
            label = f'<a href="#{child.anchor}">{label}</a>'
        yield f"<li>{label}{_counts(child.counts)}"
        if child.children:
            yield from _tree_html(child)
        yield "</li>"
    yield "</ul>"


def _finding_html(finding: Finding, registry: Registry) -> Iterator[str]:
    rule = registry.get(finding.rule_id)
    sev = finding.severity.value
    yield f'<li class="finding sev-{sev}" data-severity="{sev}">'
    yield f'<span class="badge">{sev}</span>'
    rule_id = _text(finding.rule_id)
    if rule is not None:
        yield f'<a class="rule" href="{_text(rule_doc_url(rule.meta.id))}">{rule_id}</a> '
        yield f'<span class="slug">{_text(rule.meta.slug)}</span>'
    else:
        yield f'<span class="rule">{rule_id}</span>'
    where = []
    if finding.location.arch:
        where.append(f"[{finding.location.arch}]")
    if finding.location.offset is not None:
        where.append(f"@{finding.location.offset:#x}")
    if where:
        yield f' <span class="where">{_text(" ".join(where))}</span>'
    yield f'<p class="message">{_text(finding.message)}</p>'
    if finding.fix is not None:
        yield f'<p class="fix-text">{_text(finding.fix.text)}</p>'
        if finding.fix.command:
            yield ('<div class="command"><pre><code>' + _text(finding.fix.command)
                   + '</code></pre><button type="button" class="copy">Copy</button></div>')
    yield "</li>"


def _signing_tree_html(tree: Mapping[str, Any],
                       files: list[tuple[str, str, list[Finding]]]) -> Iterator[str]:
    """The signing tree (what codesign signs, in which order, in which state), each node with
    the counts of the findings about its own files (not those of the nodes inside it)."""
    total = count_steps(tree)
    paths = [node["path"] for node in _nodes(tree)]

    def owner(path: str) -> str | None:
        inside = [p for p in paths if path == p or path.startswith(p + "/")]
        return max(inside, key=len) if inside else None

    counts: dict[str, dict[Severity, int]] = {}
    for path, _, findings in files:
        if (node_path := owner(path)) is not None:
            for finding in findings:
                bucket = counts.setdefault(node_path, {})
                bucket[finding.severity] = bucket.get(finding.severity, 0) + 1

    def node_html(node: Mapping[str, Any], parent: str) -> Iterator[str]:
        yield (f'<li><span class="node-path">{_text(relative_path(node, parent))}</span>'
               f"{_counts(counts.get(node['path'], {}))} "
               f'<span class="node-facts">{_text(" · ".join(node_facts(node, total)))}</span>')
        if node["children"]:
            yield "<ul>"
            for child in node["children"]:
                yield from node_html(child, node["path"])
            yield "</ul>"
        yield "</li>"

    yield '<section class="signing"><h2>Signing tree</h2><ul class="signing-tree">'
    yield from node_html(tree, "")
    yield "</ul></section>"


def _nodes(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield node
    for child in node["children"]:
        yield from _nodes(child)


def _severity_counts(reports: list[Report]) -> dict[Severity, int]:
    return {s: sum(r.count(s) for r in reports) for s in SEVERITIES}


def render_html(reports: list[Report], registry: Registry, out: TextIO, *,
                color: bool) -> None:
    """Write the page. ``color`` is ignored: the page has its own colours."""
    del color
    totals = _severity_counts(reports)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>bundlelint report: {_text(', '.join(r.input_name for r in reports))}</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<header><h1>bundlelint report</h1>",
        f'<p class="summary">{_text(summary_line(reports))}</p>',
        '<div class="filters">',
    ]
    for sev in SEVERITIES:
        parts.append(f'<label><input type="checkbox" data-severity="{sev.value}" checked> '
                     f"{sev.value} ({totals[sev]})</label>")
    parts.append("</div></header>")
    for index, report in enumerate(reports):
        parts.append(f'<section class="input" id="input-{index}">')
        parts.append(f"<h2>{_text(report.input_name)}</h2>")
        files = [(path, f"file-{index}-{n}", list(group)) for n, (path, group) in enumerate(
            groupby(report.findings, key=lambda f: f.location.path))]
        if report.tree is not None:
            parts.extend(_signing_tree_html(report.tree, files))
        if not files:
            parts.append('<p class="clean">No problems found.</p></section>')
            continue
        parts.append('<div class="layout"><nav class="tree" aria-label="Files">'
                     "<h2>Files</h2>")
        parts.extend(_tree_html(_tree(files)))
        parts.append("</nav><main>")
        for path, anchor, findings in files:
            parts.append(f'<article class="file" id="{anchor}"><h3>{_text(path)}</h3>'
                         '<ol class="findings">')
            for finding in findings:
                parts.extend(_finding_html(finding, registry))
            parts.append("</ol></article>")
        parts.append("</main></div></section>")
    parts.append(f"<footer>bundlelint {_text(__version__)}</footer>")
    parts.append(f"<script>{_SCRIPT}</script></body></html>")
    out.write("\n".join(parts))
    out.write("\n")
