"""The direct routes (node_api/api/direct.py) answer exactly as the FastAPI routes they stand before.

Two real nodes, each with its own anvil chain: the session's node (direct routes on, the default)
and one started with ``PROJCHAIN_DIRECT_WRITES=false`` and ``PROJCHAIN_DIRECT_READS=false`` (FastAPI
alone). The same requests, the
ordinary ones and every kind of refusal, go to both; the answers must be equal but for the new
records' uids. The direct node's metrics must show that it answered the ordinary requests itself
and handed the others on, so the comparison is not between FastAPI and itself. The direct record
read is also compared on the one node with FastAPI's answer to the same read (a query string hands
the read to FastAPI, which ignores it), byte for byte.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from localnode import NodeProcess
from tests.support.records import approval_body, grant_bank, register, unique_code

pytestmark = pytest.mark.chain

_EVENT = {"category": "质量安全", "severity": "slight", "occurred_at": "2026-06-01",
          "description_digest": "0x" + "cd" * 32, "evidence_digests": ["0x" + "ef" * 32]}  # fmt: skip
_COMMITMENT = {
    "commitment_type": "self_discipline",
    "content_digest": "0x" + "ab" * 32,
    "due_date": "2026-12-31",
}
_UID = re.compile(r"0x[0-9a-f]{64}")


@pytest.fixture(scope="module")
def fastapi_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    """A node whose project writes are answered by FastAPI alone."""
    proc = NodeProcess(
        tmp_path_factory.mktemp("fastapi-only"),
        env={"PROJCHAIN_DIRECT_WRITES": "false", "PROJCHAIN_DIRECT_READS": "false"},
    )
    proc.start()
    yield proc
    proc.stop()


def _direct_counts(node: NodeProcess) -> dict[str, float]:
    text = httpx.get(f"{node.url}/metrics", headers=node.operator_headers).text
    found = re.findall(r'^projchain_http_direct_requests_total\{outcome="(\w+)"\} ([0-9.e+]+)$', text, re.M)
    return {outcome: float(value) for outcome, value in found}


def _exchange(node: NodeProcess, code: str, org: str | None, request: dict[str, Any]) -> tuple[int, Any, str]:
    """One request to ``node``: the status, the body with uids replaced, the Location header's shape."""
    headers = dict(request.get("headers", {}))
    if org == "forged":
        headers["Authorization"] = "Bearer pc_forged_token_of_no_one"
    elif org is not None:
        headers["Authorization"] = f"Bearer {node.tokens[org]}"
    # From an address of this test's own: the session node counts other tests' failed logins from
    # 127.0.0.1 (its lockout would answer the forged token 429 there, 401 on the fresh node).
    transport = httpx.HTTPTransport(local_address=_SOURCE)
    with httpx.Client(base_url=node.url, timeout=60, transport=transport) as c:
        r = c.post(request["path"].format(code=code), headers=headers, json=request.get("json"),
                   content=request.get("content"))  # fmt: skip
    try:
        body: Any = r.json()
    except ValueError:
        body = r.text
    text = _UID.sub("<uid>", r.headers.get("location", ""))
    return r.status_code, _UID.sub("<uid>", str(body)), text


_APPROVALS = "/v1/projects/{code}/approvals"
_SOURCE = "127.0.0.77"
_JSON = {"content-type": "application/json"}


def _raw(number: int, **over: Any) -> bytes:
    """An approval's JSON text, its own document number (so no request is another's duplicate)."""
    return json.dumps(approval_body("fgj", document_no=f"庄发改发〔2026〕{number}号", **over)).encode()


