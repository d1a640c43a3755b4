"""What a payment gateway can do, as it declares it (an optional ``capabilities`` mapping on the
gateway object); a gateway that declares nothing gets the conservative defaults below."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

#: The authorisation lifetime assumed for a gateway that declares none (the ``payment_transaction``
#: machine's own timer on ``authorized``).
DEFAULT_EXPIRY = timedelta(days=7)


@dataclass(frozen=True)
class Capabilities:
    partial_capture: bool = True
    incremental_auth: bool = False
    void: bool = True
    refund: bool = True
    #: How long the gateway honours an uncaptured authorisation.
    expiry_window: timedelta = DEFAULT_EXPIRY


def capabilities_of(gateway: Any, config: dict[str, Any] | None = None) -> Capabilities:
    """``config``: the channel's configuration of the gateway, for a gateway whose capabilities
    depend on the merchant account (``capabilities_for(config)``)."""
    declared: dict[str, Any] = dict(getattr(gateway, "capabilities", None) or {})
    if config is not None and callable(getattr(gateway, "capabilities_for", None)):
        declared = dict(gateway.capabilities_for(config) or {})
    window = declared.pop("expiry_window_days", None)
    known = {name: bool(value) for name, value in declared.items() if name in Capabilities.__dataclass_fields__}
    return Capabilities(**known, **({"expiry_window": timedelta(days=float(window))} if window else {}))
