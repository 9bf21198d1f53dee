"""Property lists (XML and binary) through the standard library's ``plistlib``."""

from __future__ import annotations

import plistlib
from dataclasses import dataclass
from typing import Any

from bundlelint.errors import ParseError
from bundlelint.parsers.xmlplist import parse_xml_plist

MAX_PLIST_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class PlistDocument:
    """A decoded plist and the form it was stored in (``xml`` or ``binary``)."""

    value: Any
    form: str


def parse_plist(data: bytes, path: str) -> PlistDocument:
    """Decode ``data``; any failure (including a too-deep binary plist) is a ``ParseError``."""
    if len(data) > MAX_PLIST_BYTES:
        raise ParseError("plist", path, None, f"{len(data)} bytes is over the {MAX_PLIST_BYTES} "
                         "byte limit for a property list")
    form = "binary" if data.startswith(b"bplist") else "xml"
    if form == "xml":
        fast = parse_xml_plist(data)
        if fast is not None:
            return PlistDocument(value=fast, form=form)
    try:
        value = plistlib.loads(data)
    except RecursionError:
        raise ParseError("plist", path, None, "nesting is too deep") from None
    except Exception as exc:  # plistlib raises InvalidFileException, ExpatError, ValueError...
        offset = getattr(exc, "offset", None)
        reason = str(exc) or type(exc).__name__
        raise ParseError(f"{form} plist", path, offset if isinstance(offset, int) else None,
                         reason) from None
    return PlistDocument(value=value, form=form)


@dataclass(frozen=True)
class InfoPlist:
    """A bundle's Info.plist: the dict plus typed access to the keys rules read."""

    values: dict[str, Any]
    form: str

    def string(self, key: str) -> str | None:
        """The value of ``key`` if it is a string, else ``None``."""
        value = self.values.get(key)
        return value if isinstance(value, str) else None

    @property
    def executable(self) -> str | None:
        return self.string("CFBundleExecutable")

    @property
    def identifier(self) -> str | None:
        return self.string("CFBundleIdentifier")

    @property
    def package_type(self) -> str | None:
        return self.string("CFBundlePackageType")

    @property
    def minimum_system_version(self) -> str | None:
        return self.string("LSMinimumSystemVersion")
