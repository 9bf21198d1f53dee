"""BL85x: archives and containers nested in the input (a .tar.gz or .jar in an app, a .pkg in a
disk image), which Apple's notary unpacks and judges like the rest of the upload.

These rules read ``Bundle.nested_skipped`` (what ``inputs.nested`` did not walk, and why); the
code inside the archives that were walked is judged by every other rule, under paths such as
``MyApp.app/Contents/Resources/tools.tar.gz/bin/tool``.
"""

from __future__ import annotations

from collections.abc import Iterator

from bundlelint.findings import Applicability, Finding
from bundlelint.rules import _evidence as E
from bundlelint.rules.base import Consequence, RuleContext, RuleMeta, doc, rule

NOTARIZING_DOC = doc(
    "https://developer.apple.com/documentation/security/"
    "notarizing-macos-software-before-distribution",
    "Apple, Notarizing macOS software before distribution: the notary service accepts disk "
    "images, flat installer packages and zip archives, and 'processes nested containers as "
    "well, like packages inside a disk image'",
)


@rule(
    RuleMeta(
        id="BL850",
        slug="nested-archive-not-inspected",
        consequence=Consequence.NOT_CHECKED,
        evidence=(E.NOT_CHECKED, NOTARIZING_DOC),
        summary="An archive or container nested in the input was not inspected",
        what=(
            "Reports a zip, jar, tar archive, disk image or installer package inside the input "
            "that bundlelint did not open: over the size limit for a nested archive (256 MiB, "
            "or --max-file-size), nested more than three archives or containers deep, past "
            "the total size all nested archives may take (max_archive_size), past the "
            "compression-ratio limit, or damaged."
        ),
        why=(
            "Apple's notary unpacks nested archives and containers and judges the code "
            "inside them like any other code of the upload; code bundlelint did not see was "
            "not checked, so the report would pass it unseen."
        ),
        how_to_fix=(
            "Check the archive named: if it is damaged, rebuild it; if it is legitimately "
            "large or deep, raise the limit (--max-file-size, max_archive_size, "
            "max_compression_ratio in the configuration) to have it checked."
        ),
        fix_applicability=Applicability.DISPLAY,
    )
)
def nested_archive_not_inspected(ctx: RuleContext) -> Iterator[Finding]:
    bundle = ctx.bundle
    for skipped in bundle.nested_skipped:
        yield ctx.finding(path=bundle.display(skipped.relpath), message=skipped.reason)
