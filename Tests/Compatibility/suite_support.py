"""What every compatibility script shares: the deadline for waits and the failed-check error.

The scripts run as `python3 Tests/Compatibility/<script>.py`, so this directory is on the
import path.
"""

DEADLINE_SECONDS = 30.0


class CheckFailed(Exception):
    """A check of the broker's behaviour failed; the message says what was expected."""


def check(condition, message):
    if not condition:
        raise CheckFailed(message)
