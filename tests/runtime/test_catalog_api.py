"""Catalog staff mutations over GraphQL: create with every problem at once, translations,
channels, and the catalog.manage permission."""
from __future__ import annotations

from decimal import Decimal

from sqlmodel import select

from runtime.catalog import service
from runtime.catalog.models import (Attribute, Brand, Category, Product, ProductChannel, ProductTranslation,
                                    ProductVariant)
from runtime.channels.models import Channel
from runtime.channels.service import create_channel
from tests.runtime.helpers import gql, signed_in

CREATE_PRODUCT = """mutation Create($input: CreateProductInput!) {
  createProduct(input: $input) {
    product { slug name description tags brand { slug } category { slug }
              attributes { code name value } variants { sku name attributes { code value } } }
    errors { code field message }
  }
}"""
UPDATE_PRODUCT = """mutation Update($id: ID!, $input: UpdateProductInput!) {
  updateProduct(id: $id, input: $input) { product { slug name tags brand { slug } } errors { code field message } }
}"""
CREATE_CATEGORY = """mutation Cat($input: CreateCategoryInput!) {
  createCategory(input: $input) { category { slug name parent { slug } path { slug } } errors { code field message } }
}"""
CREATE_BRAND = """mutation Brand($input: CreateBrandInput!) {
  createBrand(input: $input) { brand { slug name } errors { code field message } }
}"""
CREATE_ATTRIBUTE = """mutation Attr($input: CreateAttributeInput!) {
  createAttribute(input: $input) { attribute { code name type choices } errors { code field message } }
}"""
TRANSLATE = """mutation T($id: ID!, $locale: String!, $name: String!, $description: String) {
  setProductTranslation(productId: $id, locale: $locale, name: $name, description: $description) {
    product { slug } errors { code field message }
  }
}"""
SET_CHANNELS = """mutation C($id: ID!, $channels: [ProductChannelInput!]!) {
  setProductChannels(productId: $id, channels: $channels) { product { slug } errors { code field message } }
}"""

SHIRT = {
    "slug": "linen-shirt", "name": "Linen shirt", "description": "Breezy", "brandSlug": "acme",
    "categorySlug": "shirts", "tags": ["summer", "linen", "summer"],
    "attributes": [{"code": "material", "value": "linen"}],
    "variants": [
        {"sku": "LS-RED-M", "name": "Red M", "basePrice": "49.90", "compareAtPrice": "59.90",
         "attributes": [{"code": "color", "value": "red"}, {"code": "size_cm", "value": "52.0"}], "weightGrams": 300},
        {"sku": "LS-BLUE-M", "name": "Blue M", "basePrice": "49.90", "attributes": [{"code": "color", "value": "blue"}]},
    ],
    "channels": ["web"],
}


def post(client, query, variables=None, token=None):
    return gql(client, query, variables, token).get_json()


def seed(database):
    def work(session):
        create_channel(session, slug="web", name="Web", commerce_mode="B2C", default_currency="EUR", is_default=True)
        service.create_brand(session, slug="acme", name="Acme")
        clothing = service.create_category(session, slug="clothing", name="Clothing")
        service.create_category(session, slug="shirts", name="Shirts", parent_slug=clothing.slug)
        service.create_attribute(session, code="material", name="Material", type="text")
        service.create_attribute(session, code="color", name="Colour", type="select", choices=["red", "blue"])
        service.create_attribute(session, code="size_cm", name="Size (cm)", type="number")

    database.run(work)


def rows(database, model):
    with database.session() as session:
        return session.exec(select(model)).all()


def test_staff_create_a_product_with_variants_typed_attributes_and_a_channel(app, client, database):
    seed(database)
    token = signed_in(app, client, "catalog_manager")
    answer = post(client, CREATE_PRODUCT, {"input": SHIRT}, token)["data"]["createProduct"]
    assert answer == {"errors": [], "product": {
        "slug": "linen-shirt", "name": "Linen shirt", "description": "Breezy", "tags": ["summer", "linen"],
        "brand": {"slug": "acme"}, "category": {"slug": "shirts"},
        "attributes": [{"code": "material", "name": "Material", "value": "linen"}],
        "variants": [
            {"sku": "LS-RED-M", "name": "Red M", "attributes": [{"code": "color", "value": "red"},
                                                                  {"code": "size_cm", "value": "52"}]},
            {"sku": "LS-BLUE-M", "name": "Blue M", "attributes": [{"code": "color", "value": "blue"}]},
        ]}}
    variants = sorted(rows(database, ProductVariant), key=lambda v: v.position)
    assert [(v.sku, v.base_price, v.base_currency, v.compare_at_price, v.weight_grams) for v in variants] == [
        ("LS-RED-M", Decimal("49.90"), "EUR", Decimal("59.90"), 300),
        ("LS-BLUE-M", Decimal("49.90"), "EUR", None, None)]
    web = rows(database, Channel)[0]
    assert [(c.channel_id, c.visible_from, c.visible_until) for c in rows(database, ProductChannel)] == [(web.id, None, None)]
    assert rows(database, Product)[0].search_document == "linen shirt\nbreezy\nacme\nls red m\nred m\nls blue m\nblue m"


