"""Webhook subscriptions: an organisation's signed notifications of new records (docs/notifications.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from node_api.api.deps import CurrentOrg, NotificationsDep
from node_api.api.params import ERRORS
from node_api.api.schemas import SubscriptionIn

router = APIRouter(prefix="/v1/subscriptions", tags=["subscriptions"])

SubscriptionId = Annotated[str, Path(pattern=r"^sub_[0-9a-f]{24}$", description="subscription id")]
DeliveryId = Annotated[str, Path(pattern=r"^dlv_[0-9a-f]{32}$", description="delivery id (X-Projchain-Id)")]
RECENT = 20  # deliveries shown with a subscription


@router.post("", status_code=201, responses=ERRORS)
async def subscribe(body: SubscriptionIn, org: CurrentOrg, notifications: NotificationsDep) -> dict[str, Any]:
    """Subscribe a URL to signed webhooks; the answer holds the signing secret, shown only this once."""
    filters = body.filters.model_dump(exclude_none=True)
    return notifications.subscribe(org, body.url, filters, list(body.events))


@router.get("", responses=ERRORS)
async def list_subscriptions(org: CurrentOrg, notifications: NotificationsDep) -> dict[str, Any]:
    """The organisation's subscriptions (deactivated ones too), with deliveries counted per state."""
    return {"subscriptions": notifications.subscriptions(org)}


@router.get("/{subscription_id}", responses=ERRORS)
async def get_subscription(
    subscription_id: SubscriptionId, org: CurrentOrg, notifications: NotificationsDep
) -> dict[str, Any]:
    """One subscription, its deliveries counted per state and the latest ones with their state."""
    view = notifications.subscription(org, subscription_id)
    return {**view, "recent": notifications.deliveries(org, subscription_id, None, None, RECENT)}


@router.get("/{subscription_id}/deliveries", responses=ERRORS)
async def list_deliveries(
    subscription_id: SubscriptionId,
    org: CurrentOrg,
    notifications: NotificationsDep,
    state: Annotated[Literal["pending", "failing", "delivered", "dead"] | None, Query()] = None,
    before: Annotated[
        int | None, Query(ge=1, le=2**62, description="page back: the seq of the last one seen")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """A subscription's deliveries, newest first: state, attempts, last status and error, next attempt."""
    return {"deliveries": notifications.deliveries(org, subscription_id, state, before, limit)}


@router.delete("/{subscription_id}", responses=ERRORS)
async def deactivate_subscription(
    subscription_id: SubscriptionId, org: CurrentOrg, notifications: NotificationsDep
) -> dict[str, Any]:
    """Stop a subscription: it is kept, marked deactivated, and its open deliveries are dead."""
    return notifications.deactivate(org, subscription_id)


@router.post("/{subscription_id}/redeliver/{delivery_id}", status_code=202, responses=ERRORS)
async def redeliver(
    subscription_id: SubscriptionId, delivery_id: DeliveryId, org: CurrentOrg, notifications: NotificationsDep
) -> dict[str, Any]:
    """Queue a dead delivery again (same id); 409 unless it is dead."""
    return notifications.redeliver(org, subscription_id, delivery_id)
