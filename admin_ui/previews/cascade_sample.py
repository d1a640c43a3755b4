"""The ``tender_cascade`` preview's sample, read from the editor's form and checked: every problem
at once, each starting with the form field at fault. Reads only (no row locks, no holds).

* ``cascade_total``: the order total, in ``cascade_currency`` (default: the channel's);
* ``cascade_channel``, ``cascade_buyer`` (a customer's e-mail or an account's slug),
  ``cascade_group`` (the customer group, default the buyer's), ``cascade_location`` (the
  account's location code): the payer fact the cascades' ``when`` reads;
* ``cascade_prepended``: the buyer's tenders in front, ``type [amount]`` per line (no amount: it
  takes what the tender covers);
* ``cascade_balances``: ``type amount`` per line, what a tender covers in place of what is read.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from admin_ui.previews import buyers
from runtime.accounts.models import CustomerGroup, Location
from runtime.errors import BusinessError
from runtime.money import Money
from runtime.promotions.facts import Buyer
from runtime.tenders import ledger
from runtime.tenders.service import parse_amount
from runtime.tenders.store_credit import KIND as STORE_CREDIT
from runtime.tenders.terms import open_credit, terms_of
from runtime.tenders.types import tender_types

NET_TERMS, CARD = "net_terms", "card"
#: Lines a tender list may have (checkout takes at most 8 buyer tenders).
MAX_LINES = 8


@dataclass
class Sample:
    currency: str
    total: Decimal
    #: The ``payer`` fact (``schemas/facts/payer.schema.json``).
    payer: dict[str, Any]
    prepended: list[tuple[str, Decimal | None]]
    #: tender → {"amount": what it covers (None: anything), "from": where that was read}
    covers: dict[str, dict[str, Any]]


def read(app, session: Session, form, wanted: set[str]) -> Sample | list[str]:
    """The sample, or its problems; ``wanted``: the tender types whose cover the preview needs."""
    problems: list[str] = []
    channel = buyers.channel(session, form.get("cascade_channel", "").strip(), "cascade_channel")
    who = buyers.buyer(session, form.get("cascade_buyer", "").strip(), "cascade_buyer")
    problems += [found for found in (channel, who) if isinstance(found, str)]
    if isinstance(channel, str):
        return problems
    if isinstance(who, str):
        who = buyers.SampleBuyer(Buyer())  # reported; the rest is still checked
    currency = form.get("cascade_currency", "").strip().upper() or channel.default_currency
    if currency not in {channel.default_currency, *(channel.currencies or [])}:
        return problems + [f"cascade_currency: channel {channel.slug} sells in {', '.join(sorted({channel.default_currency, *(channel.currencies or [])}))}, "
                f"not {currency!r}"]
    total = _amount(form.get("cascade_total", ""), currency, "cascade_total", problems)
    group = _group(session, form.get("cascade_group", "").strip(), who, problems)
    location = _location(session, form.get("cascade_location", "").strip(), who, problems)
    known = tender_types(app)
    prepended = [(tender, amount) for tender, amount in
                 _tender_lines(form.get("cascade_prepended", ""), "cascade_prepended", known, currency, problems,
                               amount_required=False)]
    given = dict(_tender_lines(form.get("cascade_balances", ""), "cascade_balances", known, currency, problems,
                               amount_required=True))
    if problems:
        return problems
    payer: dict[str, Any] = {"channel": channel.slug, "is_b2b": who.buyer.account_id is not None, "currency": currency,
                             "total": float(total)}
    payer.update({key: value for key, value in (("account", who.account_slug), ("customer_group", group),
                                                 ("location", location)) if value})
    covers = {}
    # a buyer's tender with an amount takes that amount: only one without needs its cover
    for tender in sorted(wanted | {t for t, amount in prepended if amount is None}):
        cover = _cover(session, tender, given, who, currency)
        # in the currency's precision, as checkout's plan reads it
        covers[tender] = {**cover, "amount": None if cover["amount"] is None else Money(cover["amount"], currency).amount}
    return Sample(currency, total, payer, prepended, covers)


def _amount(text: str, currency: str, field: str, problems: list[str], *, allow_zero: bool = False) -> Decimal:
    try:
        return parse_amount(text.strip(), currency, field, allow_zero=allow_zero)
    except BusinessError as exc:
        problems.append(exc.message)
        return Decimal(0)


def _group(session: Session, slug: str, who: buyers.SampleBuyer, problems: list[str]) -> str | None:
    if not slug:
        return buyers.group_slug(session, who.group_id)
    if session.execute(select(CustomerGroup.id).where(CustomerGroup.slug == slug)).first() is None:
        problems.append(f"cascade_group: no customer group {slug!r}")
    return slug


def _location(session: Session, code: str, who: buyers.SampleBuyer, problems: list[str]) -> str | None:
    if not code:
        return None
    if who.buyer.account_id is None:
        problems.append("cascade_location: a location belongs to a B2B account; give the account's slug as the buyer")
    elif session.execute(select(Location.id).where(Location.account_id == who.buyer.account_id,
                                                   Location.code == code)).first() is None:
        problems.append(f"cascade_location: account {who.account_slug} has no location {code!r}")
    return code


def _tender_lines(text: str, field: str, known: dict, currency: str, problems: list[str], *,
                  amount_required: bool) -> list[tuple[str, Decimal | None]]:
    found = []
    lines = [(number, raw.split()) for number, raw in enumerate(text.splitlines(), start=1) if raw.strip()]
    if len(lines) > MAX_LINES:
        problems.append(f"{field}: at most {MAX_LINES} lines, got {len(lines)}")
        return []
    for number, parts in lines:
        where = f"{field}: line {number}"
        if len(parts) > 2 or (amount_required and len(parts) != 2):
            problems.append(f"{where}: expected 'type amount'{'' if amount_required else ' or just the type'}, "
                            f"got {' '.join(parts)!r}")
            continue
        if parts[0] not in known:
            problems.append(f"{where}: unknown tender type {parts[0]!r} (known: {', '.join(sorted(known))})")
            continue
        amount = _amount(parts[1], currency, where, problems, allow_zero=amount_required) if len(parts) == 2 else None
        found.append((parts[0], amount))
    return found


def _cover(session: Session, tender: str, given: dict[str, Decimal | None], who: buyers.SampleBuyer,
           currency: str) -> dict[str, Any]:
    """What ``tender`` covers for this payer, read without a lock, and where that came from."""
    if tender in given:
        return {"amount": given[tender], "from": "given"}
    if tender == CARD:
        return {"amount": None, "from": "a card covers any amount"}
    if tender == STORE_CREDIT:
        owner = ledger.owner_key(who.buyer.customer_id, who.buyer.account_id)
        account = ledger.find(session, STORE_CREDIT, owner, currency) if owner else None
        if account is None or not account.is_active:
            return {"amount": Decimal(0), "from": "no store credit" if owner else "a guest has no store credit"}
        amount = max(ledger.balance(session, account.id) + account.overdraft_limit, Decimal(0))
        return {"amount": amount, "from": "balance" + (f" with an overdraft of {Money(account.overdraft_limit, currency).amount}"
                                                       if account.overdraft_limit else "")}
    if tender == NET_TERMS:
        terms = terms_of(session, who.buyer.account_id, currency)
        if terms is None:
            return {"amount": Decimal(0), "from": f"no net terms in {currency}"}
        return {"amount": max(open_credit(session, terms), Decimal(0)), "from": f"open credit of {Money(terms.credit_limit, currency).amount}"}
    return {"amount": Decimal(0), "from": "not read in a preview: give it a balance"}
