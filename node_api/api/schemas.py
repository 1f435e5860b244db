"""Request and response bodies of the public API (documented in /openapi.json)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from node_api.domain.catalogue import CODE_PATTERN
from node_api.domain.divisions import validate_division
from node_api.domain.project_code import parse_project_code, reconcile, try_parse
from node_api.domain.uscc import validate_uscc
from node_api.domain.warnings import RULES
from node_api.errors import ValidationError
from node_api.ledger.notifications import url_problem

_HEX32 = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
_HEX65 = re.compile(r"^(0x)?[0-9a-fA-F]{130}$")


def _digest(value: str) -> str:
    if not _HEX32.match(value):
        raise ValueError("must be a SHA-256 digest: 64 hex characters, optionally 0x-prefixed")
    return "0x" + value.removeprefix("0x").lower()


def _code(value: str) -> str:
    return parse_project_code(value.strip(), "code").code


def _ledger_date(value: dt.date) -> dt.date:
    # Dates go on chain as uint64 unix seconds; a publication window is added to event dates.
    if not (dt.date(1970, 1, 1) <= value <= dt.date(2200, 12, 31)):
        raise ValueError("must be between 1970-01-01 and 2200-12-31")
    return value


Digest = Annotated[str, AfterValidator(_digest), Field(examples=["0x" + "ab" * 32])]
LedgerDate = Annotated[dt.date, AfterValidator(_ledger_date)]
ProjectCodeStr = Annotated[
    str, AfterValidator(_code), Field(examples=["2026-620825-44-01-000123", "2603-620825-89-05-346948"])
]
Text = Annotated[str, Field(min_length=1, max_length=200)]
ItemCode = Annotated[
    str,
    Field(
        pattern=CODE_PATTERN,
        examples=["ZL-S1-005"],
        description="a catalogue item's code (GET /v1/catalogue)",
    ),
]
Reason = Annotated[str, Field(min_length=1, max_length=1000)]


class Strict(BaseModel):
    """Unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SealIn(Strict):
    """A seal made on the organisation's own device (see docs/records.md)."""

    uid: Digest = Field(description="the record uid; its first 4 bytes are the sealing organisation's id")
    signature: Annotated[str, Field(pattern=_HEX65.pattern)]
    salt: Digest | None = Field(
        default=None,
        description="the 32-byte salt of the restricted-content commitment the seal covers "
        "(required for every kind with restricted fields; see docs/records.md)",
    )


class ProjectIn(Strict):
    """Register a project and its code (赋码信息).

    The code must be well-formed (docs/project-codes.md): its shape, dates and division
    are checked, which does not show that it was ever assigned. ``region_code`` must equal the code's division segment; in the classic
    shape ``industry_code`` and ``project_type`` must equal its third and fourth segments.
    Any of them omitted is taken from the code where its shape carries it; a GB/T 40058
    code carries neither industry nor 审批/核准/备案 type, so with one those two are required.
    """

    code: ProjectCodeStr
    name: Text
    owner_uscc: Annotated[str, AfterValidator(lambda v: validate_uscc(v, "owner_uscc"))] = Field(
        examples=["91620825MA74XK9R6N"]
    )
    project_type: Literal["approval", "ratification", "filing"] = Field(
        default=None,
        validate_default=True,
        description="审批 / 核准 / 备案; omitted: from a classic code's type segment (01/02/03)",
    )
    region_code: Annotated[str, Field(pattern=r"^\d{6}$")] = Field(
        default=None,
        validate_default=True,
        examples=["620825"],
        description="division (GB/T 2260), equal to the code's division segment; omitted: taken from it",
    )
    industry_code: Annotated[str, Field(pattern=r"^\d{2}$")] = Field(
        default=None,
        validate_default=True,
        examples=["44"],
        description="industry; omitted: from a classic code's industry segment",
    )
    total_investment: Annotated[Decimal, Field(ge=0, le=Decimal("1e14"), decimal_places=2)] = Field(
        description="total investment in yuan (元), at most 2 decimals"
    )
    seal: SealIn | None = None

    @field_validator("project_type", "region_code", "industry_code", mode="before")
    @classmethod
    def _agrees_with_code(cls, value: object, info: ValidationInfo) -> object:
        field = str(info.field_name)
        code = info.data.get("code")  # absent when the code itself was refused
        parsed = try_parse(code) if isinstance(code, str) else None
        try:
            if parsed is not None:
                return reconcile(parsed, field, value)
            if value is None:
                raise ValidationError(
                    field, "required (it cannot be taken from a code that is not well-formed)"
                )
            if field == "region_code" and isinstance(value, str):
                return validate_division(value, field)
        except ValidationError as e:
            raise ValueError(e.detail.removeprefix(f"{field}: ")) from None
        return value


