"""The GraphQL examples of docs/refunds.md run against the demo store as written: Acme Tools'
buyer places an order on the b2b channel (authorise-only), the demo admin captures it, submits a
whole-order refund, and a second staff member with refunds.approve approves it; the job executes
the card leg; the inbox, the progress query and a refused retry follow."""
from __future__ import annotations

from pathlib import Path

from runtime.demo import load_demo
from runtime.setup import upgrade
from tests.runtime.helpers import login, make_user
from tests.runtime.refund_helpers import drain
from tests.runtime.test_approvals_tenders_docs import BUYER, b2b, section
from tests.runtime.test_carts_api import post
from tests.runtime.test_payments_docs import demo_order
from tests.runtime.test_promotions_docs import operations

DOC = Path(__file__).resolve().parents[2] / "docs" / "refunds.md"
ADMIN = ("admin@demo.vectis.dev", "demo-admin-password")
PAYMENTS = "query($id: ID!) { order(id: $id) { total { amount } payments { id type } } }"
CAPTURE = "mutation($id: ID!) { capturePayment(paymentId: $id) { payment { state } errors { code message } } }"


def test_the_refund_examples_run_against_the_demo(app, client):
    list(upgrade(app))
    list(load_demo(app))
    order_id, _ = demo_order(client, login(client, *BUYER))
    admin = login(client, *ADMIN)
    order = b2b(client, PAYMENTS, {"id": order_id}, admin)
    payment = next(p for p in order["payments"] if p["type"] == "authorization")
    assert b2b(client, CAPTURE, {"id": payment["id"]}, admin)["payment"]["state"] == "captured"
    make_user(app, "approver@demo.vectis.dev", ["refund_approver"], password="demo-approver-password")
    approver = login(client, "approver@demo.vectis.dev", "demo-approver-password")
    found = operations(section(DOC.read_text(encoding="utf-8"), "## GraphQL"))
    assert [op.split("(")[0].split(" {")[0] for op in found] == [
        "mutation Submit", "mutation Decide", "query Progress", "query Inbox", "mutation Retry"]
    submit, decide, progress, inbox, retry = found

    submitted = b2b(client, submit, {"orderId": order_id}, admin)["refundRequest"]
    assert (submitted["state"], submitted["amount"]["amount"], submitted["approvalsNeeded"]) == (
        "requested", order["total"]["amount"], 1)
    assert [(leg["type"], leg["state"]) for leg in submitted["legs"]] == [("card", "pending")]
    waiting = b2b(client, inbox, {}, approver)["nodes"]
    assert [(r["id"], r["requestedBy"], r["approvals"]) for r in waiting] == [(submitted["id"], ADMIN[0], 0)]

    decided = b2b(client, decide, {"id": submitted["id"]}, approver)["refundRequest"]
    drain(app)

    assert decided == {"state": "approved", "decidedBy": "approver@demo.vectis.dev"}
    done = b2b(client, progress, {"id": submitted["id"]}, approver)
    assert (done["state"], done["attempts"], done["failure"]) == ("executed", 1, None)
    assert [(leg["type"], leg["state"], leg["errorCode"]) for leg in done["legs"]] == [("card", "done", None)]
    assert done["legs"][0]["gatewayReference"] and done["legs"][0]["idempotencyKey"].startswith("refund:")
    refused = post(client, retry, {"id": submitted["id"]}, approver, channel="b2b")["data"]["retryRefundExecution"]
    assert refused["errors"][0]["code"] == "REQUEST_NOT_FAILED"

    [switch] = operations(section(DOC.read_text(encoding="utf-8"), "## Who may do what (separation of duties)"))
    assert b2b(client, switch, {}, admin)["channel"] == {"slug": "b2b", "buyersMayRequestRefunds": False}
    asked = post(client, submit, {"orderId": order_id}, login(client, *BUYER), channel="b2b")["data"]
    assert asked["submitRefundForApproval"]["errors"][0]["code"] == "SELF_SERVICE_OFF"
