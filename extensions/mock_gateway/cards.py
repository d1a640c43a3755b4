"""Test card numbers and what each one does: the mock's only source of card outcomes.

A number is read once, during the call, into a :class:`Card` (brand and last four digits) and an
:class:`Outcome`; the full number is never kept.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Card:
    brand: str
    last4: str
    #: The most the card authorizes at once (a test card with a low limit), None: no limit.
    limit: Decimal | None = None


@dataclass(frozen=True)
class Outcome:
    #: ``authorized``, ``pending`` (held for fraud review), ``failed`` or ``timeout``.
    status: str
    #: The processor's decline code when ``status`` is ``failed`` or ``pending``.
    code: str | None = None
    message: str | None = None


APPROVED = Outcome("authorized")

#: Number → outcome. Every other number that passes the Luhn check is approved.
TEST_CARDS: dict[str, Outcome] = {
    "4242424242424242": APPROVED,
    "5555555555554444": APPROVED,
    "4000000000009995": Outcome("failed", "insufficient_funds", "The card has insufficient funds."),
    "4000000000000002": Outcome("failed", "do_not_honor", "The issuer declined the card (do not honor)."),
    "4000000000000069": Outcome("failed", "expired_card", "The card has expired."),
    "4000000000000127": Outcome("failed", "incorrect_cvc", "The card's security code is incorrect."),
    "4000000000009235": Outcome("pending", "fraud_review", "The authorization is held for fraud review."),
    "4000000000000119": Outcome("timeout"),
}

#: Number → the most it authorizes: approved up to it, ``insufficient_funds`` above it (an
#: authorization, or an increase of one, over the limit).
LIMITED_CARDS: dict[str, Decimal] = {"4000000000000341": Decimal("100.00")}
LIMIT_DECLINE = Outcome("failed", "insufficient_funds", "The card's limit does not cover the amount.")

INCORRECT_NUMBER = Outcome("failed", "incorrect_number", "The card number is not a valid card number.")
FRAUD_REVIEW = TEST_CARDS["4000000000009235"]

_BRANDS = (("4", "visa"), ("51", "mastercard"), ("52", "mastercard"), ("53", "mastercard"),
           ("54", "mastercard"), ("55", "mastercard"), ("2", "mastercard"), ("34", "amex"), ("37", "amex"))


def read_card(number: str) -> tuple[Card, Outcome]:
    """The card behind ``number`` (spaces and dashes allowed) and what authorizing it does."""
    digits = number.replace(" ", "").replace("-", "")
    if not (digits.isdigit() and 12 <= len(digits) <= 19 and _luhn_valid(digits)):
        return Card("unknown", digits[-4:] if digits[-4:].isdigit() else ""), INCORRECT_NUMBER
    brand = next((name for prefix, name in _BRANDS if digits.startswith(prefix)), "unknown")
    return Card(brand, digits[-4:], LIMITED_CARDS.get(digits)), TEST_CARDS.get(digits, APPROVED)


def _luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0
