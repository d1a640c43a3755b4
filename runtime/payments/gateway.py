"""The channel's payment gateway, and its refusals in the payments domain's codes."""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlmodel import Session

from runtime.channels.providers import ConfiguredProvider, providers
from runtime.errors import BusinessError
from runtime.packs.api import ProviderError, ProviderErrorCode
from runtime.payments.errors import PaymentErrorCode

SLOT = "payment_gateway"

T = TypeVar("T")

#: Gateway refusal → payments code. A declined card arrives as a ``failed`` result, not here.
_CODES = {
    ProviderErrorCode.PROVIDER_UNAVAILABLE.value: PaymentErrorCode.PAYMENT_UNAVAILABLE,
    ProviderErrorCode.PROVIDER_DECLINED.value: PaymentErrorCode.PAYMENT_DECLINED,
    ProviderErrorCode.PAYMENT_STATE_INVALID.value: PaymentErrorCode.PAYMENT_STATE_INVALID,
    ProviderErrorCode.PAYMENT_AMOUNT_INVALID.value: PaymentErrorCode.INVALID_AMOUNT,
    ProviderErrorCode.CURRENCY_MISMATCH.value: PaymentErrorCode.INVALID_AMOUNT,
    ProviderErrorCode.PAYMENT_NOT_FOUND.value: PaymentErrorCode.NOT_FOUND,
    ProviderErrorCode.PROVIDER_CONFIG_INVALID.value: PaymentErrorCode.GATEWAY_CONFIG_INVALID,
    ProviderErrorCode.IDEMPOTENCY_KEY_REUSED.value: PaymentErrorCode.IDEMPOTENCY_KEY_REUSED,
}


def channel_gateway(session: Session, channel_id: int) -> ConfiguredProvider:
    """The first active payment gateway of the channel, or NO_GATEWAY."""
    found = providers(session, channel_id, SLOT)
    if not found:
        raise BusinessError(PaymentErrorCode.NO_GATEWAY,
                            "payment: the channel has no payment gateway configured (setChannelProvider, slot payment_gateway)",
                            field="payment")
    return found[0]


def gateway_for(session: Session, channel_id: int, key: str) -> ConfiguredProvider:
    """The gateway ``key`` as the channel configures it (a payment keeps using the gateway that took it)."""
    for provider in providers(session, channel_id, SLOT):
        if provider.key == key:
            return provider
    raise BusinessError(PaymentErrorCode.NO_GATEWAY,
                        f"paymentId: the gateway {key!r} that took this payment is no longer configured on its channel",
                        field="paymentId")


def call(operation: Callable[[], T], *, field: str = "payment") -> T:
    """Run a gateway call; a :class:`ProviderError` becomes the payments code with its message."""
    try:
        return operation()
    except ProviderError as exc:
        code = _CODES.get(exc.code, PaymentErrorCode.PAYMENT_UNAVAILABLE)
        raise BusinessError(code, f"{field}: {exc.message}", field=field) from None