# 1.1 MB sent as chunks (a list, so httpx streams it chunked and both nodes get the same chunks)
_OVERSIZE = [b'{"document_no": "'] + [b"x" * 100_000] * 11 + [b'"}']
# (who, request): the ordinary writes and the refusals of each part the direct route reads.
_REQUESTS: list[tuple[str | None, dict[str, Any]]] = [
    ("fgj", {"path": _APPROVALS + "?wait=true", "json": approval_body("fgj")}),
    (
        "fgj",
        {
            "path": _APPROVALS + "?wait=true",
            "json": approval_body("fgj", document_no="庄发改发〔2026〕6号"),
            "headers": {"Idempotency-Key": "k-1"},
        },
    ),
    (
        "fgj",
        {
            "path": _APPROVALS,
            "json": approval_body("fgj", document_no="庄发改发〔2026〕6号"),
            "headers": {"Idempotency-Key": "k-1"},
        },
    ),  # the retry: a duplicate, already confirmed
    (
        "fgj",
        {"path": _APPROVALS + "?wait=1", "json": approval_body("fgj", document_no="庄发改发〔2026〕7号")},
    ),
    (
        "fgj",
        {"path": _APPROVALS + "?other=1", "json": approval_body("fgj", document_no="庄发改发〔2026〕8号")},
    ),
    ("scjgj", {"path": "/v1/projects/{code}/events?wait=true", "json": _EVENT}),
    ("fgj", {"path": "/v1/projects/{code}/commitments?wait=true", "json": _COMMITMENT}),
    ("bank", {"path": "/v1/projects/{code}/commitments", "json": {**_COMMITMENT, "summary": "a bank's"}}),
    ("fgj", {"path": "/v1/projects/{code}/commitments", "json": {**_COMMITMENT, "commitment_type": "other"}}),
    (None, {"path": _APPROVALS, "json": approval_body("fgj")}),
    ("forged", {"path": _APPROVALS, "json": approval_body("fgj")}),
    ("forged", {"path": _APPROVALS, "content": b"{not json", "headers": _JSON}),
    ("fgj", {"path": _APPROVALS, "content": b"{not json", "headers": _JSON}),
    ("fgj", {"path": _APPROVALS, "content": b"", "headers": _JSON}),
    ("fgj", {"path": _APPROVALS, "content": b"[1, 2]", "headers": _JSON}),
    ("fgj", {"path": _APPROVALS, "content": b'{"stage": 1}', "headers": {"content-type": "text/plain"}}),
    ("fgj", {"path": _APPROVALS, "json": {**approval_body("fgj"), "surplus": 1}}),
    ("fgj", {"path": _APPROVALS, "json": {k: v for k, v in approval_body("fgj").items() if k != "item"}}),
    ("fgj", {"path": _APPROVALS, "json": {**approval_body("fgj"), "stage": 9}}),
    ("fgj", {"path": _APPROVALS + "?wait=maybe", "json": approval_body("fgj")}),
    ("fgj", {"path": _APPROVALS + "?wait=true&wait=false", "json": approval_body("fgj")}),
    ("fgj", {"path": _APPROVALS, "json": approval_body("fgj"), "headers": {"Idempotency-Key": "k" * 201}}),
    ("fgj", {"path": "/v1/projects/not-a-code/approvals", "json": approval_body("fgj")}),
    ("fgj", {"path": "/v1/projects/2026-620825-44-01-999999/approvals", "json": approval_body("fgj")}),
    ("fgj", {"path": _APPROVALS, "json": approval_body("zrzyj")}),  # not the item's department
    ("fgj", {"path": "/v1/projects/{code}/events", "json": _EVENT}),  # not a supervisor
    ("bank", {"path": _APPROVALS, "json": approval_body("fgj")}),  # a bank
    # JSON nested deeper than json.loads recurses: FastAPI's 400, not a 500 (anyone may send it)
    ("fgj", {"path": _APPROVALS, "content": b"[" * 100_000 + b"]" * 100_000, "headers": _JSON}),
    (
        "fgj",
        {
            "path": _APPROVALS,
            "content": b'{"stage": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            "headers": _JSON,
        },
    ),
    # a chunked body (no content-length) over the limit: BodyLimit refuses it as it is read
    ("fgj", {"path": _APPROVALS, "content": _OVERSIZE, "headers": _JSON}),
    # the JSON text and media type read as FastAPI reads them: a BOM, UTF-16, case and charset,
    # lax (python-mode) values, NaN, a duplicate key (the last one counts)
    ("fgj", {"path": _APPROVALS, "content": b"\xef\xbb\xbf" + _raw(21), "headers": _JSON}),
    ("fgj", {"path": _APPROVALS, "content": _raw(22).decode().encode("utf-16"), "headers": _JSON}),
    (
        "fgj",
        {
            "path": _APPROVALS,
            "content": _raw(23),
            "headers": {"content-type": "APPLICATION/JSON; charset=latin-1"},
        },
    ),
    (
        "fgj",
        {"path": _APPROVALS, "content": _raw(24).replace(b'"stage": 1', b'"stage": "1"'), "headers": _JSON},
    ),
    (
        "fgj",
        {"path": _APPROVALS, "content": _raw(25).replace(b'"stage": 1', b'"stage": true'), "headers": _JSON},
    ),
    (
        "fgj",
        {"path": _APPROVALS, "content": _raw(26).replace(b'"stage": 1', b'"stage": NaN'), "headers": _JSON},
    ),
    ("fgj", {"path": _APPROVALS, "content": _raw(27)[:-1] + b', "stage": 2}', "headers": _JSON}),
]


