"""GraphQL object types of accounts (Customer, Account, Location, Employee, Address) and the
per-request bulk loading behind their nested fields: a nested field loads for every row of its
kind seen so far in the request, in one query, so lists do not issue a query per row."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from ariadne import ObjectType
from sqlmodel import select

from runtime.accounts.models import Account, Address, CustomerGroup, Location
from runtime.auth.models import User, UserRole
from runtime.graphql.context import context_of

customer_type = ObjectType("Customer")
account_type = ObjectType("Account")
location_type = ObjectType("Location")
employee_type = ObjectType("Employee")
address_type = ObjectType("Address")
# convert_names_case would look for ``line_1``: the columns are ``line1`` and ``line2``.
address_type.set_field("line1", lambda address, _info: _v(address, "line1"))
address_type.set_field("line2", lambda address, _info: _v(address, "line2"))


def _v(obj, name: str):
    """A value of a row, or of a dict (other domains may hand us snapshots as dicts)."""
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name)


# --- per-request bulk loading ---------------------------------------------------------------

def _cache(info) -> dict:
    return info.context.__dict__.setdefault("vectis.accounts", {})


def seen(info, kind: str, rows) -> list:
    """Remember rows of ``kind`` returned in this request, so a nested field loads for all of them at once."""
    rows = [r for r in (rows if isinstance(rows, list) else [rows]) if r is not None]
    _cache(info).setdefault(f"seen.{kind}", []).extend(rows)
    return rows


def _load(info, name: str, kind: str, key_of: Callable[[Any], Any], obj, fetch: Callable, default=None):
    """``fetch(session, keys) -> {key: value}`` for the key of ``obj`` and of every ``kind`` row seen."""
    cache = _cache(info)
    loaded = cache.setdefault(name, {})
    key = key_of(obj)
    if key not in loaded:
        keys = ({key} | {key_of(r) for r in cache.get(f"seen.{kind}", [])}) - loaded.keys()
        with context_of(info).reads() as session:
            found = fetch(session, keys)
        for k in keys:
            loaded[k] = found.get(k, default() if callable(default) else default)
    return loaded[key]


def _grouped(session, model, column, keys) -> dict:
    out: dict = defaultdict(list)
    for row in session.exec(select(model).where(column.in_(keys)).order_by(model.id)).all():
        out[getattr(row, column.key)].append(row)
    return out


def _by_id(model):
    return lambda session, keys: {r.id: r for r in session.exec(select(model).where(model.id.in_(keys))).all()}


def _group(info, group_id):
    if group_id is None:
        return None
    cache = _cache(info)
    if "groups" not in cache:  # a small table: all of it, once per request
        with context_of(info).reads() as session:
            cache["groups"] = {g.id: g for g in session.exec(select(CustomerGroup)).all()}
    return cache["groups"].get(group_id)


def _emails(session, user_ids) -> dict:
    return dict(session.exec(select(User.id, User.email).where(User.id.in_(user_ids))).all())


def _roles(session, user_ids) -> dict:
    out: dict = defaultdict(list)
    for user_id, role in session.exec(select(UserRole.user_id, UserRole.role_name)
                                      .where(UserRole.user_id.in_(user_ids)).order_by(UserRole.role_name)).all():
        out[user_id].append(role)
    return out


def _user_id(row):
    return _v(row, "user_id")


@customer_type.field("email")
def resolve_customer_email(customer, info):
    return _load(info, "email", "Customer", _user_id, customer, _emails)


@customer_type.field("group")
def resolve_customer_group(customer, info):
    return _group(info, _v(customer, "customer_group_id"))


@customer_type.field("addresses")
def resolve_customer_addresses(customer, info):
    return _load(info, "customer.addresses", "Customer", lambda c: _v(c, "id"), customer,
                 lambda s, keys: _grouped(s, Address, Address.customer_id, keys), list)


@account_type.field("group")
def resolve_account_group(account, info):
    return _group(info, _v(account, "customer_group_id"))


@account_type.field("locations")
def resolve_account_locations(account, info):
    rows = _load(info, "account.locations", "Account", lambda a: _v(a, "id"), account,
                 lambda s, keys: _grouped(s, Location, Location.account_id, keys), list)
    return seen(info, "Location", rows)


@location_type.field("account")
def resolve_location_account(location, info):
    return seen(info, "Account", _load(info, "account", "Location", lambda loc: _v(loc, "account_id"), location, _by_id(Account)))[0]


@location_type.field("addresses")
def resolve_location_addresses(location, info):
    return _load(info, "location.addresses", "Location", lambda loc: _v(loc, "id"), location,
                 lambda s, keys: _grouped(s, Address, Address.location_id, keys), list)


@employee_type.field("email")
def resolve_employee_email(employee, info):
    return _load(info, "email", "Employee", _user_id, employee, _emails)


@employee_type.field("roles")
def resolve_employee_roles(employee, info):
    return _load(info, "roles", "Employee", _user_id, employee, _roles, list)


@employee_type.field("account")
def resolve_employee_account(employee, info):
    return seen(info, "Account", _load(info, "account", "Employee", lambda e: _v(e, "account_id"), employee, _by_id(Account)))[0]


@employee_type.field("location")
def resolve_employee_location(employee, info):
    return seen(info, "Location", _load(info, "location", "Employee", lambda e: _v(e, "location_id"), employee, _by_id(Location)))[0]




bindables = [customer_type, account_type, location_type, employee_type, address_type]
