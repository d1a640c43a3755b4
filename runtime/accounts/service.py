"""Buyers and the B2B hierarchy: customers, customer groups, accounts, locations, employees.

Validators collect every problem before answering; foreign or unknown ids answer NOT_FOUND.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, select

from runtime.accounts.errors import AccountErrorCode as Code
from runtime.accounts.models import Account, Customer, CustomerGroup, Employee, Location
from runtime.accounts.ownership import not_found
from runtime.auth.models import Role, User
from runtime.auth.permissions import Actor
from runtime.auth.service import MIN_PASSWORD_LENGTH, create_user
from runtime.errors import BusinessError, BusinessErrors

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
#: A location code: letters, digits, ``-``, ``_`` and ``.`` (``VIE-01``).
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SLUG_MAX, NAME_MAX, CODE_MAX, PERSON_NAME_MAX, TAX_ID_MAX, EMAIL_MAX = 64, 200, 64, 120, 64, 254
CUSTOMER_ROLE = "customer"
DEFAULT_EMPLOYEE_ROLES = ("b2b_buyer",)


def _id(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _raise(problems: list[BusinessError]) -> None:
    if problems:
        raise BusinessErrors(problems)


def _slug_problem(slug: Any) -> BusinessError | None:
    if isinstance(slug, str) and len(slug) <= SLUG_MAX and SLUG.match(slug):
        return None
    return BusinessError(Code.INVALID_SLUG, f"slug: {slug!r} is not a slug: use lower-case letters, digits and single "
                                            f"hyphens, at most {SLUG_MAX} characters", field="slug")


def _name_problem(name: Any, field: str = "name", limit: int = NAME_MAX) -> BusinessError | None:
    if isinstance(name, str) and name.strip() and len(name.strip()) <= limit:
        return None
    return BusinessError(Code.INVALID_NAME, f"{field}: expected 1 to {limit} characters", field=field)


def _person_problems(email: Any, password: Any, first_name: Any, last_name: Any, session: Session) -> list[BusinessError]:
    """Every problem of a new login's email, password and names (the rules of ``create_user``, collected)."""
    problems = []
    email = (email or "").strip().lower()
    if not EMAIL.match(email) or len(email) > EMAIL_MAX:
        problems.append(BusinessError(Code.INVALID_EMAIL, f"email: {email!r} is not an email address", field="email"))
    elif session.exec(select(User.id).where(User.email == email)).first() is not None:
        problems.append(BusinessError(Code.EMAIL_TAKEN, f"email: {email} already has an account", field="email"))
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        problems.append(BusinessError(Code.PASSWORD_TOO_SHORT, f"password: use at least {MIN_PASSWORD_LENGTH} characters",
                                      field="password"))
    for field, value in (("firstName", first_name), ("lastName", last_name)):
        if len((value or "").strip()) > PERSON_NAME_MAX:
            problems.append(BusinessError(Code.TOO_LONG, f"{field}: at most {PERSON_NAME_MAX} characters", field=field))
    return problems


def register_customer(session: Session, email: str, password: str, first_name: str = "", last_name: str = "") -> Customer:
    """A B2C customer: a user with the ``customer`` role and its Customer row."""
    _raise(_person_problems(email, password, first_name, last_name, session))
    first, last = (first_name or "").strip(), (last_name or "").strip()
    user = create_user(session, email, password, [CUSTOMER_ROLE], display_name=f"{first} {last}".strip())
    customer = Customer(user_id=user.id, first_name=first, last_name=last)
    session.add(customer)
    session.flush()
    return customer


def group_by_slug(session: Session, slug: str | None, field: str = "customerGroupSlug") -> CustomerGroup | None:
    if slug is None:
        return None
    group = session.exec(select(CustomerGroup).where(CustomerGroup.slug == slug)).first()
    if group is None:
        raise not_found("customer group", field, slug)
    return group


def create_customer_group(session: Session, slug: str, name: str) -> CustomerGroup:
    slug_problem = _slug_problem(slug)
    problems = [p for p in (slug_problem, _name_problem(name)) if p]
    if slug_problem is None and session.exec(select(CustomerGroup.id).where(CustomerGroup.slug == slug)).first():
        problems.append(BusinessError(Code.DUPLICATE_SLUG, f"slug: a customer group {slug!r} already exists", field="slug"))
    _raise(problems)
    group = CustomerGroup(slug=slug, name=name.strip())
    session.add(group)
    session.flush()
    return group


