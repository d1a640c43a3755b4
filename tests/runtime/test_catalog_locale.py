"""Catalog texts by locale: X-Locale, else Accept-Language (q-values honoured), each tag falling
back to its parent and then to the catalog's own text; one translation query per page."""
from __future__ import annotations

from runtime.catalog import service
from runtime.catalog.locale import locale_chain, parse_accept_language
from runtime.channels.service import create_channel
from tests.runtime.helpers import recorded_statements


class Request:
    def __init__(self, **headers):
        self.headers = {k.replace("_", "-"): v for k, v in headers.items()}


def test_the_locale_chain_prefers_x_locale_then_accept_language_by_quality():
    assert locale_chain(Request(X_Locale="de-at", Accept_Language="fr")) == ["de-AT", "de"]
    assert locale_chain(Request(Accept_Language="fr;q=0.5, de-AT, en;q=0.8, *;q=0.1")) == ["de-AT", "de", "en", "fr"]
    assert locale_chain(Request(X_Locale="not a tag!", Accept_Language="it")) == ["it"]
    assert locale_chain(Request(Accept_Language="es;q=0, pt-BR;q=0.7")) == ["pt-BR", "pt"]
    assert locale_chain(Request()) == []
    assert locale_chain(None) == []
    assert parse_accept_language("zh-hant-tw, en-GB;q=0.9") == ["zh-Hant-TW", "en-GB"]


def seed(database):
    def work(session):
        create_channel(session, slug="web", name="Web", commerce_mode="B2C", default_currency="EUR", is_default=True)
        service.create_category(session, slug="tools", name="Tools")
        service.set_category_translation(session, "tools", locale="de", name="Werkzeug")
        for i, name in enumerate(("Axe", "Bolt", "Chisel")):
            product = service.create_product(
                session, base_currency="EUR", slug=name.lower(), name=name, description=f"{name} text",
                category_slug="tools", channels=["web"], variants=[{"sku": f"SKU-{i}", "base_price": "1.00"}])
            if name != "Chisel":
                service.set_product_translation(session, product.id, locale="de", name=f"{name} (de)",
                                                description=f"{name} Text")
        service.set_product_translation(session, service.find_product(session, slug="axe").id, locale="de-AT",
                                        name="Hacke")
        service.set_product_translation(session, service.find_product(session, slug="bolt").id, locale="fr",
                                        name="Boulon", description="Boulon texte")

    database.run(work)


PAGE = "{ products { nodes { name description category { name } } } }"


def names(client, headers):
    answer = client.post("/graphql", json={"query": PAGE}, headers=headers).get_json()
    return [(n["name"], n["description"], n["category"]["name"]) for n in answer["data"]["products"]["nodes"]]


def test_texts_resolve_through_the_chain_with_fallback_to_the_products_own(client, database):
    seed(database)
    assert names(client, {}) == [("Axe", "Axe text", "Tools"), ("Bolt", "Bolt text", "Tools"),
                                 ("Chisel", "Chisel text", "Tools")]
    # de-AT has only a name for the axe: its description falls back to de.
    assert names(client, {"X-Locale": "de-AT"}) == [("Hacke", "Axe Text", "Werkzeug"), ("Bolt (de)", "Bolt Text", "Werkzeug"),
                                                    ("Chisel", "Chisel text", "Werkzeug")]
    assert names(client, {"Accept-Language": "de;q=0.5, fr"}) == [
        ("Axe (de)", "Axe Text", "Werkzeug"), ("Boulon", "Boulon texte", "Werkzeug"), ("Chisel", "Chisel text", "Werkzeug")]
    assert names(client, {"X-Locale": "it", "Accept-Language": "fr"}) == [
        ("Axe", "Axe text", "Tools"), ("Bolt", "Bolt text", "Tools"), ("Chisel", "Chisel text", "Tools")]
    single = client.post("/graphql", json={"query": '{ product(slug: "bolt") { name } }'},
                         headers={"X-Locale": "fr-CA"}).get_json()
    assert single["data"] == {"product": {"name": "Boulon"}}


def test_a_page_loads_its_translations_in_one_query(client, database):
    seed(database)
    client.post("/graphql", json={"query": "{ server { version } }"})  # the first request also polls definitions
    with recorded_statements(database) as statements:
        assert len(names(client, {"X-Locale": "de"})) == 3
    # channel, page, count, variants, product translations, category translations
    assert len(statements) == 6
    assert sum("product_translation" in s for s in statements) == 1
