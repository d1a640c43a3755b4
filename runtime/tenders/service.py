"""Tenders for callers: the buyer's tenders on a cart, staff issuing store credit and setting net
terms, and an order's tenders. Each function runs inside the caller's transaction; a refusal
raises before anything is written."""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app
from sqlalchemy import delete
from sqlmodel import Session, select

from runtime.accounts.models import Account, Customer
from runtime.auth.permissions import Actor
from runtime.carts import service as carts
from runtime.errors import BusinessError, BusinessErrors
from runtime.money import minor_units
from runtime.tenders import ledger, overdraft
from runtime.tenders.errors import TenderErrorCode
from runtime.tenders.models import CartTender, NetTermsAccount, PaymentTender
from runtime.tenders.store_credit import KIND as STORE_CREDIT
from runtime.tenders.types import tender_type

#: Tenders a buyer may put in front of the cascade at most.
MAX_TENDERS = 8
#: Staff permission to issue store credit and set net terms.
MANAGE = "payments.tenders.manage"


def parse_amount(value: Any, currency: str, field: str, *, allow_zero: bool = False) -> Decimal:
    """A positive decimal string in the currency's precision, else INVALID_AMOUNT naming ``field``."""
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        amount = None
    places = minor_units(currency)
    if amount is None or not amount.is_finite() or amount < 0 or (amount == 0 and not allow_zero):
        raise BusinessError(TenderErrorCode.INVALID_AMOUNT, f"{field}: expected a positive decimal like \"10.00\", "
                            f"got {value!r}", field=field)
    if -amount.as_tuple().exponent > places or amount >= Decimal(10) ** 13:
        raise BusinessError(TenderErrorCode.INVALID_AMOUNT, f"{field}: {currency} amounts have at most {places} decimal "
                            f"places and 13 digits, got {value!r}", field=field)
    return amount


def check_tenders(session: Session, actor: Actor, cart, values: list[dict[str, Any]], *, field: str, currency: str,
                  amount_named_by: str | None = None,
                  prepare: Callable[[Any, dict[str, Any], str], dict | None] | None = None) -> list[tuple[Any, Decimal | None, dict]]:
    """Each tender of ``values`` checked by its type: ``(entry, amount, details)`` in order, or every
    problem at once as BusinessErrors naming ``field[i]``. ``amount_named_by`` (who names it, for
    the message) makes the amount required; ``prepare(entry, value, field)`` may answer the details
    itself (None: the tender type prepares them)."""
    problems: list[BusinessError] = []
    wanted = []
    for index, value in enumerate(values):
        where = f"{field}[{index}]"
        try:
            entry = tender_type(current_app, str(value.get("type") or ""), f"{where}.type")
            if value.get("amount") is None and amount_named_by is not None:
                raise BusinessError(TenderErrorCode.INVALID_AMOUNT, f"{where}.amount: {amount_named_by} names its amount",
                                    field=f"{where}.amount")
            amount = None if value.get("amount") is None else parse_amount(value["amount"], currency, f"{where}.amount")
            details = prepare(entry, value, where) if prepare is not None else None
            if details is None:
                details = entry.value.prepare(session, actor, cart, value, where)
        except BusinessErrors as exc:
            problems.extend(exc.errors)
            continue
        except BusinessError as exc:
            problems.append(exc)
            continue
        wanted.append((entry, amount, details))
    if problems:
        raise BusinessErrors(problems)
    return wanted


def check_adds_up(amounts: list[Decimal], due: Decimal, currency: str, field: str, what: str) -> None:
    """The tenders' amounts must add up to ``due`` exactly (``what`` names it: "the approved total is")."""
    given = sum(amounts, Decimal(0))
    if given != due:
        code = TenderErrorCode.TENDERS_EXCEED_TOTAL if given > due else TenderErrorCode.TENDERS_NOT_COVERED
        raise BusinessError(code, f"{field}: the tenders add up to {given} {currency} but {what} {due} {currency}",
                            field=field, due=format(due, "f"))


def set_cart_tenders(session: Session, actor: Actor, token: str, tenders: list[dict[str, Any]]):
    """Replace the buyer's tenders of cart ``token`` (each checked by its type); every problem at once."""
    cart = carts.load_cart(session, actor, token, lock=True)
    carts.require_active(cart)
    if len(tenders) > MAX_TENDERS:
        raise BusinessError(TenderErrorCode.INVALID_TENDER, f"tenders: at most {MAX_TENDERS} tenders, got {len(tenders)}",
                            field="tenders")
    rows = [CartTender(cart_id=cart.id, position=position, type=entry.name, amount=amount, details=details)
            for position, (entry, amount, details) in enumerate(
                check_tenders(session, actor, cart, tenders, field="tenders", currency=cart.currency))]
    session.exec(delete(CartTender).where(CartTender.cart_id == cart.id))
    session.add_all(rows)
    session.flush()
    return cart


def cart_tenders(session: Session, cart_id: int) -> list[CartTender]:
    return list(session.exec(select(CartTender).where(CartTender.cart_id == cart_id).order_by(CartTender.position)))


