"""Hostile input against the console's forms on the live node: no page answers 5xx, whatever is sent.

The console's endpoints are not in /openapi.json (they are pages), so schemathesis does not
reach them; here hypothesis sends every form endpoint arbitrary text (any Unicode, control
characters, very long values), missing and extra fields, arbitrary files and arbitrary path
segments, as a signed-in officer with a valid form token — the requests that get past the
CSRF check and into validation, the API's route functions and the writer.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localnode import NodeProcess
from tests.support.records import project_body, unique_code

pytestmark = [pytest.mark.chain, pytest.mark.slow]

FUZZ = settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
ANY_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=0, max_size=3000),
    st.sampled_from(["", "0", "-1", "1e999", "2026-02-30", "0x" + "ab" * 32, "ZL-S1-005", "slight", "all",
                     "2026-06-01T09:30", "<script>alert(1)</script>", "' OR 1=1 --", "\x00", "../../etc/passwd"]),
)  # fmt: skip
FILES = st.one_of(st.none(), st.binary(max_size=2000))


def form_of(names: tuple[str, ...]) -> st.SearchStrategy[dict[str, str]]:
    """Some of the named fields (each may be missing), each any text."""
    return st.fixed_dictionaries({}, optional={n: ANY_TEXT for n in names})


class Console:
    """An officer signed in over HTTP, with the session's form token."""

    def __init__(self, node: NodeProcess, key: str, credentials: dict[str, str] | None = None) -> None:
        self.client = httpx.Client(base_url=node.url, timeout=60, follow_redirects=False)
        page = self.client.get("/console/sign-in").text
        token = re.search(r'name="csrf" value="([^"]+)"', page)
        assert token is not None
        officer = credentials or node.officers[key]
        r = self.client.post("/console/sign-in", data={"csrf": token.group(1), **officer})
        assert r.status_code == 303, r.text
        home = self.client.get("/console").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', home)
        assert csrf is not None
        self.csrf = csrf.group(1)

    def post(self, path: str, data: dict[str, str], files: dict[str, Any] | None = None) -> httpx.Response:
        """A form post with the session's token."""
        return self.client.post(path, data={**data, "csrf": self.csrf}, files=files)


@pytest.fixture(scope="module")
def officer(node: NodeProcess) -> Iterator[Console]:
    """住建局's officer (approval authority and supervisor: most forms get past the role checks)."""
    console = Console(node, "zjj")
    yield console
    console.client.close()


@pytest.fixture(scope="module")
def project(node: NodeProcess) -> tuple[str, str]:
    """A project of this module (code, registration uid) for the forms' paths."""
    code = unique_code()
    with node.client("zjj") as c:
        r = c.post("/v1/projects?wait=true", json=project_body(code))
    assert r.status_code == 200, r.text
    return code, str(r.json()["uid"])


def no_server_error(r: httpx.Response) -> None:
    """Any answer but a 5xx (a refusal is a page with a 4xx, a success a redirect)."""
    assert r.status_code < 500, f"{r.status_code} for {r.request.method} {r.request.url}: {r.text[:500]}"


@FUZZ
@given(data=form_of(("username", "password", "otp", "next")), token=st.booleans())
def test_sign_in_form(node: NodeProcess, data: dict[str, str], token: bool) -> None:
    with httpx.Client(base_url=node.url, timeout=60) as c:
        page = c.get("/console/sign-in").text
        found = re.search(r'name="csrf" value="([^"]+)"', page)
        assert found is not None
        no_server_error(
            c.post("/console/sign-in", data={**data, **({"csrf": found.group(1)} if token else {})})
        )


@FUZZ
@given(data=form_of(("code", "name", "owner_uscc", "project_type", "region_code", "industry_code",
                     "total_investment", "extra")))  # fmt: skip
def test_register_form(officer: Console, data: dict[str, str]) -> None:
    no_server_error(officer.post("/console/projects/new", data))


@FUZZ
@given(data=form_of(("item", "accepted_at", "note")), real=st.booleans(), code=ANY_TEXT)
def test_acceptance_form(officer: Console, project: tuple[str, str], data: dict[str, str], real: bool,
                         code: str) -> None:  # fmt: skip
    path = project[0] if real else quote(code, safe="") or "x"
    no_server_error(officer.post(f"/console/projects/{path}/acceptances", data))


@FUZZ
@given(
    data=form_of(("stage", "item", "decision", "document_no", "issued_at", "valid_until", "document_digest")),
    file=FILES,
    name=st.text(max_size=60),
)
def test_approval_form_with_upload(officer: Console, project: tuple[str, str], data: dict[str, str],
                                   file: bytes | None, name: str) -> None:  # fmt: skip
    files = None if file is None else {"document": (name or "x", file, "application/octet-stream")}
    no_server_error(officer.post(f"/console/projects/{project[0]}/approvals", data, files))


@FUZZ
@given(data=form_of(("category", "severity", "occurred_at", "evidence_digest")), file=FILES)
def test_event_form_with_upload(officer: Console, project: tuple[str, str], data: dict[str, str],
                                file: bytes | None) -> None:  # fmt: skip
    files = None if file is None else {"evidence": ("evidence.bin", file, "application/octet-stream")}
    no_server_error(officer.post(f"/console/projects/{project[0]}/events", data, files))


