"""The pack's GraphQL: staff generate cards in bulk; anyone holding a code reads its balance."""
from __future__ import annotations

from ariadne import MutationType, QueryType

from runtime.packs.api import GraphQLExtension, context_of, payload

from . import cards

SDL = """
enum GiftCardForm { VIRTUAL PHYSICAL }

input GenerateGiftCardsInput {
  count: Int!
  amount: String!
  currency: String!
  form: GiftCardForm = VIRTUAL
  expiresAt: DateTime
  "A label for the batch (a campaign, a print run)."
  batch: String
}

type IssuedGiftCard {
  "Shown once: only a keyed digest is kept."
  code: String!
  hint: String!
  balance: Money!
  expiresAt: DateTime
}

type GenerateGiftCardsPayload {
  giftCards: [IssuedGiftCard!]!
  errors: [TenderError!]!
}

type GiftCardBalance {
  balance: Money!
  hint: String!
  form: GiftCardForm!
  expiresAt: DateTime
  isActive: Boolean!
}

extend type Query {
  "The balance of the card with this code (null: no such card)."
  giftCardBalance(code: String!): GiftCardBalance
}

extend type Mutation {
  "Staff (`payments.tenders.manage`): issue up to 1000 cards of one amount."
  generateGiftCards(input: GenerateGiftCardsInput!): GenerateGiftCardsPayload!
}
"""

query = QueryType()
mutation = MutationType()


def _money(value) -> dict:
    return {"amount": format(value.amount, "f"), "currency": value.currency}


@query.field("giftCardBalance")
def resolve_balance(_, info, code: str):
    with context_of(info).reads() as session:
        found = cards.balance_of(session, code)
    if found is None:
        return None
    return {**found, "balance": _money(found["balance"]), "form": found["form"].upper()}


@mutation.field("generateGiftCards")
@payload
def resolve_generate(_, info, input: dict):
    ctx = context_of(info)
    ctx.require("payments.tenders.manage")
    form = str(input.get("form") or "VIRTUAL").lower()

    def work(session):
        issued = cards.generate(session, ctx.actor.label, count=input.get("count"), amount=input.get("amount"),
                                currency=input.get("currency"), form=form, expires_at=input.get("expires_at"),
                                batch=str(input.get("batch") or ""))
        return [{"code": code, "hint": card.hint, "expires_at": card.expires_at,
                 "balance": {"amount": format(cards.parse_amount(input.get("amount"), card.currency, "input.amount"), "f"),
                             "currency": card.currency}} for code, card in issued]

    return {"gift_cards": ctx.db.run(work)}


EXTENSION = GraphQLExtension(SDL, (query, mutation))
