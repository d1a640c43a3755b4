"""Ownership: an employee of one account never sees another's locations or addresses — the
answer is NOT_FOUND (null for queries), exactly as for an unknown id, and nothing changes."""
from __future__ import annotations

import pytest
from sqlmodel import select

from runtime.accounts import service
from runtime.accounts.models import Address
from runtime.accounts.ownership import address_snapshot, not_found, owner_clause, owns, validate_address
from runtime.auth.permissions import Actor
from runtime.auth.service import seed_roles
from runtime.errors import BusinessError, BusinessErrors
from tests.runtime.helpers import gql, login, signed_in

PASSWORD = "correct horse battery"
HQ = {"line1": "Ring 1", "city": "Wien", "country": "AT", "postalCode": "1010"}
ADD = """mutation A($input: AddressInput!, $loc: ID) { addAddress(input: $input, locationId: $loc) {
  address { id line1 city country postalCode isDefaultShipping } errors { code field message } } }"""
UPDATE = """mutation U($id: ID!, $input: AddressInput!) { updateAddress(id: $id, input: $input) {
  address { id line1 city } errors { code field message } } }"""
DELETE = """mutation D($id: ID!) { deleteAddress(id: $id) { address { id line1 } errors { code field message } } }"""
MINE = "{ myAddresses { line1 city isDefaultShipping isDefaultBilling } }"
ACCOUNT = "query($id: ID!) { account(id: $id) { slug locations { code addresses { line1 } } } }"
LOCATION = "query($id: ID!) { location(id: $id) { code account { slug } addresses { line1 } } }"


def world(database) -> dict:
    """Accounts A (location A1, employee ann) and B (location B1 with an address, employee bob), customer eve."""
    def work(session):
        seed_roles(session)
        ids = {}
        for slug, code, email in (("a", "A1", "ann@a.test"), ("b", "B1", "bob@b.test")):
            account = service.create_account(session, slug, slug.upper())
            location = service.create_location(session, account.id, code, code)
            service.create_employee(session, email=email, password=PASSWORD, account_id=account.id, location_id=location.id)
            address = Address(location_id=location.id, line1=f"{code} street", city="Graz", country="AT")
            session.add(address)
            session.flush()
            ids[slug] = {"account": account.id, "location": location.id, "address": address.id}
        eve = service.register_customer(session, "eve@example.test", PASSWORD, "Eve")
        address = Address(customer_id=eve.id, line1="Eve street", city="Linz", country="AT")
        session.add(address)
        session.flush()
        ids["eve"] = {"customer": eve.id, "user": eve.user_id, "address": address.id}
        return ids

    return database.run(work)


def addresses_in(database):
    with database.session() as session:
        return [(a.id, a.customer_id, a.location_id, a.line1, a.city) for a in session.exec(select(Address).order_by(Address.id))]


def test_an_employee_gets_not_found_for_every_id_of_another_account(app, client, database):
    ids = world(database)
    ann = login(client, "ann@a.test")
    b = ids["b"]
    before = addresses_in(database)

    account = gql(client, ACCOUNT, {"id": str(b["account"])}, ann).get_json()
    location = gql(client, LOCATION, {"id": str(b["location"])}, ann).get_json()
    added = gql(client, ADD, {"input": HQ, "loc": str(b["location"])}, ann).get_json()["data"]["addAddress"]
    updated = gql(client, UPDATE, {"id": str(b["address"]), "input": HQ}, ann).get_json()["data"]["updateAddress"]
    deleted = gql(client, DELETE, {"id": str(b["address"])}, ann).get_json()["data"]["deleteAddress"]
    customers = gql(client, DELETE, {"id": str(ids["eve"]["address"])}, ann).get_json()["data"]["deleteAddress"]
    unknown = gql(client, DELETE, {"id": "9999"}, ann).get_json()["data"]["deleteAddress"]

    assert account == {"data": {"account": None}}
    assert location == {"data": {"location": None}}
    assert added == {"address": None, "errors": [
        {"code": "NOT_FOUND", "field": "locationId", "message": f"locationId: no location {b['location']}"}]}
    assert updated == {"address": None, "errors": [
        {"code": "NOT_FOUND", "field": "id", "message": f"id: no address {b['address']}"}]}
    assert deleted == {"address": None, "errors": [
        {"code": "NOT_FOUND", "field": "id", "message": f"id: no address {b['address']}"}]}
    assert customers["errors"][0]["code"] == "NOT_FOUND"
    assert unknown["errors"] == [{"code": "NOT_FOUND", "field": "id", "message": "id: no address 9999"}]
    assert addresses_in(database) == before


