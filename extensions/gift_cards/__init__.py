"""Gift cards: a tender type (``gift_card``) on the core stored-value ledger, codes generated in
bulk and kept only as keyed digests, partial redemption, expiry, and a small GraphQL surface.
A pack: the core never imports it; it plugs in through the ``tender_type`` and ``graphql`` slots.
"""
from __future__ import annotations

from runtime.packs.api import PackContext, utcnow

from .graphql import EXTENSION
from .tender import GiftCardTender


def register(pack: PackContext) -> None:
    pack.register("tender_type", "gift_card", GiftCardTender(utcnow), label="Gift card (virtual or physical)")
    pack.register("graphql", "gift_cards", EXTENSION, label="Gift cards: generate, balance")
