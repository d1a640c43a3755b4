"""The core's slots: what a pack may provide, each with a small check of the value registered.

A new kind of extension is a new :class:`~runtime.packs.registry.Slot` here (or declared by the
module that consumes it), never an edit of the loader.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from rules.facts import check_pack_field

from runtime.packs.protocols import (
    CartParseProvider,
    GraphQLExtension,
    PaymentGateway,
    SettlementWebhookHandler,
    ShippingRateProvider,
    TaxProvider,
)
from runtime.packs.registry import Registry, Slot


def _implements(protocol: type) -> Callable[[Any], None]:
    methods = [name for name in vars(protocol) if not name.startswith("_")]

    def check(value: Any) -> None:
        missing = [name for name in methods if not callable(getattr(value, name, None))]
        if missing:
            raise TypeError(
                f"expected a {protocol.__name__} (methods {', '.join(methods)});"
                f" {type(value).__name__} lacks {', '.join(missing)}"
            )

    return check


def _effect(value: Any) -> None:
    # Imported here: effects need the jobs module, which needs the registry this module serves.
    from runtime.state_machines.effects import check_effect

    check_effect(value)


def _callable(value: Any) -> None:
    if not callable(value):
        raise TypeError(f"expected a function, got {type(value).__name__}")


def _graphql(value: Any) -> None:
    if not isinstance(value, GraphQLExtension):
        raise TypeError(f"expected a GraphQLExtension(sdl, bindables), got {type(value).__name__}")
    from graphql import GraphQLSyntaxError, parse

    try:
        parse(value.sdl)
    except GraphQLSyntaxError as exc:
        raise ValueError(f"sdl: {exc.message} at line {exc.locations[0].line if exc.locations else '?'}") from None


def _folder(value: Any) -> None:
    if not isinstance(value, (str, Path)):
        raise TypeError(f"expected a folder path, got {type(value).__name__}")
    if not Path(value).is_dir():
        raise ValueError(f"{value}: not a folder")




CORE_SLOTS = (
    Slot("payment_gateway", "Moves money: authorize, capture, refund, void.", _implements(PaymentGateway)),
    Slot("shipping_rate_provider", "Quotes shipping rates for a destination and subtotal.", _implements(ShippingRateProvider)),
    Slot("tax_provider", "Computes taxes per line.", _implements(TaxProvider)),
    Slot("cart_parse_provider", "Reads free text into SKUs and quantities.", _implements(CartParseProvider)),
    Slot("predicate_function", "A named function definitions may call in conditions.", _callable),
    Slot("fact_field", "A field <pack>.<name> of a fact kind: {fact: <kind>, schema: <JSON Schema>}.", check_pack_field),
    Slot("effect_action", "A named side effect definitions may run on a transition or event: an Effect.", _effect),
    Slot("graphql", "SDL and Ariadne bindables merged into the API schema.", _graphql),
    Slot("definitions", "A folder of YAML definitions shipped by the pack.", _folder),
    Slot("settlement_webhook", "Reads the pack's gateway webhooks (POST /webhooks/in/<pack>) into settlement updates.",
         _implements(SettlementWebhookHandler)),
)


def declare_core_slots(registry: Registry) -> None:
    for slot in CORE_SLOTS:
        registry.declare_slot(slot)
    # Declared by the module that consumes it, which knows what a periodic job is.
    from runtime.jobs.periodic import declare_slot

    declare_slot(registry)
    __import__("runtime.checkout.pipeline", fromlist=["declare_slot"]).declare_slot(registry)
    __import__("runtime.carts.checks", fromlist=["declare_slot"]).declare_slot(registry)
    __import__("runtime.tenders.types", fromlist=["declare_slot"]).declare_slot(registry)
