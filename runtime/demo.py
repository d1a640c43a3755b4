"""Loads the demo store (idempotent: running it twice changes nothing).

``examples/demo`` holds the staff users and the demo definitions; ``examples/demo_store`` the
commerce data: a catalog expanded deterministically from compact YAML (``catalog.yaml``), and
channels, providers, buyers, staff and price lists (``store.yaml``). What is there already — found
by its natural key (slug, sku, email, code) — is left as it is, so a second run adds nothing.

The catalog goes in by bulk inserts of the committed models (a few hundred products in well under
a second; then indexed for search), everything else through the domain services, so the demo data
passes the same validation as data entered over the API. The core never imports ``examples``: it
only reads its data files.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import yaml
from flask import Flask
from rules.errors import DefinitionInvalid
from rules.pipeline import check_paths
from sqlalchemy import insert
from sqlmodel import Session, select

from runtime.accounts.models import Account, Address, CustomerGroup, Location
from runtime.accounts.ownership import validate_address
from runtime.accounts.service import (create_account, create_customer_group, create_employee, create_location,
                                      register_customer, set_customer_group)
from runtime.auth.models import User
from runtime.auth.permissions import Actor
from runtime.auth.service import create_user
from runtime.catalog.models import (Attribute, Brand, Category, Product, ProductChannel,
                                    ProductTranslation, ProductVariant)
from runtime.catalog.search_index import reindex
from runtime.catalog.service import create_category, set_category_translation
from runtime.channels.models import Channel
from runtime.channels.providers import set_provider
from runtime.channels.rates import set_rate
from runtime.channels.service import create_channel, default_channel
from runtime.clock import utcnow
from runtime.definitions import store
from runtime.definitions.environment import build_environment
from runtime.payments.methods import add_saved_payment_method
from runtime.pricing.lists import create_price_list, set_price_list_entries
from runtime.pricing.models import PriceList
from runtime.tax.demo import load_tax

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DEMO = EXAMPLES / "demo"
DEMO_STORE = EXAMPLES / "demo_store"
DEMO_AUTHOR = "demo"
#: Who saves the B2B locations' cards (staff may save for any account).
SEEDER = Actor(email=DEMO_AUTHOR, permissions=frozenset({"accounts.manage"}))
CENT = Decimal("0.01")


def load_demo(app: Flask, folder: Path = DEMO, store_folder: Path | None = DEMO_STORE) -> Iterator[str]:
    """Users and definitions from ``folder``, then the commerce data from ``store_folder`` (if any)."""
    database = app.extensions["vectis.db"]
    spec = yaml.safe_load((folder / "store.yaml").read_text())
    env = build_environment(app.extensions["vectis.registry"])
    checked = check_paths([folder / "definitions"], env, origin="examples/demo/definitions")
    if not checked.ok:
        raise DefinitionInvalid(checked.errors)

    def load(session) -> list[str]:
        lines = []
        for user in spec.get("users", []):
            lines.append(_user(session, user))
        for definition in checked.definitions:
            row, created = store.publish(
                session, definition.source, env, author=DEMO_AUTHOR, note="demo store",
                origin=definition.path, path=definition.path,
            )
            if created:
                lines.append(f"demo definition {row.kind}/{row.name}: revision {row.revision}")
        return lines

    yield from database.run(load)
    if store_folder is not None:
        with app.app_context():  # set_provider reads the pack registry of the current app
            yield from database.run(lambda session: load_store(session, store_folder, app.config["VECTIS"].base_currency))


def load_store(session: Session, folder: Path, base_currency: str) -> list[str]:
    """The demo store's commerce data, in one transaction; returns one line per loaded kind."""
    catalog = yaml.safe_load((folder / "catalog.yaml").read_text(encoding="utf-8"))
    spec = yaml.safe_load((folder / "store.yaml").read_text(encoding="utf-8"))
    channels = _channels(session, spec)
    products, variants = _catalog(session, catalog, channels, base_currency)
    for group in spec["customer_groups"]:
        if session.exec(select(CustomerGroup.id).where(CustomerGroup.slug == group["slug"])).first() is None:
            create_customer_group(session, group["slug"], group["name"])
    lines = [f"demo store: {products} products, {len(variants)} variants, channels {', '.join(channels)}"]
    lines += load_tax(session, folder, spec, channels)
    lines += [_user(session, staff) for staff in spec["staff"]]
    lines += [_customer(session, customer) for customer in spec["customers"]]
    accounts: dict[str, tuple[int, dict[str, int]]] = {}
    for account in spec["accounts"]:
        accounts[account["slug"]] = _account(session, account, channels["b2b"], lines)
    lists = [_price_list(session, entry, accounts, variants) for entry in spec["price_lists"]]
    lines.append(f"demo price lists: {', '.join(lists)}")
    return lines


