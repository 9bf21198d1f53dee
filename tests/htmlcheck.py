"""Reading the HTML report back as a browser's parser would: which elements and attributes it
holds, and its text. Used to prove that no untrusted string became markup."""

from __future__ import annotations

from html.parser import HTMLParser

#: Every element the HTML reporter writes. A name in a report that turned into markup would
#: add one outside this set (``img``, ``iframe``, a second ``script``...).
REPORT_ELEMENTS = frozenset({
    "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "p", "div",
    "label", "input", "section", "nav", "ul", "li", "a", "span", "main", "article", "ol",
    "pre", "code", "button", "footer", "script",
})


class ReportParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self._raw: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend(attrs)
        if tag in ("script", "style"):
            self._raw = tag

    def handle_endtag(self, tag: str) -> None:
        self._raw = None

    def handle_data(self, data: str) -> None:
        if self._raw == "script":
            self.scripts.append(data)
        elif self._raw == "style":
            self.styles.append(data)
        else:
            self.text.append(data)


def parse_report(document: str) -> ReportParser:
    parser = ReportParser()
    parser.feed(document)
    parser.close()
    return parser


def check_markup_is_ours(document: str) -> ReportParser:
    """Assert that ``document`` holds only the reporter's own elements, one script, one style,
    and no event-handler or ``javascript:`` attribute: what an injected name would add."""
    parsed = parse_report(document)
    assert set(parsed.tags) <= REPORT_ELEMENTS, set(parsed.tags) - REPORT_ELEMENTS
    assert parsed.tags.count("script") == 1 and parsed.tags.count("style") == 1
    for name, value in parsed.attributes:
        assert not name.startswith("on"), name
        assert not (value or "").strip().lower().startswith("javascript:"), value
    return parsed
