"""Notifications that reach people: webhook subscriptions and their signed, durable delivery.

An organisation subscribes a URL to events (``record``: a record newly on the ledger;
``warning``: a risk warning opened, changed or closed), narrowed by filters. The primary process
follows the index by rowid and the warnings' history by seq (rows of both are only ever
appended), each from its own cursor kept in the database: each range of new rows is matched
against the subscriptions and the deliveries it yields are queued **in the same commit as the
cursor past it** (``SubscriptionTable.enqueue``), so nothing is lost or queued twice across a
crash. A subscription hears of the warning transitions stored after it was made. A delivery is one (subscription, event): its
id is derived from both, so every attempt — after a 500, a timeout or a node restart — carries
the same id, and a receiver deduplicates on it (at-least-once). A delivery is marked delivered
only after a 2xx; failed attempts are retried with exponential backoff until
``webhook_max_attempts``, then the delivery is dead until the subscriber redelivers it.

Who sees what: a subscription delivers only what its organisation may read, decided when the
event is queued and again before every attempt. An organisation reading by role, or under a
live grant covering records, gets the record as ``GET /v1/records/{uid}`` shows it (its
restricted fields where this node holds them), and each such delivery is an access-log entry
like a read; a grant of documents only gets the public fields; without either nothing is
queued at all — the subscription's delivery list does not even count it.

Body and signature: docs/notifications.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import fnmatch
import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

import httpx

from node_api.config import Settings
from node_api.domain.project_code import project_facts
from node_api.domain.records import Kind, PayloadError, decode_payload
from node_api.errors import ConflictError, NotFoundError, ValidationError
from node_api.ledger.access import CURRENT_TOKEN, Access
from node_api.ledger.membership import Membership, Organization
from node_api.ledger.reader import Reader, kind_name
from node_api.ledger.supervision import warning_view
from node_api.store.index import IndexTable
from node_api.store.subscriptions import WARNING_CURSOR, DeliveryState, SecretVault, SubscriptionTable
from node_api.store.warnings import WarningTable

log = logging.getLogger("projchain.notifications")

EVENTS = ("record", "warning")
POLL = 1.0  # seconds between looks at the index and the queue when nothing wakes the loop
SCAN_BATCH = 1000  # index rows matched per commit
_MAX_ERROR = 300  # characters of an attempt's error kept for the subscriber

# Filters a subscription may carry (the API validates their values): all given must match,
# any value of a list may. ``kinds`` narrows records only, ``rules`` warnings only.
FILTERS = ("project_codes", "owner_usccs", "regions", "kinds", "rules", "watch")


def url_problem(url: str, allowed_hosts: list[str]) -> str | None:
    """Why ``url`` may not receive webhooks (None: it may).

    Only http and https, with a host and without credentials; when ``allowed_hosts`` is not
    empty the host must match one of its shell-style patterns (case-insensitive).
    """
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return "is not a well-formed URL"
    if parts.scheme not in ("http", "https"):
        return "must be an http:// or https:// URL"
    if not host:
        return "must name a host"
    if parts.username is not None or parts.password is not None:
        return "must not carry credentials (the signature authenticates the node to the receiver)"
    if parts.fragment:
        return "must not carry a fragment"
    if allowed_hosts and not any(fnmatch.fnmatchcase(host.lower(), p.lower()) for p in allowed_hosts):
        return f"host {host} is not among this node's allowed webhook destinations (PROJCHAIN_WEBHOOK_ALLOWED_HOSTS)"
    return None


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Projchain-Signature`` value: ``sha256=`` hex HMAC-SHA256 of ``timestamp.body``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def delivery_id(subscription_id: str, event_key: str) -> str:
    """The idempotent id of one event's delivery to one subscription (the same for every attempt)."""
    return "dlv_" + hashlib.sha256(f"{subscription_id}/{event_key}".encode()).hexdigest()[:32]


