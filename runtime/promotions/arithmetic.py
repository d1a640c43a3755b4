"""The money arithmetic promotions compute with: the runtime's :class:`~runtime.money.Money`
behind the rules engine's :class:`rules.promotion_actions.MoneyOps` port."""
from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from runtime.money import Money, minor_units


class MoneyArithmetic:
    """Round to a currency's minor unit and split with :meth:`Money.allocate` (never by dividing)."""

    def round(self, amount: Decimal, currency: str) -> Decimal:
        return Money(amount, currency).amount

    def allocate(self, amount: Decimal, currency: str, ratios: Sequence[int]) -> list[Decimal]:
        return [part.amount for part in Money(amount, currency).allocate(list(ratios))]

    def minor(self, amount: Decimal, currency: str) -> int:
        return int(Money(amount, currency).amount.scaleb(minor_units(currency)))


#: The one instance the runtime passes to the engine and to definition examples.
MONEY = MoneyArithmetic()