def create_account(session: Session, slug: str, name: str, customer_group_slug: str | None = None,
                   tax_id: str | None = None) -> Account:
    slug_problem = _slug_problem(slug)
    problems = [p for p in (slug_problem, _name_problem(name)) if p]
    if tax_id is not None and len(tax_id.strip()) > TAX_ID_MAX:
        problems.append(BusinessError(Code.TOO_LONG, f"taxId: at most {TAX_ID_MAX} characters", field="taxId"))
    if slug_problem is None and session.exec(select(Account.id).where(Account.slug == slug)).first():
        problems.append(BusinessError(Code.DUPLICATE_SLUG, f"slug: an account {slug!r} already exists", field="slug"))
    group = None
    try:
        group = group_by_slug(session, customer_group_slug)
    except BusinessError as exc:
        problems.append(exc)
    _raise(problems)
    account = Account(slug=slug, name=name.strip(), customer_group_id=group.id if group else None,
                      tax_id=(tax_id or "").strip() or None)
    session.add(account)
    session.flush()
    return account


def create_location(session: Session, account_id: Any, code: str, name: str) -> Location:
    account = session.get(Account, _id(account_id)) if _id(account_id) is not None else None
    problems = [] if account else [not_found("account", "accountId", account_id)]
    if not isinstance(code, str) or len(code) > CODE_MAX or not CODE.match(code):
        problems.append(BusinessError(Code.INVALID_CODE, f"code: {code!r} is not a location code: use letters, digits, "
                                                         f"'.', '_' and '-', at most {CODE_MAX} characters", field="code"))
    elif account and session.exec(select(Location.id).where(Location.account_id == account.id, Location.code == code)).first():
        problems.append(BusinessError(Code.DUPLICATE_CODE, f"code: the account already has a location {code!r}", field="code"))
    if (p := _name_problem(name)) is not None:
        problems.append(p)
    _raise(problems)
    location = Location(account_id=account.id, code=code, name=name.strip())
    session.add(location)
    session.flush()
    return location


def _role_problems(session: Session, roles: Iterable[str], granted_by: Actor | None) -> list[BusinessError]:
    problems = []
    for i, name in enumerate(roles):
        role = session.get(Role, name)
        if role is None:
            problems.append(BusinessError(Code.UNKNOWN_ROLE, f"roles.{i}: unknown role {name!r}", field=f"roles.{i}"))
        elif granted_by is not None and not all(
                granted_by.has(p) if p != "*" else "*" in granted_by.permissions for p in role.permissions):
            problems.append(BusinessError(Code.ROLE_NOT_GRANTABLE, f"roles.{i}: role {name!r} grants permissions you do not hold",
                                          field=f"roles.{i}"))
    return problems


def create_employee(session: Session, *, email: str, password: str, account_id: Any, location_id: Any,
                    roles: Iterable[str] = DEFAULT_EMPLOYEE_ROLES, first_name: str = "", last_name: str = "",
                    granted_by: Actor | None = None) -> Employee:
    """A user buying for ``account_id`` at ``location_id`` (which must belong to that account).

    ``granted_by`` (the caller) must hold every permission the roles grant; None for trusted seeding.
    """
    roles = list(dict.fromkeys(roles))
    problems = _person_problems(email, password, first_name, last_name, session)
    account = session.get(Account, _id(account_id)) if _id(account_id) is not None else None
    location = session.get(Location, _id(location_id)) if _id(location_id) is not None else None
    if account is None:
        problems.append(not_found("account", "accountId", account_id))
    elif location is None or location.account_id != account.id:
        problems.append(not_found("location", "locationId", location_id))
    problems += _role_problems(session, roles, granted_by)
    _raise(problems)
    first, last = (first_name or "").strip(), (last_name or "").strip()
    user = create_user(session, email, password, roles, display_name=f"{first} {last}".strip())
    employee = Employee(user_id=user.id, account_id=account.id, location_id=location.id, first_name=first, last_name=last)
    session.add(employee)
    session.flush()
    return employee


def set_customer_group(session: Session, *, customer_id: Any = None, account_id: Any = None,
                       group_slug: str | None = None) -> Customer | Account:
    """Put a customer or an account (exactly one) into a group; ``group_slug`` None takes it out."""
    if (customer_id is None) == (account_id is None):
        raise BusinessError(Code.INVALID_TARGET, "customerId: give either customerId or accountId", field="customerId")
    problems = []
    if customer_id is not None:
        target = session.get(Customer, _id(customer_id)) if _id(customer_id) is not None else None
        missing = not_found("customer", "customerId", customer_id)
    else:
        target = session.get(Account, _id(account_id)) if _id(account_id) is not None else None
        missing = not_found("account", "accountId", account_id)
    if target is None:
        problems.append(missing)
    group = None
    try:
        group = group_by_slug(session, group_slug, "groupSlug")
    except BusinessError as exc:
        problems.append(exc)
    _raise(problems)
    target.customer_group_id = group.id if group else None
    session.add(target)
    session.flush()
    return target
