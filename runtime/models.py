"""Shared column helpers for SQLModel models. Each domain module keeps its own models."""
from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field

from runtime.clock import utcnow
from runtime.db import UTCDateTime


def timestamp_field(*, nullable: bool = False, default_now: bool = True, index: bool = False) -> Any:
    """A timezone-aware UTC timestamp column, defaulting to the runtime clock's now."""
    kwargs: dict[str, Any] = {"sa_column": Column(UTCDateTime(), nullable=nullable, index=index)}
    if default_now:
        kwargs["default_factory"] = utcnow
    else:
        kwargs["default"] = None
    return Field(**kwargs)


def json_field(*, default_factory=list) -> Any:
    return Field(default_factory=default_factory, sa_column=Column(JSON, nullable=False))


def all_models() -> None:
    """Import every module that defines tables, so ``SQLModel.metadata`` is complete."""
    import runtime.accounts.models  # noqa: F401
    import runtime.approvals.models  # noqa: F401
    import runtime.audit.models  # noqa: F401
    import runtime.auth.models  # noqa: F401
    import runtime.automations.models  # noqa: F401
    import runtime.carts.models  # noqa: F401
    import runtime.catalog.models  # noqa: F401
    import runtime.channels.models  # noqa: F401
    import runtime.definitions.models  # noqa: F401
    import runtime.events.models  # noqa: F401
    import runtime.inventory.models  # noqa: F401
    import runtime.labels.models  # noqa: F401
    import runtime.orders.models  # noqa: F401
    import runtime.orders.versions  # noqa: F401
    import runtime.packaging.models  # noqa: F401
    import runtime.packs.models  # noqa: F401
    import runtime.payments.models  # noqa: F401
    import runtime.pricing.models  # noqa: F401
    import runtime.promotions.models  # noqa: F401
    import runtime.quick_order.models  # noqa: F401
    import runtime.refunds.models  # noqa: F401
    import runtime.refunds.review  # noqa: F401
    import runtime.state_machines.models  # noqa: F401
    import runtime.tax.models  # noqa: F401
    import runtime.tenders.models  # noqa: F401
    import runtime.tenders.receivables  # noqa: F401
    import runtime.webhooks.models  # noqa: F401
    import runtime.webhooks.incoming_models  # noqa: F401