def _owner(session: Session, customer_id: Any, account_id: Any) -> str:
    if (customer_id is None) == (account_id is None):
        raise BusinessError(TenderErrorCode.NO_OWNER, "input: give exactly one of customerId and accountId", field="input")
    model, value, field = (Account, account_id, "input.accountId") if account_id is not None else (
        Customer, customer_id, "input.customerId")
    try:
        found = session.get(model, int(str(value)))
    except ValueError:
        found = None
    if found is None:
        raise BusinessError(TenderErrorCode.NOT_FOUND, f"{field}: no {model.__name__.lower()} {value!r}", field=field)
    return ledger.owner_key(None, found.id) if model is Account else ledger.owner_key(found.id, None)


def issue_store_credit(session: Session, actor: Actor, values: dict[str, Any]):
    """Credit ``amount`` to an account's or customer's store credit (opening it on first use);
    ``idempotencyKey`` makes a retry credit once. Returns (account, balance)."""
    currency = str(values.get("currency") or "").upper()
    if len(currency) != 3 or not currency.isalpha():
        raise BusinessError(TenderErrorCode.INVALID_AMOUNT, f"input.currency: expected an ISO code like EUR, got "
                            f"{values.get('currency')!r}", field="input.currency")
    owner = _owner(session, values.get("customer_id"), values.get("account_id"))
    amount = parse_amount(values.get("amount"), currency, "input.amount")
    key = str(values.get("idempotency_key") or "").strip()
    if not key or len(key) > 100:
        raise BusinessError(TenderErrorCode.INVALID_TENDER, "input.idempotencyKey: expected 1 to 100 characters",
                            field="input.idempotencyKey")
    account = ledger.find(session, STORE_CREDIT, owner, currency) or ledger.open_account(session, STORE_CREDIT, currency,
                                                                                         owner=owner)
    ledger.credit(session, account, amount, f"store-credit:{owner}:{key}", note=str(values.get("note") or ""),
                  actor=actor.label)
    return account, ledger.balance(session, account.id)


def set_store_credit_overdraft(session: Session, actor: Actor, values: dict[str, Any]):
    """An account's or customer's overdraft policy: how far below zero store credit may go and how
    many days the owner has to settle (``runtime.tenders.overdraft``). Returns the ledger account."""
    currency = str(values.get("currency") or "").upper()
    if len(currency) != 3 or not currency.isalpha():
        raise BusinessError(TenderErrorCode.INVALID_AMOUNT, f"input.currency: expected an ISO code like EUR, got "
                            f"{values.get('currency')!r}", field="input.currency")
    owner = _owner(session, values.get("customer_id"), values.get("account_id"))
    limit = parse_amount(values.get("overdraft_limit"), currency, "input.overdraftLimit", allow_zero=True)
    days = values.get("settle_days", overdraft.DEFAULT_SETTLE_DAYS)
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 365:
        raise BusinessError(TenderErrorCode.INVALID_TENDER, f"input.settleDays: expected 1 to 365, got {days!r}",
                            field="input.settleDays")
    found = ledger.find(session, STORE_CREDIT, owner, currency, lock=True)
    account = found or ledger.open_account(session, STORE_CREDIT, currency, owner=owner)
    account.overdraft_limit = limit
    account.attributes = {**(account.attributes or {}), "overdraft_settle_days": days}
    session.add(account)
    session.flush()
    return account


def set_net_terms(session: Session, actor: Actor, values: dict[str, Any]) -> NetTermsAccount:
    """Create or change an account's net terms (credit limit, currency, days, active)."""
    owner = _owner(session, None, values.get("account_id"))
    account_id = int(owner.split(":")[1])
    currency = str(values.get("currency") or "").upper()
    if len(currency) != 3 or not currency.isalpha():
        raise BusinessError(TenderErrorCode.INVALID_AMOUNT, "input.currency: expected an ISO code like EUR",
                            field="input.currency")
    limit = parse_amount(values.get("credit_limit"), currency, "input.creditLimit", allow_zero=True)
    days = values.get("terms_days", 30)
    if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= 365:
        raise BusinessError(TenderErrorCode.INVALID_TENDER, f"input.termsDays: expected 0 to 365, got {days!r}",
                            field="input.termsDays")
    terms = session.exec(select(NetTermsAccount).where(NetTermsAccount.account_id == account_id)
                         .with_for_update()).first() or NetTermsAccount(account_id=account_id, currency=currency)
    terms.credit_limit, terms.currency, terms.terms_days = limit, currency, days
    terms.is_active = bool(values.get("is_active", True))
    session.add(terms)
    session.flush()
    return terms


def order_tenders(session: Session, order_ids: list[int]) -> dict[int, list[PaymentTender]]:
    found: dict[int, list[PaymentTender]] = {order_id: [] for order_id in order_ids}
    if order_ids:
        for row in session.exec(select(PaymentTender).where(PaymentTender.order_id.in_(order_ids))
                                .order_by(PaymentTender.order_id, PaymentTender.position)):
            found[row.order_id].append(row)
    return found
