"""The registry of extension slots. One way to register anything a pack (or the core) provides.

Keys read ``<pack>.<slot>.<name>`` (``flat_rate_shipping.shipping_rate_provider.flat_rate``).
A pack's registrations are staged and land all together, or not at all when its loading fails.
"""
from __future__ import annotations

import json

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from runtime.errors import VectisError


class RegistrationError(VectisError):
    """A registration that cannot be accepted; the message names the key and what is wrong."""


#: Config schemas already checked in this process, by their JSON text: every app loads the same
#: packs, and checking a schema against the metaschema costs milliseconds each time.
_checked_schemas: set[str] = set()


def _check_config_schema(key: str, schema: Any) -> None:
    from jsonschema import Draft202012Validator, SchemaError

    if not isinstance(schema, dict):
        raise RegistrationError(f"{key}: config_schema: expected a JSON Schema object, got {type(schema).__name__}")
    try:
        text = json.dumps(schema, sort_keys=True, default=repr)
    except (TypeError, ValueError):  # not JSON at all: let the metaschema check say what is wrong
        text = None
    if text is not None and text in _checked_schemas:
        return
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
        raise RegistrationError(f"{key}: config_schema: {where}: {exc.message}") from None
    if text is not None:
        _checked_schemas.add(text)


@dataclass(frozen=True)
class Slot:
    name: str
    description: str
    #: Raises ``TypeError``/``ValueError`` with a message when a value does not fit the slot.
    check: Callable[[Any], None] | None = None


@dataclass(frozen=True)
class Entry:
    pack: str
    slot: str
    name: str
    value: Any
    label: str
    config_schema: dict[str, Any] | None = None

    @property
    def key(self) -> str:
        return f"{self.pack}.{self.slot}.{self.name}"

    @property
    def definition_name(self) -> str:
        """How definitions name what a pack gives them (functions, fields, effects)."""
        return f"{self.pack}.{self.name}"


@dataclass
class Registry:
    slots: dict[str, Slot] = field(default_factory=dict)
    _entries: dict[str, Entry] = field(default_factory=dict)
    _staging: dict[str, Entry] | None = None

    def declare_slot(self, slot: Slot) -> None:
        if slot.name in self.slots:
            raise RegistrationError(f"slot {slot.name!r} is declared twice")
        self.slots[slot.name] = slot

    def register(
        self,
        pack: str,
        slot: str,
        name: str,
        value: Any,
        *,
        label: str,
        config_schema: dict[str, Any] | None = None,
    ) -> Entry:
        if slot not in self.slots:
            from rules.suggestions import did_you_mean

            hint = did_you_mean(slot, self.slots)
            raise RegistrationError(f"{pack}.{slot}.{name}: unknown slot {slot!r}{hint}")
        entry = Entry(pack, slot, name, value, label, config_schema)
        if entry.key in self._entries or (self._staging is not None and entry.key in self._staging):
            raise RegistrationError(f"{entry.key}: registered twice")
        if config_schema is not None:
            _check_config_schema(entry.key, config_schema)
        check = self.slots[slot].check
        if check is not None:
            try:
                check(value)
            except (TypeError, ValueError) as exc:
                raise RegistrationError(f"{entry.key}: {exc}") from None
        target = self._staging if self._staging is not None else self._entries
        target[entry.key] = entry
        return entry

    @contextmanager
    def staged(self) -> Iterator[None]:
        """Collect registrations; keep them only if the block finishes without an exception."""
        if self._staging is not None:
            raise RegistrationError("staged registrations do not nest")
        self._staging = {}
        try:
            yield
            self._entries.update(self._staging)
        finally:
            self._staging = None

    def entries(self, slot: str) -> list[Entry]:
        return [e for e in self._entries.values() if e.slot == slot]

    def get(self, key: str) -> Entry | None:
        return self._entries.get(key)

    def names(self, slot: str) -> set[str]:
        """Full keys of a slot, as definitions refer to them (``pack.slot.name``)."""
        return {e.key for e in self._entries.values() if e.slot == slot}

    def remove_pack(self, pack: str) -> None:
        for key in [k for k, e in self._entries.items() if e.pack == pack]:
            del self._entries[key]
