"""Declaration policy: values set by decree, held in configuration, not in handlers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class DeclarationPolicy:
    """How long a landlord has to declare a move-in.

    ``source`` names the rule the value comes from, so an office can check and change it
    when its city's regulation changes.
    """

    deadline_working_days: int = 3
    version: str = "default-2026"
    source: str = "Declaration within 3 working days of a move-in (default; set per city)"

    def deadline(self, moved_in_on: date) -> date:
        """The last day a move-in on ``moved_in_on`` may be declared on time.

        Working days are Monday to Friday; public holidays are not modelled yet.
        """
        day, left = moved_in_on, self.deadline_working_days
        while left > 0:
            day += timedelta(days=1)
            if day.weekday() < 5:
                left -= 1
        return day
