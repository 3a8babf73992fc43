"""The one exception type that reaches users as a single readable line."""


class UserError(Exception):
    """A mistake the user can fix; the message names the fix."""