def backoff(settings: Settings, attempts: int) -> float | None:
    """Seconds to wait after the ``attempts``-th failed attempt; None when it was the last."""
    if attempts >= settings.webhook_max_attempts:
        return None
    return float(min(settings.webhook_retry_max, settings.webhook_retry_base * 2 ** (attempts - 1)))


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Facts:
    """What filters are matched against: one event's project and kind (or rule)."""

    project_code: str | None
    owner_usccs: frozenset[str]
    region: str | None
    kind: str | None = None  # a record's kind name
    rule: str | None = None  # a warning's rule id


def matches(filters: dict[str, Any], event: str, facts: Facts) -> bool:
    """Whether an event of type ``event`` with ``facts`` passes a subscription's filters (``watch`` aside)."""
    if "project_codes" in filters and facts.project_code not in filters["project_codes"]:
        return False
    if "owner_usccs" in filters and not facts.owner_usccs & set(filters["owner_usccs"]):
        return False
    if "regions" in filters and not any((facts.region or "").startswith(p) for p in filters["regions"]):
        return False
    if event == "record" and "kinds" in filters and facts.kind not in filters["kinds"]:
        return False
    return not (event == "warning" and "rules" in filters and facts.rule not in filters["rules"])


class Notifications:
    """Subscriptions (the API's side) and the delivery queue (the primary's background task)."""

    def __init__(
        self,
        settings: Settings,
        table: SubscriptionTable,
        vault: SecretVault,
        index: IndexTable,
        reader: Reader,
        membership: Membership,
        access: Access,
        warnings: WarningTable,
        index_updated: asyncio.Event | None = None,
    ) -> None:
        self.settings = settings
        self.table = table
        self.warnings = warnings
        self.vault = vault
        self.index = index
        self.reader = reader
        self.membership = membership
        self.access = access
        self.index_updated = index_updated
        self._wake = asyncio.Event()

    # -- subscriptions ----------------------------------------------------------------------
    def subscribe(
        self, org: Organization, url: str, filters: dict[str, Any], events: list[str]
    ) -> dict[str, Any]:
        """A new subscription of ``org``; its view with the signing secret, which is never shown again."""
        problem = url_problem(url, self.settings.webhook_allowed_hosts)
        if problem is not None:
            raise ValidationError("url", problem)
        unknown = set(filters) - set(FILTERS)
        if unknown:
            raise ValidationError("filters", f"unknown filter {sorted(unknown)[0]!r}")
        if self.table.count_active(org.id) >= self.settings.webhook_max_subscriptions:
            raise ConflictError(
                f"{org.name} has {self.settings.webhook_max_subscriptions} active subscriptions, the most a node "
                "keeps for one organisation; delete one first"
            )
        subscription_id = "sub_" + secrets.token_hex(12)
        secret = "whsec_" + secrets.token_urlsafe(32)
        self.table.insert(
            subscription_id, org.id, url, json.dumps(filters, ensure_ascii=False, sort_keys=True),
            json.dumps(events), self.vault.seal(subscription_id, secret), CURRENT_TOKEN.get(), time.time(),
        )  # fmt: skip
        log.info("subscription %s of organisation %d created", subscription_id, org.id)
        return {**self.subscription(org, subscription_id), "secret": secret}

    def subscriptions(self, org: Organization) -> list[dict[str, Any]]:
        """The organisation's subscriptions, newest first, with their deliveries counted per state."""
        rows = self.table.of_org(org.id)
        counts = self.table.counts([str(r["id"]) for r in rows])
        return [_subscription_view(r, counts.get(str(r["id"]), {})) for r in rows]

    def subscription(self, org: Organization, subscription_id: str) -> dict[str, Any]:
        """One of the organisation's subscriptions (404 for anyone else's)."""
        row = self._own(org, subscription_id)
        return _subscription_view(row, self.table.counts([subscription_id]).get(subscription_id, {}))

    def deliveries(
        self, org: Organization, subscription_id: str, state: str | None, before: int | None, limit: int
    ) -> list[dict[str, Any]]:
        """A subscription's deliveries, newest first (``before``: a ``seq`` to page back from)."""
        self._own(org, subscription_id)
        return [_delivery_view(r) for r in self.table.deliveries(subscription_id, state, before, limit)]

    def deactivate(self, org: Organization, subscription_id: str) -> dict[str, Any]:
        """Stops a subscription (kept, marked deactivated); its open deliveries become dead."""
        self._own(org, subscription_id)
        self.table.deactivate(subscription_id, time.time())
        log.info("subscription %s of organisation %d deactivated", subscription_id, org.id)
        return self.subscription(org, subscription_id)

    def redeliver(self, org: Organization, subscription_id: str, delivery: str) -> dict[str, Any]:
        """Puts a dead delivery back in the queue, same id, its attempts counted afresh."""
        row = self._own(org, subscription_id)
        if row["deactivated_at"] is not None:
            raise ConflictError(f"subscription {subscription_id} is deactivated")
        found = self.table.delivery(subscription_id, delivery)
        if found is None:
            raise NotFoundError(f"subscription {subscription_id} has no delivery {delivery}")
        if not self.table.redeliver(delivery, time.time()):
            raise ConflictError(
                f"delivery {delivery} is {found['state']}; only a dead delivery is redelivered"
            )
        self._wake.set()
        updated = self.table.delivery(subscription_id, delivery)
        assert updated is not None
        return _delivery_view(updated)

    def _own(self, org: Organization, subscription_id: str) -> Any:
        row = self.table.get(subscription_id)
        if row is None or int(row["org_id"]) != org.id:
            raise NotFoundError(f"{org.name} has no subscription {subscription_id}")
        return row

    # -- who may see what --------------------------------------------------------------------
    def visibility(self, org: Organization, project: str) -> tuple[str, str | None] | None:
        """("full", basis) when ``org`` reads the project's records, ("public", grant) with a grant of
        documents only, None when it may not read the project at all."""
        if org.suspended:
            return None
        basis = self.access.project_basis(org, project, "records")
        if basis is not None:
            return "full", basis
        grant = self.access.live_grant(org, project, "documents")
        return None if grant is None else ("public", f"grant:{grant}")

    def _granted(self, org: Organization, project: str) -> bool:
        """Whether ``org`` holds a live grant (of any scope) on the project: the watch list."""
        return (
            self.access.live_grant(org, project, "records") is not None
            or self.access.live_grant(org, project, "documents") is not None
        )

    # -- filling the queue -------------------------------------------------------------------
    def scan(self) -> int:
        """Queues the deliveries of new records and warning transitions; how many were queued."""
        return self.scan_records() + self.scan_warnings()

    def scan_records(self) -> int:
        """Queues the deliveries of records indexed since the cursor; how many were queued.

        The index is read before the subscriptions (see ``SubscriptionTable.insert``). Rows up
        to the oldest subscription's start concern no subscription, so without any there is
        nothing to do (nothing written), and the first scan after one is made starts there.
        """
        now = time.time()
        newest = self.index.last_rowid()
        subs = self._record_subscriptions()
        if not subs:
            return 0
        cursor = max(self.table.cursor() or 0, min(int(s["from_rowid"]) for s in subs))
        queued = 0
        while newest > cursor:
            rows = self.index.records_after(cursor, SCAN_BATCH)
            if not rows:
                break
            subs = self._record_subscriptions()
            queued += self.table.enqueue(self._match(rows, subs), int(rows[-1]["rowid"]), now)
            cursor = int(rows[-1]["rowid"])
            if len(rows) < SCAN_BATCH:
                break
        return queued

    def _subscriptions_to(self, event: str) -> list[Any]:
        return [s for s in self.table.active() if event in json.loads(s["events"])]

    def _record_subscriptions(self) -> list[Any]:
        return self._subscriptions_to("record")

    def scan_warnings(self) -> int:
        """Queues the deliveries of warning transitions stored since the cursor; how many were queued.

        Without a warning subscription nothing is written; the first scan after one is made starts
        where the cursor was (or the beginning), and a subscription skips what came before it.
        """
        subs = self._subscriptions_to("warning")
        if not subs:
            return 0
        now = time.time()
        cursor = self.table.cursor(WARNING_CURSOR) or 0
        queued = 0
        while True:
            rows = self.warnings.transitions_after(cursor, SCAN_BATCH)
            if not rows:
                return queued
            cursor = int(rows[-1]["seq"])
            queued += self.table.enqueue(self._match_warnings(rows, subs), cursor, now, WARNING_CURSOR)
            if len(rows) < SCAN_BATCH:
                return queued

    def _match_warnings(self, rows: list[Any], subs: list[Any]) -> list[tuple[object, ...]]:
        filters_of = {str(s["id"]): json.loads(s["filters"]) for s in subs}
        facts: dict[str, Facts] = {}
        seen: dict[tuple[int, str], bool] = {}
        out: list[tuple[object, ...]] = []
        for r in rows:
            project = str(r["project"])
            if project not in facts:
                facts[project] = self._facts(project, 0)
            f = dataclasses.replace(facts[project], kind=None, rule=str(r["rule"]))
            for s in subs:
                if float(r["at"]) < float(s["created_at"]):
                    continue
                filters = filters_of[str(s["id"])]
                if not matches(filters, "warning", f):
                    continue
                org = self.membership.get(int(s["org_id"]))
                if org is None:
                    continue
                # Who hears of a warning is who reads it in GET /v1/warnings: a reading role, or a
                # live grant (records or documents) on its project — ``visibility`` decides both.
                if (org.id, project) not in seen:
                    seen[org.id, project] = self.visibility(org, project) is not None
                if not seen[org.id, project]:
                    continue
                if filters.get("watch") == "granted" and not self._granted(org, project):
                    continue
                event_key = f"warning:{r['warning_id']}:{r['transition']}:{r['seq']}"
                out.append(
                    (delivery_id(s["id"], event_key), s["id"], event_key, "warning", str(r["seq"]), project,
                     r["project_code"])
                )  # fmt: skip
        return out

    def _match(self, rows: list[Any], subs: list[Any]) -> list[tuple[object, ...]]:
        filters_of = {str(s["id"]): json.loads(s["filters"]) for s in subs}
        facts: dict[tuple[str, int], Facts] = {}
        seen: dict[tuple[int, str], tuple[str, str | None] | None] = {}
        granted: dict[tuple[int, str], bool] = {}
        out: list[tuple[object, ...]] = []
        for r in rows:
            project, kind = str(r["project"]), int(r["kind"])
            if int(project, 16) == 0:
                continue  # access-log anchors belong to no project
            key = (project, kind)
            if key not in facts:
                facts[key] = self._facts(project, kind)
            f = facts[key]
            for s in subs:
                if int(r["rowid"]) <= int(s["from_rowid"]):
                    continue
                filters = filters_of[str(s["id"])]
                if not matches(filters, "record", f):
                    continue
                org = self.membership.get(int(s["org_id"]))
                if org is None:
                    continue
                if (org.id, project) not in seen:
                    seen[org.id, project] = self.visibility(org, project)
                if seen[org.id, project] is None:
                    continue
                if filters.get("watch") == "granted":
                    if (org.id, project) not in granted:
                        granted[org.id, project] = self._granted(org, project)
                    if not granted[org.id, project]:
                        continue
                event_key = f"record:{r['uid']}"
                out.append(
                    (
                        delivery_id(s["id"], event_key),
                        s["id"],
                        event_key,
                        "record",
                        r["uid"],
                        project,
                        f.project_code,
                    )
                )
        return out

    def _facts(self, project: str, kind: int) -> Facts:
        code = self.index.project_code(project)
        owners: set[str] = set()
        declared: dict[str, Any] = {}
        for row in self.index.registrations(project):
            with contextlib.suppress(PayloadError):
                fields = decode_payload(Kind.PROJECT, bytes(row["payload"]))
                owners.add(str(fields["owner_uscc"]))
                declared = fields
        region = project_facts(code, declared)["region_code"] if code else None
        return Facts(code, frozenset(owners), None if region is None else str(region), kind_name(kind))

    # -- working the queue -------------------------------------------------------------------
    async def run(self) -> None:
        """Primary: queues new events and delivers due ones, forever; errors only delay it."""
        if self.settings.env == "production" and not self.settings.webhook_allowed_hosts:
            log.warning(
                "webhooks may go to any host: set PROJCHAIN_WEBHOOK_ALLOWED_HOSTS to the members' receivers"
            )
        inflight: dict[str, asyncio.Task[None]] = {}
        timeout = httpx.Timeout(self.settings.webhook_timeout)
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            try:
                while True:
                    try:
                        self.scan()
                        self._dispatch(client, inflight)
                        await self._pause(inflight)
                    except Exception:  # a bug or a busy database must not stop deliveries for good
                        log.exception("notifications: unexpected error")
                        await asyncio.sleep(1.0)
            finally:
                for task in inflight.values():
                    task.cancel()
                await asyncio.gather(*inflight.values(), return_exceptions=True)

    def _dispatch(self, client: httpx.AsyncClient, inflight: dict[str, asyncio.Task[None]]) -> None:
        room = self.settings.webhook_concurrency - len(inflight)
        if room <= 0:
            return
        for row in self.table.due(time.time(), room, set(inflight)):
            did = str(row["id"])
            task = asyncio.create_task(self._attempt_logged(client, row), name=f"webhook {did}")
            inflight[did] = task

            def done(_task: asyncio.Task[None], did: str = did) -> None:
                inflight.pop(did, None)
                self._wake.set()

            task.add_done_callback(done)

    async def _pause(self, inflight: dict[str, asyncio.Task[None]]) -> None:
        """Until the index moved, an attempt ended, a dead letter was redelivered or the next retry is due."""
        wait = POLL
        if len(inflight) < self.settings.webhook_concurrency:
            due = self.table.next_due(set(inflight))
            if due is not None:
                wait = max(0.0, min(wait, due - time.time()))
        if wait <= 0:
            await asyncio.sleep(0)
            return
        waiters = [asyncio.ensure_future(self._wake.wait())]
        if self.index_updated is not None:
            waiters.append(asyncio.ensure_future(self.index_updated.wait()))
        try:
            await asyncio.wait(waiters, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()
            self._wake.clear()

    async def _attempt_logged(self, client: httpx.AsyncClient, row: Any) -> None:
        try:
            await self.attempt(client, row)
        except Exception:  # the row stays open: tried again, after a pause (it stays in flight meanwhile)
            log.exception("notifications: attempt at delivery %s failed in the node", row["id"])
            await asyncio.sleep(1.0)

    async def attempt(self, client: httpx.AsyncClient, row: Any) -> None:
        """One attempt at one delivery; its outcome is written before it returns."""
        did, attempts = str(row["id"]), int(row["attempts"]) + 1
        try:
            prepared = await self._prepare(row)
        except Exception:
            log.exception("notifications: delivery %s could not be prepared", did)
            self._failed(did, attempts, None, "the node could not prepare the delivery")
            return
        if isinstance(prepared, str):  # may not be sent (any more): dead, and nothing was sent
            self.table.failed(did, int(row["attempts"]), None, prepared, None)
            return
        url, body, secret, event = prepared
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": f"projchain-webhooks ({self.settings.node_name})",
            "X-Projchain-Id": did,
            "X-Projchain-Event": event,
            "X-Projchain-Subscription": str(row["subscription_id"]),
            "X-Projchain-Timestamp": timestamp,
            "X-Projchain-Signature": signature(secret, timestamp, body),
        }
        try:
            # Streamed, so a receiver's answer body is never read into memory: only its status counts.
            async with client.stream("POST", url, content=body, headers=headers) as reply:
                status = reply.status_code
        except httpx.HTTPError as e:
            self._failed(did, attempts, None, f"{type(e).__name__}: {e}" if str(e) else type(e).__name__)
            return
        if 200 <= status < 300:
            self.table.delivered(did, status, attempts, time.time())
            return
        self._failed(did, attempts, status, f"HTTP {status}")

    def _failed(self, did: str, attempts: int, status: int | None, error: str) -> None:
        delay = backoff(self.settings, attempts)
        self.table.failed(
            did, attempts, status, error[:_MAX_ERROR], None if delay is None else time.time() + delay
        )
        if delay is None:
            log.warning(
                "notifications: delivery %s is dead after %d attempts: %s", did, attempts, error[:_MAX_ERROR]
            )

    async def _prepare(self, row: Any) -> tuple[str, bytes, str, str] | str:
        """(url, body, secret, event type) of an attempt, or why the delivery may not be sent."""
        sub = self.table.get(str(row["subscription_id"]))
        if sub is None or sub["deactivated_at"] is not None:
            return "subscription deactivated"
        org = self.membership.get(int(sub["org_id"]))
        if org is None or org.suspended:
            return "the organisation is suspended"
        url = str(sub["url"])
        problem = url_problem(url, self.settings.webhook_allowed_hosts)
        if problem is not None:
            return f"url {problem}"
        project, subject = str(row["project"]), str(row["subject"])
        seen = self.visibility(org, project)
        if seen is None:
            return "the organisation may no longer read this project"
        tier, basis = seen
        extra: dict[str, Any] = {}
        if row["type"] == "warning":
            found = self._warning(int(subject))
            if found is None:
                return "the warning is no longer stored"
            view, extra = found
            action, logged = "webhook.warning", f"warning:{view['id']}"
        else:
            record = self.reader.record(subject, opened=tier == "full")
            if record is None:
                return "the record is no longer on the ledger"
            view, action, logged = record, "webhook.record", subject
        if (tier == "full" or row["type"] == "warning") and int(row["attempts"]) == 0:
            # Like a read, logged before the content leaves; once per delivery (and per redelivery).
            await self.access.log(org, action, logged, row["project_code"], str(basis))
        envelope = {
            "id": row["id"],
            "type": row["type"],
            "subscription": sub["id"],
            "created_at": _iso(float(row["created_at"])),
            "visibility": tier,
            **extra,
            "data": view,
        }
        body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), default=str).encode()
        secret = self.vault.unseal(str(sub["id"]), bytes(sub["secret"]))
        return url, body, secret, str(row["type"])

    def _warning(self, seq: int) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """A warning transition's stored warning as GET /v1/warnings shows it, and the transition."""
        transition = self.warnings.transition(seq)
        if transition is None:
            return None
        warning_id = int(transition["warning_id"])
        row = self.warnings.get(warning_id)
        if row is None:
            return None
        history = self.warnings.history([warning_id])[warning_id]
        return warning_view(row, history), {
            "transition": {"name": transition["transition"], "at": _iso(float(transition["at"])), "seq": seq}
        }


def _subscription_view(row: Any, counts: dict[str, int]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "url": row["url"],
        "events": json.loads(row["events"]),
        "filters": json.loads(row["filters"]),
        "active": row["deactivated_at"] is None,
        "created_at": _iso(float(row["created_at"])),
        "deactivated_at": _iso(row["deactivated_at"]),
        "deliveries": {str(s): counts.get(str(s), 0) for s in DeliveryState},
    }


def _delivery_view(row: Any) -> dict[str, Any]:
    open_ = row["state"] in (DeliveryState.PENDING, DeliveryState.FAILING)
    return {
        "id": row["id"],
        "seq": row["seq"],
        "type": row["type"],
        "subject": row["subject"],
        "project_code": row["project_code"],
        "created_at": _iso(float(row["created_at"])),
        "state": row["state"],
        "attempts": row["attempts"],
        "last_status": row["last_status"],
        "last_error": row["last_error"],
        "next_attempt_at": _iso(float(row["next_at"])) if open_ else None,
        "delivered_at": _iso(row["delivered_at"]),
    }
