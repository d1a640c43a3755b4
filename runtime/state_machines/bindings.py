"""Which table carries which machine: a model class bound to a machine name and an entity type.

The domain modules of later issues bind their models at start-up::

    from runtime.state_machines import bind
    bind(app, Reservation, machine="reservation")

A bound table has a single-column primary key and the ``state`` and ``state_entered_at`` columns
(:func:`runtime.state_machines.models.state_field` and friends), indexed for the timer sweep.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import Flask
from sqlalchemy import Table, inspect

#: Columns every bound table has.
STATE, ENTERED_AT = "state", "state_entered_at"


@dataclass(frozen=True)
class Binding:
    """``model`` (a mapped class) runs ``machine``; history rows name it ``entity_type``.

    ``to_fact`` turns an entity into the fact guards read; by default its columns, with
    ``Decimal`` as ``float`` (guards compare numbers).
    """

    model: type
    machine: str
    entity_type: str
    to_fact: Callable[[Any], dict[str, Any]] | None = None

    def __post_init__(self) -> None:
        table = self.table
        missing = [name for name in (STATE, ENTERED_AT) if name not in table.c]
        if missing:
            raise ValueError(f"model: {self.model.__name__} lacks the column(s) {', '.join(missing)} "
                             "a state machine needs (see runtime.state_machines.models)")
        if len(table.primary_key.columns) != 1:
            raise ValueError(f"model: {self.model.__name__} needs a single-column primary key")

    @property
    def table(self) -> Table:
        return self.model.__table__

    @property
    def id_column(self):
        return next(iter(self.table.primary_key.columns))

    def entity_id(self, entity: Any) -> Any:
        return getattr(entity, inspect(self.model).get_property_by_column(self.id_column).key)

    def fact(self, entity: Any) -> dict[str, Any]:
        if self.to_fact is not None:
            return self.to_fact(entity)
        mapper = inspect(self.model)
        fact = {}
        for column in self.table.columns:
            value = getattr(entity, mapper.get_property_by_column(column).key)
            fact[column.key] = float(value) if isinstance(value, Decimal) else value
        return fact


class Bindings:
    """Kept in ``app.extensions["vectis.state_machines"]``."""

    def __init__(self) -> None:
        self._by_model: dict[type, Binding] = {}

    def add(self, binding: Binding) -> Binding:
        if binding.model in self._by_model:
            raise ValueError(f"model: {binding.model.__name__} is bound twice")
        if any(b.entity_type == binding.entity_type for b in self._by_model.values()):
            raise ValueError(f"entity_type: {binding.entity_type!r} is bound twice")
        self._by_model[binding.model] = binding
        return binding

    def for_entity(self, entity: Any) -> Binding:
        binding = self._by_model.get(type(entity))
        if binding is None:
            raise LookupError(f"entity: {type(entity).__name__} is not bound to a state machine")
        return binding

    def for_machine(self, machine: str) -> list[Binding]:
        return [b for b in self._by_model.values() if b.machine == machine]

    def all(self) -> list[Binding]:
        return list(self._by_model.values())


def bindings(app: Flask) -> Bindings:
    return app.extensions.setdefault("vectis.state_machines", Bindings())


def bind(app: Flask, model: type, *, machine: str, entity_type: str | None = None,
         to_fact: Callable[[Any], dict[str, Any]] | None = None) -> Binding:
    """Bind ``model`` to the machine named ``machine`` (entity type: the table name by default)."""
    binding = Binding(model, machine, entity_type or model.__table__.name, to_fact)
    return bindings(app).add(binding)
