"""The GraphQL explorer (GraphiQL) served from the package: ``GET /graphql`` and its assets under
``/graphql/explorer/``. Vendored from the npm registry at pinned versions with their licences
(``static/LICENSES.md``), so it works with no internet and loads nothing from another origin."""
from __future__ import annotations

from flask import Blueprint, Flask, Response, url_for

blueprint = Blueprint("graphql_explorer", __name__, static_folder="static", static_url_path="/graphql/explorer")

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Vectis GraphQL</title>
  <link rel="stylesheet" href="{css}">
  <style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>
</head>
<body>
  <div id="graphiql">Loading the explorer…</div>
  <script src="{react}"></script>
  <script src="{react_dom}"></script>
  <script src="{graphiql}"></script>
  <script src="{start}"></script>
</body>
</html>
"""


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)


def page() -> Response:
    def asset(name: str) -> str:
        return url_for("graphql_explorer.static", filename=name)

    html = PAGE.format(css=asset("graphiql.min.css"), react=asset("react.production.min.js"),
                       react_dom=asset("react-dom.production.min.js"), graphiql=asset("graphiql.min.js"),
                       start=asset("start.js"))
    # The page only talks to its own origin: say so to the browser too.
    csp = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:;"
           " font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:")
    return Response(html, mimetype="text/html", headers={"Content-Security-Policy": csp})
