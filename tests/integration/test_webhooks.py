"""Signed webhooks from a real node to a real HTTP receiver (docs/notifications.md).

The node is this module's own (``projchain run --demo``) with short retries, so a failing
receiver is retried within a second and given up on after a few seconds; the receiver is a
stdlib HTTP server in a thread (tests/support/receiver.py) that checks every signature.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from localnode import NodeProcess
from tests.integration.test_supervision import accept, fresh_item
from tests.support.api import write_confirmed
from tests.support.polling import wait_until
from tests.support.receiver import Receiver, verify
from tests.support.records import DIGEST, approval_body, grant_bank, register, unique_code

pytestmark = pytest.mark.chain

MAX_ATTEMPTS = 10  # with base 0.2 s and max 1 s: dead ≈ 8.4 s after the first attempt
SETTINGS = {
    "PROJCHAIN_WEBHOOK_RETRY_BASE": "0.2",
    "PROJCHAIN_WEBHOOK_RETRY_MAX": "1.0",
    "PROJCHAIN_WEBHOOK_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
    "PROJCHAIN_WEBHOOK_TIMEOUT": "5",
    "PROJCHAIN_WEBHOOK_ALLOWED_HOSTS": '["127.0.0.1", "*.example.cn"]',  # the receivers run on 127.0.0.1
}


_SERIAL = itertools.count(1)


@pytest.fixture(scope="module")
def hooks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    """A node of this module's own, with retries in fractions of a second (it is killed once)."""
    node = NodeProcess(tmp_path_factory.mktemp("webhooks"), env=SETTINGS)
    node.start()
    yield node
    node.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.release.set()
    r.down()


def subscribe(node: NodeProcess, org: str, receiver: Receiver, **body: Any) -> dict[str, Any]:
    """Subscribes ``receiver`` as ``org``; the receiver learns the secret."""
    with node.client(org) as c:
        r = c.post("/v1/subscriptions", json={"url": receiver.url, **body})
    assert r.status_code == 201, r.text
    sub: dict[str, Any] = r.json()
    receiver.secrets[sub["id"]] = sub["secret"]
    return sub


def subscription(node: NodeProcess, org: str, sid: str) -> dict[str, Any]:
    with node.client(org) as c:
        r = c.get(f"/v1/subscriptions/{sid}")
    assert r.status_code == 200, r.text
    view: dict[str, Any] = r.json()
    return view


def deliveries(node: NodeProcess, org: str, sid: str) -> list[dict[str, Any]]:
    with node.client(org) as c:
        r = c.get(f"/v1/subscriptions/{sid}/deliveries", params={"limit": 500})
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["deliveries"]
    return found


def approve(node: NodeProcess, code: str, n: int, org: str = "fgj", wait: bool = True) -> list[str]:
    """``n`` approvals of project ``code`` (confirmed on chain unless ``wait`` is False); their uids."""
    uids = []
    with node.client(org) as c:
        for _ in range(n):
            n_ = next(_SERIAL)  # each approval its own content (same content = same uid)
            body = approval_body(document_no=f"庄发改发〔2026〕{n_}号")  # a demo catalogue item of 发改局
            if wait:
                uids.append(write_confirmed(c, f"/v1/projects/{code}/approvals", body))
            else:
                r = c.post(f"/v1/projects/{code}/approvals", json=body)
                assert r.status_code == 202, r.text
                uids.append(r.json()["uid"])
    return uids


