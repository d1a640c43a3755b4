"""The checkout domain's business error codes (``CheckoutErrorCode`` in GraphQL), shared by carts
and the checkout pipeline: a client handles one enum from createCart to placeOrder."""
from __future__ import annotations

from enum import Enum

from runtime.errors import BusinessError, BusinessErrors


class CheckoutErrorCode(str, Enum):
    #: An unknown id, or one the caller may not see (a foreign cart, address, variant).
    NOT_FOUND = "NOT_FOUND"
    #: The request names no channel and there is no default channel.
    CHANNEL_REQUIRED = "CHANNEL_REQUIRED"
    #: A quantity below 1.
    INVALID_QUANTITY = "INVALID_QUANTITY"
    #: A line names neither or both of ``variantId`` and ``sku``; an id that is not a number.
    INVALID_INPUT = "INVALID_INPUT"
    INVALID_EMAIL = "INVALID_EMAIL"
    #: A typed-in address misses a field or has a malformed one.
    INVALID_ADDRESS = "INVALID_ADDRESS"
    #: The channel does not sell in that currency.
    UNSUPPORTED_CURRENCY = "UNSUPPORTED_CURRENCY"
    #: A package slug the product's ladder does not have.
    UNKNOWN_PACKAGE = "UNKNOWN_PACKAGE"
    #: No price applies to the variant for this buyer, channel and currency.
    NO_PRICE = "NO_PRICE"
    CART_EMPTY = "CART_EMPTY"
    #: The cart is checking out, converted, abandoned or expired: it can no longer change.
    CART_NOT_ACTIVE = "CART_NOT_ACTIVE"
    MISSING_EMAIL = "MISSING_EMAIL"
    MISSING_SHIPPING_ADDRESS = "MISSING_SHIPPING_ADDRESS"
    MISSING_BILLING_ADDRESS = "MISSING_BILLING_ADDRESS"
    MISSING_SHIPPING_METHOD = "MISSING_SHIPPING_METHOD"
    #: The chosen shipping method is not (or no longer) offered for the cart's address and subtotal.
    SHIPPING_METHOD_UNAVAILABLE = "SHIPPING_METHOD_UNAVAILABLE"
    MISSING_PAYMENT = "MISSING_PAYMENT"
    #: The channel has no payment gateway configured.
    NO_GATEWAY = "NO_GATEWAY"
    PAYMENT_DECLINED = "PAYMENT_DECLINED"
    #: The gateway failed or timed out; nothing was charged, retrying may succeed.
    PAYMENT_UNAVAILABLE = "PAYMENT_UNAVAILABLE"
    #: The gateway held the payment for fraud review.
    PAYMENT_REVIEW = "PAYMENT_REVIEW"
    #: The cart's currency has no exchange rate to the store's base currency.
    NO_EXCHANGE_RATE = "NO_EXCHANGE_RATE"
    #: MMOQ caps (``runtime.mmoq``): each refusal carries a ``violations`` entry with the detail.
    MMOQ_BELOW_MIN = "MMOQ_BELOW_MIN"
    MMOQ_NOT_INCREMENT = "MMOQ_NOT_INCREMENT"
    MMOQ_ABOVE_MAX = "MMOQ_ABOVE_MAX"
    MMOQ_ABOVE_30D_MAX = "MMOQ_ABOVE_30D_MAX"
    MMOQ_ABOVE_BACKORDER_MAX = "MMOQ_ABOVE_BACKORDER_MAX"
    #: A checkout stage or cart check (a pack's, or another domain's step) refused; the message says why.
    CHECKOUT_FAILED = "CHECKOUT_FAILED"
    #: The idempotency key already placed an order from another cart.
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    #: Not enough stock for a tracked variant (within its allowed backorder quantity); the
    #: message names the SKU, the quantity asked for and what is available.
    OUT_OF_STOCK = "OUT_OF_STOCK"
    #: Promotions: an enforced usage limit was reached while the order was placed (docs/promotions.md).
    PROMOTION_LIMIT_REACHED = "PROMOTION_LIMIT_REACHED"
    #: Tenders (``runtime.tenders``): the split cannot pay the total, or one tender cannot pay its part.
    UNKNOWN_TENDER_TYPE = "UNKNOWN_TENDER_TYPE"
    INVALID_TENDER = "INVALID_TENDER"
    TENDERS_EXCEED_TOTAL = "TENDERS_EXCEED_TOTAL"
    TENDERS_NOT_COVERED = "TENDERS_NOT_COVERED"
    INSUFFICIENT_STORE_CREDIT = "INSUFFICIENT_STORE_CREDIT"
    UNKNOWN_GIFT_CARD = "UNKNOWN_GIFT_CARD"
    GIFT_CARD_EXPIRED = "GIFT_CARD_EXPIRED"
    INSUFFICIENT_GIFT_CARD_BALANCE = "INSUFFICIENT_GIFT_CARD_BALANCE"
    NO_NET_TERMS = "NO_NET_TERMS"
    CREDIT_LIMIT_EXCEEDED = "CREDIT_LIMIT_EXCEEDED"
    INVALID_AMOUNT = "INVALID_AMOUNT"
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH"
    NO_OWNER = "NO_OWNER"
    #: Tax (``runtime.tax``): the destination cannot be placed in the tax tables, or the provider failed.
    TAX_ADDRESS_INVALID = "TAX_ADDRESS_INVALID"
    TAX_PROVIDER_FAILED = "TAX_PROVIDER_FAILED"
    #: An approval route selects the cart and it has no approved request (runtime.approvals).
    APPROVAL_REQUIRED = "APPROVAL_REQUIRED"
    #: The grand total moved beyond the route's tolerance since it was approved: back for approval.
    APPROVAL_PRICE_DRIFT = "APPROVAL_PRICE_DRIFT"


_CODES = {code.value for code in CheckoutErrorCode}


def as_checkout_errors(exc: BusinessError | BusinessErrors, fallback: CheckoutErrorCode,
                       prefix: str = "") -> BusinessErrors:
    """Another domain's refusal in this domain's enum: codes we share pass through, others become
    ``fallback``; ``prefix`` puts the field under the input that carried it (``input.address.``)."""
    errors = []
    for error in getattr(exc, "errors", [exc]):
        code = error.code if error.code in _CODES else fallback.value
        field = f"{prefix}{error.field}" if prefix and error.field else (error.field or prefix.rstrip(".") or None)
        errors.append(BusinessError(code, error.message, field=field, **error.params))
    return BusinessErrors(errors)
