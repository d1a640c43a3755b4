"""The demo store (examples/demo_store, loaded by runtime.demo): what it contains, and that loading
it twice changes nothing."""
from collections import Counter
from decimal import Decimal

from sqlmodel import func, select

from runtime.accounts.models import Account, Address, Customer, CustomerGroup, Employee, Location
from runtime.auth.models import User, UserRole
from runtime.catalog.models import (Attribute, Brand, Category, CategoryTranslation, Product, ProductChannel,
                                    ProductTranslation, ProductVariant)
from runtime.channels.models import Channel, ChannelProvider, ExchangeRate
from runtime.clock import utcnow
from runtime.demo import DEMO_STORE, generate_products, load_demo, off_price
from runtime.payments.models import SavedPaymentMethod
from runtime.pricing.models import PriceList, PriceListEntry
from runtime.setup import upgrade

COUNTED = (Category, CategoryTranslation, Brand, Attribute, Product, ProductVariant, ProductChannel, ProductTranslation,
           Channel, ChannelProvider, ExchangeRate, CustomerGroup, User, UserRole, Customer, Account, Location, Employee,
           Address, SavedPaymentMethod, PriceList, PriceListEntry)


def _counts(database) -> dict[str, int]:
    with database.session() as session:
        return {model.__name__: session.exec(select(func.count()).select_from(model)).one() for model in COUNTED}


def _loaded(app) -> list[str]:
    list(upgrade(app))
    return list(load_demo(app))


def test_the_demo_store_loads_the_catalog_channels_buyers_and_price_lists(app, database):
    lines = _loaded(app)

    assert "demo store: 300 products, 600 variants, channels web, b2b" in lines
    assert "demo user buyer@acme.demo.test / demo-buyer-password (b2b_buyer) at Acme Tools / Acme Tools Headquarters" in lines
    # the approvers of the demo approval routes
    assert ("demo user fin2@acme.demo.test / demo-approver-password (b2b_finance) at Acme Tools / Acme Tools "
            "Headquarters") in lines
    assert lines[-1] == ("demo price lists: web-eur, b2b-eur, retail-vip, wholesale, acme-account, acme-hq-contract, "
                         "globex-berlin-contract, web-spring-sale")
    counts = _counts(database)
    assert {k: counts[k] for k in ("Category", "CategoryTranslation", "Brand", "Attribute", "Product", "ProductVariant",
                                   "ProductTranslation", "Channel", "ChannelProvider", "ExchangeRate", "CustomerGroup",
                                   "Customer", "Account", "Location", "Employee", "Address", "SavedPaymentMethod",
                                   "PriceList")} == {
        "Category": 12, "CategoryTranslation": 12, "Brand": 15, "Attribute": 5, "Product": 300, "ProductVariant": 600,
        "ProductTranslation": 75, "Channel": 2, "ChannelProvider": 4, "ExchangeRate": 1, "CustomerGroup": 2,
        "Customer": 1, "Account": 2, "Location": 4, "Employee": 10, "Address": 5, "SavedPaymentMethod": 4, "PriceList": 8,
    }
    # 300 + 600 + 200 + 300x3 tiers + 120 + 60x2 tiers + 86 + 150
    assert counts["PriceListEntry"] == 2476


def test_every_product_is_in_b2b_and_every_25th_only_there(app, database):
    _loaded(app)

    with database.session() as session:
        slugs = dict(session.exec(select(Channel.id, Channel.slug)).all())
        visible = Counter(slugs[c] for c in session.exec(select(ProductChannel.channel_id)).all())
        b2b_only = session.exec(select(Product.slug).where(Product.id.not_in(
            select(ProductChannel.product_id).where(ProductChannel.channel_id == Channel.id, Channel.slug == "web")))
            .order_by(Product.id)).all()
        web = session.exec(select(Channel).where(Channel.slug == "web")).one()
        b2b = session.exec(select(Channel).where(Channel.slug == "b2b")).one()

    assert visible == {"web": 288, "b2b": 300}
    assert len(b2b_only) == 12 and b2b_only[0] == "metabo-eco-drill-124"
    assert (web.is_default, web.currencies, web.capture_mode) == (True, ["EUR", "USD"], "AUTHORIZE_AND_CAPTURE")
    assert (b2b.is_default, b2b.currencies, b2b.capture_mode) == (False, ["EUR"], "AUTHORIZE")


