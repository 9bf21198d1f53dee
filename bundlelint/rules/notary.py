"""BL79x: findings that come from Apple's notary log rather than from the bundle.

These rules exist for their metadata: ``bundlelint notary-log`` makes their findings when it maps
a log (``bundlelint.analysis.notary``). Their checks find nothing when a bundle is linted, as
BL003 in ``rules/input.py`` does.
"""

from __future__ import annotations

from collections.abc import Iterator

from bundlelint.findings import Applicability, Finding
from bundlelint.rules import _evidence as E
from bundlelint.rules.base import Consequence, RuleContext, RuleMeta, doc, notary, rule

RESOLVING_ISSUES_URL = (
    "https://developer.apple.com/documentation/security/resolving-common-notarization-issues"
)


@rule(
    RuleMeta(
        id="BL790",
        slug="unrecognised-notary-issue",
        consequence=Consequence.NOTARY_REJECTS,
        evidence=(
            doc(
                E.RESOLVING,
                "the notary service reports the problems that made a submission fail as issues "
                "in its log; fix them and notarize again",
            ),
        ),
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


@rule(
    RuleMeta(
        id="BL791",
        slug="notary-submission-rejected",
        consequence=Consequence.NOTARY_REJECTS,
        evidence=(
            notary("Team is not yet configured for notarization.",
                   "https://github.com/electron/notarize/issues/132 (status Rejected)"),
            doc(
                E.RESOLVING,
                "a submission that is not Accepted is not notarized; the log says why in its "
                "status and issues",
            ),
        ),
        summary="Apple's notary did not accept the submission, and no issue in its log says why",
        what=(
            "`bundlelint notary-log` reports the submission itself when its status is Invalid "
            "or Rejected but none of the log's issues is an error: Apple's reason is then only "
            "in statusCode and statusSummary (status code 7000, 'Team is not yet configured for "
            "notarization.', is one). Apple's status, code and summary are quoted verbatim."
        ),
        why=(
            "The upload was not notarized, so the app will not pass Gatekeeper; the exit status "
            "says so, and this finding is the reason in the report."
        ),
        how_to_fix=(
            "Read Apple's status summary. For 7000 ('Team is not yet configured for "
            "notarization.') the account, not the app, needs attention: accept the latest "
            "agreements in your developer account, or ask Apple Developer Support to enable "
            "notarization for the team. Otherwise fix what the summary names and submit again."
        ),
        fix_applicability=Applicability.DISPLAY,
        references=(RESOLVING_ISSUES_URL,),
    )
)
def notary_submission_rejected(ctx: RuleContext) -> Iterator[Finding]:
    """Made by the notary-log mapping only; this check itself finds nothing in a bundle."""
    return iter(())