def test_a_new_record_arrives_signed_and_the_receiver_verifies_it(
    hooks: NodeProcess, receiver: Receiver
) -> None:
    receiver.up()
    code = unique_code()
    sub = subscribe(hooks, "fgj", receiver, events=["record"], filters={"project_codes": [code]})
    assert (
        sub["secret"].startswith("whsec_") and sub["active"] and sub["filters"] == {"project_codes": [code]}
    )
    project_uid = register(hooks, code)
    [approval_uid] = approve(hooks, code, 1)
    got = wait_until(lambda: len(receiver.subjects(sub["id"])) == 2, 30, "both records delivered")
    assert got and set(receiver.subjects(sub["id"])) == {project_uid, approval_uid}
    for r in receiver.got():
        assert r.verified, r.headers
        assert not verify(sub["secret"], r.headers, r.body + b" ")  # a changed body does not verify
        assert not verify("whsec_other", r.headers, r.body)
        body = r.json
        assert body["id"] == r.id and body["id"].startswith("dlv_")
        assert (body["type"], body["subscription"], body["visibility"]) == ("record", sub["id"], "full")
        assert abs(int(r.headers["x-projchain-timestamp"]) - time.time()) < 120
        assert body["data"]["project_code"] == code and body["data"]["state"] == "confirmed"
    registration = next(r.json["data"] for r in receiver.got() if r.json["data"]["uid"] == project_uid)
    assert registration["fields"]["total_investment"] == "12500000.50"  # restricted, read by role
    # The receiver keeps a request before it answers; the node marks it delivered once it has read the answer.
    view = wait_until(
        lambda: (v := subscription(hooks, "fgj", sub["id"]))["deliveries"]["delivered"] == 2 and v,
        30, "both deliveries marked delivered",
    )  # fmt: skip
    assert "secret" not in view
    assert {(d["subject"], d["state"], d["attempts"]) for d in view["recent"]} == {
        (project_uid, "delivered", 1), (approval_uid, "delivered", 1),
    }  # fmt: skip
    with hooks.client("fgj") as c:
        listed = c.get("/v1/subscriptions").json()["subscriptions"]
    assert sub["id"] in {s["id"] for s in listed} and all("secret" not in s for s in listed)
    # Each delivery of restricted content is in the access log, like a read.
    with hooks.client("sjj") as c:
        log = c.get("/v1/audit/access-log", params={"project_code": code}).json()["entries"]
    sent = [json.loads(e["entry"]) for e in log]
    sent = [e for e in sent if e["action"] == "webhook.record"]
    assert sorted(e["subject"] for e in sent) == sorted([project_uid, approval_uid])
    assert {(e["org_id"], e["basis"]) for e in sent} == {(hooks.org_ids["fgj"], "role:approval_authority")}


def test_a_receiver_that_answers_500_then_200_gets_it_once_with_the_same_id(
    hooks: NodeProcess, receiver: Receiver
) -> None:
    code = unique_code()
    register(hooks, code)
    receiver.answers = [500, 503]
    receiver.up()
    sub = subscribe(hooks, "zrzyj", receiver, filters={"project_codes": [code], "kinds": ["approval"]})
    [uid] = approve(hooks, code, 1)
    wait_until(lambda: receiver.subjects(sub["id"]), 30, "the approval delivered after two failures")
    tries = receiver.got(None)
    assert [r.answered for r in tries] == [500, 503, 200]
    assert len({r.id for r in tries}) == 1 and all(r.verified for r in tries)
    assert {r.json["data"]["uid"] for r in tries} == {uid}
    [d] = wait_until(
        lambda: (ds := deliveries(hooks, "zrzyj", sub["id"]))[0]["state"] == "delivered" and ds,
        30, "the delivery marked delivered once the node read the 200",
    )  # fmt: skip
    assert (d["state"], d["attempts"], d["last_status"], d["last_error"]) == ("delivered", 3, 200, None)


def test_a_receiver_that_is_down_for_a_while_gets_everything_after_it_comes_back(
    hooks: NodeProcess, receiver: Receiver
) -> None:
    code = unique_code()
    register(hooks, code)
    sub = subscribe(hooks, "fgj", receiver, filters={"project_codes": [code]})  # the receiver is not up
    uids = approve(hooks, code, 4, wait=False)  # likely in one block: their retries keep step

    def all_failing() -> bool:
        ds = deliveries(hooks, "fgj", sub["id"])
        return len(ds) == 4 and all(d["state"] == "failing" and d["attempts"] >= 2 for d in ds)

    wait_until(all_failing, 30, "each delivery failed twice while the receiver was down")
    d = deliveries(hooks, "fgj", sub["id"])[0]
    assert "ConnectError" in d["last_error"] and d["last_status"] is None and d["next_attempt_at"]
    receiver.up()
    wait_until(lambda: len(receiver.subjects(sub["id"])) == 4, 30, "all four delivered once it is back")
    assert set(receiver.subjects(sub["id"])) == set(uids)
    wait_until(
        lambda: subscription(hooks, "fgj", sub["id"])["deliveries"] == {
            "pending": 0, "failing": 0, "delivered": 4, "dead": 0,
        },
        30, "all four marked delivered",
    )  # fmt: skip


