"""The one timer sweep: set-based, on the frozen clock, never moving a row twice."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from runtime.errors import BusinessError
from runtime.jobs import sweep_timer
from runtime.state_machines import fire
from runtime.state_machines.models import StateTransition
from runtime.state_machines.sweep import sweep_timers
from tests.runtime.state_machine_fixtures import (
    CALLS, CLERK, Parcel, add_parcels, machine_app, settings,  # noqa: F401
)


def _states(database) -> dict[int, str]:
    with database.session() as session:
        return dict(session.execute(select(Parcel.id, Parcel.state)).all())


def _timer_history(database) -> list[tuple]:
    with database.session() as session:
        rows = session.execute(select(StateTransition).order_by(StateTransition.id)).scalars()
        return [(int(r.entity_id), r.transition, r.from_state, r.to_state, r.actor, r.revision, r.at)
                for r in rows]


def test_sweep_expires_exactly_the_timed_out_rows(machine_app, database, frozen_clock):
    # given three parcels packed now, one packed 20 minutes later, and one already sent
    start = frozen_clock.now()
    old = add_parcels(database, 3)
    frozen_clock.advance(minutes=20)
    young = add_parcels(database, 1)
    sent = add_parcels(database, 1, state="sent", at=start)

    # when the sweep runs 30 minutes after the first ones were packed
    now = frozen_clock.advance(minutes=10)
    moved = sweep_timers(machine_app)

    # then exactly the three expired, with history rows by the timer, and one notify for all
    assert moved == {("parcel_flow", "parcel", "packed"): 3}
    assert _states(database) == {**{i: "expired" for i in old}, young[0]: "packed", sent[0]: "sent"}
    assert _timer_history(database) == [
        (i, "expire", "packed", "expired", "system:timer", 1, now) for i in old]
    assert [(name, call.entity_ids, call.transition, call.actor) for name, call, _ in CALLS] == [
        ("notify", tuple(str(i) for i in old), "expire", "system:timer")]
    with database.session() as session:
        assert session.get(Parcel, old[0]).state_entered_at == now

    # and running it again moves nothing; once 30 minutes old, the young one expires too
    assert sweep_timers(machine_app) == {}
    frozen_clock.advance(minutes=20)
    assert sweep_timers(machine_app) == {("parcel_flow", "parcel", "packed"): 1}
    assert _states(database)[young[0]] == "expired"


def test_sweep_at_the_exact_expiry_moves_the_row(machine_app, database, frozen_clock):
    [parcel_id] = add_parcels(database, 1)

    frozen_clock.advance(timedelta(minutes=30) - timedelta(microseconds=1))
    assert sweep_timers(machine_app) == {}
    frozen_clock.advance(timedelta(microseconds=1))
    assert sweep_timers(machine_app) == {("parcel_flow", "parcel", "packed"): 1}
    assert _states(database) == {parcel_id: "expired"}


def test_sweep_works_in_batches(machine_app, database, frozen_clock):
    ids = add_parcels(database, 5)
    frozen_clock.advance(hours=1)

    moved = sweep_timers(machine_app, batch_size=2)

    assert moved == {("parcel_flow", "parcel", "packed"): 5}
    assert set(_states(database).values()) == {"expired"}
    assert [len(call.entity_ids) for _, call, _ in CALLS] == [2, 2, 1]
    assert sorted(int(i) for _, call, _ in CALLS for i in call.entity_ids) == ids
    with database.session() as session:
        assert session.execute(select(func.count()).select_from(StateTransition)).scalar() == 5


def test_a_row_fired_before_the_sweep_is_not_moved_again(machine_app, database, frozen_clock):
    # given an expired parcel a clerk sends just before the sweep
    [sent_id, other_id] = add_parcels(database, 2)
    frozen_clock.advance(hours=1)
    database.run(lambda s: fire(s, s.get(Parcel, sent_id), "send", CLERK))

    sweep_timers(machine_app)

    assert _states(database) == {sent_id: "sent", other_id: "expired"}
    assert [(i, t) for i, t, *_ in _timer_history(database)] == [(sent_id, "send"), (other_id, "expire")]


def test_a_fire_on_a_row_the_sweep_moved_is_refused(machine_app, database, frozen_clock):
    # given a parcel loaded before the sweep expired it
    [parcel_id] = add_parcels(database, 1)
    frozen_clock.advance(hours=1)
    with database.transaction() as session:
        stale = session.get(Parcel, parcel_id)
        sweep_timers(machine_app)

        with pytest.raises(BusinessError) as raised:
            fire(session, stale, "send", CLERK)

    assert raised.value.code == "STATE_CHANGED"
    assert [t for _, t, *_ in _timer_history(database)] == ["expire"]


def test_the_sweep_is_one_periodic_job(machine_app, database, frozen_clock):
    # given the in-process timer of the app
    add_parcels(database, 2)
    frozen_clock.advance(hours=1)

    ran = sweep_timer(machine_app).run_due()

    assert "core.periodic_job.state_machine_timers" in ran
    assert set(_states(database).values()) == {"expired"}


def test_concurrent_fire_and_sweep_move_a_row_once(machine_app, database, frozen_clock, backend):
    """A fire holding the row (not yet committed) while the sweep runs: the sweep skips the
    locked row on PostgreSQL (SKIP LOCKED); SQLite lets one writer in at a time."""
    if backend != "postgres":
        pytest.skip("row locks are PostgreSQL's; SQLite serializes writers")
    [held_id, free_id] = add_parcels(database, 2)
    frozen_clock.advance(hours=1)
    with database.transaction() as session:
        fire(session, session.get(Parcel, held_id), "send", CLERK)  # row locked until commit
        moved = sweep_timers(machine_app)

    assert moved == {("parcel_flow", "parcel", "packed"): 1}
    assert _states(database) == {held_id: "sent", free_id: "expired"}
    assert sorted((i, t) for i, t, *_ in _timer_history(database)) == [
        (held_id, "send"), (free_id, "expire")]
