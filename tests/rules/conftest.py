from pathlib import Path

import pytest

from rules.environment import Environment

BROKEN = Path(__file__).parents[1] / "fixtures" / "definitions" / "broken"


@pytest.fixture
def env() -> Environment:
    return Environment(
        effects={"core.effect_action.notify", "core.effect_action.release_stock"},
        permissions={"orders.cancel", "orders.ship"},
        predicate_functions={"core.predicate.is_vip": lambda fact: fact.get("vip") is True},
    )


@pytest.fixture
def broken() -> Path:
    return BROKEN
