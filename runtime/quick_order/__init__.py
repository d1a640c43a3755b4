"""Quick order (issue 19): bulk cart operations, lines saved for later, pasted and uploaded order
rows, and parse-to-cart through the ``cart_parse_provider`` slot (docs/quick-order.md).

:func:`init_app` registers the core catalog parser (``core.cart_parse_provider.catalog``).
"""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from runtime.quick_order.parse import register

    register(app)