def test_a_dead_letter_is_redelivered_with_its_id(hooks: NodeProcess, receiver: Receiver) -> None:
    code = unique_code()
    register(hooks, code)
    receiver.always = 500
    receiver.up()
    sub = subscribe(hooks, "fgj", receiver, filters={"project_codes": [code]})
    [uid] = approve(hooks, code, 1)
    wait_until(lambda: deliveries(hooks, "fgj", sub["id"])[0]["state"] == "dead", 60, "the delivery is dead")
    [dead] = deliveries(hooks, "fgj", sub["id"])
    assert (dead["attempts"], dead["last_status"], dead["last_error"]) == (MAX_ATTEMPTS, 500, "HTTP 500")
    assert dead["next_attempt_at"] is None
    assert len(receiver.got(500)) == MAX_ATTEMPTS
    receiver.always = 200
    with hooks.client("fgj") as c:
        r = c.post(f"/v1/subscriptions/{sub['id']}/redeliver/{dead['id']}")
        assert r.status_code == 202, r.text
        assert r.json()["state"] == "pending" and r.json()["id"] == dead["id"]
        wait_until(lambda: receiver.subjects(sub["id"]), 30, "the redelivered letter arrives")
        assert receiver.subjects(sub["id"]) == {uid: dead["id"]}
        again = c.post(f"/v1/subscriptions/{sub['id']}/redeliver/{dead['id']}")
        assert again.status_code == 409 and again.json()["error"] == "conflict"
        other = c.post(f"/v1/subscriptions/{sub['id']}/redeliver/dlv_{'0' * 32}")
        assert other.status_code == 404


def test_a_node_restarted_mid_delivery_delivers_every_event_under_one_id(
    hooks: NodeProcess, receiver: Receiver
) -> None:
    code = unique_code()
    register(hooks, code)
    receiver.release.clear()  # requests are held unanswered: delivery is in flight
    receiver.up()
    sub = subscribe(hooks, "fgj", receiver, filters={"project_codes": [code]})
    confirmed = approve(hooks, code, 4)
    wait_until(lambda: receiver.held == 4, 30, "all four deliveries in flight")
    accepted = approve(hooks, code, 2, wait=False)  # durable in the outbox, maybe not yet on chain
    hooks.kill()
    receiver.release.set()  # the answers go to a dead node
    hooks.start(timeout=120)
    expected = set(confirmed + accepted)
    wait_until(
        lambda: set(receiver.subjects(sub["id"])) == expected, 60, "every event delivered after restart"
    )
    wait_until(
        lambda: subscription(hooks, "fgj", sub["id"])["deliveries"]["delivered"] == 6,
        30,
        "all marked delivered",
    )
    # At least once, each event under one id: the receiver deduplicates on X-Projchain-Id.
    ids_by_event: dict[str, set[str]] = {}
    for r in receiver.got(None):
        assert r.verified
        ids_by_event.setdefault(r.json["data"]["uid"], set()).add(r.id)
    assert set(ids_by_event) == expected and all(len(ids) == 1 for ids in ids_by_event.values())
    seen = Counter(r.id for r in receiver.got(None))
    assert all(seen[receiver.subjects(sub["id"])[u]] >= 2 for u in confirmed)  # sent again after the restart
    assert len(deliveries(hooks, "fgj", sub["id"])) == 6  # queued once each


