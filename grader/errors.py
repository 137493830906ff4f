"""The grader's own exceptions. A student's mistake is never one of these: it is data."""


class UsageError(Exception):
    """The command line or the instructor's configuration is wrong; the message says how to fix it.

    The CLI prints the message on one line and exits with status 2.
    """