# ---- channels, rates, providers -------------------------------------------------------------

def _channels(session: Session, spec: dict) -> dict[str, int]:
    ids = {}
    for entry in spec["channels"]:
        channel = session.exec(select(Channel).where(Channel.slug == entry["slug"])).first()
        if channel is None:
            values = dict(entry)
            # Another default (made before the demo) stays the default: the database allows one.
            values["is_default"] = bool(values.get("is_default")) and default_channel(session) is None
            channel = create_channel(session, **values)
        for provider in spec["providers"]:
            set_provider(session, channel, provider["slot"], provider["provider"], provider["config"])
        ids[channel.slug] = channel.id
    for rate in spec["exchange_rates"]:
        set_rate(session, rate["base"], rate["quote"], rate["rate"], datetime.fromisoformat(rate["valid_from"]))
    return ids


# ---- catalog --------------------------------------------------------------------------------

def slugify(text: str) -> str:
    text = text.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def generate_products(catalog: dict) -> list[dict[str, Any]]:
    """The product specs ``catalog.yaml`` describes: the same list on every call."""
    spec = catalog["products"]
    leaves = list(spec["leaves"].items())
    brands, adjectives = catalog["brands"], spec["adjectives"]
    colors = next(a for a in catalog["attributes"] if a["code"] == "color")["choices"]
    materials = next(a for a in catalog["attributes"] if a["code"] == "material")["choices"]
    products = []
    for i in range(spec["count"]):
        leaf, info = leaves[i % len(leaves)]
        english, german = info["nouns"][(i // len(leaves)) % len(info["nouns"])]
        adjective = adjectives[(i // len(leaves)) % len(adjectives)]
        brand = brands[(i * 7) % len(brands)]
        name = f"{brand} {adjective} {english} {100 + i}"
        low, high = (Decimal(info["price"][0]), Decimal(info["price"][1]))
        price = (low + (high - low) * Decimal((i * 37) % 100) / 100).quantize(Decimal(1)) + Decimal("0.99")
        tags = list(info["tags"]) + (["new"] if i % 10 == 0 else []) + (["sale"] if i % 6 == 0 else [])
        attributes: dict[str, Any] = {"material": materials[i % len(materials)], "warranty_years": 1 + i % 3}
        if "power" in info["tags"]:
            attributes |= {"power_watts": 300 + (i * 53) % 1700, "cordless": i % 2 == 0}
        variants = []
        for k in range(1 + (i // 2) % 3):  # not i % 3: the brand cycle (i * 7 % 15) would fix it per brand
            size = spec["variant_sizes"][k]
            variants.append({
                "sku": f"DEMO-{i + 1:04d}-{size}", "name": f"{size} / {colors[(i + k) % len(colors)]}",
                "attributes": {"color": colors[(i + k) % len(colors)]},
                "base_price": (price * (1 + Decimal("0.15") * k)).quantize(CENT), "position": k,
                "compare_at_price": (price * Decimal("1.2")).quantize(CENT) if "sale" in tags else None,
            })
        products.append({
            "slug": slugify(name), "name": name, "category": leaf, "brand": slugify(brand), "tags": tags,
            "description": f"{english} by {brand} ({', '.join(info['tags'])}).", "attributes": attributes,
            "german": (f"{brand} {adjective} {german} {100 + i}", f"{german} von {brand}.")
            if i % spec["german_every"] == 0 else None,
            "b2b_only": i % spec["b2b_only_every"] == spec["b2b_only_every"] - 1, "variants": variants,
        })
    return products


def _catalog(session: Session, catalog: dict, channels: dict[str, int], base_currency: str) -> tuple[int, list[tuple[str, Decimal]]]:
    """Adds what is missing; returns the product count and every demo variant's (sku, base price) in order."""
    categories = _categories(session, catalog["categories"])
    brands = {slugify(name): _get_or_add(session, Brand, {"slug": slugify(name)}, {"name": name}).id for name in catalog["brands"]}
    for attribute in catalog["attributes"]:
        _get_or_add(session, Attribute, {"code": attribute["code"]},
                    {"name": attribute["name"], "type": attribute["type"], "choices": attribute.get("choices", [])})
    specs = generate_products(catalog)
    existing = set(session.exec(select(Product.slug).where(Product.slug.in_([p["slug"] for p in specs]))).all())
    new = [p for p in specs if p["slug"] not in existing]
    rows = [Product(slug=p["slug"], name=p["name"], description=p["description"], brand_id=brands[p["brand"]],
                    category_id=categories[p["category"]].id, tags=p["tags"], attributes=p["attributes"]) for p in new]
    session.add_all(rows)
    session.flush()
    variants, visibility, translations = [], [], []
    for spec, row in zip(new, rows):
        variants += [{**v, "product_id": row.id, "base_currency": base_currency} for v in spec["variants"]]
        visible_in = ["b2b"] if spec["b2b_only"] else ["web", "b2b"]
        visibility += [{"product_id": row.id, "channel_id": channels[slug]} for slug in visible_in]
        if spec["german"]:
            translations.append({"product_id": row.id, "locale": "de", "name": spec["german"][0], "description": spec["german"][1]})
    for model, values in ((ProductVariant, variants), (ProductChannel, visibility), (ProductTranslation, translations)):
        if values:
            session.execute(insert(model), values)
    reindex(session, [row.id for row in rows])  # the bulk path skips the catalog service: index for search here
    return len(specs), [(v["sku"], v["base_price"]) for p in specs for v in p["variants"]]


def _categories(session: Session, tree: list[dict]) -> dict[str, Category]:
    """The 2-level tree, through the catalog service (which keeps each category's path)."""
    found = {row.slug: row for row in session.exec(select(Category)).all()}
    for position, root in enumerate(tree):
        nodes = [(root, None, position)] + [(child, root["slug"], i) for i, child in enumerate(root.get("children", []))]
        for spec, parent, place in nodes:
            if spec["slug"] not in found:
                found[spec["slug"]] = create_category(session, slug=spec["slug"], name=spec["name"],
                                                      parent_slug=parent, position=place)
                set_category_translation(session, spec["slug"], locale="de", name=spec["de"])
    return found


# ---- users, customers, accounts -------------------------------------------------------------

def _user(session: Session, spec: dict) -> str:
    user = session.exec(select(User).where(User.email == spec["email"])).first()
    if user is None:
        user = create_user(session, spec["email"], spec["password"], spec["roles"])
    return f"demo user {spec['email']} / {spec['password']} ({', '.join(spec['roles'])})"


def _customer(session: Session, spec: dict) -> str:
    user_id = session.exec(select(User.id).where(User.email == spec["email"])).first()
    if user_id is None:
        customer = register_customer(session, spec["email"], spec["password"], spec["first_name"], spec["last_name"])
        set_customer_group(session, customer_id=customer.id, group_slug=spec.get("group"))
        session.add_all([Address(customer_id=customer.id, **validate_address(address, "addresses"),
                                 **_defaults(address)) for address in spec["addresses"]])
    return f"demo user {spec['email']} / {spec['password']} (customer)"


def _account(session: Session, spec: dict, channel_id: int, lines: list[str]) -> tuple[int, dict[str, int]]:
    account = session.exec(select(Account).where(Account.slug == spec["slug"])).first()
    if account is None:
        account = create_account(session, spec["slug"], spec["name"], spec.get("group"), spec.get("tax_id"))
    locations = {}
    for place in spec["locations"]:
        location = session.exec(select(Location).where(Location.account_id == account.id, Location.code == place["code"])).first()
        if location is None:
            location = create_location(session, account.id, place["code"], place["name"])
            address = {"first_name": "Receiving", "last_name": place["code"], **place["address"]}
            session.add(Address(location_id=location.id, is_default_shipping=True, is_default_billing=True,
                                **validate_address(address, "address")))
            card = place["card"]
            method = add_saved_payment_method(session, SEEDER, channel_id=channel_id, token=card["number"], label=card["label"],
                                              location_id=location.id, account_id=account.id)
            method.exp_month, method.exp_year = card["exp_month"], card["exp_year"]
        locations[place["code"]] = location.id
        for person in place["employees"]:
            if session.exec(select(User.id).where(User.email == person["email"])).first() is None:
                create_employee(session, email=person["email"], password=person["password"], account_id=account.id,
                                location_id=location.id, roles=person["roles"], first_name=person["first_name"],
                                last_name=person["last_name"])
            lines.append(f"demo user {person['email']} / {person['password']} ({', '.join(person['roles'])}) "
                         f"at {spec['name']} / {place['name']}")
    session.flush()
    return account.id, locations


def _defaults(address: dict) -> dict[str, bool]:
    return {flag: bool(address.get(flag)) for flag in ("is_default_shipping", "is_default_billing")}


# ---- price lists ----------------------------------------------------------------------------

def _price_list(session: Session, spec: dict, accounts: dict[str, tuple[int, dict[str, int]]],
                variants: list[tuple[str, Decimal]]) -> str:
    if session.exec(select(PriceList.id).where(PriceList.slug == spec["slug"])).first() is not None:
        return spec["slug"]
    account_id, locations = accounts.get(spec.get("account"), (None, {}))
    valid_from = valid_until = None
    if "starts_in_days" in spec:
        valid_from = utcnow().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=spec["starts_in_days"])
        valid_until = valid_from + timedelta(days=spec["lasts_days"])
    row = create_price_list(
        session, slug=spec["slug"], name=spec["name"], level=spec["level"], currency=spec["currency"],
        channel_slug=spec.get("channel"), customer_group_slug=spec.get("customer_group"),
        account_id=account_id if spec["level"] == "ACCOUNT" else None, location_id=locations.get(spec.get("location")),
        valid_from=valid_from, valid_until=valid_until, priority=spec.get("priority", 0))
    tiers = {1: spec["discount"], **{int(q): off for q, off in (spec.get("tiers") or {}).items()}}
    set_price_list_entries(session, row.id, [
        {"sku": sku, "min_quantity": quantity, "price": off_price(price, off)}
        for position, (sku, price) in enumerate(variants) if position % spec["every"] == spec["offset"]
        for quantity, off in tiers.items()])
    return spec["slug"]


def off_price(price: Decimal, percent: int | str) -> Decimal:
    """``price`` less ``percent`` %, to the cent (half up)."""
    return (price * (100 - Decimal(str(percent))) / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def _get_or_add(session: Session, model: type, key: dict[str, Any], values: dict[str, Any]):
    where = [getattr(model, name) == value for name, value in key.items()]
    row = session.exec(select(model).where(*where)).first()
    if row is None:
        row = model(**key, **values)
        session.add(row)
        session.flush()
    return row
