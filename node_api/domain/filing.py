"""秒批秒办 filing (备案): the checks before anything is written, the code a filing gets, its 一张清单.

Pure rules (docs/filings.md): no I/O, no clock of their own, the random source injectable.

- **Negative list for 备案** (``NEGATIVE_LIST``): industries (GB/T 4754 大类, the two
  digits a filing declares) a project cannot be *filed* in, each with its source. Small
  and versioned; a refusal names the entry and the version.
- **Code allocation** (``new_code``): a GB/T 40058 code ``YYMM-DDDDDD-89-TT-RRRRRR``
  (docs/project-codes.md): the time code of the filing month (Beijing time), the
  project's division, the central department code ``89`` and the type code (default
  ``05``) as observed on real filed projects — both tables are unconfirmed —, and six
  random digits from ``secrets``. The standard's check character (its algorithm is
  unconfirmed) is not computed: the last segment is all random. Uniqueness is the
  ledger's: a project id is keccak256 of its code and a second registration of it is
  refused (LedgerProjectExists); the node then retries with a fresh code.
- **The checklist rule** (``checklist_items``): docs/filings.md.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from node_api.domain.catalogue import ItemVersion
from node_api.domain.divisions import division_error
from node_api.domain.records import CATALOGUE_LISTS, MAX_CHECKLIST_ITEMS
from node_api.errors import ValidationError

BEIJING = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
FILING_PROVINCE = "62"  # 甘肃省: the filing authorities of this consortium file projects in Gansu only
CENTRAL_DEPARTMENT_CODE = (
    "89"  # GB/T 40058 §4.4 segment: observed on every real code found; table unconfirmed
)
DEFAULT_TYPE_CODE = "05"  # GB/T 40058 §4.5 segment: observed on real 备案 codes; table unconfirmed


@dataclass(frozen=True)
class NegativeEntry:
    """An industry a project cannot be filed in, and why."""

    industry: str  # GB/T 4754-2017 大类 (two digits)
    name: str
    reason: str
    source: str


NEGATIVE_LIST_VERSION = "2026.1"
# Filing (备案) is for enterprise projects outside the 政府核准的投资项目目录 (国务院令第673号 第三条);
# a project in a catalogue industry is ratified (核准), not filed, and the 市场准入负面清单 forbids
# some activities outright. Kept at 大类 level, coarser than both lists (inferred; a 大类 that holds
# items of either list is listed whole), so a real filing in a listed 大类 goes to the counter.
NEGATIVE_LIST: tuple[NegativeEntry, ...] = (
    NegativeEntry("06", "煤炭开采和洗选业", "煤矿项目须核准，不予备案",
                  "《政府核准的投资项目目录（2016年本）》（国发〔2016〕72号）能源·煤炭"),
    NegativeEntry("07", "石油和天然气开采业", "油气开发项目须核准，不予备案",
                  "《政府核准的投资项目目录（2016年本）》（国发〔2016〕72号）能源·石油、天然气"),
    NegativeEntry("16", "烟草制品业", "卷烟等烟草项目须核准，不予备案",
                  "《政府核准的投资项目目录（2016年本）》（国发〔2016〕72号）轻工·烟草"),
    NegativeEntry("86", "新闻和出版业", "禁止违规开展新闻传媒相关业务（禁止准入类）",
                  "《市场准入负面清单（2022年版）》禁止准入事项第6项"),
)  # fmt: skip
_NEGATIVE = {e.industry: e for e in NEGATIVE_LIST}


class NegativeListError(ValidationError):
    """A filing in an industry on the negative list for 备案 (422 ``negative_list``)."""

    code = "negative_list"


def check_industry(industry: str) -> None:
    """Refuses an industry on the negative list for 备案 (NegativeListError naming the entry)."""
    entry = _NEGATIVE.get(industry)
    if entry is not None:
        raise NegativeListError(
            "industry_code",
            f"{industry} {entry.name}: {entry.reason} ({entry.source}; negative list for 备案 "
            f"version {NEGATIVE_LIST_VERSION})",
        )


def check_region(region: str) -> str:
    """A division of Gansu in force today, or ValidationError (``region_code``)."""
    problem = division_error(region)
    if problem is None and not region.startswith(FILING_PROVINCE):
        problem = (
            f"{region} is not in 甘肃省 (62): this consortium's filing authorities file projects in Gansu"
        )
    if problem is None and region.endswith("0000"):
        problem = f"{region} is a province: a filing names the prefecture or county the project is built in"
    if problem is not None:
        raise ValidationError("region_code", problem)
    return region


RandomDigits = Callable[[], str]


def random_digits() -> str:
    """Six random digits from ``secrets`` (the random source of a new code)."""
    return f"{secrets.randbelow(10**6):06d}"


def scripted(first: list[str], then: RandomDigits = random_digits) -> RandomDigits:
    """A random source that answers ``first`` in order, then ``then`` (tests force a collision with it)."""
    queue = list(first)

    def draw() -> str:
        return queue.pop(0) if queue else then()

    return draw


def new_code(
    region: str, today: dt.date, type_code: str = DEFAULT_TYPE_CODE, rand: RandomDigits = random_digits
) -> str:
    """A fresh GB/T 40058 project code for a filing in ``region`` on ``today`` (Beijing date)."""
    return f"{today:%y%m}-{region}-{CENTRAL_DEPARTMENT_CODE}-{type_code}-{rand()}"


def beijing_today(now: float) -> dt.date:
    """The Beijing date of unix time ``now`` (the filing month of the code)."""
    return dt.datetime.fromtimestamp(now, BEIJING).date()


# The checklist rule. Items of the approval list (审批) in force, not retired, of stages 1-4, but
# the filing item itself (the filing passes it) and the items that apply only to some projects:
# those a filed enterprise project never needs (核准, 政府投资) and those that depend on the project
# (one of the three 环评 levels, flood impact, high-rise seismic review, civil air defence, road
# occupation, tree felling, lifts, gas). An officer adds a conditional item later by a new checklist
# part that supersedes the first. Codes of the demo catalogue (demo/catalogue.json).
CONDITIONAL_ITEMS: dict[str, str] = {
    "ZL-S1-002": "核准 only (a filed project is not ratified)",
    "ZL-S1-003": "政府投资 only", "ZL-S1-004": "政府投资 only", "ZL-S2-003": "政府投资 only",
    "ZL-S1-006": "划拨 land only",
    "ZL-S1-009": "环评: one of 报告书 / 报告表 / 登记表, by the 名录",
    "ZL-S1-010": "环评: one of 报告书 / 报告表 / 登记表, by the 名录",
    "ZL-S1-011": "环评: one of 报告书 / 报告表 / 登记表, by the 名录",
    "ZL-S1-013": "flood areas only", "ZL-S2-004": "超限高层 only",
    "ZL-S3-002": "特殊建设工程 only (otherwise ZL-S4-003)", "ZL-S4-002": "特殊建设工程 only",
    "ZL-S3-003": "人防: civil buildings that must build one", "ZL-S4-004": "人防 only",
    "ZL-S3-005": "road occupation only", "ZL-S3-006": "tree felling only",
    "ZL-S3-007": "lifts only", "ZL-S3-010": "gas only", "ZL-S4-007": "sewer connection only",
}  # fmt: skip


def checklist_items(items: Iterable[ItemVersion], filing_item: str) -> list[ItemVersion]:
    """The items a newly filed project must still pass, by stage then code (the rule above)."""
    wanted = [
        it
        for it in items
        if it.list == CATALOGUE_LISTS["approval"]
        and not it.retired
        and 1 <= it.stage <= 4
        and it.code != filing_item
        and it.code not in CONDITIONAL_ITEMS
    ]
    return sorted(wanted, key=lambda it: (it.stage, it.code))


def parts(items: list[ItemVersion]) -> list[list[ItemVersion]]:
    """The checklist split into records of at most MAX_CHECKLIST_ITEMS items (the contract's limit)."""
    return [items[i : i + MAX_CHECKLIST_ITEMS] for i in range(0, len(items), MAX_CHECKLIST_ITEMS)] or [[]]
