"""The search phase (docs/search.md): ``GET /v1/projects`` by owner USCC and by Chinese name on the filled
ledger, after more projects are registered so that the search table holds ``projects`` of them.

Project names combine a town of 庄浪县 and a kind of works (``庄浪县水洛镇医院工程 123``), so a name
query matches a realistic share of the table: a town and kind (≥ 3 characters, the trigram index) about
one project in ``len(TOWNS) * len(KINDS)``, a kind alone of 2 characters (医院: the LIKE fallback, a scan)
one in ``len(KINDS)``. Requests go one after another with the bank's token (each is access-logged, as in
production); only answers that are 200 with the expected projects count.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from bench.workload import owner_uscc

TOWNS = ("水洛镇", "南湖镇", "朱店镇", "万泉镇", "韩店镇", "阳川镇", "卧龙镇", "柳梁镇", "永宁镇", "良邑镇",
         "通化镇", "岳堡镇", "南坪镇", "大庄镇", "郑河乡", "杨河乡", "赵墩乡", "盘安镇")  # fmt: skip
KINDS = ("医院", "学校", "道路", "供水", "光伏", "市场", "污水", "住宅", "园区", "养殖")
REGISTER_CHUNK = 1000
REGISTER_CLIENTS = 4
NUMBERS_FROM = 50_000_000  # owner USCCs and names of this phase's projects: apart from the other phases'


def search_project_item(code: str, n: int) -> dict[str, Any]:
    """A ``type: project`` batch item whose name is searchable by town and kind."""
    town, kind = TOWNS[n % len(TOWNS)], KINDS[(n // len(TOWNS)) % len(KINDS)]
    return {
        "type": "project",
        "code": code,
        "name": f"庄浪县{town}{kind}工程 {n}",
        "owner_uscc": owner_uscc(n),
        "project_type": "approval",
        "region_code": "620825",
        "industry_code": code[12:14],
        "total_investment": f"{2_000_000 + n * 41}.00",
    }


async def register(post: Callable[..., Awaitable[Any]], token: str, codes: list[tuple[int, str]]) -> None:
    """Registers ``codes`` (number, code) through the batch endpoint, a few clients at once; the caller waits
    until the outbox is drained."""
    chunks = iter(range(0, len(codes), REGISTER_CHUNK))

    async def client() -> None:
        for i in chunks:
            items = [search_project_item(c, n) for n, c in codes[i : i + REGISTER_CHUNK]]
            out = await post("/v1/records:batch?wait=true", {"records": items}, token, timeout=600)
            # "pending": accepted, not yet confirmed when ?wait=true gave up (a loaded machine); the caller drains
            bad = [r for r in out["results"] if r.get("state") not in ("confirmed", "pending")]
            if bad:
                raise RuntimeError(f"project registration failed: {bad[:3]}")

    await asyncio.gather(*(client() for _ in range(REGISTER_CLIENTS)))


def _latency_ms(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p99": None, "max": None}
    ordered = sorted(values)

    def pct(p: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 2)

    return {"p50": pct(50), "p99": pct(99), "max": round(1000 * ordered[-1], 2)}


async def measure(
    url: str, token: str, numbers: list[int], requests: int, rng: random.Random
) -> dict[str, Any]:
    """p50/p99 of a USCC search, a town-and-kind name search and a 2-character name search."""
    headers = {"Authorization": f"Bearer {token}"}

    def by_uscc() -> tuple[dict[str, Any], Callable[[list[dict[str, Any]]], bool]]:
        uscc = owner_uscc(rng.choice(numbers))
        return {"owner_uscc": uscc}, lambda ps: len(ps) == 1 and ps[0]["owner_uscc"] == uscc

    def by_name() -> tuple[dict[str, Any], Callable[[list[dict[str, Any]]], bool]]:
        q = rng.choice(TOWNS) + rng.choice(KINDS)
        return {"q": q}, lambda ps: bool(ps) and all(q in p["name"] for p in ps)

    def by_short_name() -> tuple[dict[str, Any], Callable[[list[dict[str, Any]]], bool]]:
        q = rng.choice(KINDS)
        return {"q": q}, lambda ps: bool(ps) and all(q in p["name"] for p in ps)

    kinds: dict[str, Callable[[], tuple[dict[str, Any], Callable[[list[dict[str, Any]]], bool]]]] = {
        "uscc": by_uscc, "name": by_name, "name_2_chars": by_short_name,
    }  # fmt: skip
    out: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as c:
        for label, make in kinds.items():
            times: list[float] = []
            errors = 0
            for i in range(requests + 10):
                params, ok = make()
                t0 = time.perf_counter()
                r = await c.get("/v1/projects", params=params)
                elapsed = time.perf_counter() - t0
                if r.status_code != 200 or not ok(r.json()["projects"]):
                    errors += 1
                elif i >= 10:  # the first ten warm the caches and are not counted
                    times.append(elapsed)
            out[label] = {"requests": len(times), "errors": errors, "latency_ms": _latency_ms(times)}
    return out
