"""The JSON Apple's notary service returns: ``notarytool log``, ``submit`` and ``info`` output.

Apple publishes no schema for the log (docs/formats.md section 7), so the parser checks the type of
every key it reads, tolerates keys it does not know (Apple adds some from time to time), and
reports anything else as a ``ParseError`` naming the file, the key path and, for JSON syntax
errors, the byte offset. The JSON printed by ``notarytool submit --output-format json`` and
``notarytool info`` (``id``, ``status``, ``message``, ``name``, ``createdDate``; no issues) is
accepted too, so a CI step can pipe whatever it has.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import BinaryIO

from bundlelint.errors import ParseError

FORMAT = "notary log JSON"
#: A real log is a few kilobytes; anything this big is not a notary log and is refused unread.
MAX_LOG_BYTES = 64 * 1024 * 1024
#: Statuses after which Apple will not change its verdict.
REJECTED_STATUSES = ("Invalid", "Rejected")


@dataclass(frozen=True, kw_only=True)
class NotaryIssue:
    """One entry of the log's ``issues`` list, as Apple wrote it."""

    severity: str  # "error" or "warning" in every log seen
    code: str | int | None
    path: str | None  # the archive name, then a /-joined path inside it
    message: str
    doc_url: str | None
    architecture: str | None


@dataclass(frozen=True, kw_only=True)
class TicketItem:
    """One entry of ``ticketContents``: a piece of code whose cdhash the ticket vouches for."""

    path: str
    digest_algorithm: str | None
    cdhash: str
    arch: str | None  # absent for non-Mach-O items such as the .pkg itself


@dataclass(frozen=True, kw_only=True)
class NotaryLog:
    """A notarytool log, or the smaller ``submit``/``info`` document (``kind`` says which).

    For a ``submission`` document ``issues`` and ``ticket_contents`` are empty/``None`` and only
    ``job_id``, ``status``, ``message``, ``name`` and ``created_date`` can be set.
    """

    kind: str  # "log" or "submission"
    source: str  # the file name the user gave ("-" for stdin)
    log_format_version: int | None = None
    job_id: str | None = None
    status: str | None = None
    status_summary: str | None = None
    status_code: int | None = None
    archive_filename: str | None = None
    upload_date: str | None = None
    sha256: str | None = None
    ticket_contents: tuple[TicketItem, ...] | None = None
    issues: tuple[NotaryIssue, ...] = ()
    message: str | None = None
    name: str | None = None
    created_date: str | None = None

    @property
    def is_rejected(self) -> bool:
        return self.status in REJECTED_STATUSES


def read_notary_log(fh: BinaryIO, path: str, *, limit: int = MAX_LOG_BYTES) -> NotaryLog:
    """Read at most ``limit`` bytes from ``fh`` and parse them; a longer input is refused
    without reading the rest (stdin may be endless)."""
    try:
        data = fh.read(limit + 1)
    except OSError as exc:
        raise ParseError(FORMAT, path, None, f"cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise ParseError(FORMAT, path, limit,
                         f"more than {limit} bytes: not a notary log (refused)")
    return parse_notary_log(data, path)


def parse_notary_log(data: bytes, path: str) -> NotaryLog:
    """Parse ``data`` (UTF-8 JSON, optionally with a BOM) into a ``NotaryLog``."""
    if len(data) > MAX_LOG_BYTES:
        raise ParseError(FORMAT, path, MAX_LOG_BYTES,
                         f"{len(data)} bytes is over the {MAX_LOG_BYTES} byte limit")
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    skipped = len(data) - len(body)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(FORMAT, path, skipped + exc.start, "not UTF-8 text") from None
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        offset = skipped + len(text[: exc.pos].encode("utf-8"))
        raise ParseError(FORMAT, path, offset,
                         f"{exc.msg} (line {exc.lineno} column {exc.colno}, "
                         f"character {exc.pos})") from None
    except ValueError as exc:  # _reject_constant
        raise ParseError(FORMAT, path, None, str(exc)) from None
    except RecursionError:
        raise ParseError(FORMAT, path, None, "nesting is too deep") from None
    if not isinstance(doc, dict):
        raise ParseError(FORMAT, path, None,
                         f"top level is {_type_name(doc)}, not an object")
    fields = _Fields(doc, path, "")
    if "jobId" in doc or "logFormatVersion" in doc or "issues" in doc or "ticketContents" in doc:
        return _parse_log(fields, path)
    if "id" in doc:
        return _parse_submission(fields, path)
    raise ParseError(FORMAT, path, None,
                     "neither a notarytool log (no jobId, issues or ticketContents) nor "
                     "notarytool submit/info output (no id)")


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not valid JSON")


