"""Saved payment methods: a gateway token kept for a customer, or for a B2B account (optionally
scoped to one of its locations). Visible to their owners only: a foreign id is NOT_FOUND."""
from __future__ import annotations

from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, select

from runtime.accounts.models import Account, Location
from runtime.auth.permissions import Actor
from runtime.errors import BusinessError
from runtime.payments.errors import PaymentErrorCode
from runtime.payments.gateway import channel_gateway
from runtime.payments.models import SavedPaymentMethod

#: Staff who manage any account's saved methods.
MANAGE = "accounts.manage"
#: Staff who charge an account's saved method when creating an order for it.
CREATE_ORDERS = "orders.create"

_BRANDS = (("34", "amex"), ("37", "amex"), ("51", "mastercard"), ("52", "mastercard"), ("53", "mastercard"),
           ("54", "mastercard"), ("55", "mastercard"), ("2", "mastercard"), ("4", "visa"))


def add_saved_payment_method(session: Session, actor: Actor, *, channel_id: int, token: str, label: str = "",
                             location_id: int | None = None, account_id: int | None = None) -> SavedPaymentMethod:
    """Save ``token`` with the channel's gateway: a customer for themself, an employee for their
    account (optionally one of its locations), staff with ``accounts.manage`` for any account."""
    token = (token or "").strip()
    if not token:
        raise BusinessError(PaymentErrorCode.MISSING_PAYMENT, "token: a payment token is needed", field="token")
    gateway = channel_gateway(session, channel_id)
    owner: dict[str, Any]
    if account_id is not None and actor.has(MANAGE):
        if session.get(Account, account_id) is None:
            raise BusinessError(PaymentErrorCode.NOT_FOUND, f"accountId: no account {account_id}", field="accountId")
        owner = {"account_id": account_id}
    elif account_id is not None and account_id != actor.account_id:
        raise BusinessError(PaymentErrorCode.NOT_FOUND, f"accountId: no account {account_id}", field="accountId")
    elif actor.employee_id is not None:
        owner = {"account_id": actor.account_id}
    elif actor.customer_id is not None and location_id is None:
        owner = {"customer_id": actor.customer_id}
    elif actor.customer_id is not None:
        raise BusinessError(PaymentErrorCode.INVALID_LOCATION,
                            "locationId: a customer's payment methods are not scoped to a location", field="locationId")
    else:
        raise BusinessError(PaymentErrorCode.NO_OWNER,
                            "accountId: only a customer, an employee, or staff naming an account can save a payment method",
                            field="accountId")
    if location_id is not None:
        location = session.get(Location, location_id)
        if location is None or location.account_id != owner["account_id"]:
            raise BusinessError(PaymentErrorCode.NOT_FOUND, f"locationId: no location {location_id}", field="locationId")
        owner["location_id"] = location_id
    digits = "".join(ch for ch in token if ch.isdigit())
    method = SavedPaymentMethod(gateway=gateway.key, token=token, label=label.strip()[:120], brand=_brand(digits),
                                last4=digits[-4:] if len(digits) >= 4 else "", **owner)
    session.add(method)
    session.flush()
    return method


def list_saved_payment_methods(session: Session, actor: Actor, location_id: int | None = None) -> list[SavedPaymentMethod]:
    """The caller's usable methods: a customer's own; an employee's account-wide ones and their
    location's; for staff with ``accounts.manage``, those of ``location_id``'s account usable there."""
    statement = select(SavedPaymentMethod).where(SavedPaymentMethod.is_active).order_by(SavedPaymentMethod.id)
    if actor.customer_id is not None:
        if location_id is not None:
            return []
        return list(session.exec(statement.where(SavedPaymentMethod.customer_id == actor.customer_id)))
    if actor.employee_id is not None:
        if location_id is not None and location_id != actor.location_id:
            return []
        return list(session.exec(statement.where(_account_clause(actor.account_id, actor.location_id))))
    if actor.has(MANAGE) and location_id is not None:
        location = session.get(Location, location_id)
        if location is None:
            return []
        return list(session.exec(statement.where(_account_clause(location.account_id, location.id))))
    return []


def remove_saved_payment_method(session: Session, actor: Actor, method_id: int) -> SavedPaymentMethod:
    method = visible_method(session, actor, method_id, field="id")
    method.is_active = False
    session.add(method)
    session.flush()
    return method


def visible_method(session: Session, actor: Actor, method_id: Any, *, field: str = "savedPaymentMethodId") -> SavedPaymentMethod:
    """The active method if the caller may use it, else NOT_FOUND naming ``field``."""
    method = _get(session, method_id)
    allowed = method is not None and (
        (actor.customer_id is not None and method.customer_id == actor.customer_id)
        or (actor.employee_id is not None and method.account_id == actor.account_id
            and method.location_id in (None, actor.location_id))
        or (method.account_id is not None and (actor.has(MANAGE) or actor.has(CREATE_ORDERS)))
    )
    if not allowed:
        raise BusinessError(PaymentErrorCode.NOT_FOUND, f"{field}: no saved payment method {method_id}", field=field)
    return method


def usable_method(session: Session, method_id: Any, *, customer_id: int | None, account_id: int | None,
                  location_id: int | None) -> SavedPaymentMethod:
    """The method if the order's buyer (customer, or account and location) may be charged with it."""
    method = _get(session, method_id)
    allowed = method is not None and (
        (customer_id is not None and method.customer_id == customer_id)
        or (account_id is not None and method.account_id == account_id and method.location_id in (None, location_id))
    )
    if not allowed:
        raise BusinessError(PaymentErrorCode.NOT_FOUND, f"savedPaymentMethodId: no saved payment method {method_id}",
                            field="savedPaymentMethodId")
    return method


def validate_payment_method(session: Session, actor: Actor, channel, *, token: str | None,
                            saved_payment_method_id: Any = None) -> dict[str, Any]:
    """What ``setCartPayment`` stores: the channel's gateway, and the token or the saved method
    the buyer may use (exactly one of them)."""
    gateway = channel_gateway(session, channel.id)
    token = (token or "").strip() or None
    if (token is None) == (saved_payment_method_id is None):
        raise BusinessError(PaymentErrorCode.MISSING_PAYMENT,
                            "input: give exactly one of token and savedPaymentMethodId", field="input")
    if token is not None:
        return {"gateway": gateway.key, "token": token, "saved_payment_method_id": None}
    method = visible_method(session, actor, saved_payment_method_id)
    return {"gateway": gateway.key, "token": None, "saved_payment_method_id": method.id,
            "label": method.label, "brand": method.brand, "last4": method.last4}


def _account_clause(account_id: int | None, location_id: int | None):
    return (SavedPaymentMethod.account_id == account_id) & or_(
        SavedPaymentMethod.location_id.is_(None), SavedPaymentMethod.location_id == location_id)


def _get(session: Session, method_id: Any) -> SavedPaymentMethod | None:
    try:
        number = int(str(method_id))
    except ValueError:
        return None
    if not 0 < number < 2**31:
        return None
    method = session.get(SavedPaymentMethod, number)
    return method if method is not None and method.is_active else None


def _brand(digits: str) -> str:
    return next((name for prefix, name in _BRANDS if digits.startswith(prefix)), "") if len(digits) >= 12 else ""