@FUZZ
@given(data=form_of(("grantee_org", "scope", "expires_at", "authorisation_digest")))
def test_grant_form(officer: Console, project: tuple[str, str], data: dict[str, str]) -> None:
    no_server_error(officer.post(f"/console/projects/{project[0]}/grants", data))


@FUZZ
@given(data=form_of(("reason",)), action=ANY_TEXT, uid=ANY_TEXT, real=st.booleans())
def test_record_action_forms(officer: Console, project: tuple[str, str], data: dict[str, str], action: str,
                             uid: str, real: bool) -> None:  # fmt: skip
    target = project[1] if real else quote(uid, safe="") or "x"
    no_server_error(officer.post(f"/console/projects/{project[0]}/records/{target}/{quote(action, safe='') or 'x'}",
                                 data))  # fmt: skip


@FUZZ
@given(params=form_of(("region", "organisation", "severity", "rule", "state", "project_code", "from_index",
                       "code", "record", "q", "owner_uscc", "stage", "status", "registered_from",
                       "registered_to", "cursor", "uscc", "as_of_block", "issued")))  # fmt: skip
def test_pages_with_query_parameters(
    officer: Console, project: tuple[str, str], params: dict[str, str]
) -> None:
    for path in ("/console/warnings", "/console/audit/access-log", "/console/projects",
                 f"/console/projects/{project[0]}", "/console/queue", "/console/search", "/console/owners",
                 "/console/owners/91620825MA72BT6H8M", "/console/watch", "/console/account"):  # fmt: skip
        no_server_error(officer.client.get(path, params=params))


@FUZZ
@given(segment=ANY_TEXT)
def test_pages_with_any_path_segment(officer: Console, segment: str) -> None:
    part = quote(segment, safe="") or "x"
    for path in (f"/console/projects/{part}", f"/console/documents/{part}", f"/console/audit/projects/{part}",
                 f"/console/audit/projects/{part}/bundle", f"/console/static/{part}", f"/docs/assets/{part}",
                 f"/console/owners/{part}", f"/console/certificates/{part}", f"/console/certificates/{part}/pdf",
                 f"/console/certificates/{part}/json", f"/console/watch/{part}"):  # fmt: skip
        no_server_error(officer.client.get(path))


@FUZZ
@given(code=ANY_TEXT, real=st.booleans(), data=form_of(("extra",)))
def test_certificate_form(officer: Console, project: tuple[str, str], code: str, real: bool,
                          data: dict[str, str]) -> None:  # fmt: skip
    path = project[0] if real else quote(code, safe="") or "x"
    no_server_error(officer.post(f"/console/projects/{path}/certificates", data))


@FUZZ
@given(data=form_of(("url", "event_record", "event_warning", "filters", "extra")), segment=ANY_TEXT)
def test_watch_forms(officer: Console, data: dict[str, str], segment: str) -> None:
    no_server_error(officer.post("/console/watch", data))
    no_server_error(officer.post(f"/console/watch/{quote(segment, safe='') or 'x'}/deactivate", data))


class PasswordOfficer:
    """An officer of this module whose password the fuzz may change (and whose lock-out it lifts)."""

    def __init__(self, node: NodeProcess) -> None:
        self.node = node
        self.username = f"fuzz.pw.{unique_code()[-6:]}"
        self.password = "a first long passphrase"
        self.cli("add", "--org", str(node.org_ids["bank"]), "--username", self.username, "--name", "口令测试",
                 stdin=self.password + "\n")  # fmt: skip
        self.console = Console(node, "", {"username": self.username, "password": self.password})

    def cli(self, *args: str, stdin: str = "") -> None:
        done = subprocess.run(
            [sys.executable, "-m", "node_api.cli", "officer", *args], input=stdin, capture_output=True, text=True,
            env={**os.environ, **self.node.env()}, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr

    def again(self) -> None:
        """Lifts a lock-out the fuzz caused and signs in afresh."""
        self.console.client.close()
        self.cli("unlock", "--username", self.username)
        self.console = Console(self.node, "", {"username": self.username, "password": self.password})


@pytest.fixture(scope="module")
def password_officer(node: NodeProcess) -> Iterator[PasswordOfficer]:
    officer = PasswordOfficer(node)
    yield officer
    officer.console.client.close()


@FUZZ
@given(data=form_of(("new_password", "new_password_again", "extra")), right=st.booleans(), wrong=ANY_TEXT,
       same=st.booleans())  # fmt: skip
def test_password_form(password_officer: PasswordOfficer, data: dict[str, str], right: bool, wrong: str,
                       same: bool) -> None:  # fmt: skip
    o = password_officer
    if same and "new_password" in data:
        data["new_password_again"] = data["new_password"]
    r = o.console.post(
        "/console/account/password", {**data, "current_password": o.password if right else wrong}
    )
    no_server_error(r)
    if r.status_code == 200 and 'id="password-changed"' in r.text:
        o.password = data["new_password"]
    elif r.status_code in (303, 429):  # locked out (the session ended): lift it for the next example
        o.again()
