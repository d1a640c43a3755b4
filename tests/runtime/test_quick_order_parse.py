"""Parse-to-cart over GraphQL: the core catalog parser on a messy e-mail (quantities in many
forms, SKU typos, fuzzy names, packages from the ladder, noise lines), providers tried in the
channel's priority with each failure recorded, the catalog index built once and rebuilt on a
product change, and bad input answered as data."""
from __future__ import annotations

from sqlalchemy import update

from runtime.catalog.models import Product
from runtime.clock import utcnow
from runtime.channels.models import Channel
from runtime.channels.providers import set_provider
from runtime.packs.protocols import ParsedLine, ParseResult, ProviderError, ProviderErrorCode
from runtime.quick_order.catalog_index import cache_of
from tests.runtime.test_carts_api import ERRORS, post, store
from tests.runtime.test_mmoq_api import LOOKUP
from tests.runtime.test_packaging_api import ladder

PARSE = ("query($input: CartAIParseInput!) { cartAiParseToLookupItems(input: $input) { provider"
         " items { variant { sku } sku quantity package confidence source sourceStart sourceEnd alternatives { sku } }"
         f" unparsed attempts {{ provider error }} {ERRORS} }} }}")
EMAIL = """Hi team,

please send us
2 boxes of blue mugs
MUG1 x12
3 cs MGU-1
a dozen cups
- 5 pcs Mug Cup
Mug 4

Thanks, Anna
"""


def parsed(client, text):
    return post(client, PARSE, {"input": {"text": text}})["data"]["cartAiParseToLookupItems"]


def test_the_catalog_parser_reads_a_messy_email_into_lookup_items(app, client):
    store(app)
    ladder(app, {"each": 1, "box": 12, "case": 48})

    answer = parsed(client, EMAIL)

    assert answer["errors"] == [] and answer["provider"] == "core.cart_parse_provider.catalog"
    assert answer["attempts"] == [{"provider": "core.cart_parse_provider.catalog", "error": None}]
    assert [(i["sku"], i["quantity"], i["package"], i["confidence"], [a["sku"] for a in i["alternatives"]])
            for i in answer["items"]] == [
        ("MUG-1", 2, "box", 1.0, []), ("MUG-1", 12, None, 1.0, []), ("MUG-1", 3, "case", 0.75, []),
        ("CUP-1", 12, None, 0.9, []), ("CUP-1", 5, None, 1.0, []), ("CUP-1", 4, None, 0.6, ["MUG-1"])]
    first = answer["items"][0]
    assert EMAIL[first["sourceStart"]:first["sourceEnd"]] == first["source"] == "2 boxes of blue mugs"
    assert answer["unparsed"] == ["Hi team,: no product or SKU of the catalog recognised",
                                  "please send us: no product named",
                                  "Thanks, Anna: no product or SKU of the catalog recognised"]

    # the items feed cartBulkLookup as they are
    rows = [{"sku": i["sku"], "quantity": i["quantity"], "package": i["package"]} for i in answer["items"]]
    preview = post(client, LOOKUP, {"input": {"rows": rows}})["data"]["cartBulkLookup"]
    assert [(r["sku"], r["baseQuantity"], r["errors"]) for r in preview["rows"]] == [
        ("MUG-1", 24, []), ("MUG-1", 12, []), ("MUG-1", 144, []), ("CUP-1", 12, []), ("CUP-1", 5, []), ("CUP-1", 4, [])]


class Broken:
    def parse(self, text, config):
        raise ProviderError(ProviderErrorCode.PROVIDER_UNAVAILABLE, "the model timed out after 3 tries")


class Garbage:
    def parse(self, text, config):
        return {"lines": "MUG-1 x 2"}


class Guessing:
    def parse(self, text, config):
        return ParseResult((ParsedLine("MUG-1", 2, "two mugs", confidence=0.8), ParsedLine("NOPE-1", 1, "nope"),
                            ParsedLine("CUP-1", 0, "zero cups")), ("hello: a greeting",))


