"""GraphQL resolvers of accounts and access: queries and mutations (object types: ``fields``)."""
from __future__ import annotations

from datetime import datetime

from ariadne import MutationType, ObjectType, QueryType
from sqlalchemy import func, or_, true
from sqlmodel import select

from runtime.accounts import addresses, api_keys, fields, service
from runtime.accounts.errors import AccountErrorCode as Code
from runtime.accounts.fields import seen
from runtime.accounts.models import Account, Customer, Employee, Location
from runtime.auth.models import User
from runtime.auth.resolvers import _tokens
from runtime.auth.service import _issue
from runtime.errors import BusinessError
from runtime.graphql.context import context_of, payload, query_error
from runtime.graphql.values import aware_time, check_first, connection, decode_cursor
from runtime.search import LIKE_ESCAPE, check_search, like_contains

query = QueryType()
mutation = MutationType()
viewer = ObjectType("Viewer")

MANAGE = "accounts.manage"
READ = "customers.read"
KEYS = "api_keys.manage"

# --- queries ----------------------------------------------------------------------------------

@viewer.field("customer")
def resolve_viewer_customer(_, info):
    actor = context_of(info).actor
    if actor.customer_id is None:
        return None
    with context_of(info).reads() as session:
        return seen(info, "Customer", session.get(Customer, actor.customer_id))[0]


@viewer.field("employee")
def resolve_viewer_employee(_, info):
    actor = context_of(info).actor
    if actor.employee_id is None:
        return None
    with context_of(info).reads() as session:
        return seen(info, "Employee", session.get(Employee, actor.employee_id))[0]


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
    with context_of(info).reads() as session:
        account = session.get(Account, _id(id)) if _id(id) is not None else None
    if account is None or not _sees_account(info, account.id):
        return None
    return seen(info, "Account", account)[0]


@query.field("location")
def resolve_location(_, info, id):
    with context_of(info).reads() as session:
        location = session.get(Location, _id(id)) if _id(id) is not None else None
    if location is None or not _sees_account(info, location.account_id):
        return None
    return seen(info, "Location", location)[0]


@query.field("myAddresses")
def resolve_my_addresses(_, info):
    ctx = context_of(info)
    with ctx.reads() as session:
        return addresses.my_addresses(session, ctx.actor)




def _page(info, model, first: int, after: str | None, where, join=None) -> dict:
    try:
        check_first(first, Code.INVALID_CURSOR)
        after_id = decode_cursor(after, Code.INVALID_CURSOR)[0] if after else None
        if after is not None and not isinstance(after_id, int):
            raise BusinessError(Code.INVALID_CURSOR, "after: not a cursor this API returned", field="after")
    except BusinessError as exc:
        raise query_error(info, exc) from None
    base = select(model)
    if join is not None:
        base = base.join(*join)
    base = base.where(where)
    with context_of(info).reads() as session:
        total = session.exec(select(func.count()).select_from(base.subquery())).one()
        page = base.where(model.id > after_id) if after_id is not None else base
        rows = list(session.exec(page.order_by(model.id).limit(first + 1)).all())
    seen(info, model.__name__, rows[:first])
    return connection(rows, first, lambda r: [r.id], after=after is not None, total=total)


def _search(info, text: str) -> str:
    try:
        return check_search(text, Code.INVALID_SEARCH)
    except BusinessError as exc:
        raise query_error(info, exc) from None


@query.field("customers")
def resolve_customers(_, info, first: int = 20, after: str | None = None, search: str | None = None):
    context_of(info).require(READ)
    where = true()
    if search and (search := _search(info, search)):
        pattern = like_contains(search.lower())
        where = or_(func.lower(User.email).like(pattern, escape=LIKE_ESCAPE),
                    func.lower(Customer.first_name).like(pattern, escape=LIKE_ESCAPE),
                    func.lower(Customer.last_name).like(pattern, escape=LIKE_ESCAPE))
    return _page(info, Customer, first, after, where, join=(User, User.id == Customer.user_id))


@query.field("accounts")
def resolve_accounts(_, info, first: int = 20, after: str | None = None, search: str | None = None):
    context_of(info).require(READ)
    where = true()
    if search and (search := _search(info, search)):
        pattern = like_contains(search.lower())
        where = or_(func.lower(Account.slug).like(pattern, escape=LIKE_ESCAPE),
                    func.lower(Account.name).like(pattern, escape=LIKE_ESCAPE))
    return _page(info, Account, first, after, where)


@query.field("apiKeys")
def resolve_api_keys(_, info):
    ctx = context_of(info)
    ctx.require(KEYS)
    with ctx.reads() as session:
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
    return {**_tokens(pair), "customer": seen(info, "Customer", customer)[0]}


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
    return {"account": seen(info, "Account", account)[0]}


@mutation.field("createLocation")
@payload
def resolve_create_location(_, info, input: dict):
    ctx = context_of(info)
    ctx.require(MANAGE)
    location = ctx.db.run(lambda s: service.create_location(s, input["account_id"], input["code"], input["name"]))
    return {"location": seen(info, "Location", location)[0]}


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
    return {"employee": seen(info, "Employee", employee)[0]}


@mutation.field("setCustomerGroup")
@payload
def resolve_set_customer_group(_, info, customer_id=None, account_id=None, group_slug=None):
    ctx = context_of(info)
    ctx.require(MANAGE)
    target = ctx.db.run(lambda s: service.set_customer_group(s, customer_id=customer_id, account_id=account_id,
                                                             group_slug=group_slug))
    key = "customer" if isinstance(target, Customer) else "account"
    return {key: seen(info, type(target).__name__, target)[0]}


def _expiry(value) -> datetime | None:
    try:
        return aware_time(value)
    except ValueError:
        raise BusinessError(Code.INVALID_EXPIRY, f"expiresAt: expected an ISO-8601 time with a zone, got {value!r}",
                            field="expiresAt") from None


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


bindables = [query, mutation, viewer, *fields.bindables]