def test_create_product_answers_every_problem_at_once_and_writes_nothing(app, client, database):
    seed(database)
    token = signed_in(app, client, "catalog_manager")
    post(client, CREATE_PRODUCT, {"input": SHIRT}, token)
    bad = {
        "slug": "linen-shirt", "name": " ", "brandSlug": "nobody", "categorySlug": "hats", "tags": [""],
        "attributes": [{"code": "fabric", "value": "x"}, {"code": "material", "value": 3}],
        "variants": [
            {"sku": "LS-RED-M", "basePrice": "10.001", "attributes": [{"code": "color", "value": "green"}]},
            {"sku": "bad sku", "basePrice": "-1", "weightGrams": -5},
            {"sku": "NEW-1", "basePrice": "ten", "compareAtPrice": "1.5", "attributes": [{"code": "size_cm", "value": "x"}]},
        ],
        "channels": ["web", "shop"],
    }
    errors = post(client, CREATE_PRODUCT, {"input": bad}, token)["data"]["createProduct"]
    assert errors["product"] is None
    assert errors["errors"] == [
        {"code": "INVALID_NAME", "field": "name", "message": "name: expected 1 to 300 characters"},
        {"code": "DUPLICATE_SLUG", "field": "slug", "message": "slug: a product 'linen-shirt' already exists"},
        {"code": "NOT_FOUND", "field": "brandSlug", "message": "brandSlug: no brand 'nobody'"},
        {"code": "NOT_FOUND", "field": "categorySlug", "message": "categorySlug: no category 'hats'"},
        {"code": "INVALID_TAG", "field": "tags.0", "message": "tags.0: expected 1 to 64 characters"},
        {"code": "UNKNOWN_ATTRIBUTE", "field": "attributes.fabric", "message": "attributes.fabric: no attribute 'fabric'"},
        {"code": "INVALID_ATTRIBUTE_VALUE", "field": "attributes.material",
         "message": "attributes.material: attribute 'material' expects a text of 1 to 500 characters, got 3"},
        {"code": "DUPLICATE_SKU", "field": "variants.0.sku", "message": "variants.0.sku: SKU 'LS-RED-M' is already used"},
        {"code": "TOO_MANY_DECIMALS", "field": "variants.0.basePrice",
         "message": "variants.0.basePrice: 10.001 has more decimals than EUR allows (2)"},
        {"code": "INVALID_ATTRIBUTE_VALUE", "field": "variants.0.attributes.color",
         "message": "variants.0.attributes.color: attribute 'color' expects one of red, blue, got 'green'"},
        {"code": "INVALID_SKU", "field": "variants.1.sku",
         "message": "variants.1.sku: 'bad sku' is not a SKU: use 1 to 64 letters, digits, '.', '_' or '-', "
                    "starting with a letter or digit"},
        {"code": "INVALID_AMOUNT", "field": "variants.1.basePrice", "message": "variants.1.basePrice: must not be negative, got -1"},
        {"code": "INVALID_WEIGHT", "field": "variants.1.weightGrams",
         "message": "variants.1.weightGrams: expected a whole number of grams ≥ 0, got -5"},
        {"code": "INVALID_AMOUNT", "field": "variants.2.basePrice",
         "message": "variants.2.basePrice: amount: 'ten' is not a decimal number"},
        {"code": "INVALID_ATTRIBUTE_VALUE", "field": "variants.2.attributes.size_cm",
         "message": "variants.2.attributes.size_cm: attribute 'size_cm' expects a decimal number (as a string or an integer), got 'x'"},
        {"code": "NOT_FOUND", "field": "channels.1", "message": "channels.1: no channel 'shop'"},
    ]
    assert [p.slug for p in rows(database, Product)] == ["linen-shirt"]
    assert sorted(v.sku for v in rows(database, ProductVariant)) == ["LS-BLUE-M", "LS-RED-M"]
    assert len(rows(database, ProductChannel)) == 1


