"""The consortium as indexed from chain events: organisations, roles, seal keys."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from node_api.chain.consortium import bits_to_roles
from node_api.store.index import IndexTable


@dataclass
class Organization:
    """A member organisation as the chain says it is now."""

    id: int
    name: str
    uscc: str
    roles: list[str]
    suspended: bool = False
    seal_keys: dict[str, bool] = field(default_factory=dict)  # address -> still valid

    def has(self, role: str) -> bool:
        """Whether the organisation holds a role."""
        return role in self.roles

    def public(self) -> dict[str, object]:
        """What anyone may see of an organisation."""
        return {"id": self.id, "name": self.name, "uscc": self.uscc, "roles": self.roles}


class Membership:
    """Replays the indexed Consortium events (cheap: a handful per organisation)."""

    def __init__(self, index: IndexTable) -> None:
        self.index = index
        self._seen = -1
        self._orgs: dict[int, Organization] = {}
        self._keys: dict[str, int] = {}
        self._stamp: tuple[int, int] | None = None  # the database's change stamp when last looked

    def _refresh(self) -> None:
        # This runs on every authenticated request: nothing read when the database did not change
        # since the last look, else one query (both tables are small).
        changes = self.index.stamp()
        if changes != self._stamp:
            self._reload()
            self._stamp = changes  # only once reloaded: a failed reload is tried again

    def _reload(self) -> None:
        count, orphans = self.index.member_events_version()
        if count + orphans * 1_000_003 == self._seen:
            return
        orgs: dict[int, Organization] = {}
        keys: dict[str, int] = {}
        for row in self.index.member_events():
            a = json.loads(row["args"])
            name = row["name"]
            if name == "OrganizationAdmitted":
                orgs[a["org"]] = Organization(a["org"], a["name"], a["uscc"], bits_to_roles(a["roles"]))
            elif name == "RolesChanged" and a["org"] in orgs:
                orgs[a["org"]].roles = bits_to_roles(a["roles"])
            elif name in ("OrganizationSuspended", "OrganizationReinstated") and a["org"] in orgs:
                orgs[a["org"]].suspended = name == "OrganizationSuspended"
            elif name == "SealKeyAdded" and a["org"] in orgs:
                orgs[a["org"]].seal_keys[a["key"].lower()] = True
                keys[a["key"].lower()] = a["org"]
            elif name == "SealKeyRevoked" and a["org"] in orgs:
                orgs[a["org"]].seal_keys[a["key"].lower()] = False
        self._orgs, self._keys = orgs, keys
        self._seen = count + orphans * 1_000_003

    def get(self, org_id: int) -> Organization | None:
        """An organisation by id."""
        self._refresh()
        return self._orgs.get(org_id)

    def all(self) -> list[Organization]:
        """Every organisation."""
        self._refresh()
        return list(self._orgs.values())

    def by_key(self, address: str) -> Organization | None:
        """The organisation owning a seal key."""
        self._refresh()
        org = self._keys.get(address.lower())
        return None if org is None else self._orgs.get(org)

    def active_seal_key(self, org_id: int, address: str) -> bool:
        """Whether ``address`` is a currently valid seal key of ``org_id``."""
        org = self.get(org_id)
        return org is not None and not org.suspended and org.seal_keys.get(address.lower(), False)
