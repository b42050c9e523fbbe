"""Errors that reach the user as one clear sentence (GUI dialog or CLI line), never a traceback."""


class UserError(Exception):
    """A problem the user can fix: a bad file, an invalid network, a missing camera.

    The message is a complete sentence meant for the user.
    """


class FormatError(UserError):
    """A file is not of the expected format, is corrupt, or was written by a newer version."""


def first_line(exc: BaseException, limit: int = 200, default: str | None = None) -> str:
    """The first line of ``exc``'s message, at most ``limit`` characters, for a one-sentence report of a
    library's error; ``default`` (else the exception's type name) when the message is empty."""
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else default or type(exc).__name__)[:limit]
