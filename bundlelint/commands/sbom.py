"""``bundlelint sbom PATH``: a software bill of materials of an app bundle or Mach-O file.

CycloneDX 1.6 JSON (default) or SPDX 2.3 JSON: the app, its nested bundles, every Mach-O file
(architectures, cdhashes, signer and Team ID, install name and versions of a dylib) and the Go
modules of every Go binary with ``pkg:golang`` package URLs. cyclonedx-python-lib is imported
here, when the command runs, never by ``check``. ``SOURCE_DATE_EPOCH`` makes the document
reproducible (see ``bundlelint.sbom``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bundlelint.commands import EXIT_CLEAN, EXIT_USAGE, open_or_report
from bundlelint.display import printable
from bundlelint.rules import Registry

NAME = "sbom"
HELP = "write a software bill of materials (CycloneDX or SPDX JSON) of a bundle or Mach-O"
FORMATS = ("cyclonedx-json", "spdx-json")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help=".app bundle, Mach-O file or .zip")
    parser.add_argument("--format", choices=FORMATS, default="cyclonedx-json",
                        help="CycloneDX 1.6 JSON (default) or SPDX 2.3 JSON")
    parser.add_argument("--output", "-o", metavar="FILE", type=Path,
                        help="write the document to FILE instead of standard output")
    parser.add_argument("--trust-anchor", metavar="FILE", type=Path, action="append",
                        help="also trust this certificate as a root (test fixtures only)")


def _error(message: str) -> int:
    print(f"bundlelint: error: {printable(message)}", file=sys.stderr)
    return EXIT_USAGE


def _inside(output: Path, input_path: Path) -> bool:
    """Whether writing ``output`` would write into the input (bundlelint never writes to what
    it inspects)."""
    try:
        out = output.resolve()
        source = input_path.resolve()
    except OSError:
        return False
    return out == source or (source.is_dir() and out.is_relative_to(source))


def run(args: argparse.Namespace, registry: Registry) -> int:
    import datetime
    import uuid

    from bundlelint.analysis.components import inventory
    from bundlelint.options import Options
    from bundlelint.sbom import SbomSettingsError, content_uuid, source_date
    from bundlelint.trust import anchors_from

    try:
        fixed_time = source_date()
    except SbomSettingsError as err:
        return _error(str(err))
    if args.output is not None and _inside(args.output, Path(args.path)):
        return _error(f"--output {args.output} is inside the input {args.path}; "
                      "bundlelint never writes to what it inspects")
    options = Options(extra_trust_anchors=anchors_from(args.trust_anchor))
    bundle = open_or_report(args.path, options)
    if bundle is None:
        return EXIT_USAGE
    inv = inventory(bundle, options)
    when = fixed_time or datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    serial = content_uuid(inv) if fixed_time else uuid.uuid4()
    if args.format == "spdx-json":
        from bundlelint.sbom.spdx import render_spdx

        text = render_spdx(inv, created=when, namespace_uuid=serial)
    else:
        from bundlelint.sbom.cyclonedx import render_cyclonedx

        text = render_cyclonedx(inv, timestamp=when, serial=serial)
    if args.output is None:
        sys.stdout.write(text)
        return EXIT_CLEAN
    try:
        args.output.write_text(text, encoding="utf-8")
    except OSError as exc:
        return _error(f"cannot write {args.output}: {exc.strerror or exc}")
    return EXIT_CLEAN
