"""A promotion calling a pack's predicate function, then the pack removed: the promotion is
stale with the reason (``promotions``, ``/metrics``), it prices nothing, and nothing crashes."""
import pytest

from runtime.app import create_app
from runtime.definitions import store
from runtime.definitions.environment import build_environment
from runtime.definitions.live import live_definitions
from runtime.promotions.live import live_promotions, stale_promotions
from tests.conftest import make_settings
from tests.runtime.test_packs_support import write_pack

ACME = """
from runtime.packs.api import PackContext


def register(pack: PackContext) -> None:
    pack.register("predicate_function", "is_gold_line", lambda fact: fact.get("unit_price", 0) > 100,
                  label="Gold line")
"""
GOLD = """kind: promotion
name: gold_lines
phase: line
target: {when: {$fn: acme.is_gold_line}}
action: {type: percentage_off, percent: 5}
"""


@pytest.fixture
def with_acme(database_url, redis_url, tmp_path):
    packs = tmp_path / "packs"
    write_pack(packs, "acme", ACME, provides={"predicate_function": ["is_gold_line"]})
    app = create_app(make_settings(database_url, redis_url, tmp_path / "acme", extension_dirs=(packs,)))
    yield app
    app.extensions["vectis.db"].dispose()


def test_a_promotion_using_a_removed_pack_is_stale(app, with_acme):
    env = build_environment(with_acme.extensions["vectis.registry"])
    with_acme.extensions["vectis.db"].run(lambda s: store.publish(s, GOLD, env, author="m@example.test"))
    live_definitions(with_acme).refresh(force=True)
    assert [p.name for p in live_promotions(with_acme).promotions.promotions] == ["gold_lines"]

    # when a process without acme loads the live definitions
    live_definitions(app).refresh(force=True)
    with app.app_context(), app.extensions["vectis.db"].session() as session:
        stale = stale_promotions(session, app)

    # then the promotion is not in the live set and is stale, with the reason
    assert len(live_promotions(app).promotions) == 0
    assert list(stale) == ["gold_lines"]
    assert stale["gold_lines"].startswith("the live revision no longer compiles: promotion/gold_lines@1:4:22: "
                                          "promotion/gold_lines: /target/when/$fn: predicate function "
                                          "'acme.is_gold_line' belongs to pack 'acme', which is not installed")
    assert 'vectis_promotion_stale{promotion="gold_lines"} 1.0' in app.test_client().get("/metrics").get_data(as_text=True)
