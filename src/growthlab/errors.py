"""UserError, the one exception that reaches users as a single readable line; checks raising it."""

from numbers import Integral
from typing import Any

from growthlab import secrets


class UserError(Exception):
    """A mistake the user can fix; the message names the fix (secrets in it masked)."""

    def __init__(self, message: Any = "", *args: Any) -> None:
        super().__init__(secrets.mask(str(message)), *args)


def whole_number(value: object, name: str, minimum: int = 1, hint: str = "") -> int:
    """`value` as an int, or a UserError naming `name` unless it is a whole number >= minimum."""
    # bool is an int subclass, but n_rows=True is a config mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        kinds = {0: "a non-negative integer", 1: "a positive integer"}
        kind = kinds.get(minimum, f"an integer of at least {minimum}")
        raise UserError(f"{name} must be {kind} (got {value!r})" + (f"; {hint}" if hint else ""))
    return int(value)