def _type_name(value: object) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
            int: "a number", float: "a number", type(None): "null"}.get(type(value), "a value")


class _Fields:
    """Typed access to one JSON object; a wrong type names the key path in the error."""

    def __init__(self, obj: Mapping[str, object], path: str, where: str) -> None:
        self.obj = obj
        self.path = path
        self.where = where

    def _error(self, key: str, want: str) -> ParseError:
        value = self.obj.get(key)
        return ParseError(FORMAT, self.path, None,
                          f"{self.where}{key} is {_type_name(value)}, expected {want}")

    def string(self, key: str, *, required: bool = False) -> str | None:
        value = self.obj.get(key)
        if value is None:
            if required:
                raise ParseError(FORMAT, self.path, None, f"{self.where}{key} is missing")
            return None
        if not isinstance(value, str):
            raise self._error(key, "a string")
        return value

    def integer(self, key: str) -> int | None:
        value = self.obj.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._error(key, "an integer")
        return value

    def objects(self, key: str) -> list[_Fields] | None:
        value = self.obj.get(key)
        if value is None:
            return None
        if not isinstance(value, list):
            raise self._error(key, "an array or null")
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise ParseError(FORMAT, self.path, None,
                                 f"{self.where}{key}[{i}] is {_type_name(item)}, "
                                 "expected an object")
            out.append(_Fields(item, self.path, f"{self.where}{key}[{i}]."))
        return out


def _parse_log(f: _Fields, path: str) -> NotaryLog:
    issues = tuple(_parse_issue(i) for i in f.objects("issues") or ())
    raw_ticket = f.objects("ticketContents")
    ticket = None if raw_ticket is None else tuple(_parse_ticket(t) for t in raw_ticket)
    return NotaryLog(
        kind="log",
        source=path,
        log_format_version=f.integer("logFormatVersion"),
        job_id=f.string("jobId"),
        status=f.string("status"),
        status_summary=f.string("statusSummary"),
        status_code=f.integer("statusCode"),
        archive_filename=f.string("archiveFilename"),
        upload_date=f.string("uploadDate"),
        sha256=f.string("sha256"),
        ticket_contents=ticket,
        issues=issues,
    )


def _parse_issue(f: _Fields) -> NotaryIssue:
    raw_code = f.obj.get("code")
    code: str | int | None
    if raw_code is None:
        code = None
    elif isinstance(raw_code, str | int) and not isinstance(raw_code, bool):
        code = raw_code
    else:
        raise f._error("code", "a string, an integer or null")
    return NotaryIssue(
        severity=f.string("severity") or "error",
        code=code,
        path=f.string("path"),
        message=f.string("message", required=True) or "",
        doc_url=f.string("docUrl"),
        architecture=f.string("architecture"),
    )


def _parse_ticket(f: _Fields) -> TicketItem:
    return TicketItem(
        path=f.string("path", required=True) or "",
        digest_algorithm=f.string("digestAlgorithm"),
        cdhash=f.string("cdhash", required=True) or "",
        arch=f.string("arch"),
    )


def _parse_submission(f: _Fields, path: str) -> NotaryLog:
    return NotaryLog(
        kind="submission",
        source=path,
        job_id=f.string("id"),
        status=f.string("status"),
        message=f.string("message"),
        name=f.string("name"),
        created_date=f.string("createdDate"),
    )
