"""A stateful test table (in its own MetaData, not the models') bound to a test machine."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import MetaData, Numeric
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from runtime.auth.permissions import Actor
from runtime.db import UTCDateTime
from runtime.definitions import store
from runtime.definitions.environment import build_environment
from runtime.definitions.live import live_definitions
from runtime.state_machines import Effect, bind
from runtime.state_machines.models import state_index


class Base(DeclarativeBase):
    metadata = MetaData()


class Parcel(Base):
    __tablename__ = "sm_test_parcel"
    __table_args__ = (state_index("sm_test_parcel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column()
    state_entered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    total: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    item_count: Mapped[int] = mapped_column(default=0)


MACHINE = """\
kind: state_machine
name: parcel_flow
entity: order
context: {note: string}
states:
  packed:
    initial: true
    timer: {after: 30m, transition: expire}
  sent: {}
  delivered: {final: true}
  expired: {final: true}
  lost: {final: true}
transitions:
  send:
    from: packed
    to: sent
    guard: {item_count: {gt: 0}}
    effects: [test.audit, test.notify]
  deliver: {from: sent, to: delivered, permission: orders.ship}
  lose: {from: sent, to: lost, guard: {context.note: {exists: true}}}
  expire:
    from: packed
    to: expired
    effects: [test.notify]
"""

#: Calls seen by the test effects: ("audit"|"notify", EffectCall, whether a session was given).
CALLS: list[tuple] = []

CLERK = Actor(user_id=1, email="clerk@example.test", permissions=frozenset())
SHIPPER = Actor(user_id=2, email="shipper@example.test", permissions=frozenset({"orders.ship"}))


def audit(call) -> None:
    CALLS.append(("audit", call, call.session is not None))


def notify(call) -> None:
    CALLS.append(("notify", call, call.session is not None))


@pytest.fixture
def settings(database_url, tmp_path):
    from tests.conftest import make_settings

    return make_settings(database_url, "", tmp_path)  # effects' jobs run in-process


@pytest.fixture
def machine_app(app):
    """``app`` with the parcel table, the test effects, the machine published and the binding."""
    registry = app.extensions["vectis.registry"]
    registry.register("test", "effect_action", "audit", Effect(audit, in_transaction=True), label="Audit")
    registry.register("test", "effect_action", "notify", Effect(notify), label="Notify")
    database = app.extensions["vectis.db"]
    Base.metadata.create_all(database.engine)
    env = build_environment(registry)
    database.run(lambda s: store.publish(s, MACHINE, env, author="tester", origin="test"))
    live_definitions(app).refresh(force=True)
    bind(app, Parcel, machine="parcel_flow", entity_type="parcel")
    CALLS.clear()
    with app.app_context():
        yield app
    CALLS.clear()
    Base.metadata.drop_all(database.engine)


def add_parcels(database, count: int, *, state: str = "packed", item_count: int = 1, at=None) -> list[int]:
    from runtime.clock import utcnow

    def work(session):
        parcels = [Parcel(state=state, state_entered_at=at or utcnow(), item_count=item_count,
                          total=Decimal("12.50")) for _ in range(count)]
        session.add_all(parcels)
        session.flush()
        return [p.id for p in parcels]

    return database.run(work)
