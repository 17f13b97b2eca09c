"""The time columns of the event tools: bcc's TIME (the wall clock when the
event is printed) and TIME(s) (seconds since the first event shown)."""
import operator
from time import strftime


def wall_clock(_row=None):
    """HH:MM:SS now, as bcc's TIME columns print it."""
    return strftime("%H:%M:%S")


class SinceFirst:
    """A column getter: seconds from the first row shown to this one, whose
    ``field`` is a timestamp counted ``per_second`` times a second."""

    def __init__(self, field, per_second):
        self.timestamp = operator.attrgetter(field)
        self.per_second = per_second
        self.first = None

    def __call__(self, row):
        ts = self.timestamp(row)
        if self.first is None:
            self.first = ts
        return (ts - self.first) / self.per_second
