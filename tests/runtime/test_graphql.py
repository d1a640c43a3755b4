from tests.runtime.helpers import gql


def test_explorer_is_served_on_get(client):
    response = client.get("/graphql")

    assert response.status_code == 200
    assert b"<html" in response.data.lower()


def _limit(app, **changes):
    from dataclasses import replace

    app.config["VECTIS"] = replace(app.config["VECTIS"], **changes)


DEEP = "query Deep { viewer { email } server { version } }"


def test_query_within_the_depth_limit_runs(app, client):
    _limit(app, graphql_max_depth=2)

    response = gql(client, DEEP)

    assert response.status_code == 200
    assert response.get_json()["data"]["viewer"] is None


def test_query_deeper_than_the_limit_is_refused_with_a_clear_error(app, client):
    _limit(app, graphql_max_depth=1)

    response = gql(client, DEEP)

    assert response.status_code == 400
    [error] = response.get_json()["errors"]
    assert error["message"] == "query depth 2 exceeds the limit of 1 (operation Deep)"
    assert error["extensions"] == {"code": "QUERY_TOO_DEEP", "depth": 2, "maxDepth": 1}


def test_fragments_count_towards_depth(app, client):
    _limit(app, graphql_max_depth=1)

    response = gql(client, "query F { ...V } fragment V on Query { viewer { email } }")

    assert response.get_json()["errors"][0]["message"] == "query depth 2 exceeds the limit of 1 (operation F)"


def test_query_costlier_than_the_limit_is_refused(app, client):
    _limit(app, graphql_max_cost=3)

    response = gql(client, "{ server { version } viewer { email roles permissions } }")

    assert response.status_code == 400
    [error] = response.get_json()["errors"]
    assert "exceeds the maximum cost of 3" in error["message"]


def test_malformed_body_is_a_bad_request(client):
    response = client.post("/graphql", data="nope", content_type="application/json")

    assert response.status_code == 400
    assert response.get_json()["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}


def test_server_info(client):
    assert gql(client, "{ server { version } }").get_json() == {"data": {"server": {"version": "0.1.0"}}}


def test_metrics_count_operations_by_name_and_outcome(app, client):
    from tests.runtime.helpers import LOGIN

    gql(client, LOGIN, {"email": "nobody@example.test", "password": "wrong password!"}, operation="Login")
    gql(client, '{ definitions { name } }', operation=None)
    gql(client, "query Server { server { version } }", operation="Server")

    metrics = client.get("/metrics").get_data(as_text=True)

    assert 'vectis_graphql_requests_total{operation="Login",outcome="business_error"} 1.0' in metrics
    assert 'vectis_graphql_requests_total{operation="anonymous",outcome="auth_error"} 1.0' in metrics
    assert 'vectis_graphql_requests_total{operation="Server",outcome="ok"} 1.0' in metrics



PAGE = "query Page($n: Int!) { products(first: $n) { edges { node { name } } } }"


def test_an_operation_is_parsed_once_and_the_cost_limit_still_applies(app, client):
    # the same text three times with other variables: parsed and validated once
    for n in (1, 2, 3):
        assert gql(client, PAGE, {"n": n}).get_json()["data"]["products"]["edges"] == []
    cache = app.extensions["vectis.graphql_documents"]
    assert [key[-1] for key in cache._entries] == [PAGE]

    # when the limit drops below the operation's cost, the cached text is refused
    _limit(app, graphql_max_cost=3)
    costly = gql(client, PAGE, {"n": 1})
    assert costly.status_code == 400
    [error] = costly.get_json()["errors"]
    assert error["message"] == "query cost exceeds the maximum cost of 3 (operation Page)"
    assert error["extensions"] == {"code": "QUERY_TOO_COSTLY", "maxCost": 3}


def test_a_cached_invalid_operation_is_refused_every_time(client):
    for _ in range(2):
        response = gql(client, "query { server { versio } }")
        assert response.status_code == 400
        assert response.get_json()["errors"][0]["message"] == (
            "Cannot query field 'versio' on type 'ServerInfo'. Did you mean 'version'?")
