"""Errors the command line reports to the operator."""


class CliError(Exception):
    """An operator error: printed as one clear line, exit code 2, no stack trace."""