def test_a_bank_hears_only_of_projects_it_holds_a_grant_on(hooks: NodeProcess, receiver: Receiver) -> None:
    receiver.up()
    everything = subscribe(hooks, "bank", receiver)  # no filters: whatever the bank may read
    watch = subscribe(hooks, "bank", receiver, filters={"watch": "granted"})
    hidden, granted, documents_only = unique_code(), unique_code(), unique_code()
    for code in (hidden, granted, documents_only):
        register(hooks, code)
    grant_uid = grant_bank(hooks, granted, "all")
    documents_grant = grant_bank(hooks, documents_only, "documents")
    commitment = {"commitment_type": "self_discipline", "content_digest": DIGEST, "due_date": "2027-01-01",
                  "summary": "按期完成整改并报送材料"}  # fmt: skip
    with hooks.client("fgj") as c:
        hidden_uids = [write_confirmed(c, f"/v1/projects/{hidden}/commitments", commitment)]
        hidden_uids += approve(hooks, hidden, 1)
        seen_full = write_confirmed(c, f"/v1/projects/{granted}/commitments", commitment)
        seen_public = write_confirmed(c, f"/v1/projects/{documents_only}/commitments", commitment)
    expected = {grant_uid, documents_grant, seen_full, seen_public}
    for sub in (everything, watch):
        wait_until(
            lambda s=sub: set(receiver.subjects(s["id"])) == expected, 30, "the granted projects' records"
        )
    # The index is matched in order, so the hidden project's records (written before the last
    # granted one) were decided on already: nothing of them was queued, not even counted.
    for sub in (everything, watch):
        view = subscription(hooks, "bank", sub["id"])
        assert sum(view["deliveries"].values()) == 4
        assert {d["project_code"] for d in deliveries(hooks, "bank", sub["id"])} == {granted, documents_only}
    bodies = {r.json["data"]["uid"]: r.json for r in receiver.got()}
    assert not set(hidden_uids) & set(bodies)
    assert hidden not in json.dumps([r.json for r in receiver.got(None)], ensure_ascii=False)
    full, public = bodies[seen_full], bodies[seen_public]
    assert full["visibility"] == "full" and full["data"]["fields"]["summary"] == "按期完成整改并报送材料"
    assert public["visibility"] == "public" and "summary" not in public["data"]["fields"]
    assert public["data"]["restricted"]["opened"] is False
    with hooks.client("sjj") as c:
        log = c.get("/v1/audit/access-log", params={"org_id": hooks.org_ids["bank"], "limit": 1000}).json()
    sent = [json.loads(e["entry"]) for e in log["entries"]]
    sent = [e for e in sent if e["action"] == "webhook.record"]
    # Restricted content (the fully granted project) is logged per delivery; public fields are not.
    assert sorted(e["subject"] for e in sent) == sorted([grant_uid, seen_full] * 2)
    assert {e["basis"] for e in sent} == {f"grant:{grant_uid}"}


def test_bad_subscriptions_are_422_and_write_nothing(hooks: NodeProcess) -> None:
    with hooks.client("zjj") as c:
        before = c.get("/v1/subscriptions").json()["subscriptions"]
        for body in [
            {"url": "ftp://hooks.example.cn/x"},
            {"url": "file:///etc/passwd"},
            {"url": "https://user:pw@hooks.example.cn/"},
            {"url": "https://hooks.example.cn/", "filters": {"owner": ["91620825MA72BT6H8M"]}},
            {"url": "https://hooks.example.cn/", "filters": {"regions": ["99"]}},
            {"url": "https://hooks.example.cn/", "events": ["block"]},
            {"url": "https://hooks.example.cn/", "filters": {"rules": ["item.overdue"]}},
            {"url": "http://169.254.169.254/latest/meta-data/"},  # not an allowed destination
            {"url": "http://localhost:8000/v1/records"},
        ]:
            r = c.post("/v1/subscriptions", json=body)
            assert r.status_code == 422, (body, r.text)
            assert set(r.json()) == {"error", "detail"} and r.json()["error"] == "invalid_input"
            if "169.254" in body["url"]:
                assert "PROJCHAIN_WEBHOOK_ALLOWED_HOSTS" in r.json()["detail"]
        assert c.get("/v1/subscriptions").json()["subscriptions"] == before
    with hooks.client() as anonymous:
        assert (
            anonymous.post("/v1/subscriptions", json={"url": "https://hooks.example.cn/"}).status_code == 401
        )


