"""A pack's GraphQL SDL and resolvers join the schema; a pack whose SDL breaks it is disabled, not the app."""
from runtime.app import create_app
from tests.conftest import make_settings
from tests.runtime.helpers import gql
from tests.runtime.test_packs_support import BUILTIN_PACKS, write_pack

GREETING_PACK = """
from ariadne import QueryType

from runtime.packs.api import GraphQLExtension, PackContext

query = QueryType()


@query.field("greeting")
def resolve_greeting(*_, name: str):
    return f"hello {name}"


def register(pack: PackContext) -> None:
    sdl = "extend type Query { greeting(name: String!): String! }"
    pack.register("graphql", "greeting", GraphQLExtension(sdl, [query]), label="Greeting")
"""
BROKEN_PACK = GREETING_PACK.replace("extend type Query { greeting", "extend type Nothing { greeting")


def _app(database_url, redis_url, tmp_path):
    return create_app(make_settings(database_url, redis_url, tmp_path, extension_dirs=(tmp_path / "packs",)))


def test_a_packs_sdl_and_resolvers_join_the_schema(database_url, redis_url, tmp_path):
    write_pack(tmp_path / "packs", "greeter", GREETING_PACK, provides={"graphql": ["greeting"]})
    app = _app(database_url, redis_url, tmp_path)

    body = gql(app.test_client(), '{ greeting(name: "Ada") }').get_json()

    assert body == {"data": {"greeting": "hello Ada"}}
    app.extensions["vectis.db"].dispose()


def test_a_pack_whose_sdl_breaks_the_schema_is_disabled_and_reported(database_url, redis_url, tmp_path):
    write_pack(tmp_path / "packs", "greeter", BROKEN_PACK, provides={"graphql": ["greeting"]})
    app = _app(database_url, redis_url, tmp_path)
    client = app.test_client()

    failure = app.extensions["vectis.pack_failures"]["greeter"]
    ready = client.get("/ready").get_json()

    assert failure.startswith("greeter.graphql.greeting: GraphQL schema: ")
    assert "Nothing" in failure
    assert "greeter" not in app.extensions["vectis.packs"]
    assert not {key for key in app.extensions["vectis.registry"].names("graphql") if key.startswith("greeter.")}
    assert ready["packs"]["failed"]["greeter"] == failure
    assert ready["packs"]["loaded"] == {name: "1.0.0" for name in BUILTIN_PACKS}
    assert gql(client, "{ server { version } }").get_json() == {"data": {"server": {"version": "0.1.0"}}}
    app.extensions["vectis.db"].dispose()
