"""Project search (docs/search.md): what a search row holds, how it is derived, and what a query may ask.

Pure rules, no I/O. The store keeps one row per registered project (``store/search.py``), derived
from the chain's canonical records by the indexer; the query is checked here before any SQL runs.

Full text uses SQLite FTS5's ``trigram`` tokenizer: every 3-character window is a token, so
Chinese needs no word segmenter, but a term shorter than 3 characters has no trigram to look up.
Such a term (common: 医院, 道路) is matched with ``LIKE`` on the same columns instead — a scan of
the search table, not of the ledger.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from node_api.domain.project_code import project_facts
from node_api.domain.records import DECISIONS, PROJECT_TYPES, Status
from node_api.domain.uscc import validate_uscc
from node_api.errors import ValidationError

TRIGRAM = 3  # shortest term the trigram index can look up; shorter terms fall back to LIKE
MAX_QUERY = 64  # characters of ``q``
MAX_TERMS = 8  # whitespace-separated terms of ``q``
STATUSES = ("active", "revoked")  # a registration's status, as the summary shows it
BEIJING = dt.timezone(dt.timedelta(hours=8))

_TYPE_NAMES = {v: k for k, v in PROJECT_TYPES.items()}
_GRANTED = frozenset({DECISIONS["approved"], DECISIONS["approved_on_commitment"]})
_REGION = re.compile(r"^(\d{2}|\d{4}|\d{6})$", re.ASCII)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Registration:
    """One readable canonical project record (registration or correction) as the index holds it."""

    uid: str
    fields: Mapping[str, Any]  # the decoded on-chain payload (``decode_payload``)
    status: Status
    block_number: int
    timestamp: int  # its block's time (unix seconds)


@dataclass(frozen=True)
class SearchEntry:
    """A project's search row: its public fields and the facets a query filters on."""

    code: str
    name: str
    owner_uscc: str
    project_type: str
    region: str  # the division code of the project code (both shapes)
    industry: str
    stage: int  # highest stage granted by an approval active on chain (0: none; see grants_stage)
    status: str  # active | revoked
    registered_on: str  # Beijing date of the first registration's block
    registration: str  # uid of the registration in force (the latest correction)
    registration_block: int


def grants_stage(fields: Mapping[str, Any]) -> int:
    """The stage an approval (its decoded payload) grants — approved, or approved on commitment — or 0.

    A project's stage reached is the highest stage granted by an approval still active on chain.
    Expiry (``valid_until``) is not considered: it depends on the day it is read, and a search row
    is derived when records land; the project summary shows an expired stage as such.
    """
    return int(fields["stage"]) if int(fields["decision"]) in _GRANTED else 0


def search_entry(code: str, registrations: Sequence[Registration], stage: int) -> SearchEntry | None:
    """The search row of a project from its registrations (chain order) and the stage it reached; None if
    no registration stands.

    The registration in force is the latest that is active or revoked (a superseded one gave way to
    its correction), as in the project summary; the registration date is the first one's.
    """
    standing = [r for r in registrations if r.status in (Status.ACTIVE, Status.REVOKED)]
    if not standing:
        return None
    current, first = standing[-1], registrations[0]
    f = current.fields
    declared = {
        "region_code": f.get("region_code"),
        "industry_code": f.get("industry_code"),
        "project_type": _TYPE_NAMES.get(int(f.get("project_type", 0)), str(f.get("project_type"))),
    }
    facts = project_facts(code, declared)
    return SearchEntry(
        code=code,
        name=str(f["name"]),
        owner_uscc=str(f["owner_uscc"]),
        project_type=str(facts["project_type"]),
        region=str(facts["region_code"]),
        industry=str(facts["industry_code"]),
        stage=stage,
        status="revoked" if current.status == Status.REVOKED else "active",
        registered_on=dt.datetime.fromtimestamp(first.timestamp, BEIJING).date().isoformat(),
        registration=current.uid,
        registration_block=current.block_number,
    )


@dataclass(frozen=True)
class SearchQuery:
    """A checked search: every filter optional; ``terms`` all must match (public text, or owner name)."""

    terms: tuple[str, ...] = ()
    owner_uscc: str | None = None
    region: str | None = None
    stage: int | None = None
    status: str | None = None
    registered_from: str | None = None
    registered_to: str | None = None

    @property
    def long_terms(self) -> tuple[str, ...]:
        """Terms the trigram index can look up (≥ 3 characters)."""
        return tuple(t for t in self.terms if len(t) >= TRIGRAM)

    @property
    def short_terms(self) -> tuple[str, ...]:
        """Terms of 1–2 characters, matched with LIKE."""
        return tuple(t for t in self.terms if len(t) < TRIGRAM)

    def describe(self) -> str:
        """The query as the access log names it: ``projects?`` and its filters, in a fixed order."""
        parts = {
            "q": " ".join(self.terms) or None,
            "owner_uscc": self.owner_uscc,
            "region": self.region,
            "stage": self.stage,
            "status": self.status,
            "registered_from": self.registered_from,
            "registered_to": self.registered_to,
        }
        return "projects?" + "&".join(f"{k}={v}" for k, v in parts.items() if v is not None)


def _date(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise ValidationError(field, f"must be a date YYYY-MM-DD, got {value!r}") from None


def parse_query(
    q: str | None = None,
    owner_uscc: str | None = None,
    region: str | None = None,
    stage: int | None = None,
    status: str | None = None,
    registered_from: str | None = None,
    registered_to: str | None = None,
) -> SearchQuery:
    """A checked ``SearchQuery`` from the request's parameters, or ``ValidationError`` naming the field."""
    terms: tuple[str, ...] = ()
    if q is not None:
        if _CONTROL.search(q):
            raise ValidationError("q", "must not contain control characters")
        if len(q.strip()) > MAX_QUERY:
            raise ValidationError("q", f"must be at most {MAX_QUERY} characters, got {len(q.strip())}")
        terms = tuple(dict.fromkeys(q.split()))  # each once, in order
        if len(terms) > MAX_TERMS:
            raise ValidationError("q", f"must have at most {MAX_TERMS} terms, got {len(terms)}")
    uscc = None if owner_uscc is None else validate_uscc(owner_uscc, "owner_uscc")
    if region is not None and not _REGION.match(region.strip()):
        raise ValidationError(
            "region", f"must be a division code or its prefix (2, 4 or 6 digits), got {region!r}"
        )
    if stage is not None and not 0 <= stage <= 4:
        raise ValidationError("stage", f"must be 0 (none) to 4, got {stage}")
    if status is not None and status not in STATUSES:
        raise ValidationError("status", f"must be one of {', '.join(STATUSES)}, got {status!r}")
    since, until = _date(registered_from, "registered_from"), _date(registered_to, "registered_to")
    if since is not None and until is not None and since > until:
        raise ValidationError("registered_to", f"{until} is before registered_from {since}")
    return SearchQuery(
        terms=terms,
        owner_uscc=uscc,
        region=None if region is None else region.strip(),
        stage=stage,
        status=status,
        registered_from=since,
        registered_to=until,
    )


def fts_phrase(term: str) -> str:
    """A term as an FTS5 phrase (double quotes doubled): matched as a substring by the trigram index."""
    return '"' + term.replace('"', '""') + '"'


def like_pattern(term: str) -> str:
    """A term as a ``LIKE … ESCAPE '\\'`` pattern that matches it anywhere, its wildcards taken literally."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def region_range(prefix: str) -> tuple[str, str]:
    """The half-open range of 6-digit division codes that start with ``prefix``."""
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)
