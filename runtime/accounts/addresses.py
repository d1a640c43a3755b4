"""Address books: a customer's own, and each B2B location's (kept by its account's employees)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlmodel import Session, select

from runtime.accounts.errors import AccountErrorCode as Code
from runtime.accounts.models import Address, Location
from runtime.accounts.ownership import ADDRESS_WRITE_PERMISSION, not_found, validate_address, visible_address
from runtime.auth.permissions import Actor
from runtime.errors import BusinessError, Unauthenticated

DEFAULT_FLAGS = ("is_default_shipping", "is_default_billing")


def _book(actor: Actor, session: Session, location_id: Any) -> dict:
    """The owner column of the book ``actor`` writes to: ``{"customer_id": …}`` or ``{"location_id": …}``."""
    if not actor.authenticated:
        raise Unauthenticated("sign in first: this operation needs a bearer token")
    if location_id is None:
        if actor.customer_id is not None:
            return {"customer_id": actor.customer_id}
        if actor.location_id is not None:
            return {"location_id": actor.location_id}
        raise BusinessError(Code.INVALID_TARGET, "locationId: name the location whose address book to add to",
                            field="locationId")
    try:
        location = session.get(Location, int(location_id))
    except (TypeError, ValueError):
        location = None
    mine = location is not None and actor.employee_id is not None and location.account_id == actor.account_id
    if location is None or not (mine or actor.has(ADDRESS_WRITE_PERMISSION)):
        raise not_found("location", "locationId", location_id)
    return {"location_id": location.id}


def _clear_other_defaults(session: Session, address: Address) -> None:
    """An address book has at most one default shipping and one default billing address."""
    owner = (Address.customer_id == address.customer_id if address.customer_id is not None
             else Address.location_id == address.location_id)
    for flag in DEFAULT_FLAGS:
        if getattr(address, flag):
            session.execute(update(Address).where(owner, Address.id != address.id, getattr(Address, flag)).values({flag: False}))


def add_address(session: Session, actor: Actor, values: dict, location_id: Any = None) -> Address:
    snapshot = validate_address(values, "input")
    owner = _book(actor, session, location_id)
    address = Address(**owner, **snapshot, **{f: bool(values.get(f)) for f in DEFAULT_FLAGS})
    session.add(address)
    session.flush()
    _clear_other_defaults(session, address)
    return address


def update_address(session: Session, actor: Actor, address_id: Any, values: dict) -> Address:
    address = visible_address(session, actor, address_id, "id", write=True)
    snapshot = validate_address(values, "input")
    for key, value in snapshot.items():
        setattr(address, key, value)
    for flag in DEFAULT_FLAGS:
        if values.get(flag) is not None:
            setattr(address, flag, bool(values[flag]))
    session.add(address)
    session.flush()
    _clear_other_defaults(session, address)
    return address


def delete_address(session: Session, actor: Actor, address_id: Any) -> Address:
    """Delete and return the address (orders and carts keep their own snapshots)."""
    address = visible_address(session, actor, address_id, "id", write=True)
    session.delete(address)
    session.flush()
    return address


def my_addresses(session: Session, actor: Actor) -> list[Address]:
    """A customer's own book; an employee's location's book; nothing for anyone else."""
    if actor.customer_id is not None:
        where = Address.customer_id == actor.customer_id
    elif actor.location_id is not None:
        where = Address.location_id == actor.location_id
    else:
        return []
    return list(session.exec(select(Address).where(where).order_by(Address.id)).all())