def test_a_generated_product_has_its_variants_category_translation_and_prices(app, database):
    _loaded(app)

    with database.session() as session:
        product = session.exec(select(Product).where(Product.slug == "bosch-blue-pro-drill-100")).one()
        category = session.get(Category, product.category_id)
        parent = session.get(Category, category.parent_id)
        variants = session.exec(select(ProductVariant).where(ProductVariant.product_id == product.id)
                                .order_by(ProductVariant.position)).all()
        german = session.get(ProductTranslation, (product.id, "de"))
        third = session.exec(select(ProductVariant).where(ProductVariant.sku == "DEMO-0005-L")).one()

    assert (category.slug, parent.slug, category.path) == ("power-tools", "tools", f"/{parent.id}/{category.id}/")
    assert product.tags == ["power", "workshop", "new", "sale"]
    assert product.attributes == {"material": "steel", "warranty_years": 1, "power_watts": 300, "cordless": True}
    assert [(v.sku, v.name, v.base_price, v.base_currency) for v in variants] == [("DEMO-0001-S", "S / red", Decimal("59.99"), "EUR")]
    assert variants[0].compare_at_price == Decimal("71.99")
    assert (german.name, german.description) == ("Bosch Blue Pro Bohrmaschine 100", "Bohrmaschine von Bosch Blue.")
    assert {"drill", "0001", "bohrmaschine"} <= set(product.search_document.lower().split())  # indexed for search
    assert third.base_price == Decimal("20.79")  # 15.99 + 2 x 15%, to the cent


def test_price_lists_cover_every_level_with_tiers_and_a_future_window(app, database):
    _loaded(app)

    with database.session() as session:
        lists = {row.slug: row for row in session.exec(select(PriceList)).all()}
        hq = session.exec(select(Location).where(Location.code == "HQ")).one()
        first = session.exec(select(ProductVariant).where(ProductVariant.sku == "DEMO-0001-S")).one()
        tiers = session.exec(select(PriceListEntry.min_quantity, PriceListEntry.price).where(
            PriceListEntry.price_list_id == lists["acme-hq-contract"].id, PriceListEntry.variant_id == first.id)
            .order_by(PriceListEntry.min_quantity)).all()

    assert Counter(row.level for row in lists.values()) == {"CHANNEL": 3, "CUSTOMER_GROUP": 2, "ACCOUNT": 1, "LOCATION": 2}
    assert (lists["acme-hq-contract"].location_id, lists["acme-hq-contract"].account_id) == (hq.id, None)
    assert [tuple(t) for t in tiers] == [(1, Decimal("46.79")), (25, Decimal("43.79"))]
    assert lists["web-spring-sale"].valid_from > utcnow()
    assert lists["web-spring-sale"].valid_until - lists["web-spring-sale"].valid_from == (
        lists["web-spring-sale"].valid_until - lists["web-spring-sale"].valid_from).__class__(days=14)
    assert off_price(Decimal("59.99"), 22) == Decimal("46.79")


def test_each_location_has_employees_an_address_and_a_saved_mock_card(app, database):
    _loaded(app)

    with database.session() as session:
        rows = session.exec(select(Location.code, SavedPaymentMethod.gateway, SavedPaymentMethod.last4, Address.city)
                            .join(SavedPaymentMethod, SavedPaymentMethod.location_id == Location.id)
                            .join(Address, Address.location_id == Location.id).order_by(Location.id)).all()
        buyer = session.exec(select(Employee, Location.code).join(User, User.id == Employee.user_id)
                             .join(Location, Location.id == Employee.location_id)
                             .where(User.email == "buyer@acme.demo.test")).one()
        roles = set(session.exec(select(UserRole.role_name).join(User, User.id == UserRole.user_id)
                                 .where(User.email == "viewer@globex.demo.test")).all())

    gateway = "mock_gateway.payment_gateway.mock"
    assert [tuple(r) for r in rows] == [("HQ", gateway, "4242", "Linz"), ("PLANT-2", gateway, "4444", "Graz"),
                                        ("BER", gateway, "4242", "Berlin"), ("MUC", gateway, "4444", "München")]
    assert buyer[1] == "HQ" and buyer[0].first_name == "Anna"
    assert roles == {"b2b_viewer"}


def test_loading_twice_adds_nothing(app, database):
    _loaded(app)
    before = _counts(database)

    again = _loaded(app)

    assert _counts(database) == before
    assert "demo store: 300 products, 600 variants, channels web, b2b" in again


def test_the_generated_catalog_is_the_same_on_every_call():
    import yaml

    catalog = yaml.safe_load((DEMO_STORE / "catalog.yaml").read_text(encoding="utf-8"))

    first, second = generate_products(catalog), generate_products(catalog)

    assert first == second and len({p["slug"] for p in first}) == 300
    assert len({v["sku"] for p in first for v in p["variants"]}) == 600
