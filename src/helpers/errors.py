"""The one exception type for problems a user can fix (bad input, bad parameters)."""


class TractionError(Exception):
    """A user-facing error: its message names the file, line or column and the problem."""
