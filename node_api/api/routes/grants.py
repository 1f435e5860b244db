"""Access grants: the registering authority, for the owner, lets an organisation read a project."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Path, Response

from node_api.api.deps import ConfirmationsDep, CurrentOrg, MembershipDep, ReaderDep, WriterDep
from node_api.api.params import WRITE_RESPONSES, CodePath, IdemKey, Wait, checked_code
from node_api.api.payloads import preseal
from node_api.api.responses import accepted
from node_api.api.schemas import Accepted, GrantIn
from node_api.domain.records import GRANT_SCOPES, ZERO32, Kind
from node_api.errors import NotFoundError, ValidationError

router = APIRouter(prefix="/v1/projects", tags=["grants"])

GrantId = Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{64}$", description="uid of the grant record")]


@router.post("/{code}/grants", status_code=202, response_model=Accepted, responses=WRITE_RESPONSES)
async def grant_access(
    code: CodePath,
    body: GrantIn,
    org: CurrentOrg,
    membership: MembershipDep,
    writer: WriterDep,
    confirmations: ConfirmationsDep,
    wait: Wait = False,
    idempotency_key: IdemKey = None,
) -> Response:
    """Authorise an organisation to read restricted data of the project until ``expires_at``."""
    code = checked_code(code)
    if membership.get(body.grantee_org) is None:
        raise ValidationError("grantee_org", f"no member organisation with id {body.grantee_org}")
    expires = int(body.expires_at.timestamp())
    if expires <= time.time():
        raise ValidationError("expires_at", "must be in the future")
    fields = {"grantee": body.grantee_org, "scope": GRANT_SCOPES[body.scope], "expires_at": expires}
    result = await writer.write(
        org, Kind.GRANT, code, fields, digest=bytes.fromhex(body.authorisation_digest[2:]),
        idempotency_key=idempotency_key, preseal=preseal(body.seal),
    )  # fmt: skip
    return await accepted(confirmations, result, wait)


@router.delete(
    "/{code}/grants/{grant_id}", status_code=202, response_model=Accepted, responses=WRITE_RESPONSES
)
async def revoke_grant(
    code: CodePath, grant_id: GrantId, org: CurrentOrg, reader: ReaderDep, writer: WriterDep,
    confirmations: ConfirmationsDep, wait: Wait = False,
) -> Response:  # fmt: skip
    """Revoke a grant; it stops working as soon as the revocation is on chain."""
    code = checked_code(code)
    grant_id = grant_id.lower()
    row = reader.chain_row(grant_id)
    if row is None or int(row["kind"]) != Kind.GRANT or reader.project_id(code) != row["project"]:
        raise NotFoundError(f"project {code} has no grant {grant_id}")
    result = await writer.write(
        org, Kind.REVOCATION, code, {"reason": "grant revoked"}, digest=ZERO32, ref=grant_id
    )
    return await accepted(confirmations, result, wait)
