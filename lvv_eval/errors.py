"""The user-facing error base class of the library.

A :class:`UserError` is a problem the user can fix (a missing file, a malformed spec, a bad
option). The command line prints its message on one line and exits with code 2; library callers
(notebooks, tests) catch it like any exception.
"""

from __future__ import annotations


class UserError(Exception):
    """An error the user can fix; its message says what is wrong, where, and what to do."""