def test_an_employee_reads_and_keeps_their_own_accounts_books(app, client, database):
    ids = world(database)
    ann = login(client, "ann@a.test")
    a = ids["a"]

    account = gql(client, ACCOUNT, {"id": str(a["account"])}, ann).get_json()["data"]["account"]
    location = gql(client, LOCATION, {"id": str(a["location"])}, ann).get_json()["data"]["location"]
    added = gql(client, ADD, {"input": {**HQ, "isDefaultShipping": True}}, ann).get_json()["data"]["addAddress"]
    new_id = added["address"]["id"]
    updated = gql(client, UPDATE, {"id": new_id, "input": {**HQ, "line1": "Ring 2"}}, ann).get_json()["data"]["updateAddress"]
    mine = gql(client, MINE, token=ann).get_json()["data"]["myAddresses"]
    deleted = gql(client, DELETE, {"id": str(a["address"])}, ann).get_json()["data"]["deleteAddress"]

    assert account == {"slug": "a", "locations": [{"code": "A1", "addresses": [{"line1": "A1 street"}]}]}
    assert location == {"code": "A1", "account": {"slug": "a"}, "addresses": [{"line1": "A1 street"}]}
    assert added["errors"] == [] and added["address"]["isDefaultShipping"] is True
    assert updated == {"address": {"id": new_id, "line1": "Ring 2", "city": "Wien"}, "errors": []}
    assert mine == [{"line1": "A1 street", "city": "Graz", "isDefaultShipping": False, "isDefaultBilling": False},
                    {"line1": "Ring 2", "city": "Wien", "isDefaultShipping": True, "isDefaultBilling": False}]
    assert deleted == {"address": {"id": str(a["address"]), "line1": "A1 street"}, "errors": []}
    with database.session() as session:
        assert [x.location_id for x in session.exec(select(Address).where(Address.location_id.is_not(None)))] == [
            ids["b"]["location"], a["location"]]


def test_a_customer_keeps_an_own_book_with_one_default(app, client, database):
    ids = world(database)
    eve = login(client, "eve@example.test")

    first = gql(client, ADD, {"input": {**HQ, "isDefaultShipping": True}}, eve).get_json()["data"]["addAddress"]
    second = gql(client, ADD, {"input": {**HQ, "line1": "Ring 3", "country": "de", "isDefaultShipping": True}},
                 eve).get_json()["data"]["addAddress"]
    foreign = gql(client, ADD, {"input": HQ, "loc": str(ids["a"]["location"])}, eve).get_json()["data"]["addAddress"]
    mine = gql(client, MINE, token=eve).get_json()["data"]["myAddresses"]

    assert first["errors"] == [] and second["address"]["country"] == "DE"
    assert [(m["line1"], m["isDefaultShipping"]) for m in mine] == [("Eve street", False), ("Ring 1", False), ("Ring 3", True)]
    assert foreign["errors"] == [{"code": "NOT_FOUND", "field": "locationId",
                                  "message": f"locationId: no location {ids['a']['location']}"}]


def test_address_validation_collects_every_problem_and_adds_nothing(app, client, database):
    world(database)
    eve = login(client, "eve@example.test")
    before = addresses_in(database)

    answer = gql(client, ADD, {"input": {"line1": " ", "city": "", "country": "XX", "phone": "1" * 41}}, eve).get_json()

    assert answer["data"]["addAddress"] == {"address": None, "errors": [
        {"code": "REQUIRED", "field": "input.line1", "message": "input.line1: required"},
        {"code": "REQUIRED", "field": "input.city", "message": "input.city: required"},
        {"code": "INVALID_COUNTRY", "field": "input.country",
         "message": "input.country: expected an ISO 3166-1 alpha-2 code like 'AT', got 'XX'"},
        {"code": "TOO_LONG", "field": "input.phone", "message": "input.phone: at most 40 characters"},
    ]}
    assert addresses_in(database) == before


