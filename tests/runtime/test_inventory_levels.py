"""available_by_variant: the stock fact labels and listings read (one statement for any ids)."""
from __future__ import annotations

from sqlalchemy import update

from runtime.catalog.models import Product
from runtime.inventory.levels import available_by_variant
from runtime.inventory.models import StockLevel, Warehouse
from tests.runtime.helpers import recorded_statements
from tests.runtime.test_carts_api import store


def test_available_sums_warehouses_for_tracked_variants_only_in_one_statement(app):
    ids = store(app)  # MUG-1 and CUP-1 of product "mug"; HIDDEN-1 of product "hidden"
    database = app.extensions["vectis.db"]

    def given(session):
        session.execute(update(Product).where(Product.slug == "mug").values(track_inventory=True))
        north, south = Warehouse(code="north", name="North"), Warehouse(code="south", name="South", position=1)
        session.add_all([north, south])
        session.flush()
        session.add_all([StockLevel(variant_id=ids["mug"], warehouse_id=north.id, on_hand=10, reserved=5),
                         StockLevel(variant_id=ids["mug"], warehouse_id=south.id, on_hand=4, reserved=1),
                         StockLevel(variant_id=ids["hidden"], warehouse_id=north.id, on_hand=7)])

    database.run(given)
    with database.session() as session, recorded_statements(database) as statements:
        found = available_by_variant(session, [ids["mug"], ids["cup"], ids["hidden"], 999_999])
    # MUG-1: (10-5) + (4-1); CUP-1 tracked without stock rows: 0; HIDDEN-1 untracked; 999999 unknown
    assert found == {ids["mug"]: 8, ids["cup"]: 0}
    assert len(statements) == 1
    with database.session() as session:
        assert available_by_variant(session, []) == {}
