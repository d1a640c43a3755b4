"""GraphQL resolvers of accounts and access. Nested fields load in bulk once per request
(everything of a kind seen so far in the request), so lists do not issue a query per row."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ariadne import MutationType, ObjectType, QueryType
from graphql import GraphQLError
from sqlalchemy import func, or_, true
from sqlmodel import select

from runtime.accounts import addresses, api_keys, service
from runtime.accounts.errors import AccountErrorCode as Code
from runtime.accounts.models import Account, Address, Customer, CustomerGroup, Employee, Location
from runtime.auth.models import User, UserRole
from runtime.auth.resolvers import _tokens
from runtime.auth.service import _issue
from runtime.errors import BusinessError
from runtime.graphql.context import context_of, payload
from runtime.graphql.values import check_first, connection, decode_cursor

query = QueryType()
mutation = MutationType()
viewer = ObjectType("Viewer")
customer_type = ObjectType("Customer")
account_type = ObjectType("Account")
location_type = ObjectType("Location")
employee_type = ObjectType("Employee")
address_type = ObjectType("Address")
# convert_names_case would look for ``line_1``: the columns are ``line1`` and ``line2``.
address_type.set_field("line1", lambda address, _info: _v(address, "line1"))
address_type.set_field("line2", lambda address, _info: _v(address, "line2"))

MANAGE = "accounts.manage"
READ = "customers.read"
KEYS = "api_keys.manage"


def _v(obj, name: str):
    """A value of a row, or of a dict (other domains may hand us snapshots as dicts)."""
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name)


# --- per-request bulk loading ---------------------------------------------------------------

def _cache(info) -> dict:
    return info.context.__dict__.setdefault("vectis.accounts", {})


def _seen(info, kind: str, rows) -> list:
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
        with context_of(info).db.session() as session:
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
        with context_of(info).db.session() as session:
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
    return _seen(info, "Location", rows)


@location_type.field("account")
def resolve_location_account(location, info):
    return _seen(info, "Account", _load(info, "account", "Location", lambda loc: _v(loc, "account_id"), location, _by_id(Account)))[0]


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
    return _seen(info, "Account", _load(info, "account", "Employee", lambda e: _v(e, "account_id"), employee, _by_id(Account)))[0]


@employee_type.field("location")
def resolve_employee_location(employee, info):
    return _seen(info, "Location", _load(info, "location", "Employee", lambda e: _v(e, "location_id"), employee, _by_id(Location)))[0]


# --- queries ----------------------------------------------------------------------------------

@viewer.field("customer")
def resolve_viewer_customer(_, info):
    actor = context_of(info).actor
    if actor.customer_id is None:
        return None
    with context_of(info).db.session() as session:
        return _seen(info, "Customer", session.get(Customer, actor.customer_id))[0]


@viewer.field("employee")
def resolve_viewer_employee(_, info):
    actor = context_of(info).actor
    if actor.employee_id is None:
        return None
    with context_of(info).db.session() as session:
        return _seen(info, "Employee", session.get(Employee, actor.employee_id))[0]


def _id(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _sees_account(info, account_id: int) -> bool:
    actor = context_of(info).actor
    return actor.has(READ) or (actor.employee_id is not None and actor.account_id == account_id)


@query.field("account")
def resolve_account(_, info, id):
    with context_of(info).db.session() as session:
        account = session.get(Account, _id(id)) if _id(id) is not None else None
    if account is None or not _sees_account(info, account.id):
        return None
    return _seen(info, "Account", account)[0]


@query.field("location")
def resolve_location(_, info, id):
    with context_of(info).db.session() as session:
        location = session.get(Location, _id(id)) if _id(id) is not None else None
    if location is None or not _sees_account(info, location.account_id):
        return None
    return _seen(info, "Location", location)[0]


@query.field("myAddresses")
def resolve_my_addresses(_, info):
    ctx = context_of(info)
    with ctx.db.session() as session:
        return addresses.my_addresses(session, ctx.actor)


def _query_error(info, exc: BusinessError) -> GraphQLError:
    return GraphQLError(exc.message, info.field_nodes, path=info.path.as_list(), extensions={"code": exc.code})


def _page(info, model, first: int, after: str | None, where, join=None) -> dict:
    try:
        check_first(first, Code.INVALID_CURSOR)
        after_id = decode_cursor(after, Code.INVALID_CURSOR)[0] if after else None
        if after is not None and not isinstance(after_id, int):
            raise BusinessError(Code.INVALID_CURSOR, "after: not a cursor this API returned", field="after")
    except BusinessError as exc:
        raise _query_error(info, exc) from None
    base = select(model)
    if join is not None:
        base = base.join(*join)
    base = base.where(where)
    with context_of(info).db.session() as session:
        total = session.exec(select(func.count()).select_from(base.subquery())).one()
        page = base.where(model.id > after_id) if after_id is not None else base
        rows = list(session.exec(page.order_by(model.id).limit(first + 1)).all())
    _seen(info, model.__name__, rows[:first])
    return connection(rows, first, lambda r: [r.id], after=after is not None, total=total)


@query.field("customers")
def resolve_customers(_, info, first: int = 20, after: str | None = None, search: str | None = None):
    context_of(info).require(READ)
    where = true()
    if search and search.strip():
        pattern = f"%{search.strip().lower()}%"
        where = or_(func.lower(User.email).like(pattern), func.lower(Customer.first_name).like(pattern),
                    func.lower(Customer.last_name).like(pattern))
    return _page(info, Customer, first, after, where, join=(User, User.id == Customer.user_id))


@query.field("accounts")
def resolve_accounts(_, info, first: int = 20, after: str | None = None, search: str | None = None):
    context_of(info).require(READ)
    where = true()
    if search and search.strip():
        pattern = f"%{search.strip().lower()}%"
        where = or_(func.lower(Account.slug).like(pattern), func.lower(Account.name).like(pattern))
    return _page(info, Account, first, after, where)


@query.field("apiKeys")
def resolve_api_keys(_, info):
    ctx = context_of(info)
    ctx.require(KEYS)
    with ctx.db.session() as session:
        return api_keys.list_api_keys(session)


# --- mutations --------------------------------------------------------------------------------

@mutation.field("registerCustomer")
@payload
def resolve_register_customer(_, info, input: dict):
    ctx = context_of(info)

    def work(session):
        customer = service.register_customer(session, input["email"], input["password"],
                                             input.get("first_name") or "", input.get("last_name") or "")
        return customer, _issue(session, ctx.settings, customer.user_id)

    customer, pair = ctx.db.run(work)
    return {**_tokens(pair), "customer": _seen(info, "Customer", customer)[0]}


@mutation.field("addAddress")
@payload
def resolve_add_address(_, info, input: dict, location_id=None):
    ctx = context_of(info)
    return {"address": ctx.db.run(lambda s: addresses.add_address(s, ctx.actor, input, location_id))}


@mutation.field("updateAddress")
@payload
def resolve_update_address(_, info, id, input: dict):
    ctx = context_of(info)
    return {"address": ctx.db.run(lambda s: addresses.update_address(s, ctx.actor, id, input))}


@mutation.field("deleteAddress")
@payload
def resolve_delete_address(_, info, id):
    ctx = context_of(info)
    return {"address": ctx.db.run(lambda s: addresses.delete_address(s, ctx.actor, id))}


@mutation.field("createCustomerGroup")
@payload
def resolve_create_group(_, info, input: dict):
    ctx = context_of(info)
    ctx.require(MANAGE)
    return {"customer_group": ctx.db.run(lambda s: service.create_customer_group(s, input["slug"], input["name"]))}


@mutation.field("createAccount")
@payload
def resolve_create_account(_, info, input: dict):
    ctx = context_of(info)
    ctx.require(MANAGE)
    account = ctx.db.run(lambda s: service.create_account(s, input["slug"], input["name"], input.get("customer_group_slug"),
                                                          input.get("tax_id")))
    return {"account": _seen(info, "Account", account)[0]}


@mutation.field("createLocation")
@payload
def resolve_create_location(_, info, input: dict):
    ctx = context_of(info)
    ctx.require(MANAGE)
    location = ctx.db.run(lambda s: service.create_location(s, input["account_id"], input["code"], input["name"]))
    return {"location": _seen(info, "Location", location)[0]}


@mutation.field("createEmployee")
@payload
def resolve_create_employee(_, info, input: dict):
    ctx = context_of(info)
    ctx.require(MANAGE)
    roles = input.get("roles")
    employee = ctx.db.run(lambda s: service.create_employee(
        s, email=input["email"], password=input["password"], account_id=input["account_id"],
        location_id=input["location_id"], roles=service.DEFAULT_EMPLOYEE_ROLES if roles is None else roles,
        first_name=input.get("first_name") or "", last_name=input.get("last_name") or "", granted_by=ctx.actor))
    return {"employee": _seen(info, "Employee", employee)[0]}


@mutation.field("setCustomerGroup")
@payload
def resolve_set_customer_group(_, info, customer_id=None, account_id=None, group_slug=None):
    ctx = context_of(info)
    ctx.require(MANAGE)
    target = ctx.db.run(lambda s: service.set_customer_group(s, customer_id=customer_id, account_id=account_id,
                                                             group_slug=group_slug))
    key = "customer" if isinstance(target, Customer) else "account"
    return {key: _seen(info, type(target).__name__, target)[0]}


def _expiry(value) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    try:
        parsed = datetime.fromisoformat(str(value).strip())
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise BusinessError(Code.INVALID_EXPIRY, f"expiresAt: expected an ISO-8601 time with a zone, got {value!r}",
                            field="expiresAt")
    return parsed


@mutation.field("createApiKey")
@payload
def resolve_create_api_key(_, info, input: dict):
    ctx = context_of(info)
    ctx.require(KEYS)
    expires_at = _expiry(input.get("expires_at"))
    row, key = ctx.db.run(lambda s: api_keys.create_api_key(s, ctx.actor, input["name"], input["scopes"], expires_at))
    return {"api_key": row, "key": key}


@mutation.field("revokeApiKey")
@payload
def resolve_revoke_api_key(_, info, id):
    ctx = context_of(info)
    ctx.require(KEYS)
    return {"api_key": ctx.db.run(lambda s: api_keys.revoke_api_key(s, id))}


bindables = [query, mutation, viewer, customer_type, account_type, location_type, employee_type, address_type]
