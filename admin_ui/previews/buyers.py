"""Who a sample in a preview is for: the channel (a slug, else the default channel) and the buyer
(a customer's e-mail or a B2B account's slug), read only, each problem starting with its field."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from runtime.accounts.models import Account, Customer, CustomerGroup
from runtime.auth.models import User
from runtime.channels.models import Channel
from runtime.channels.service import default_channel
from runtime.promotions.facts import Buyer


@dataclass(frozen=True)
class SampleBuyer:
    buyer: Buyer
    #: The customer group pricing uses (the account's, else the customer's).
    group_id: int | None = None
    account_slug: str | None = None
    #: The B2B account's VAT or tax number (the reverse charge reads it).
    tax_id: str | None = None


def channel(session: Session, slug: str, field: str) -> Channel | str:
    """The channel named ``slug`` (the default channel when empty), or why not."""
    if not slug:
        found = default_channel(session)
        return found if found is not None else f"{field}: the store has no default channel"
    found = session.execute(select(Channel).where(Channel.slug == slug)).scalar_one_or_none()
    return found if found is not None else f"{field}: no channel {slug!r}"


def buyer(session: Session, who: str, field: str) -> SampleBuyer | str:
    """``who``: a customer's e-mail or a B2B account's slug (empty: a guest), or why not."""
    if not who:
        return SampleBuyer(Buyer())
    if "@" in who:
        row = session.execute(select(Customer.id, Customer.customer_group_id).join(User, User.id == Customer.user_id)
                              .where(User.email == who.lower())).first()
        if row is None:
            return f"{field}: no customer with e-mail {who!r}"
        return SampleBuyer(Buyer(customer_id=row[0], email=who.lower()), row[1])
    row = session.execute(select(Account.id, Account.customer_group_id, Account.tax_id)
                          .where(Account.slug == who)).first()
    if row is None:
        return f"{field}: no customer e-mail or B2B account slug {who!r}"
    return SampleBuyer(Buyer(account_id=row[0]), row[1], who, row[2])


def group_slug(session: Session, group_id: int | None) -> str | None:
    if group_id is None:
        return None
    return session.execute(select(CustomerGroup.slug).where(CustomerGroup.id == group_id)).scalar_one_or_none()