class AcceptanceIn(Strict):
    """Record the 受理 of a catalogue item's application: its approval clock starts (the item's department)."""

    item: ItemCode
    item_version: Annotated[int, Field(ge=1, le=2**32 - 1)] | None = Field(
        default=None,
        description="the item's version the application was accepted under; the node fills in the version "
        "in force when omitted",
    )
    accepted_at: dt.datetime = Field(description="when the application was accepted (with its time zone)")
    application_digest: Digest | None = Field(default=None, description="SHA-256 of the 受理通知书, if any")
    note: Annotated[str, Field(max_length=1000)] = ""
    seal: SealIn | None = None

    @model_validator(mode="after")
    def _aware(self) -> AcceptanceIn:
        if self.accepted_at.tzinfo is None:
            raise ValueError("accepted_at needs a time zone (e.g. +08:00)")
        if not (
            dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
            <= self.accepted_at
            <= dt.datetime(2200, 1, 1, tzinfo=dt.UTC)
        ):
            raise ValueError("accepted_at is out of range")
        if self.seal is not None and self.item_version is None:
            raise ValueError("item_version is required with a seal made on the organisation's device")
        return self


class ApprovalCommitmentIn(Strict):
    """The owner's commitment (承诺) an approval on commitment or with deficiencies rests on."""

    due_date: LedgerDate = Field(
        description="the last day to fulfil it; past it, a pending commitment reads overdue"
    )
    pledge_digest: Digest = Field(
        description="SHA-256 of the owner's 承诺书 as uploaded (POST /v1/documents), in the unified "
        "format docs/commitment-letter.schema.json"
    )
    missing: Annotated[list[Text], Field(max_length=32)] = Field(
        default=[], description="materials still missing (容缺受理 only; at least one there)"
    )
    summary: Annotated[str, Field(max_length=500)] = ""
    seal: SealIn | None = Field(
        default=None, description="a seal of the commitment record made on the organisation's own device"
    )


COMMITMENT_DECISIONS = ("approved_on_commitment", "accepted_with_deficiencies")


class ApprovalIn(Strict):
    """Record a 批复 of a catalogue item in its stage (the item's department only)."""

    stage: Annotated[int, Field(ge=1, le=4)]
    item: ItemCode
    item_version: Annotated[int, Field(ge=1, le=2**32 - 1)] | None = Field(
        default=None,
        description="the item's version the decision was taken under; the node fills in the version in "
        "force when omitted, and refuses another one (409, naming the current version)",
    )
    decision: Literal["approved", "approved_on_commitment", "accepted_with_deficiencies", "rejected"]
    document_digest: Digest
    document_no: Annotated[str, Field(max_length=100)] = ""
    issued_at: LedgerDate
    valid_until: LedgerDate | None = None
    commitment: ApprovalCommitmentIn | None = Field(
        default=None,
        description="required for approved_on_commitment (信用承诺制) and accepted_with_deficiencies "
        "(容缺受理), forbidden otherwise: the node records it bound to the approval",
    )
    seal: SealIn | None = None

    @model_validator(mode="after")
    def _dates(self) -> ApprovalIn:
        if self.valid_until is not None and self.valid_until < self.issued_at:
            raise ValueError("valid_until must not be before issued_at")
        c = self.commitment
        if self.decision in COMMITMENT_DECISIONS and c is None:
            raise ValueError(f"commitment is required for decision {self.decision}")
        if self.decision not in COMMITMENT_DECISIONS and c is not None:
            raise ValueError(f"commitment is only for decisions {' and '.join(COMMITMENT_DECISIONS)}")
        if c is not None:
            if c.due_date < self.issued_at:
                raise ValueError("commitment.due_date must not be before issued_at")
            if self.decision == "accepted_with_deficiencies" and not c.missing:
                raise ValueError("commitment.missing must name the materials still missing (容缺受理)")
            if self.decision == "approved_on_commitment" and c.missing:
                raise ValueError("commitment.missing is for accepted_with_deficiencies (容缺受理) only")
        if self.seal is not None and self.item_version is None:
            raise ValueError("item_version is required with a seal made on the organisation's device")
        return self


