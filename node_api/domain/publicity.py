"""What the public sees of an abnormal event (建设异常信息), and for how long.

DOMAIN.md "Credit records, repair and objections": an event is published until its
publication end date (公示截止期, ``publish_until``: 3 months, 1 year or 3 years by severity,
国办发〔2025〕22号); 信用修复 means **stopping publication** (NDRC Order 2025 No. 36), not
deletion. So the public page shows:

- an event still open or under objection, whatever its date (it is not settled);
- a resolved event until its publication end date — resolving it (整改) does not end its
  publicity, only repair does;
- never a repaired or annulled event (an upheld objection annuls it), nor a superseded one
  (its correction stands for it).
"""

from __future__ import annotations

import datetime as dt

UNSETTLED = frozenset({"open", "objected"})


def published(status: str, publish_until: dt.date | None, today: dt.date) -> bool:
    """Whether an event with ``status`` and publication end date ``publish_until`` is public ``today``."""
    if status in UNSETTLED:
        return True
    return status == "resolved" and publish_until is not None and today <= publish_until
