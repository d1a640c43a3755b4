"""GraphQL: the buyer's tenders (setCartTenders, Cart.tenders), an order's tenders, and staff
issuing store credit and setting net terms."""
from __future__ import annotations

from ariadne import MutationType, ObjectType

from runtime.carts.errors import CheckoutErrorCode, as_checkout_errors
from runtime.carts.resolvers import remember
from runtime.errors import BusinessError, BusinessErrors
from runtime.graphql.context import context_of, payload
from runtime.graphql.values import money
from runtime.money import Money
from runtime.payments.models import PaymentTransaction
from runtime.tenders import fraud, ledger, overdraft, recuration, service
from runtime.tenders.errors import TenderErrorCode
from runtime.tenders.terms import open_credit

mutation = MutationType()
order_type = ObjectType("Order")
cart_type = ObjectType("Cart")
tender_type = ObjectType("PaymentTender")
cart_tender_type = ObjectType("CartTender")
terms_type = ObjectType("NetTerms")


@mutation.field("setCartTenders")
@payload
def resolve_set_cart_tenders(_, info, cart_id: str, tenders: list):
    ctx = context_of(info)

    def work(session):
        try:
            return service.set_cart_tenders(session, ctx.actor, cart_id, tenders)
        except (BusinessError, BusinessErrors) as exc:
            raise as_checkout_errors(exc, CheckoutErrorCode.INVALID_TENDER) from None

    cart = ctx.db.run(work)
    remember(info, cart)
    return {"cart": cart}


@mutation.field("issueStoreCredit")
@payload
def resolve_issue_store_credit(_, info, input: dict):
    ctx = context_of(info)
    ctx.require(service.MANAGE)
    account, balance = ctx.db.run(lambda session: service.issue_store_credit(session, ctx.actor, input))
    return {"balance": money(Money(balance, account.currency))}


@mutation.field("setStoreCreditOverdraft")
@payload
def resolve_set_store_credit_overdraft(_, info, input: dict):
    ctx = context_of(info)
    ctx.require(service.MANAGE)

    def work(session):
        account = service.set_store_credit_overdraft(session, ctx.actor, input)
        return {"overdraft_limit": money(Money(account.overdraft_limit, account.currency)),
                "settle_days": overdraft.settle_days(account),
                "balance": money(Money(ledger.balance(session, account.id), account.currency)),
                "open_drafts": [{"id": d.id, "amount": money(Money(d.amount, d.currency)), "state": d.state,
                                 "expires_at": d.expires_at, "resolved_at": d.resolved_at}
                                for d in overdraft.open_drafts(session, account.id)]}

    return ctx.db.run(work)


@mutation.field("setNetTerms")
@payload
def resolve_set_net_terms(_, info, input: dict):
    ctx = context_of(info)
    ctx.require(service.MANAGE)
    terms = ctx.db.run(lambda session: _terms_view(session, service.set_net_terms(session, ctx.actor, input)))
    return {"net_terms": terms}


@mutation.field("releaseFraudHold")
@payload
def resolve_release_fraud_hold(_, info, order_id: str):
    ctx = context_of(info)
    ctx.require("orders.review_fraud")
    return {"order": ctx.db.run(lambda session: fraud.release_fraud_hold(session, ctx.actor, order_id))}


@mutation.field("rejectFraudHold")
@payload
def resolve_reject_fraud_hold(_, info, order_id: str, reason: str):
    ctx = context_of(info)
    ctx.require("orders.review_fraud")
    return {"order": ctx.db.run(lambda session: fraud.reject_fraud_hold(session, ctx.actor, order_id, reason))}


@mutation.field("recurateCascade")
@payload
def resolve_recurate_cascade(_, info, order_id: str, new_cascade: list, reason: str):
    ctx = context_of(info)
    ctx.require(recuration.RECURATE)
    try:
        order, record = ctx.db.run(lambda session: recuration.recurate_cascade(session, ctx.actor, order_id,
                                                                               new_cascade, reason))
    except (BusinessError, BusinessErrors) as exc:
        raise _as_tender_errors(exc) from None
    return {"order": order, "recuration": record}


@order_type.field("tenderRecurations")
def resolve_tender_recurations(order, info):
    with context_of(info).reads() as session:
        return recuration.recurations(session, order.id)


def _as_tender_errors(exc: BusinessError | BusinessErrors) -> BusinessErrors:
    """Another domain's refusal (a card's payment error) in ``TenderErrorCode``; unknown codes become INVALID_TENDER."""
    known = {code.value for code in TenderErrorCode}
    return BusinessErrors([BusinessError(e.code if e.code in known else TenderErrorCode.INVALID_TENDER.value, e.message,
                                         field=e.field, **e.params) for e in getattr(exc, "errors", [exc])])


def _terms_view(session, terms) -> dict:
    return {"credit_limit": money(Money(terms.credit_limit, terms.currency)),
            "open_credit": money(Money(open_credit(session, terms), terms.currency)),
            "terms_days": terms.terms_days, "is_active": terms.is_active}


@cart_type.field("tenders")
def resolve_cart_tenders(cart, info):
    with context_of(info).reads() as session:
        return [{"position": t.position, "type": t.type,
                 "amount": None if t.amount is None else money(Money(t.amount, cart.currency))}
                for t in service.cart_tenders(session, cart.id)]


@order_type.field("tenders")
def resolve_order_tenders(order, info):
    with context_of(info).reads() as session:
        rows = service.order_tenders(session, [order.id])[order.id]
        payments = {p.id: p for p in (session.get(PaymentTransaction, r.payment_transaction_id) for r in rows) if p}
    return [{"row": row, "payment": payments.get(row.payment_transaction_id)} for row in rows]


@order_type.field("tenderCascade")
def resolve_tender_cascade(order, _info):
    return ((order.pipeline or {}).get("payment") or {}).get("cascade")


for _name in ("position", "type", "source", "gateway", "reference"):
    tender_type.set_field(_name, lambda view, _info, _name=_name: getattr(view["row"], _name))
tender_type.set_field("amount", lambda view, _info: money(Money(view["row"].amount, view["row"].currency)))
tender_type.set_field("dueAt", lambda view, _info: view["row"].due_at)
tender_type.set_field("state", lambda view, _info: view["payment"].state if view["payment"] else "unknown")
tender_type.set_field("payment", lambda view, _info: view["payment"])

bindables = [mutation, order_type, cart_type, tender_type, cart_tender_type, terms_type]