class EventIn(Strict):
    """Report an abnormal construction event (建设异常信息)."""

    category: Text
    severity: Literal["slight", "general", "serious"]
    description_digest: Digest
    evidence_digests: Annotated[list[Digest], Field(max_length=32)] = []
    occurred_at: LedgerDate
    seal: SealIn | None = None


class CommitmentIn(Strict):
    """Record a credit commitment (信用承诺) made by the project owner."""

    commitment_type: Literal[
        "approval_substitute", "deficiency_acceptance", "self_discipline", "credit_repair"
    ]
    content_digest: Digest
    due_date: LedgerDate
    summary: Annotated[str, Field(max_length=500)] = ""
    seal: SealIn | None = None


ItemCodes = Annotated[list[ItemCode], Field(max_length=32)]  # (CatalogueItemIn has a field named `list`)


class CatalogueItemIn(Strict):
    """A catalogue item (事项库) as it is from now on: the node writes it as the item's next version."""

    code: ItemCode
    name: Text
    stage: Annotated[int, Field(ge=1, le=4)]
    list: Literal["approval", "intermediary", "technical_review"] = Field(
        description="审批 approval, 中介服务 intermediary or 技术审查 technical_review"
    )
    department: Annotated[int, Field(ge=1, le=2**32 - 1)] = Field(
        description="the competent organisation's id: the only one that may approve the item"
    )
    time_limit_days: Annotated[int, Field(ge=0, le=3650)] = Field(description="working days; 0 for none")
    on_the_spot: bool = Field(default=False, description="decided on the spot (即办)")
    commitment: Literal["none", "deficiency", "credit", "self_acceptance"] = Field(
        description="承诺制 type: none (on the negative list), deficiency (容缺受理), credit (信用承诺制), "
        "self_acceptance (企业自主验收)"
    )
    retired: bool = False
    depends_on: ItemCodes = Field(
        default=[], description="codes of the items that must come before it (前置事项)"
    )
    guide_digest: Digest | None = Field(
        default=None, description="SHA-256 of the 服务指南 / materials list document"
    )

    @model_validator(mode="after")
    def _no_self_dependency(self) -> CatalogueItemIn:
        if self.code in self.depends_on:
            raise ValueError("an item cannot depend on itself")
        if len(set(self.depends_on)) != len(self.depends_on):
            raise ValueError("depends_on names an item twice")
        return self


class ActionIn(Strict):
    """A status change: every change is a new record with a reason."""

    reason: Reason
    document_digest: Digest | None = None
    seal: SealIn | None = None


class SupersedeIn(Strict):
    """Replace a record by a corrected one of the same kind."""

    reason: Reason
    replacement: dict[str, object]


class GrantIn(Strict):
    """Authorise an organisation to read a project's restricted data."""

    grantee_org: Annotated[int, Field(ge=1, le=2**32 - 1)]
    scope: Literal["documents", "restricted_fields", "all"] = "all"
    expires_at: dt.datetime
    authorisation_digest: Digest = Field(description="digest of the owner's authorisation letter")
    seal: SealIn | None = None


def _region_prefix(value: str) -> str:
    validate_division(value.ljust(6, "0"), "region")
    return value


RegionPrefix = Annotated[
    str,
    Field(pattern=r"^\d{2}(\d{2}(\d{2})?)?$", description="62, 6208 or 620825"),
    AfterValidator(_region_prefix),
]
Uscc = Annotated[str, AfterValidator(lambda v: validate_uscc(v, "owner_usccs"))]
RecordKindName = Literal[
    "project", "approval", "event", "commitment", "grant", "revocation", "resolution", "repair", "objection",
    "objection_upheld", "objection_rejected", "fulfilment", "breach",
]  # fmt: skip


def _rule(value: str) -> str:
    if value not in RULES.rules:
        raise ValueError(f"{value!r} is not a warning rule; the rules: {', '.join(sorted(RULES.rules))}")
    return value


RuleId = Annotated[str, AfterValidator(_rule), Field(examples=["item.overdue"])]


_FEW = Field(min_length=1, max_length=100)


