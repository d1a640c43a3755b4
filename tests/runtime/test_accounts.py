"""Buyers: registerCustomer, the B2B hierarchy under accounts.manage, the actor of a bearer token."""
from __future__ import annotations

import pytest
from sqlmodel import select

from runtime.accounts import service
from runtime.accounts.models import Account, Customer, CustomerGroup, Employee, Location
from runtime.auth.models import User
from runtime.auth.service import authenticate_bearer, seed_roles
from runtime.errors import BusinessErrors
from tests.runtime.helpers import LOGIN, gql, login, recorded_statements, signed_in

PASSWORD = "correct horse battery"
REGISTER = """mutation R($input: RegisterCustomerInput!) { registerCustomer(input: $input) {
  tokens { accessToken refreshToken } customer { email firstName lastName group { slug } addresses { id } }
  errors { code field message } } }"""
VIEWER = "{ viewer { email roles customer { email firstName } employee { email firstName roles account { slug } location { code } } } }"
GROUP = """mutation G($input: CreateCustomerGroupInput!) { createCustomerGroup(input: $input) {
  customerGroup { slug name } errors { code field message } } }"""
ACCOUNT = """mutation A($input: CreateAccountInput!) { createAccount(input: $input) {
  account { id slug name taxId group { slug } locations { code } } errors { code field message } } }"""
LOCATION = """mutation L($input: CreateLocationInput!) { createLocation(input: $input) {
  location { id code name account { slug } } errors { code field message } } }"""
EMPLOYEE = """mutation E($input: CreateEmployeeInput!) { createEmployee(input: $input) {
  employee { email firstName lastName roles account { slug } location { code } } errors { code field message } } }"""
SET_GROUP = """mutation S($c: ID, $a: ID, $g: String) { setCustomerGroup(customerId: $c, accountId: $a, groupSlug: $g) {
  customer { id group { slug } } account { slug group { slug } } errors { code field message } } }"""


def rows(app, model):
    with app.extensions["vectis.db"].session() as session:
        return session.exec(select(model).order_by(model.id)).all()


def seed(app, work=None):
    def run(session):
        seed_roles(session)
        return work(session) if work else None

    return app.extensions["vectis.db"].run(run)


def b2b(session):
    """Group `trade`, account `acme` with location VIE, and an employee of it."""
    service.create_customer_group(session, "trade", "Trade")
    acme = service.create_account(session, "acme", "ACME", "trade")
    vie = service.create_location(session, acme.id, "VIE", "Vienna")
    employee = service.create_employee(session, email="ann@acme.test", password=PASSWORD, account_id=acme.id,
                                       location_id=vie.id, first_name="Ann")
    return acme.id, vie.id, employee.id


def test_register_customer_signs_the_customer_in(app, client):
    seed(app)
    answer = gql(client, REGISTER, {"input": {"email": " Eve@Example.test", "password": PASSWORD,
                                              "firstName": "Eve", "lastName": "Ito"}}).get_json()["data"]["registerCustomer"]

    assert answer["errors"] == []
    assert answer["customer"] == {"email": "eve@example.test", "firstName": "Eve", "lastName": "Ito", "group": None,
                                  "addresses": []}
    viewer = gql(client, VIEWER, token=answer["tokens"]["accessToken"]).get_json()["data"]["viewer"]
    assert viewer == {"email": "eve@example.test", "roles": ["customer"],
                      "customer": {"email": "eve@example.test", "firstName": "Eve"}, "employee": None}


def test_register_customer_collects_every_problem_and_creates_nothing(app, client):
    seed(app)
    gql(client, REGISTER, {"input": {"email": "eve@example.test", "password": PASSWORD}})

    taken = gql(client, REGISTER, {"input": {"email": "EVE@example.test", "password": "short",
                                             "firstName": "x" * 121}}).get_json()["data"]["registerCustomer"]
    bad = gql(client, REGISTER, {"input": {"email": "not-an-email", "password": PASSWORD}}).get_json()["data"]

    assert taken == {"tokens": None, "customer": None, "errors": [
        {"code": "EMAIL_TAKEN", "field": "email", "message": "email: eve@example.test already has an account"},
        {"code": "PASSWORD_TOO_SHORT", "field": "password", "message": "password: use at least 10 characters"},
        {"code": "TOO_LONG", "field": "firstName", "message": "firstName: at most 120 characters"},
    ]}
    assert bad["registerCustomer"]["errors"] == [
        {"code": "INVALID_EMAIL", "field": "email", "message": "email: 'not-an-email' is not an email address"}]
    assert [u.email for u in rows(app, User)] == ["eve@example.test"]
    assert len(rows(app, Customer)) == 1


def count_statements(database, work):
    with recorded_statements(database) as statements, database.session() as session:
        result = work(session)
    return result, statements


