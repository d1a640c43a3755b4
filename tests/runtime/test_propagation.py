"""Another process sees a newly published revision within 2 seconds, without a restart."""
import time

from runtime.app import create_app
from runtime.definitions import store
from runtime.definitions.environment import build_environment
from runtime.definitions.live import live_definitions
from tests.conftest import make_settings
from tests.runtime.test_definitions_api import CHEAP, CHEAPER


def test_second_app_sees_a_new_revision_within_two_seconds(app, database_url, redis_url, tmp_path):
    other = create_app(make_settings(database_url, redis_url, tmp_path / "other"))
    env = build_environment(app.extensions["vectis.registry"])
    publish = lambda source: app.extensions["vectis.db"].run(  # noqa: E731
        lambda s: store.publish(s, source, env, author="a@example.test")
    )
    publish(CHEAP)
    assert live_definitions(other).get("label", "cheap").revision == 1

    publish(CHEAPER)
    published_at = time.monotonic()
    while live_definitions(other).get("label", "cheap").revision != 2:
        assert time.monotonic() - published_at < 2.0, "not seen within 2 seconds"
        time.sleep(0.05)

    assert live_definitions(other).get("label", "cheap").definition.source == CHEAPER
    other.extensions["vectis.db"].dispose()
