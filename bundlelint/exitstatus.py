"""Exit statuses of ``bundlelint check`` (and what ``LintResult.exit_status`` returns)."""

EXIT_CLEAN = 0  # no finding at or above --fail-on
EXIT_FINDINGS = 1  # at least one finding at or above --fail-on
EXIT_USAGE = 2  # usage error, or an input that cannot be read at all
EXIT_INTERNAL = 3  # a rule crashed (BL003) or a bug