def test_direct_routes_answer_as_fastapi_does(node: NodeProcess, fastapi_node: NodeProcess) -> None:
    before = _direct_counts(node)
    code = unique_code()
    register(node, code)
    register(fastapi_node, code)
    for org, request in _REQUESTS:
        direct = _exchange(node, code, org, request)
        plain = _exchange(fastapi_node, code, org, request)
        assert direct == plain, (org, request["path"])
    after = _direct_counts(node)
    assert set(_direct_counts(fastapi_node).values()) == {0.0}  # no direct route there
    # answered: the five ordinary writes and the refusals the handler raises (403, 404, 409, 422 on the code)
    assert after["answered"] - before.get("answered", 0) >= 9
    # handed on: bad JSON (×2), empty, array, text/plain, surplus, missing, stage 9, wait ×2, long key,
    # too deep (×2), too large
    assert after["handed_on"] - before.get("handed_on", 0) >= 14


def test_a_chunked_body_over_the_limit_is_refused_with_413(
    node: NodeProcess, fastapi_node: NodeProcess
) -> None:
    for proc in (node, fastapi_node):
        with httpx.Client(base_url=proc.url, timeout=60) as c:
            r = c.post(_APPROVALS.format(code=unique_code()), content=_OVERSIZE,
                       headers={**_JSON, "Authorization": f"Bearer {proc.tokens['fgj']}"})  # fmt: skip
        assert (r.status_code, r.json()["error"]) == (413, "payload_too_large"), (proc.url, r.text)


def _route_counts(node: NodeProcess, path: str, method: str = "POST") -> dict[str, float]:
    text = httpx.get(f"{node.url}/metrics", headers=node.operator_headers).text
    pattern = r'^projchain_http_requests_total\{method="%s",route="%s",status="(\d+)"\} ([0-9.e+]+)$'
    return {status: float(v) for status, v in re.findall(pattern % (method, re.escape(path)), text, re.M)}