class SubscriptionFiltersIn(Strict):
    """Which events a subscription delivers. Every filter given must match; any value of its list may.

    Whatever the filters, a subscription delivers only what its organisation may read
    (docs/notifications.md): a bank, only projects it holds a live grant on.
    """

    project_codes: Annotated[list[ProjectCodeStr], _FEW] | None = Field(
        default=None, description="these projects only"
    )
    owner_usccs: Annotated[list[Uscc], _FEW] | None = Field(
        default=None, description="projects of these owners (项目单位 USCC)"
    )
    regions: Annotated[list[RegionPrefix], _FEW] | None = Field(
        default=None, description="projects whose code's division starts with one of these: 62, 6208, 620825"
    )
    kinds: Annotated[list[RecordKindName], _FEW] | None = Field(
        default=None, description="records of these kinds (record events)"
    )
    rules: Annotated[list[RuleId], _FEW] | None = Field(
        default=None, description="warnings of these rules (warning events; ids of warning_rules.json)"
    )
    watch: Literal["granted"] | None = Field(
        default=None,
        description='"granted": only projects the organisation holds a live grant on (a watch list)',
    )


class SubscriptionIn(Strict):
    """Subscribe a URL to signed webhooks (docs/notifications.md)."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "url": "https://hooks.bank.example.cn/projchain",
                    "events": ["record"],
                    "filters": {"watch": "granted"},
                }
            ]
        },
    )

    url: Annotated[str, Field(min_length=1, max_length=2000, description="http:// or https:// receiver")]
    events: Annotated[list[Literal["record", "warning"]], Field(min_length=1, max_length=2)] = ["record"]
    filters: SubscriptionFiltersIn = Field(default_factory=SubscriptionFiltersIn)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        problem = url_problem(value, [])
        if problem is not None:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _filters_fit_events(self) -> SubscriptionIn:
        if len(set(self.events)) != len(self.events):
            raise ValueError("events: each event type once")
        if self.filters.kinds is not None and "record" not in self.events:
            raise ValueError('filters.kinds narrows record events: add "record" to events')
        if self.filters.rules is not None and "warning" not in self.events:
            raise ValueError('filters.rules narrows warning events: add "warning" to events')
        return self


class DigestIn(Strict):
    """Ask whether a digest is on chain."""

    digest: Digest


class Accepted(BaseModel):
    """A write was accepted (202) or, with ?wait=true, confirmed (200)."""

    uid: str
    state: Literal["pending", "confirmed", "failed"]
    duplicate: bool = False
    error: str | None = None


class ApprovalAccepted(Accepted):
    """An approval was accepted: the item version it names, and the uid of its commitment if any."""

    item_version: int
    commitment_uid: str | None = None


class CatalogueAccepted(Accepted):
    """A catalogue item version was accepted (or, ``duplicate``, the version in force says the same)."""

    code: str
    version: int


class ErrorOut(BaseModel):
    """Every 4xx/5xx body."""

    error: str
    detail: str


class FilingIn(Strict):
    """An owner's 备案 (秒批秒办), submitted by the filing authority on the owner's behalf (docs/filings.md).

    The node allocates the project code (GB/T 40058 shape), so the body has none. ``region_code``
    must be a division of 甘肃 in force today, ``industry_code`` (GB/T 4754 大类) not on the
    negative list for 备案 (422 ``negative_list``).
    """

    name: Text = Field(examples=["庄浪县万泉镇光伏农业综合利用项目"])
    owner_uscc: Annotated[str, AfterValidator(lambda v: validate_uscc(v, "owner_uscc"))] = Field(
        examples=["91620825MA74XK9R6N"]
    )
    owner_name: Text = Field(
        examples=["庄浪县绿源新能源科技有限公司"], description="项目单位, as on its licence"
    )
    region_code: Annotated[str, Field(pattern=r"^\d{6}$")] = Field(
        examples=["620825"], description="建设地点: a division of 甘肃省 in force (GB/T 2260)"
    )
    industry_code: Annotated[str, Field(pattern=r"^\d{2}$")] = Field(
        examples=["44"], description="industry (GB/T 4754 大类), not on the negative list for 备案"
    )
    total_investment: Annotated[Decimal, Field(gt=0, le=Decimal("1e14"), decimal_places=2)] = Field(
        description="total investment in yuan (元), at most 2 decimals"
    )
    construction_content: Annotated[str, Field(min_length=1, max_length=1000)] = Field(
        description="建设规模及内容 (restricted content of the registration)"
    )
    project_type_code: Annotated[str, Field(pattern=r"^\d{2}$")] = Field(
        default="05",
        description="GB/T 40058 项目类型代码 (4th segment); its table is unconfirmed, 05 is what real 备案 "
        "codes carry",
    )
    pledge_digest: Digest = Field(
        description="SHA-256 of the owner's 信用承诺书 as uploaded (POST /v1/documents), in the unified "
        "format docs/commitment-letter.schema.json; the filing approval's digest on chain"
    )