def test_a_subscription_is_its_organisations_own_and_delete_deactivates_it(
    hooks: NodeProcess, receiver: Receiver
) -> None:
    receiver.up()
    code = unique_code()
    register(hooks, code)
    sub = subscribe(hooks, "zjj", receiver, filters={"project_codes": [code]})
    [first] = approve(hooks, code, 1)
    wait_until(lambda: receiver.subjects(sub["id"]), 30, "the first approval delivered")
    with hooks.client("fgj") as other:
        assert other.get(f"/v1/subscriptions/{sub['id']}").status_code == 404
        assert other.delete(f"/v1/subscriptions/{sub['id']}").status_code == 404
        assert sub["id"] not in {s["id"] for s in other.get("/v1/subscriptions").json()["subscriptions"]}
    with hooks.client("zjj") as c:
        r = c.delete(f"/v1/subscriptions/{sub['id']}")
        assert r.status_code == 200 and r.json()["active"] is False and r.json()["deactivated_at"]
        assert c.delete(f"/v1/subscriptions/{sub['id']}").json()["active"] is False  # again: the same
        listed = {s["id"]: s for s in c.get("/v1/subscriptions").json()["subscriptions"]}
        assert listed[sub["id"]]["active"] is False  # kept, marked
    # A later record of the project reaches a live subscription, never the deactivated one.
    live = subscribe(hooks, "zjj", receiver, filters={"project_codes": [code]})
    [second] = approve(hooks, code, 1)
    wait_until(lambda: receiver.subjects(live["id"]), 30, "the second approval delivered to the live one")
    assert receiver.subjects(sub["id"]) == {first: receiver.subjects(sub["id"])[first]}
    assert set(receiver.subjects(live["id"])) == {second}


def warning_bodies(receiver: Receiver, sid: str) -> list[dict[str, Any]]:
    """The warning deliveries of ``sid`` answered 2xx, in arrival order."""
    return [
        r.json
        for r in receiver.got()
        if r.headers.get("x-projchain-subscription") == sid and r.json["type"] == "warning"
    ]


def test_a_warning_opening_and_closing_reaches_those_who_may_read_it(
    hooks: NodeProcess, receiver: Receiver
) -> None:
    receiver.up()
    code = unique_code()
    register(hooks, code)
    department = subscribe(hooks, "fgj", receiver, events=["warning"], filters={"project_codes": [code]})
    narrowed = subscribe(
        hooks,
        "fgj",
        receiver,
        events=["warning"],
        filters={"project_codes": [code], "rules": ["project.stalled"]},
    )
    bank = subscribe(hooks, "bank", receiver, events=["warning"])
    item = fresh_item(hooks)  # a 1-working-day limit
    with hooks.client("fgj") as c:
        acceptance = accept(c, code, item, days_ago=30)
    wait_until(lambda: warning_bodies(receiver, department["id"]), 30, "the overdue item's warning delivered")
    [opened] = warning_bodies(receiver, department["id"])
    assert opened["transition"]["name"] == "opened" and opened["visibility"] == "full"
    assert (opened["data"]["rule"], opened["data"]["subject"]) == ("item.overdue", acceptance)
    assert opened["data"]["project_code"] == code and opened["data"]["state"] == "open"
    # The bank holds no grant: nothing was queued for it, not even counted.
    assert sum(subscription(hooks, "bank", bank["id"])["deliveries"].values()) == 0

    grant_bank(hooks, code, "documents")
    with hooks.client("fgj") as c:
        write_confirmed(
            c,
            f"/v1/projects/{code}/approvals",
            {"stage": 1, "item": item, "decision": "approved", "document_digest": DIGEST,
             "issued_at": dt.date.today().isoformat()},
        )  # fmt: skip
    wait_until(
        lambda: len(warning_bodies(receiver, department["id"])) == 2, 30, "the warning's close delivered"
    )
    closed = warning_bodies(receiver, department["id"])[1]
    assert closed["transition"]["name"] == "closed" and closed["data"]["id"] == opened["data"]["id"]
    assert [h["transition"] for h in closed["data"]["history"]] == ["opened", "closed"]
    assert closed["id"] != opened["id"]  # one delivery per transition
    wait_until(lambda: warning_bodies(receiver, bank["id"]), 30, "the close delivered to the granted bank")
    [heard] = warning_bodies(receiver, bank["id"])
    assert heard["transition"]["name"] == "closed" and heard["visibility"] == "public"
    assert warning_bodies(receiver, narrowed["id"]) == []  # its rule filter names another rule
    for r in receiver.got():
        assert r.verified
    with hooks.client("sjj") as c:
        log = c.get("/v1/audit/access-log", params={"org_id": hooks.org_ids["bank"], "limit": 1000}).json()
    sent = [json.loads(e["entry"]) for e in log["entries"]]
    assert [e["subject"] for e in sent if e["action"] == "webhook.warning"] == [
        f"warning:{opened['data']['id']}"
    ]