def test_a_client_gone_mid_body_is_not_a_server_error(node: NodeProcess, fastapi_node: NodeProcess) -> None:
    """A client that closes before its body is complete: FastAPI's 400 in the metrics, not a 500."""
    for proc in (node, fastapi_node):
        before = _route_counts(proc, _APPROVALS)
        host, port = proc.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as s:
            s.sendall(
                f"POST {_APPROVALS.format(code=unique_code())} HTTP/1.1\r\nHost: {host}\r\n"
                "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"stage\": ".encode()
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while (after := _route_counts(proc, _APPROVALS)) == before and time.monotonic() < deadline:
            time.sleep(0.2)
        grown = {s: n - before.get(s, 0) for s, n in after.items() if n != before.get(s, 0)}
        assert grown == {"400": 1.0}, (proc.url, grown)


def _read(node: NodeProcess, org: str | None, path: str, method: str = "GET") -> tuple[int, str, bytes]:
    """One read of ``node``: the status, the media type and the body's bytes."""
    headers = {}
    if org == "forged":
        headers["Authorization"] = "Bearer pc_forged_token_of_no_one"
    elif org is not None:
        headers["Authorization"] = f"Bearer {node.tokens[org]}"
    transport = httpx.HTTPTransport(local_address=_SOURCE)  # as _exchange: not the session's lockouts
    with httpx.Client(base_url=node.url, timeout=60, transport=transport) as c:
        r = c.request(method, path, headers=headers)
    return r.status_code, r.headers.get("content-type", ""), r.content


def test_the_direct_record_read_answers_as_fastapi_does(node: NodeProcess, fastapi_node: NodeProcess) -> None:
    before = _direct_counts(node)
    code = unique_code()
    project = register(node, code)
    with node.client("fgj") as c:
        r = c.post(f"/v1/projects/{code}/approvals?wait=true", json=approval_body("fgj"))
        assert r.status_code == 200, r.text
    approval = r.json()["uid"]
    answered = [
        ("fgj", approval),
        ("fgj", "0x" + approval[2:].upper()),  # the pattern allows upper-case hex; the read lowers it
        ("bank", approval),  # no grant: refused
        ("bank", project),
        ("zrzyj", project),
        (None, approval),  # no token
        ("forged", approval),
        ("fgj", "0x" + "00" * 32),  # no such record
    ]
    for org, uid in answered:
        direct = _read(node, org, f"/v1/records/{uid}")
        via_fastapi = _read(node, org, f"/v1/records/{uid}?via=fastapi")
        assert direct == via_fastapi, (org, uid)
        assert direct[0] != 500 and direct[1] == "application/json", (org, uid, direct)
    statuses = [_read(node, org, f"/v1/records/{uid}")[0] for org, uid in answered]
    assert statuses == [200, 200, 403, 403, 200, 401, 401, 404]
    grant_bank(node, code)  # the bank now reads under a grant
    direct = _read(node, "bank", f"/v1/records/{approval}")
    assert direct == _read(node, "bank", f"/v1/records/{approval}?via=fastapi") and direct[0] == 200
    # Every read that was answered is in the access log, the direct ones as FastAPI's, under the same
    # basis; the refused ones (bank before its grant, no token, forged) are not reads of the record.
    with node.client("sjj") as c:
        entries = [
            json.loads(e["entry"])
            for e in c.get("/v1/audit/access-log", params={"project_code": code}).json()["entries"]
        ]
    reads = Counter(
        (e["org_id"], e["basis"])
        for e in entries
        if e["action"] == "record.read" and e["subject"] == approval
    )
    assert reads == {
        # lower- and upper-case uid: each read directly, through FastAPI, and directly again (statuses)
        (node.org_ids["fgj"], "role:approval_authority"): 6,
        (node.org_ids["bank"], next(b for o, b in reads if o == node.org_ids["bank"])): 2,
    }, reads
    assert next(b for o, b in reads if o == node.org_ids["bank"]).startswith("grant:")
    # What the direct route hands on, as a node without it answers: a uid the pattern refuses (one
    # with a newline after it, which `$` alone would let through), and HEAD.
    refused = ["0x12", approval + "%0A", "0x" + "g" * 64]
    for uid in refused:
        assert _read(node, "fgj", f"/v1/records/{uid}") == _read(fastapi_node, "fgj", f"/v1/records/{uid}"), (
            uid
        )
        assert _read(node, "fgj", f"/v1/records/{uid}")[0] == 422, uid
    # HEAD: Starlette's 405 from the first route of the path (the direct one, GET alone), as FastAPI's
    head = _read(node, "fgj", f"/v1/records/{approval}", "HEAD")
    assert head == _read(fastapi_node, "fgj", f"/v1/records/{approval}", "HEAD") and head[0] == 405
    after = _direct_counts(node)
    # answered: the reads without a query string that passed the caller's check (six of the eight, twice)
    # and the granted one
    assert after["answered"] - before.get("answered", 0) >= 13
    # handed on: the nine ?via=fastapi reads, the three refused uids twice
    assert after["handed_on"] - before.get("handed_on", 0) >= 9 + 6


def test_a_method_a_direct_route_does_not_take_is_counted_under_its_path(
    node: NodeProcess, fastapi_node: NodeProcess
) -> None:
    """Starlette's 405 from a direct route (the router's first partial match) is labelled with the
    route's path in the metrics, as FastAPI's route labels it, not as an unmatched request."""
    cases = [("HEAD", "/v1/records/{uid}", "/v1/records/0x" + "ab" * 32),
             ("DELETE", "/v1/records/{uid}", "/v1/records/0x" + "ab" * 32),
             ("GET", _APPROVALS, _APPROVALS.format(code=unique_code()))]  # fmt: skip
    for proc in (node, fastapi_node):
        for method, route, path in cases:
            before = _route_counts(proc, route, method)
            with httpx.Client(base_url=proc.url, timeout=60) as c:
                assert c.request(method, path).status_code == 405, (proc.url, method, path)
            after = _route_counts(proc, route, method)
            grown = {s: n - before.get(s, 0) for s, n in after.items() if n != before.get(s, 0)}
            assert grown == {"405": 1.0}, (proc.url, method, path, grown)
