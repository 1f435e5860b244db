"""What the public sees of an abnormal event (建设异常信息), and for how long: the one owner of the
publicity rule, read by the public page (``published``) and by the credit grade (``in_window``).

DOMAIN.md "Credit records, repair and objections": an event is published until its
publication end date (公示截止期, ``publish_until``: 3 months, 1 year or 3 years by severity,
国办发〔2025〕22号); 信用修复 means **stopping publication** (NDRC Order 2025 No. 36), not
deletion. So:

- an event is **in its window** on a day when it is open, under objection or resolved and the day
  is not after its window's last day — resolving it (整改) does not end its publicity, only repair
  does; a repaired or annulled event (an upheld objection annuls it), or a superseded one (its
  correction stands for it), is never in its window. This is what counts towards an owner's
  grade (``domain/credit.py``);
- the public page shows an event in its window, and also an event still open or under objection
  whatever its date (it is not settled), so a window never hides an unsettled event from the
  public.
"""

from __future__ import annotations

import datetime as dt

from node_api.domain.records import PUBLISH_WINDOW_DAYS, SEVERITIES

UNSETTLED = frozenset({"open", "objected"})
PUBLISHABLE = ("open", "objected", "resolved")  # the statuses of an event that may be in its window
FALLBACK_WINDOW_DAYS = 365  # an event of no known severity


def window_end(publish_until: dt.date | None, occurred_on: dt.date, severity: str) -> dt.date:
    """The last day of an event's window: its 公示截止期, or when it names none the longest window of
    its severity from the day it occurred (``records.PUBLISH_WINDOW_DAYS``)."""
    if publish_until is not None:
        return publish_until
    days = PUBLISH_WINDOW_DAYS.get(SEVERITIES.get(severity, 0), FALLBACK_WINDOW_DAYS)
    return occurred_on + dt.timedelta(days=days)


def in_window(status: str | None, last_day: dt.date | None, today: dt.date) -> bool:
    """Whether an event with ``status`` and window ending ``last_day`` is within its window ``today``
    (None: no window, or not recorded yet — never)."""
    return status in PUBLISHABLE and last_day is not None and today <= last_day


def published(status: str, publish_until: dt.date | None, today: dt.date) -> bool:
    """Whether an event with ``status`` and publication end date ``publish_until`` is public ``today``."""
    return status in UNSETTLED or in_window(status, publish_until, today)
