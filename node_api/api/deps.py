"""What a route may ask for: the caller, and the few services it uses — never the whole node.

Each dependency below hands a route one service that the composition root
(``node_api.node.open_node``) built; routes declare exactly what they use
(``reader: ReaderDep``), so a route's signature says what it touches. The caller is
``OptionalOrg`` (public endpoints) or ``CurrentOrg`` (401 without a token).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request

from node_api.config import Settings
from node_api.errors import AuthenticationError, ForbiddenError
from node_api.ledger.access import CURRENT_TOKEN, Access
from node_api.ledger.anchorer import AccessLogAnchorer
from node_api.ledger.auth import Credentials
from node_api.ledger.catalogue import Catalogue
from node_api.ledger.confirmations import Confirmations
from node_api.ledger.documents import Documents
from node_api.ledger.evidence import Evidence
from node_api.ledger.filings import Filings
from node_api.ledger.membership import Membership, Organization
from node_api.ledger.notifications import Notifications
from node_api.ledger.officers import Officers
from node_api.ledger.peers import Peers
from node_api.ledger.profiles import Profiles
from node_api.ledger.reader import Reader
from node_api.ledger.search import ProjectSearch
from node_api.ledger.status import NodeStatus
from node_api.ledger.supervision import Supervision
from node_api.ledger.verification_certificates import VerificationCertificates
from node_api.ledger.writer import Writer
from node_api.node import Node
from node_api.store.index import IndexTable


def _service(pick: Callable[[Node], object]) -> Any:
    """A dependency handing the route one service of the node serving this app."""

    async def dependency(request: Request) -> object:  # async: no threadpool hop per request
        return pick(request.app.state.node)

    return Depends(dependency)


SettingsDep = Annotated[Settings, _service(lambda n: n.settings)]
ReaderDep = Annotated[Reader, _service(lambda n: n.reader)]
WriterDep = Annotated[Writer, _service(lambda n: n.writer)]
AccessDep = Annotated[Access, _service(lambda n: n.access)]
MembershipDep = Annotated[Membership, _service(lambda n: n.membership)]
ConfirmationsDep = Annotated[Confirmations, _service(lambda n: n.confirmations)]
DocumentsDep = Annotated[Documents, _service(lambda n: n.documents)]
AnchorerDep = Annotated[AccessLogAnchorer, _service(lambda n: n.anchorer)]
EvidenceDep = Annotated[Evidence, _service(lambda n: n.evidence)]
PeersDep = Annotated[Peers, _service(lambda n: n.peers)]
StatusDep = Annotated[NodeStatus, _service(lambda n: n.status)]
IndexDep = Annotated[IndexTable, _service(lambda n: n.index)]
CredentialsDep = Annotated[Credentials, _service(lambda n: n.credentials)]
NotificationsDep = Annotated[Notifications, _service(lambda n: n.notifications)]
CatalogueDep = Annotated[Catalogue, _service(lambda n: n.catalogue)]
FilingsDep = Annotated[Filings, _service(lambda n: n.filings)]
SupervisionDep = Annotated[Supervision, _service(lambda n: n.supervision)]
CertificatesDep = Annotated[VerificationCertificates, _service(lambda n: n.certificates)]
ProfilesDep = Annotated[Profiles, _service(lambda n: n.profiles)]
OfficersDep = Annotated[Officers, _service(lambda n: n.officers)]
SearchDep = Annotated[ProjectSearch, _service(lambda n: n.search)]


def client_address(request: Request) -> str:
    """The address failures are counted against (see ``AuthGuard.client_address``)."""
    node: Node = request.app.state.node
    peer = request.client.host if request.client else "unknown"
    return node.credentials.guard.client_address(peer, request.headers.getlist("x-forwarded-for"))


async def optional_org(request: Request, credentials: CredentialsDep) -> Organization | None:
    """The calling organisation if a valid token is presented, else None (public)."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    token_id, org = credentials.authenticate(client_address(request), header)
    request.state.org_id = org.id
    CURRENT_TOKEN.set(token_id)
    return org


async def require_operator(request: Request, credentials: CredentialsDep, settings: SettingsDep) -> None:
    """The node operator (GET /metrics): ``Bearer <token>`` whose SHA-256 is PROJCHAIN_METRICS_TOKEN_SHA256."""
    header = request.headers.get("authorization")
    if header is None:
        raise AuthenticationError("this endpoint needs 'Authorization: Bearer <operator token>'")
    credentials.check_operator(client_address(request), header, settings.metrics_token_sha256)


async def require_org(org: Annotated[Organization | None, Depends(optional_org)]) -> Organization:
    """The calling organisation; 401 without a token."""
    if org is None:
        raise AuthenticationError("this endpoint needs 'Authorization: Bearer <token>'")
    if org.suspended:
        raise ForbiddenError(f"organisation {org.name} is suspended")
    return org


OptionalOrg = Annotated[Organization | None, Depends(optional_org)]
CurrentOrg = Annotated[Organization, Depends(require_org)]
