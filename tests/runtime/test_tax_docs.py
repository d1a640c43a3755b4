"""Every GraphQL example in docs/tax.md runs as written against a store with the demo's rates."""
from __future__ import annotations

import re
from pathlib import Path

from tests.runtime.helpers import signed_in
from tests.runtime.test_carts_api import post
from tests.runtime.test_tax_api import PLACE, SEATTLE, ready, taxed_store

DOC = Path(__file__).resolve().parents[2] / "docs" / "tax.md"


def _examples() -> list[str]:
    blocks = re.findall(r"```graphql\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    return [operation.strip() for block in blocks for operation in re.split(r"\n(?=mutation|query)", block)
            if operation.strip()]


def test_every_graphql_example_of_the_tax_doc_runs(app, client):
    taxed_store(app)
    admin = signed_in(app, client, "admin")
    cart = ready(client, SEATTLE)
    order = post(client, PLACE, {"id": ready(client, SEATTLE), "key": "docs"})["data"]["placeOrder"]["order"]["id"]
    examples = _examples()
    assert len(examples) == 4

    for example in examples:
        answer = post(client, example, {"cartId": cart, "id": order}, admin)
        assert "errors" not in answer, (example, answer)
        payload = next(iter(answer["data"].values()))
        assert payload is not None and payload.get("errors", []) == [], (example, payload)