def test_categories_keep_a_materialized_path_and_the_tree_reads_back(app, client, database):
    seed(database)
    token = signed_in(app, client, "catalog_manager")
    created = post(client, CREATE_CATEGORY, {"input": {"slug": "tees", "name": "Tees", "parentSlug": "shirts"}}, token)
    assert created["data"]["createCategory"] == {"errors": [], "category": {
        "slug": "tees", "name": "Tees", "parent": {"slug": "shirts"},
        "path": [{"slug": "clothing"}, {"slug": "shirts"}, {"slug": "tees"}]}}
    paths = {c.slug: c.path for c in rows(database, Category)}
    ids = {c.slug: c.id for c in rows(database, Category)}
    assert paths == {"clothing": f"/{ids['clothing']}/", "shirts": f"/{ids['clothing']}/{ids['shirts']}/",
                     "tees": f"/{ids['clothing']}/{ids['shirts']}/{ids['tees']}/"}
    tree = post(client, '{ categories { slug children { slug children { slug } } } '
                        'shirts: categories(parentSlug: "shirts") { slug } brands { slug name } }')["data"]
    assert tree == {"categories": [{"slug": "clothing", "children": [{"slug": "shirts", "children": [{"slug": "tees"}]}]}],
                    "shirts": [{"slug": "tees"}], "brands": [{"slug": "acme", "name": "Acme"}]}
    refused = post(client, CREATE_CATEGORY, {"input": {"slug": "Tees!", "name": "", "parentSlug": "hats"}}, token)
    assert refused["data"]["createCategory"] == {"category": None, "errors": [
        {"code": "INVALID_SLUG", "field": "slug",
         "message": "slug: 'Tees!' is not a slug: use lower-case letters, digits and single hyphens, at most 128 characters"},
        {"code": "INVALID_NAME", "field": "name", "message": "name: expected 1 to 200 characters"},
        {"code": "NOT_FOUND", "field": "parentSlug", "message": "parentSlug: no category 'hats'"},
    ]}
    assert len(rows(database, Category)) == 3


def test_brands_and_attributes_refuse_duplicates_and_bad_types(app, client, database):
    seed(database)
    token = signed_in(app, client, "catalog_manager")
    assert post(client, CREATE_BRAND, {"input": {"slug": "acme", "name": "Acme 2"}}, token)["data"]["createBrand"] == {
        "brand": None, "errors": [{"code": "DUPLICATE_SLUG", "field": "slug", "message": "slug: a brand 'acme' already exists"}]}
    created = post(client, CREATE_ATTRIBUTE, {"input": {"code": "voltage", "name": "Voltage", "type": "number"}}, token)
    assert created["data"]["createAttribute"] == {
        "attribute": {"code": "voltage", "name": "Voltage", "type": "number", "choices": []}, "errors": []}
    refused = post(client, CREATE_ATTRIBUTE, {"input": {"code": "Color", "name": "C", "type": "select"}}, token)
    assert refused["data"]["createAttribute"]["errors"] == [
        {"code": "INVALID_CODE", "field": "code", "message": "code: 'Color' is not an attribute code: use lower-case "
                                                             "letters, digits and underscores, starting with a letter, at most 64"},
        {"code": "INVALID_CHOICES", "field": "choices", "message": "choices: a select attribute needs at least one non-empty choice"},
    ]
    wrong_type = post(client, CREATE_ATTRIBUTE, {"input": {"code": "color", "name": "C", "type": "colour"}}, token)
    assert wrong_type["data"]["createAttribute"]["errors"] == [
        {"code": "DUPLICATE_CODE", "field": "code", "message": "code: an attribute 'color' already exists"},
        {"code": "INVALID_ATTRIBUTE_TYPE", "field": "type", "message": "type: expected one of text, number, boolean, select, got 'colour'"},
    ]
    assert [b.name for b in rows(database, Brand)] == ["Acme"]
    assert sorted(a.code for a in rows(database, Attribute)) == ["color", "material", "size_cm", "voltage"]