def test_anonymous_callers_cannot_add_addresses_and_staff_must_name_a_location(app, client, database):
    ids = world(database)
    admin = signed_in(app, client, "admin")

    anonymous = gql(client, ADD, {"input": HQ}).get_json()
    no_location = gql(client, ADD, {"input": HQ}, admin).get_json()["data"]["addAddress"]
    staff = gql(client, ADD, {"input": HQ, "loc": str(ids["b"]["location"])}, admin).get_json()["data"]["addAddress"]

    assert anonymous["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
    assert no_location["errors"] == [{"code": "INVALID_TARGET", "field": "locationId",
                                      "message": "locationId: name the location whose address book to add to"}]
    assert staff["errors"] == [] and staff["address"]["line1"] == "Ring 1"


def test_owns_and_owner_clause_follow_the_one_rule(app, database):
    ids = world(database)
    staff = Actor(user_id=1, permissions=frozenset({"orders.read"}))
    ann = Actor(user_id=2, employee_id=1, account_id=ids["a"]["account"])
    eve = Actor(user_id=ids["eve"]["user"], customer_id=ids["eve"]["customer"])
    key = Actor(api_key_id=1, permissions=frozenset({"orders.place"}))

    assert owns(staff, user_id=99, account_id=None, staff_permission="orders.read") is True
    assert owns(ann, user_id=99, account_id=ids["a"]["account"], staff_permission="orders.read") is True
    assert owns(ann, user_id=99, account_id=ids["b"]["account"], staff_permission="orders.read") is False
    assert owns(eve, user_id=ids["eve"]["user"], account_id=None, staff_permission="orders.read") is True
    assert owns(eve, user_id=2, account_id=ids["a"]["account"], staff_permission="orders.read") is False
    assert owns(key, user_id=None, account_id=None, staff_permission="orders.read") is False
    assert owns(Actor(), user_id=None, account_id=None, staff_permission="orders.read") is False
    with database.session() as session:
        # Employees are users: the clause works on any model with user_id and account_id columns.
        from runtime.accounts.models import Employee
        from runtime.auth.models import User

        ann_user = session.exec(select(User.id).where(User.email == "ann@a.test")).one()
        ann = Actor(user_id=ann_user, employee_id=1, account_id=ids["a"]["account"])
        visible = lambda actor: [e.account_id for e in session.exec(select(Employee).where(owner_clause(actor, Employee, "orders.read")))]  # noqa: E731
        assert visible(staff) == [ids["a"]["account"], ids["b"]["account"]]
        assert visible(ann) == [ids["a"]["account"]]
        assert visible(Actor()) == []


def test_address_snapshot_and_validate_address(app, database):
    ids = world(database)
    eve = Actor(user_id=ids["eve"]["user"], customer_id=ids["eve"]["customer"])
    sales = Actor(user_id=99, permissions=frozenset({"customers.read"}))
    with database.session() as session:
        assert address_snapshot(session, eve, ids["eve"]["address"]) == {
            "first_name": "", "last_name": "", "company": "", "line1": "Eve street", "line2": "", "postal_code": "",
            "city": "Linz", "region": "", "country": "AT", "phone": ""}
        assert address_snapshot(session, sales, ids["b"]["address"])["line1"] == "B1 street"
        with pytest.raises(BusinessError) as refused:
            address_snapshot(session, eve, ids["a"]["address"])
    assert refused.value.as_dict() == {"code": "NOT_FOUND", "field": "addressId",
                                       "message": f"addressId: no address {ids['a']['address']}"}
    assert validate_address({"line1": " Main 1 ", "city": "Linz", "country": "at"}, "shippingAddress")["country"] == "AT"
    with pytest.raises(BusinessErrors) as invalid:
        validate_address({"line1": "x", "city": "y", "country": "Austria"}, "shippingAddress")
    assert [e.field for e in invalid.value.errors] == ["shippingAddress.country"]
    assert not_found("order", "orderId", 7).as_dict() == {"code": "NOT_FOUND", "field": "orderId", "message": "orderId: no order 7"}
