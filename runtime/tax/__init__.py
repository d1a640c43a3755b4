"""Tax (issue 17): jurisdictions and rate tables, the CSV import, stage 400 of placeOrder, the
cart's tax, order tax lines and the ``tax_provider`` slot. The calculation itself is pure
(``rules/tax.py``); this package loads its inputs and stores its results."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """Register stages 400 and 820 (imports here: the package is imported by ``all_models`` early)."""
    from runtime.checkout.pipeline import register_stage
    from runtime.tax.stage import STAGES

    for stage in STAGES:
        register_stage(app, stage)