def test_a_bearer_token_carries_the_buyer_ids_in_one_statement(app, client, database):
    acme_id, vie_id, employee_id = seed(app, b2b)
    gql(client, REGISTER, {"input": {"email": "eve@example.test", "password": PASSWORD}})
    settings = app.config["VECTIS"]
    trade_id = rows(app, CustomerGroup)[0].id
    customer = rows(app, Customer)[0]

    ann, eve = login(client, "ann@acme.test"), login(client, "eve@example.test")

    employee_actor, employee_sql = count_statements(database, lambda s: authenticate_bearer(s, settings, ann))
    customer_actor, customer_sql = count_statements(database, lambda s: authenticate_bearer(s, settings, eve))

    assert len(employee_sql) == 1 and len(customer_sql) == 1
    assert (employee_actor.email, employee_actor.roles, employee_actor.permissions) == (
        "ann@acme.test", frozenset({"b2b_buyer"}), frozenset({"orders.place"}))
    assert (employee_actor.employee_id, employee_actor.account_id, employee_actor.location_id,
            employee_actor.customer_group_id, employee_actor.customer_id) == (employee_id, acme_id, vie_id, trade_id, None)
    assert (customer_actor.customer_id, customer_actor.customer_group_id, customer_actor.employee_id,
            customer_actor.account_id, customer_actor.roles) == (customer.id, None, None, None, frozenset({"customer"}))


def test_an_employee_of_a_disabled_account_is_unauthenticated(app, client, database):
    acme_id, _, _ = seed(app, b2b)
    token = login(client, "ann@acme.test")

    def disable(session):
        account = session.get(Account, acme_id)
        account.is_active = False
        session.add(account)

    database.run(disable)
    response = gql(client, VIEWER, token=token)
    relogin = gql(client, LOGIN, {"email": "ann@acme.test", "password": PASSWORD}).get_json()["data"]["login"]

    assert response.status_code == 401
    assert response.get_json()["errors"][0] == {
        "message": "invalid token: the user no longer exists or the account is disabled",
        "extensions": {"code": "UNAUTHENTICATED"}}
    assert relogin == {"tokens": None, "errors": [
        {"code": "INVALID_CREDENTIALS", "field": "email", "message": "email: the account is disabled"}]}


def test_an_expired_access_token_is_unauthenticated(app, client, frozen_clock):
    seed(app)
    tokens = gql(client, REGISTER, {"input": {"email": "eve@example.test", "password": PASSWORD}}).get_json()
    token = tokens["data"]["registerCustomer"]["tokens"]["accessToken"]

    frozen_clock.advance(seconds=app.config["VECTIS"].access_token_ttl - 1)
    assert gql(client, VIEWER, token=token).status_code == 200
    frozen_clock.advance(seconds=1)
    response = gql(client, VIEWER, token=token)

    assert response.status_code == 401
    assert response.get_json()["errors"][0] == {"message": "token expired", "extensions": {"code": "UNAUTHENTICATED"}}


def test_an_admin_builds_the_b2b_hierarchy(app, client):
    admin = signed_in(app, client, "admin")

    group = gql(client, GROUP, {"input": {"slug": "trade", "name": "Trade"}}, admin).get_json()["data"]
    account = gql(client, ACCOUNT, {"input": {"slug": "acme", "name": "ACME", "customerGroupSlug": "trade",
                                              "taxId": "ATU123"}}, admin).get_json()["data"]["createAccount"]
    location = gql(client, LOCATION, {"input": {"accountId": account["account"]["id"], "code": "VIE", "name": "Vienna"}},
                   admin).get_json()["data"]["createLocation"]
    employee = gql(client, EMPLOYEE, {"input": {
        "email": "ann@acme.test", "password": PASSWORD, "firstName": "Ann", "lastName": "Ader",
        "accountId": account["account"]["id"], "locationId": location["location"]["id"], "roles": ["b2b_viewer"]}},
        admin).get_json()["data"]["createEmployee"]
    viewer = gql(client, VIEWER, token=login(client, "ann@acme.test")).get_json()["data"]["viewer"]

    assert group["createCustomerGroup"] == {"customerGroup": {"slug": "trade", "name": "Trade"}, "errors": []}
    assert account["account"] | {"id": None} == {"id": None, "slug": "acme", "name": "ACME", "taxId": "ATU123",
                                                 "group": {"slug": "trade"}, "locations": []}
    assert location["location"]["account"] == {"slug": "acme"} and location["errors"] == []
    assert employee == {"employee": {"email": "ann@acme.test", "firstName": "Ann", "lastName": "Ader", "roles": ["b2b_viewer"],
                                     "account": {"slug": "acme"}, "location": {"code": "VIE"}}, "errors": []}
    assert viewer["customer"] is None
    assert viewer["employee"] == {"email": "ann@acme.test", "firstName": "Ann", "roles": ["b2b_viewer"],
                                  "account": {"slug": "acme"}, "location": {"code": "VIE"}}


