"""Quick order end to end over HTTP (issue 19's "done when"): a messy 20-line e-mail is parsed,
previewed with one MMOQ violation and one ambiguous match, the valid rows added, two lines saved
for later and one restored in its package."""
from __future__ import annotations

from sqlalchemy import update

from runtime.catalog.models import ProductVariant
from tests.runtime.test_carts_api import new_cart, post, store
from tests.runtime.test_mmoq_api import BULK_ADD, LOOKUP
from tests.runtime.test_packaging_api import ladder
from tests.runtime.test_quick_order_parse import PARSE
from tests.runtime.test_quick_order_saved import RESTORE, SAVE, lines_of

EMAIL = "\n".join([
    "Hi there,", "", "please send the following:", "2 boxes of blue mugs", "MUG-1 x6", "1 cs MGU-1", "3 cups",
    "Mug 4", "", "we also need", "something for the garden", "call me if anything is unclear", "Thanks a lot",
    "Best regards", "Anna Berger", "Purchasing", "Acme GmbH", "Werkstr. 5", "4020 Linz", "Austria"])


def test_paste_parse_preview_add_save_and_restore(app, client):
    # given mugs in boxes of 12 and cases of 48, and cups sold from 10 pieces
    store(app)
    ladder(app, {"each": 1, "box": 12, "case": 48})
    app.extensions["vectis.db"].run(lambda session: session.execute(
        update(ProductVariant).where(ProductVariant.sku == "CUP-1").values(mmoq_min_quantity=10)))
    assert len(EMAIL.splitlines()) == 20

    # when the e-mail is parsed: five items, one of them ambiguous; the rest is noise
    parsed = post(client, PARSE, {"input": {"text": EMAIL}})["data"]["cartAiParseToLookupItems"]
    assert [(i["sku"], i["quantity"], i["package"], [a["sku"] for a in i["alternatives"]]) for i in parsed["items"]] == [
        ("MUG-1", 2, "box", []), ("MUG-1", 6, None, []), ("MUG-1", 1, "case", []), ("CUP-1", 3, None, []),
        ("CUP-1", 4, None, ["MUG-1"])]
    assert len(parsed["unparsed"]) == 13  # 20 lines: 5 items, 2 blank

    # the buyer leaves the ambiguous line to choose later; the preview shows the cups' minimum
    rows = [{"sku": i["sku"], "quantity": i["quantity"], "package": i["package"]}
            for i in parsed["items"] if not i["alternatives"]]
    cart = new_cart(client)["id"]
    preview = post(client, LOOKUP, {"input": {"cartId": cart, "rows": rows}})["data"]["cartBulkLookup"]
    assert [(r["sku"], r["baseQuantity"], [v["code"] for v in r["violations"]]) for r in preview["rows"]] == [
        ("MUG-1", 24, []), ("MUG-1", 6, []), ("MUG-1", 48, []), ("CUP-1", 3, ["MMOQ_BELOW_MIN"])]

    # when the rows are added: the three mug rows go in, the cups come back failed
    added = post(client, BULK_ADD, {"id": cart, "rows": rows})["data"]["bulkAddToCart"]
    assert [(r["index"], r["sku"]) for r in added["added"]] == [(0, "MUG-1"), (1, "MUG-1"), (2, "MUG-1")]
    assert [(r["sku"], [v["code"] for v in r["violations"]]) for r in added["failed"]] == [("CUP-1", ["MMOQ_BELOW_MIN"])]
    ids = lines_of(client, cart)
    assert set(ids) == {("MUG-1", "box"), ("MUG-1", None), ("MUG-1", "case")}

    # when the box and the case are saved for later
    saved = post(client, SAVE, {"id": cart, "ids": [ids[("MUG-1", "box")], ids[("MUG-1", "case")]]}
                 )["data"]["bulkSaveCartLinesForLater"]
    assert saved["errors"] == [] and [r["ok"] for r in saved["results"]] == [True, True]
    assert [(l["quantity"], l["package"]) for l in saved["cart"]["lines"]] == [(6, None)]
    kept = {entry["package"]: entry for entry in saved["cart"]["savedForLater"]}
    assert {(e["quantity"], e["package"], e["packageMultiplier"]) for e in kept.values()} == {(2, "box", 12), (1, "case", 48)}

    # then restoring the box puts it back in boxes, priced again
    restored = post(client, RESTORE, {"id": cart, "saved": kept["box"]["id"]})["data"]["restoreSavedCartLine"]
    assert restored["errors"] == [] and restored["unitChanged"] is False
    assert restored["line"] == {"quantity": 2, "package": "box", "packageMultiplier": 12}
    assert sorted((l["quantity"], l["package"] or "") for l in restored["cart"]["lines"]) == [(2, "box"), (6, "")]
    assert [(e["quantity"], e["package"]) for e in restored["cart"]["savedForLater"]] == [(1, "case")]
