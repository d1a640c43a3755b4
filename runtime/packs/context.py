"""What a pack's code receives: :class:`PackContext` in ``register(pack)``, :class:`InstallContext`
in its ``on_install``/``on_upgrade`` hooks."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session

from runtime.packs.manifest import Manifest
from runtime.packs.registry import Registry


class PackContext:
    """Handed to a pack's ``register(pack)``. Everything registered is keyed ``<pack>.<slot>.<name>``."""

    def __init__(self, registry: Registry, manifest: Manifest):
        self._registry = registry
        self.manifest = manifest
        #: A logger named after the pack (``vectis.packs.flat_rate_shipping``).
        self.log = logging.getLogger(f"vectis.packs.{manifest.name}")
        #: (slot, name) of every registration made so far.
        self.registered: set[tuple[str, str]] = set()

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def version(self) -> str:
        return self.manifest.version

    @property
    def path(self) -> Path:
        """The pack's folder (where ``manifest.yaml`` is), for files it ships (definitions, SDL)."""
        return self.manifest.path

    def register(
        self,
        slot: str,
        name: str,
        value: Any,
        *,
        label: str,
        config_schema: dict[str, Any] | None = None,
    ) -> str:
        """Provide ``value`` in ``slot`` under ``name``; ``label`` is shown to merchants and
        ``config_schema`` (JSON Schema) describes the settings the admin UI asks for. Returns the key."""
        entry = self._registry.register(self.name, slot, name, value, label=label, config_schema=config_schema)
        self.registered.add((slot, name))
        return entry.key


@dataclass
class InstallContext:
    """Handed to ``on_install(ctx)`` and ``on_upgrade(ctx, from_version)``.

    The hook runs inside the transaction that records the pack's new version: what it writes
    with :attr:`session` commits together with that record, or not at all.
    """

    session: Session
    manifest: Manifest
    log: logging.Logger = field(init=False)

    def __post_init__(self) -> None:
        self.log = logging.getLogger(f"vectis.packs.{self.manifest.name}")

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def version(self) -> str:
        return self.manifest.version
