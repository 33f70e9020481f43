"""The base class of user errors, kept in a module that imports nothing so any layer can raise one.

`cli.main()` turns a UserError into one line on stderr and exit 2, and nothing else: an unexpected
ValueError from a bug must surface as a failure (exit 1), not be blamed on the user's input.
"""

from __future__ import annotations


class UserError(Exception):
    """Bad input the user can fix (config, command line, data); the message is one line: what and how to fix it.

    Subclasses that other code catches as ValueError (or RuntimeError) list that base too, e.g.
    `class ConfigError(UserError, ValueError)`."""
