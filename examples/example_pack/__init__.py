"""An example extension pack, walked through in ``docs/extensions.md``.

It provides two things definitions can name:

* ``example_pack.predicate_function.is_gift_wrappable`` — true for a product (a mapping with
  ``tags`` and ``weight_grams``) that is tagged ``giftable`` and light enough to wrap;
* ``example_pack.effect_action.add_order_note`` — appends a note to an order's ``notes`` list.

A pack imports only ``runtime.packs.api`` (and its own modules, with relative imports).
"""
from __future__ import annotations

from runtime.packs.api import InstallContext, PackContext

from .functions import add_order_note, is_gift_wrappable


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
        "add_order_note",
        add_order_note,
        label="Add a note to the order",
        config_schema={
            "type": "object",
            "required": ["text"],
            "additionalProperties": False,
            "properties": {"text": {"type": "string", "minLength": 1, "title": "Note"}},
        },
    )


def on_install(ctx: InstallContext) -> None:
    """Runs once, the first time this pack starts against a database (inside a transaction)."""
    ctx.log.info("example_pack %s installed", ctx.version)


def on_upgrade(ctx: InstallContext, from_version: str) -> None:
    """Runs once when ``version`` in manifest.yaml changes; migrate the pack's data here."""
    ctx.log.info("example_pack upgraded from %s to %s", from_version, ctx.version)
