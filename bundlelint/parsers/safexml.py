"""A small element tree from XML that cannot be trusted: a xar table of contents, an installer
package's Distribution or PackageInfo.

Why not ``xml.etree``: it expands internal entities (the "billion laughs" document grows a few
kilobytes into gigabytes) and has no depth or size limit. This reader drives expat directly and
refuses, with the byte offset, any document type declaration that declares an entity, any
entity reference other than the five predefined ones and character references, nesting deeper
than ``max_depth`` and more than ``max_elements`` elements; text is kept per element up to
``max_text`` characters. Apple's writers (libxar, pkgbuild, productbuild) declare no entities.
"""

from __future__ import annotations

import xml.parsers.expat
from dataclasses import dataclass, field

from bundlelint.errors import ParseError

MAX_DEPTH = 64
MAX_ELEMENTS = 200_000
MAX_TEXT = 1 << 20


@dataclass
class Element:
    """One XML element: its tag, attributes, text (concatenated, stripped) and children.
    ``offset`` is the byte offset of its start tag in the document."""

    tag: str
    attrs: dict[str, str]
    offset: int
    children: list[Element] = field(default_factory=list)
    text: str = ""

    def find(self, tag: str) -> Element | None:
        """The first child named ``tag``."""
        for child in self.children:
            if child.tag == tag:
                return child
        return None

    def findall(self, tag: str) -> list[Element]:
        return [c for c in self.children if c.tag == tag]

    def child_text(self, tag: str) -> str | None:
        child = self.find(tag)
        return None if child is None else child.text


class _Refused(Exception):
    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(reason)
        self.offset = offset
        self.reason = reason


def parse_xml(data: bytes, *, fmt: str, path: str, base: int = 0, where: str = "",
              max_depth: int = MAX_DEPTH, max_elements: int = MAX_ELEMENTS,
              max_text: int = MAX_TEXT) -> Element:
    """The root element of ``data``. Errors are ``ParseError(fmt, path, base, ...)`` whose
    reason names the byte offset inside the document (``where`` says which document: the
    document may itself be compressed, so ``base`` is where it starts in the file)."""
    parser = xml.parsers.expat.ParserCreate()
    parser.buffer_text = True
    stack: list[Element] = []
    root: list[Element] = []
    count = 0
    text_parts: list[list[str]] = []
    text_sizes: list[int] = []

    def refuse(reason: str) -> None:
        raise _Refused(parser.CurrentByteIndex, reason)

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal count
        count += 1
        if count > max_elements:
            refuse(f"more than {max_elements} elements")
        if len(stack) >= max_depth:
            refuse(f"elements nested deeper than {max_depth}")
        element = Element(tag, dict(attrs), parser.CurrentByteIndex)
        if stack:
            stack[-1].children.append(element)
        else:
            root.append(element)
        stack.append(element)
        text_parts.append([])
        text_sizes.append(0)

    def end(tag: str) -> None:
        element = stack.pop()
        element.text = "".join(text_parts.pop()).strip()
        text_sizes.pop()

    def chars(text: str) -> None:
        if not stack:
            return
        text_sizes[-1] += len(text)
        if text_sizes[-1] > max_text:
            refuse(f"an element's text is longer than {max_text} characters")
        text_parts[-1].append(text)

    def entity_decl(name: str, *args: object) -> None:
        refuse(f"the document declares an entity ({name!r}); none is allowed")

    def skipped(name: str, is_parameter: int) -> None:
        refuse(f"the document refers to an undeclared entity ({name!r})")

    def external(*args: object) -> int:
        refuse("the document refers to an external entity")
        return 0

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.EntityDeclHandler = entity_decl
    parser.UnparsedEntityDeclHandler = entity_decl
    parser.SkippedEntityHandler = skipped
    parser.ExternalEntityRefHandler = external
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    label = f"{where} " if where else ""
    try:
        parser.Parse(data, True)
    except _Refused as exc:
        raise ParseError(fmt, path, base, f"{label}byte {exc.offset}: {exc.reason}") from None
    except xml.parsers.expat.ExpatError as exc:
        message = xml.parsers.expat.ErrorString(exc.code) if exc.code else "error"
        raise ParseError(fmt, path, base, f"{label}XML is malformed at line {exc.lineno}, "
                         f"column {exc.offset}: {message}") from None
    except RecursionError:  # pragma: no cover - depth is capped far below the limit
        raise ParseError(fmt, path, base, f"{label}XML nests too deeply") from None
    if not root:
        raise ParseError(fmt, path, base, f"{label}XML has no root element")
    return root[0]
