"""The CLI's one-line errors."""


class CliError(Exception):
    """A user-facing problem: printed as one line, exit code 2."""
