"""An example extension pack, walked through in ``docs/extensions.md``.

It provides two things definitions can name, as ``<pack>.<name>``:

* ``example_pack.is_gift_wrappable`` — true for a product (a mapping with
  ``tags`` and ``weight_grams``) that is tagged ``giftable`` and light enough to wrap;
* ``example_pack.log_transition`` — an effect that logs one line per entity a transition moved.

A pack imports only ``runtime.packs.api`` (and its own modules, with relative imports).
"""
from __future__ import annotations

import logging

from runtime.packs.api import Effect, EffectCall, InstallContext, PackContext

from .functions import describe_transition, is_gift_wrappable

log = logging.getLogger("vectis.packs.example_pack")


def log_transition(call: EffectCall) -> None:
    """Runs after the firing transaction commits (an ``Effect`` is after-commit by default)."""
    for line in describe_transition(call):
        log.info(line)


def register(pack: PackContext) -> None:
    """Called once at start-up; every registration must be declared under ``provides``."""
    pack.register(
        "predicate_function",
        "is_gift_wrappable",
        is_gift_wrappable,
        label="Product can be gift-wrapped",
    )
    pack.register(
        "effect_action",
        "log_transition",
        Effect(log_transition),
        label="Log the transition",
    )


def on_install(ctx: InstallContext) -> None:
    """Runs once, the first time this pack starts against a database (inside a transaction)."""
    ctx.log.info("example_pack %s installed", ctx.version)


def on_upgrade(ctx: InstallContext, from_version: str) -> None:
    """Runs once when ``version`` in manifest.yaml changes; migrate the pack's data here."""
    ctx.log.info("example_pack upgraded from %s to %s", from_version, ctx.version)