def test_providers_are_tried_in_the_channels_priority_and_failures_are_recorded(app, client):
    ids = store(app)
    registry = app.extensions["vectis.registry"]
    for name, value in (("broken", Broken()), ("garbage", Garbage()), ("guessing", Guessing())):
        registry.register("fake_ai", "cart_parse_provider", name, value, label=name)

    def configure(session, names):
        channel = session.get(Channel, ids["channel"])
        for position, name in enumerate(names):
            set_provider(session, channel, "cart_parse_provider", f"fake_ai.cart_parse_provider.{name}", {},
                         position=position)

    with app.app_context():
        app.extensions["vectis.db"].run(lambda session: configure(session, ["broken", "garbage"]))
    answer = parsed(client, "two mugs\nMUG-1 3")
    assert answer["provider"] == "core.cart_parse_provider.catalog"
    assert answer["attempts"] == [
        {"provider": "fake_ai.cart_parse_provider.broken", "error": "the model timed out after 3 tries"},
        {"provider": "fake_ai.cart_parse_provider.garbage", "error": "answered dict, not a ParseResult"},
        {"provider": "core.cart_parse_provider.catalog", "error": None}]
    # "two mugs" names the product of both variants: ambiguous, with the other as alternative
    assert [(i["sku"], i["quantity"], [a["sku"] for a in i["alternatives"]]) for i in answer["items"]] == [
        ("CUP-1", 2, ["MUG-1"]), ("MUG-1", 3, [])]

    with app.app_context():
        app.extensions["vectis.db"].run(lambda session: configure(session, ["guessing"]))
    answer = parsed(client, "two mugs")
    assert answer["provider"] == "fake_ai.cart_parse_provider.guessing"
    assert [(i["sku"], i["quantity"], i["confidence"]) for i in answer["items"]] == [("MUG-1", 2, 0.8)]
    assert answer["unparsed"] == ["hello: a greeting", "nope: 'NOPE-1' is not sold in this channel",
                                  "zero cups: quantity 0 is not a whole number from 1 to 1000000"]


def test_the_catalog_index_is_built_once_and_rebuilt_when_a_product_changes(app, client):
    store(app)
    builds = cache_of(app).builds
    assert parsed(client, "3 blue mugs")["items"][0]["sku"] == "MUG-1"
    assert parsed(client, "4 blue mugs")["items"][0]["quantity"] == 4
    assert cache_of(app).builds == builds + 1

    app.extensions["vectis.db"].run(lambda session: session.execute(
        update(Product).where(Product.slug == "mug").values(name="Beaker", updated_at=utcnow())))
    answer = parsed(client, "3 beaker blue")
    assert cache_of(app).builds == builds + 2
    assert [(i["sku"], i["quantity"]) for i in answer["items"]] == [("MUG-1", 3)]
    app.extensions["vectis.db"].run(lambda session: session.execute(
        update(Product).where(Product.slug == "hidden").values(is_published=False)))  # no updated_at bump
    parsed(client, "3 beaker blue")
    assert cache_of(app).builds == builds + 3


def test_bad_text_is_answered_as_data(app, client):
    store(app)
    empty = parsed(client, "  \n ")
    assert empty == {"provider": None, "items": [], "unparsed": [], "attempts": [], "errors": [
        {"code": "INVALID_INPUT", "field": "input.text", "message": "input.text: give the order's text (it is empty)"}]}
    nothing = parsed(client, "Dear Sir or Madam,\nkind regards")
    assert (nothing["items"], nothing["errors"], len(nothing["unparsed"])) == ([], [], 2)
    too_long = parsed(client, "MUG-1 1\n" * 12_501)
    assert too_long["errors"] == [{"code": "INVALID_INPUT", "field": "input.text",
                                   "message": "input.text: at most 100000 characters, got 100008"}]