def test_b2b_refusals_name_every_problem_and_change_nothing(app, client):
    admin = signed_in(app, client, "admin")
    acme_id, vie_id, _ = seed(app, b2b)
    other = seed(app, lambda s: service.create_account(s, "other", "Other")).id
    other_loc = seed(app, lambda s: service.create_location(s, other, "LNZ", "Linz")).id
    before = [rows(app, m) for m in (User, Account, Location, Employee, CustomerGroup)]

    account = gql(client, ACCOUNT, {"input": {"slug": "acme", "name": " ", "customerGroupSlug": "vip"}}, admin).get_json()
    bad_slug = gql(client, GROUP, {"input": {"slug": "Trade!", "name": "x"}}, admin).get_json()
    location = gql(client, LOCATION, {"input": {"accountId": str(acme_id), "code": "VIE", "name": "Again"}}, admin).get_json()
    no_account = gql(client, LOCATION, {"input": {"accountId": "999", "code": "bad code", "name": "x"}}, admin).get_json()
    employee = gql(client, EMPLOYEE, {"input": {"email": "bob@acme.test", "password": PASSWORD, "accountId": str(acme_id),
                                                "locationId": str(other_loc), "roles": ["boss", "b2b_buyer"]}}, admin).get_json()

    assert account["data"]["createAccount"]["errors"] == [
        {"code": "INVALID_NAME", "field": "name", "message": "name: expected 1 to 200 characters"},
        {"code": "DUPLICATE_SLUG", "field": "slug", "message": "slug: an account 'acme' already exists"},
        {"code": "NOT_FOUND", "field": "customerGroupSlug", "message": "customerGroupSlug: no customer group vip"},
    ]
    assert bad_slug["data"]["createCustomerGroup"]["errors"] == [{
        "code": "INVALID_SLUG", "field": "slug",
        "message": "slug: 'Trade!' is not a slug: use lower-case letters, digits and single hyphens, at most 64 characters"}]
    assert location["data"]["createLocation"]["errors"] == [
        {"code": "DUPLICATE_CODE", "field": "code", "message": "code: the account already has a location 'VIE'"}]
    assert no_account["data"]["createLocation"]["errors"] == [
        {"code": "NOT_FOUND", "field": "accountId", "message": "accountId: no account 999"},
        {"code": "INVALID_CODE", "field": "code",
         "message": "code: 'bad code' is not a location code: use letters, digits, '.', '_' and '-', at most 64 characters"},
    ]
    assert employee["data"]["createEmployee"]["errors"] == [
        {"code": "NOT_FOUND", "field": "locationId", "message": f"locationId: no location {other_loc}"},
        {"code": "UNKNOWN_ROLE", "field": "roles.0", "message": "roles.0: unknown role 'boss'"},
    ]
    assert [rows(app, m) for m in (User, Account, Location, Employee, CustomerGroup)] == before


def test_an_employee_role_cannot_grant_more_than_the_caller_holds(app, client, database):
    acme_id, vie_id, _ = seed(app, b2b)

    def create(session):
        staff = authenticate_bearer(session, app.config["VECTIS"], login(client, "ann@acme.test"))
        return service.create_employee(session, email="bob@acme.test", password=PASSWORD, account_id=acme_id,
                                       location_id=vie_id, roles=["admin"], granted_by=staff)

    with pytest.raises(BusinessErrors) as refused:
        database.run(create)

    assert [e.as_dict() for e in refused.value.errors] == [{"code": "ROLE_NOT_GRANTABLE", "field": "roles.0",
                                                            "message": "roles.0: role 'admin' grants permissions you do not hold"}]
    assert [u.email for u in rows(app, User)] == ["ann@acme.test"]


def test_hierarchy_mutations_need_accounts_manage(app, client):
    sales = signed_in(app, client, "sales")
    for query, variables in ((GROUP, {"input": {"slug": "t", "name": "T"}}),
                             (ACCOUNT, {"input": {"slug": "a", "name": "A"}}),
                             (LOCATION, {"input": {"accountId": "1", "code": "A", "name": "A"}}),
                             (EMPLOYEE, {"input": {"email": "a@b.test", "password": PASSWORD, "accountId": "1", "locationId": "1"}}),
                             (SET_GROUP, {"c": "1", "g": "t"})):
        forbidden = gql(client, query, variables, sales).get_json()
        assert forbidden["errors"][0]["extensions"] == {"code": "FORBIDDEN"}
        assert forbidden["errors"][0]["message"] == "permission 'accounts.manage' is required"
    assert rows(app, Account) == [] and rows(app, CustomerGroup) == []


