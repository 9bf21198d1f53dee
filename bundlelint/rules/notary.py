"""BL79x: findings that come from Apple's notary log rather than from the bundle.

These rules exist for their metadata: ``bundlelint notary-log`` makes their findings when it maps
a log (``bundlelint.analysis.notary``). Their checks find nothing when a bundle is linted, as
BL003 in ``rules/input.py`` does.
"""

from __future__ import annotations

from collections.abc import Iterator

from bundlelint.findings import Applicability, Finding, Severity
from bundlelint.rules.base import RuleContext, RuleMeta, rule

RESOLVING_ISSUES_URL = (
    "https://developer.apple.com/documentation/security/resolving-common-notarization-issues"
)


@rule(
    RuleMeta(
        id="BL790",
        slug="unrecognised-notary-issue",
        severity=Severity.ERROR,
        summary="Apple's notary log reports an issue no bundlelint rule answers",
        what=(
            "`bundlelint notary-log` maps every issue in Apple's log to the rule whose metadata "
            "lists Apple's message. An issue whose message no rule lists is reported under this "
            "rule, quoting Apple's text, path, architecture and docUrl verbatim, so that nothing "
            "Apple said is dropped. Apple's warnings stay warnings."
        ),
        why=(
            "An unrecognised message is either a check bundlelint does not make yet or new "
            "wording from Apple. Either way the submission failed (or warned) for a reason you "
            "must read in Apple's own words."
        ),
        how_to_fix=(
            "Follow the docUrl in the finding (or Apple's 'Resolving common notarization issues' "
            "page), fix the named file, re-sign and resubmit. Please report the message to "
            "bundlelint so that a rule can answer it."
        ),
        fix_applicability=Applicability.DISPLAY,
        references=(RESOLVING_ISSUES_URL,),
    )
)
def unrecognised_notary_issue(ctx: RuleContext) -> Iterator[Finding]:
    """Made by the notary-log mapping only; this check itself finds nothing in a bundle."""
    return iter(())
