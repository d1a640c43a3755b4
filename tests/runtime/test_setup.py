"""`vectis db upgrade` and `vectis demo`: shipped definitions become live, idempotently."""
from runtime.definitions import store
from runtime.definitions.environment import build_environment
from runtime.demo import load_demo
from runtime.setup import upgrade
from runtime.config import ROOT
from tests.runtime.helpers import gql, login

SHIPPED = [("automation", "repeated_refunds"), ("label", "bestseller"), ("label", "new_arrival"), ("label", "sale"),
           ("state_machine", "cart"), ("state_machine", "order"),
           ("state_machine", "payment_transaction"), ("state_machine", "refund_request"),
           ("state_machine", "reservation"), ("tender_cascade", "b2b_store_credit_terms_card")]


def _live(database):
    with database.session() as session:
        return {(r.kind, r.name): (r.revision, r.author) for r in store.all_live(session)}


def test_upgrade_publishes_every_shipped_definition_once(app, database):
    first = list(upgrade(app))
    second = list(upgrade(app))

    assert _live(database) == {key: (1, "system") for key in SHIPPED}
    assert first[-1] == f"definitions: {len(SHIPPED)} shipped, {len(SHIPPED)} changed"
    assert second[-1] == f"definitions: {len(SHIPPED)} shipped, 0 changed"


def test_upgrade_keeps_a_revision_a_merchandiser_published(app, database):
    list(upgrade(app))
    env = build_environment(app.extensions["vectis.registry"])
    with database.session() as session:
        source = store.live(session, "label", "bestseller").source
    edited = source.replace("sales_30d: {gt: 100}", "sales_30d: {gt: 150}").replace("sales_30d: 250", "sales_30d: 300")
    database.run(lambda s: store.publish(s, edited, env, author="merch@example.test"))

    list(upgrade(app))

    assert _live(database)[("label", "bestseller")] == (2, "merch@example.test")


def test_demo_store_loads_users_and_definitions_idempotently(app, client, database):
    list(upgrade(app))

    lines = list(load_demo(app))
    again = list(load_demo(app))

    assert "demo definition label/clearance: revision 1" in lines
    assert not any(line.startswith("demo definition") for line in again)
    token = login(client, "merch@demo.vectis.dev", "demo-merch-password")
    data = gql(client, '{ definition(kind: "label", name: "clearance") { revision author } }', token=token).get_json()
    assert data == {"data": {"definition": {"revision": 1, "author": "demo"}}}


PACK_WITH_DEFINITIONS = """
from runtime.packs.api import PackContext


def register(pack: PackContext) -> None:
    pack.register("definitions", "labels", pack.path / "definitions", label="Labels")
"""


def test_a_pack_shipping_a_name_the_core_ships_is_refused_naming_both_files(database_url, redis_url, tmp_path):
    from runtime.app import create_app
    from runtime.definitions.shipped import check_shipped
    from tests.conftest import make_settings
    from tests.runtime.test_packs_support import write_pack

    folder = write_pack(tmp_path / "packs", "copycat", PACK_WITH_DEFINITIONS, provides={"definitions": ["labels"]})
    (folder / "definitions").mkdir()
    (folder / "definitions" / "bestseller.yaml").write_text((ROOT / "definitions/label/bestseller.yaml").read_text())
    app = create_app(make_settings(database_url, redis_url, tmp_path, extension_dirs=(tmp_path / "packs",)))
    registry = app.extensions["vectis.registry"]

    checked = check_shipped(registry, build_environment(registry))

    assert [str(e) for e in checked.errors] == [
        "copycat/definitions/bestseller.yaml:2:1: label/bestseller: /name: "
        "duplicate definition label/bestseller, first defined at definitions/label/bestseller.yaml:2"
    ]
    app.extensions["vectis.db"].dispose()