def test_set_customer_group_moves_a_customer_or_an_account(app, client):
    admin = signed_in(app, client, "admin")
    acme_id, _, _ = seed(app, b2b)
    gql(client, GROUP, {"input": {"slug": "vip", "name": "VIP"}}, admin)
    gql(client, REGISTER, {"input": {"email": "eve@example.test", "password": PASSWORD}})
    customer_id = str(rows(app, Customer)[0].id)

    to_vip = gql(client, SET_GROUP, {"c": customer_id, "g": "vip"}, admin).get_json()["data"]["setCustomerGroup"]
    out = gql(client, SET_GROUP, {"a": str(acme_id)}, admin).get_json()["data"]["setCustomerGroup"]
    both = gql(client, SET_GROUP, {"c": customer_id, "a": str(acme_id), "g": "vip"}, admin).get_json()["data"]
    unknown = gql(client, SET_GROUP, {"c": "999", "g": "gold"}, admin).get_json()["data"]

    assert to_vip == {"customer": {"id": customer_id, "group": {"slug": "vip"}}, "account": None, "errors": []}
    assert out == {"customer": None, "account": {"slug": "acme", "group": None}, "errors": []}
    assert both["setCustomerGroup"]["errors"] == [
        {"code": "INVALID_TARGET", "field": "customerId", "message": "customerId: give either customerId or accountId"}]
    assert unknown["setCustomerGroup"]["errors"] == [
        {"code": "NOT_FOUND", "field": "customerId", "message": "customerId: no customer 999"},
        {"code": "NOT_FOUND", "field": "groupSlug", "message": "groupSlug: no customer group gold"},
    ]
    assert [(c.customer_group_id is not None) for c in rows(app, Customer)] == [True]


CUSTOMERS = """query C($first: Int, $after: String, $search: String) { customers(first: $first, after: $after, search: $search) {
  nodes { email firstName group { slug } addresses { city } } totalCount pageInfo { hasNextPage endCursor } } }"""
ACCOUNTS = "query A($search: String) { accounts(search: $search) { nodes { slug locations { code } } totalCount } }"


def test_staff_page_through_customers_and_accounts(app, client, database):
    seed(app, b2b)
    for name in ("amy", "bea", "cid"):
        gql(client, REGISTER, {"input": {"email": f"{name}@example.test", "password": PASSWORD, "firstName": name.title()}})
    sales = signed_in(app, client, "sales")

    first = gql(client, CUSTOMERS, {"first": 2}, sales).get_json()["data"]["customers"]
    second = gql(client, CUSTOMERS, {"first": 2, "after": first["pageInfo"]["endCursor"]}, sales).get_json()["data"]["customers"]
    found = gql(client, CUSTOMERS, {"search": "BEA"}, sales).get_json()["data"]["customers"]
    accounts = gql(client, ACCOUNTS, {"search": "acm"}, sales).get_json()["data"]["accounts"]
    bad = gql(client, CUSTOMERS, {"first": 0}, sales).get_json()

    assert [n["email"] for n in first["nodes"]] == ["amy@example.test", "bea@example.test"]
    assert first["totalCount"] == 3 and first["pageInfo"]["hasNextPage"] is True
    assert second["nodes"] == [{"email": "cid@example.test", "firstName": "Cid", "group": None, "addresses": []}]
    assert second["pageInfo"]["hasNextPage"] is False
    assert found["nodes"] == [{"email": "bea@example.test", "firstName": "Bea", "group": None, "addresses": []}]
    assert accounts == {"nodes": [{"slug": "acme", "locations": [{"code": "VIE"}]}], "totalCount": 1}
    assert bad["errors"][0]["message"] == "first: expected 1 to 100, got 0"
    assert bad["errors"][0]["extensions"] == {"code": "INVALID_CURSOR"}
    customer = login(client, "amy@example.test")
    assert gql(client, CUSTOMERS, {}, customer).get_json()["errors"][0]["extensions"] == {"code": "FORBIDDEN"}


def test_the_customer_list_does_not_query_per_customer(app, client, database):
    seed(app)
    for i in range(6):
        gql(client, REGISTER, {"input": {"email": f"c{i}@example.test", "password": PASSWORD}})
    sales = signed_in(app, client, "sales")
    gql(client, CUSTOMERS, {"first": 1}, sales)  # warm up: process-wide caches load once
    counts = []
    for first in (2, 6):
        _, statements = count_statements(database, lambda s: gql(client, CUSTOMERS, {"first": first}, sales))
        counts.append(len(statements))

    # The token's actor, the total, the page, the page's emails, the page's addresses.
    assert counts == [5, 5]
