"""The one exception type whose message is shown to the user as is (no traceback)."""


class MafiaError(Exception):
    """A mistake the user can fix: bad flag, bad rules file, missing model, unwritable path."""
