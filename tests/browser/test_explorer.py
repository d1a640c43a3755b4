"""The GraphQL explorer works with no internet (issue 18): headless Chromium loads `/graphql` with
every request to another origin refused, GraphiQL renders, introspects the schema and runs a query."""
from __future__ import annotations

from urllib.parse import urlsplit


def test_the_explorer_loads_and_runs_a_query_with_the_network_blocked(server, page):
    app_origin = urlsplit(server).netloc
    blocked, failed = [], []

    def only_the_app(route):
        if urlsplit(route.request.url).netloc == app_origin:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("internetdisconnected")

    page.route("**/*", only_the_app)
    page.on("requestfailed", lambda request: failed.append(request.url))
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # GraphiQL introspects the schema over /graphql as it starts.
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/graphql")) as introspection:
        page.goto(f"{server}/graphql")
    assert introspection.value.status == 200
    assert "__schema" in introspection.value.json()["data"]
    page.wait_for_selector(".graphiql-container")

    # Replace the default query with one of ours and run it.
    editor = page.locator(".graphiql-query-editor .CodeMirror").first
    editor.click()
    page.evaluate("""() => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror
                          .setValue('{ __typename channels { slug } }')""")
    page.locator(".graphiql-execute-button").click()
    page.wait_for_function("""() => {
        const result = document.querySelector('.graphiql-response .CodeMirror');
        return result && result.CodeMirror.getValue().includes('"__typename": "Query"');
    }""")
    assert blocked == [] and failed == [] and errors == []
