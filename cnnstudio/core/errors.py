"""Errors that reach the user as one clear sentence (GUI dialog or CLI line), never a traceback."""


class UserError(Exception):
    """A problem the user can fix: a bad file, an invalid network, a missing camera.

    The message is a complete sentence meant for the user.
    """


class FormatError(UserError):
    """A file is not of the expected format, is corrupt, or was written by a newer version."""
