"""Project search for members (docs/search.md): public fields for every caller, restricted ones by role
or grant — decided by ``Access``, the one implementation — and every search in the access log.

A caller's restricted text (owner names of this node's filings) may match only in projects it may
read; a project found only through text the caller may not read is not found, and nothing counts
it (no totals, no facets, no snippets). Each result shown with restricted fields is its own
access-log entry (``project.search.result``, under its role or grant), after the search's
(``project.search``, naming the query).
"""

from __future__ import annotations

import asyncio
from typing import Any

from node_api.domain.search import SearchQuery
from node_api.ledger.access import Access
from node_api.ledger.membership import Organization
from node_api.ledger.reader import Reader
from node_api.store.search import ALL_READABLE, SearchTable

MAX_PAGE = 200


class ProjectSearch:
    """Runs checked searches for a caller, within what it may see, and logs them."""

    def __init__(self, table: SearchTable, access: Access, reader: Reader) -> None:
        self.table = table
        self.access = access
        self.reader = reader

    async def search(
        self, org: Organization, query: SearchQuery, cursor: int | None, limit: int
    ) -> dict[str, Any]:
        """One page of matching projects, newest registration first, and the cursor of the next page."""
        role, granted = self.access.reading_bases(org, "fields")
        rows = self.table.find(query, ALL_READABLE if role else granted.keys(), cursor, limit + 1)
        page = rows[:limit]
        bases = {str(r["project"]): role or granted.get(str(r["project"])) for r in page}
        readable = [r for r in page if bases[str(r["project"])]]
        opened = self.reader.opened_fields([str(r["registration"]) for r in readable])
        names = self.table.owner_names([str(r["code"]) for r in readable])
        items = []
        for r in page:
            item = _public(r)
            if bases[str(r["project"])]:
                # None: the restricted content is not held here (GET /v1/projects/{code} fetches it)
                item["total_investment"] = opened.get(str(r["registration"]), {}).get("total_investment")
                item["owner_name"] = names.get(str(r["code"]))
            items.append(item)
        subject = query.describe() + ("" if cursor is None else f"&cursor={cursor}")
        await asyncio.gather(
            self.access.log(org, "project.search", subject, None, role or ("grants" if granted else "public")),
            *(self.access.log(org, "project.search.result", str(r["code"]), str(r["code"]),
                              str(bases[str(r["project"])])) for r in readable),
        )  # fmt: skip
        return {"projects": items, "next_cursor": int(page[-1]["id"]) if len(rows) > limit else None}


def _public(r: Any) -> dict[str, Any]:
    """A search row's public fields, as the project summary names them."""
    return {
        "code": r["code"],
        "name": r["name"],
        "owner_uscc": r["owner_uscc"],
        "project_type": r["project_type"],
        "region_code": r["region"],
        "industry_code": r["industry"],
        "status": r["status"],
        "stage_reached": r["stage"],
        "registered_on": r["registered_on"],
        "registration": {"uid": r["registration"], "block_number": r["registration_block"]},
    }