def test_update_product_changes_given_fields_and_refuses_as_a_whole(app, client, database):
    seed(database)
    token = signed_in(app, client, "catalog_manager")
    post(client, CREATE_PRODUCT, {"input": SHIRT}, token)
    product_id = str(rows(database, Product)[0].id)
    updated = post(client, UPDATE_PRODUCT, {"id": product_id, "input": {"name": "Linen shirt II", "tags": ["new"],
                                                                       "brandSlug": ""}}, token)
    assert updated["data"]["updateProduct"] == {"errors": [], "product": {
        "slug": "linen-shirt", "name": "Linen shirt II", "tags": ["new"], "brand": None}}
    refused = post(client, UPDATE_PRODUCT, {"id": product_id, "input": {"name": "Other", "categorySlug": "hats"}}, token)
    assert refused["data"]["updateProduct"] == {"product": None, "errors": [
        {"code": "NOT_FOUND", "field": "categorySlug", "message": "categorySlug: no category 'hats'"}]}
    missing = post(client, UPDATE_PRODUCT, {"id": "999999", "input": {"name": "Other"}}, token)
    assert missing["data"]["updateProduct"]["errors"] == [
        {"code": "NOT_FOUND", "field": "id", "message": "id: no product '999999'"}]
    product = rows(database, Product)[0]
    assert (product.name, product.tags, product.brand_id) == ("Linen shirt II", ["new"], None)
    assert product.search_document == "linen shirt ii\nbreezy\nls red m\nred m\nls blue m\nblue m"


def test_translations_and_channel_windows_are_validated(app, client, database):
    seed(database)
    token = signed_in(app, client, "catalog_manager")
    post(client, CREATE_PRODUCT, {"input": SHIRT}, token)
    product_id = str(rows(database, Product)[0].id)
    done = post(client, TRANSLATE, {"id": product_id, "locale": "de-at", "name": "Leinenhemd"}, token)
    assert done["data"]["setProductTranslation"] == {"product": {"slug": "linen-shirt"}, "errors": []}
    refused = post(client, TRANSLATE, {"id": "999999", "locale": "german!", "name": ""}, token)
    assert refused["data"]["setProductTranslation"]["errors"] == [
        {"code": "INVALID_NAME", "field": "name", "message": "name: expected 1 to 300 characters"},
        {"code": "NOT_FOUND", "field": "productId", "message": "productId: no product '999999'"},
        {"code": "INVALID_LOCALE", "field": "locale", "message": "locale: 'german!' is not a language tag like 'de' or 'de-AT'"},
    ]
    assert [(t.locale, t.name) for t in rows(database, ProductTranslation)] == [("de-AT", "Leinenhemd")]
    windows = post(client, SET_CHANNELS, {"id": product_id, "channels": [
        {"channelSlug": "web", "visibleFrom": "2026-02-01T00:00:00Z", "visibleUntil": "2026-01-01T00:00:00Z"},
        {"channelSlug": "shop"},
        {"channelSlug": "web", "visibleFrom": "tomorrow"}]}, token)
    assert windows["data"]["setProductChannels"]["errors"] == [
        {"code": "INVALID_WINDOW", "field": "channels.2.visibleFrom",
         "message": "channels.2.visibleFrom: expected an ISO-8601 time with a zone, got 'tomorrow'"}]
    windows = post(client, SET_CHANNELS, {"id": product_id, "channels": [
        {"channelSlug": "web", "visibleFrom": "2026-02-01T00:00:00Z", "visibleUntil": "2026-01-01T00:00:00Z"},
        {"channelSlug": "shop"}]}, token)
    assert windows["data"]["setProductChannels"]["errors"] == [
        {"code": "INVALID_WINDOW", "field": "channels.0.visibleUntil", "message": "channels.0.visibleUntil: must be after visibleFrom"},
        {"code": "NOT_FOUND", "field": "channels.1.channelSlug", "message": "channels.1.channelSlug: no channel 'shop'"}]
    assert [(c.visible_from, c.visible_until) for c in rows(database, ProductChannel)] == [(None, None)]


def test_staff_mutations_need_catalog_manage(app, client, database):
    seed(database)
    buyer = signed_in(app, client, "customer")
    for query, variables in ((CREATE_PRODUCT, {"input": SHIRT}), (CREATE_BRAND, {"input": {"slug": "x", "name": "X"}}),
                             (CREATE_CATEGORY, {"input": {"slug": "x", "name": "X"}}),
                             (CREATE_ATTRIBUTE, {"input": {"code": "x", "name": "X", "type": "text"}}),
                             (UPDATE_PRODUCT, {"id": "1", "input": {"name": "X"}}),
                             (TRANSLATE, {"id": "1", "locale": "de", "name": "X"}),
                             (SET_CHANNELS, {"id": "1", "channels": []})):
        forbidden = post(client, query, variables, buyer)
        assert forbidden["errors"][0]["extensions"] == {"code": "FORBIDDEN"}
        assert forbidden["errors"][0]["message"] == "permission 'catalog.manage' is required"
    assert rows(database, Product) == []
    assert [b.slug for b in rows(database, Brand)] == ["acme"]
