"""Who may see an object — the one ownership rule every domain calls.

An object belongs to a user (a customer's cart, an employee's order) and, for B2B, to an
account. Its owner and the employees of its account see it; staff see it through a permission.
Anyone else gets NOT_FOUND, exactly as for an id that does not exist: a foreign id must not
reveal that it exists (never FORBIDDEN).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import false, or_, select, true
from sqlmodel import Session

from runtime.accounts.countries import COUNTRIES
from runtime.accounts.errors import AccountErrorCode as Code
from runtime.accounts.models import Address, Location
from runtime.auth.permissions import Actor
from runtime.errors import BusinessError, BusinessErrors

#: Staff permissions that read every address (and with ``accounts.manage`` also change it).
ADDRESS_READ_PERMISSIONS = ("customers.read", "accounts.manage")
ADDRESS_WRITE_PERMISSION = "accounts.manage"

#: Address fields, their GraphQL names and column lengths; ``True`` = required.
ADDRESS_FIELDS: dict[str, tuple[str, int, bool]] = {
    "first_name": ("firstName", 120, False),
    "last_name": ("lastName", 120, False),
    "company": ("company", 200, False),
    "line1": ("line1", 200, True),
    "line2": ("line2", 200, False),
    "postal_code": ("postalCode", 32, False),
    "city": ("city", 120, True),
    "region": ("region", 120, False),
    "country": ("country", 2, True),
    "phone": ("phone", 40, False),
}


def not_found(what: str, field: str, id: Any) -> BusinessError:
    """The answer for an unknown id and for a foreign one alike."""
    return BusinessError(Code.NOT_FOUND, f"{field}: no {what} {id}", field=field)


def owns(actor: Actor, *, user_id: int | None, account_id: int | None, staff_permission: str) -> bool:
    """Whether ``actor`` may see an object owned by ``user_id`` / ``account_id``.

    Staff through ``staff_permission`` (API keys only this way: their scopes); the owner; an
    employee of the object's account.
    """
    if actor.has(staff_permission):
        return True
    if actor.user_id is not None and actor.user_id == user_id:
        return True
    return actor.employee_id is not None and account_id is not None and actor.account_id == account_id


def owner_clause(actor: Actor, model: Any, staff_permission: str):
    """The where-clause of :func:`owns` for list queries on ``model`` (with ``user_id`` and ``account_id``)."""
    if actor.has(staff_permission):
        return true()
    clauses = []
    if actor.user_id is not None:
        clauses.append(model.user_id == actor.user_id)
    if actor.employee_id is not None and actor.account_id is not None:
        clauses.append(model.account_id == actor.account_id)
    return or_(*clauses) if clauses else false()


#: What Ariadne's camelCase → snake_case conversion makes of ``line1``/``line2`` in inputs.
INPUT_ALIASES = {"line1": "line_1", "line2": "line_2"}


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def validate_address(values: dict, field_prefix: str) -> dict:
    """The one address validation: every problem at once, fields named ``<prefix>.line1`` etc.

    Accepts model keys (``line1``) and GraphQL input keys alike (``line_1``, as Ariadne converts
    them). Returns the normalized snapshot (strings stripped, country upper-cased, absent fields "").
    """
    values = {**{k: values[a] for k, a in INPUT_ALIASES.items() if a in values}, **values}
    prefix = f"{field_prefix}." if field_prefix else ""
    snapshot: dict[str, str] = {}
    problems: list[BusinessError] = []
    for key, (name, limit, required) in ADDRESS_FIELDS.items():
        value = _text(values.get(key))
        field = f"{prefix}{name}"
        if key == "country":
            value = value.upper()
            if value not in COUNTRIES:
                problems.append(BusinessError(
                    Code.INVALID_COUNTRY, f"{field}: expected an ISO 3166-1 alpha-2 code like 'AT', got {values.get(key)!r}",
                    field=field))
        elif required and not value:
            problems.append(BusinessError(Code.REQUIRED, f"{field}: required", field=field))
        elif len(value) > limit:
            problems.append(BusinessError(Code.TOO_LONG, f"{field}: at most {limit} characters", field=field))
        snapshot[key] = value
    if problems:
        raise BusinessErrors(problems)
    return snapshot


def can_see_address(actor: Actor, address: Address, location_account_id: int | None, *, write: bool = False) -> bool:
    """A customer their own book; an employee their account's locations; staff by permission."""
    if write:
        staff = actor.has(ADDRESS_WRITE_PERMISSION)
    else:
        staff = any(actor.has(p) for p in ADDRESS_READ_PERMISSIONS)
    if staff:
        return True
    if address.customer_id is not None:
        return actor.customer_id is not None and address.customer_id == actor.customer_id
    return actor.employee_id is not None and location_account_id == actor.account_id


def visible_address(session: Session, actor: Actor, address_id: Any, field: str = "addressId", *,
                    write: bool = False) -> Address:
    """The address ``address_id`` if ``actor`` may see (or with ``write`` change) it, else NOT_FOUND."""
    try:
        key = int(address_id)
    except (TypeError, ValueError):
        raise not_found("address", field, address_id) from None
    row = session.execute(
        select(Address, Location.account_id).outerjoin(Location, Location.id == Address.location_id)
        .where(Address.id == key)
    ).first()
    if row is None or not can_see_address(actor, row[0], row[1], write=write):
        raise not_found("address", field, address_id)
    return row[0]


def snapshot_of(address: Address) -> dict:
    return {key: getattr(address, key) for key in ADDRESS_FIELDS}


def address_snapshot(session: Session, actor: Actor, address_id: int) -> dict:
    """A saved address the actor may use, as a plain dict (what an order or cart copies)."""
    return snapshot_of(visible_address(session, actor, address_id))
