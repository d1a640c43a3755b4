from pathlib import Path

import pytest

from rules.environment import Environment
from runtime.auth.permissions import PERMISSIONS

BROKEN = Path(__file__).parents[1] / "fixtures" / "definitions" / "broken"


@pytest.fixture
def env() -> Environment:
    return Environment(
        effects={"core.notify", "core.release_stock", "core.release_promotion_usage", "core.undo_tenders",
                 "core.expire_approval", "core.expire_refund_approval", "core.flag_refund_review"},
        permissions=set(PERMISSIONS),  # the runtime's, so shipped machines check as in production
        predicate_functions={"core.predicate.is_vip": lambda fact: fact.get("vip") is True},
    )


@pytest.fixture
def broken() -> Path:
    return BROKEN
