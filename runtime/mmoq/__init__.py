"""MMOQ caps: minimum/maximum order quantities declared as ``mmoq_cap`` definitions (or on the
variant), enforced cart-aggregate on add-to-cart and in placeOrder, previewed by
``cartBulkLookup``; ``bulkAddToCart`` and ``reorder`` build carts through the same checks.

:func:`init_app` registers the cart check (position 100) and the checkout stage (position 150).
"""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from runtime.carts.checks import CartCheck, register_check
    from runtime.checkout.pipeline import Stage, register_stage
    from runtime.mmoq import hooks

    register_check(app, CartCheck("mmoq", hooks.CHECK_POSITION, hooks.check_cart,
                                  "MMOQ caps on the changed variants (all their lines, in base units)."))
    register_stage(app, Stage("mmoq", hooks.STAGE_POSITION, hooks.check_checkout,
                              "MMOQ caps on every variant of the cart, the 30-day window counted under a lock."))
