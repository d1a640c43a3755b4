"""The issue's scenario in headless chromium: sign in, break and fix a label, preview, publish,
see the storefront change, roll back; the same loop for a cap on a sample cart; a state machine's
diagram; a viewer without the publish button; a form post without the CSRF token refused."""
from __future__ import annotations

from tests.admin_ui.helpers import CHEAP, PASSWORD, SALE, TYPO, publish, revisions, seed_catalog
from tests.admin_ui.test_admin_definitions import CAP
from tests.runtime.helpers import make_user

LABELS = "{ products(first: 20) { nodes { slug labels { name } } } }"


def sign_in(page, server, email):
    page.goto(f"{server}/admin/definitions")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_selector("h1:has-text('Definitions')")


def labelled(page, server, label: str) -> list[str]:
    response = page.request.post(f"{server}/graphql", data={"query": LABELS})
    nodes = response.json()["data"]["products"]["nodes"]
    return sorted(n["slug"] for n in nodes if label in [x["name"] for x in n["labels"]])


def test_label_loop_typo_fix_preview_publish_storefront_rollback(app, server, page, shots):
    seed_catalog(app.extensions["vectis.db"])
    publish(app, SALE)
    make_user(app, "merch@example.test", ["merchandiser"], PASSWORD)
    sign_in(page, server, "merch@example.test")
    shots(page, "index")
    assert labelled(page, server, "sale") == ["p00", "p02", "p04", "p06", "p08"]

    page.click("tr[data-name=sale] a:has-text('sale')")
    page.fill("#source", TYPO)
    page.click("button[value=validate]")
    error = page.locator("li.error")
    assert error.get_attribute("data-line") == "7"
    assert "/when/compare_at_prise" in error.inner_text() and "did you mean 'compare_at_price'?" in error.inner_text()
    assert page.locator(".gutter .ln.err").inner_text() == "7"
    shots(page, "editor-error")

    page.fill("#source", CHEAP)
    page.fill("input[name=explain_product]", "p03")
    page.click("button[value=preview]")
    assert page.locator("#gained small").all_inner_texts() == ["p01", "p03"]
    assert page.locator("#lost small").all_inner_texts() == ["p06", "p08"]
    assert page.locator("#explain-draft").is_visible()
    shots(page, "label-preview")

    page.fill("input[name=note]", "Sale becomes: everything under 15")
    page.click("button[value=publish]")
    assert "Published label/sale revision 2." in page.locator(".flash").inner_text()
    assert labelled(page, server, "sale") == ["p00", "p01", "p02", "p03", "p04"]

    page.click("a:has-text('history')")
    assert page.locator("#diff .add").first.inner_text() == "+  price: {lt: 15}"
    shots(page, "history")
    page.click("button:has-text('Roll back to 1')")
    assert "revision 3 republishes revision 1" in page.locator(".flash").inner_text()
    assert labelled(page, server, "sale") == ["p00", "p02", "p04", "p06", "p08"]
    assert [r[0] for r in revisions(app, "label", "sale")] == [3, 2, 1]


def test_cap_loop_on_a_sample_cart(app, server, page, shots):
    seed_catalog(app.extensions["vectis.db"])
    publish(app, CAP)
    make_user(app, "merch@example.test", ["merchandiser"], PASSWORD)
    sign_in(page, server, "merch@example.test")
    page.goto(f"{server}/admin/definitions?kind=mmoq_cap")
    page.click("tr[data-name=bulk] a:has-text('bulk')")
    draft = CAP.replace("min_quantity: 6, increment: 6", "min_quantity: 6, increment: 6, max_per_customer_per_order: 12")
    page.fill("#source", draft.replace("max_per_customer_per_order", "max_per_customer_per_ordr"))
    page.click("button[value=validate]")
    assert "max_per_customer_per_ordr" in page.locator("li.error").first.inner_text()
    page.fill("#source", draft)
    page.fill("textarea[name=cart_rows]", "SKU-01 18\nSKU-02 6")
    page.click("button[value=preview]")
    row = page.locator("tr[data-sku=SKU-01]")
    assert row.locator("td.live").inner_text() == "no violation"
    assert "MMOQ_ABOVE_MAX" in row.locator("td.draft").inner_text()
    assert page.locator("tr[data-sku=SKU-02] td.draft").inner_text() == "no violation"
    shots(page, "cap-preview")
    page.fill("input[name=note]", "at most 12 per order")
    page.click("button[value=publish]")
    assert "Published mmoq_cap/bulk revision 2." in page.locator(".flash").inner_text()
    page.click("a:has-text('history')")
    page.click("button:has-text('Roll back to 1')")
    assert [r[0] for r in revisions(app, "mmoq_cap", "bulk")] == [3, 2, 1]
    assert app.extensions["vectis.definitions"].get("mmoq_cap", "bulk").compiled.limits == {"min_quantity": 6, "increment": 6}


def test_state_machine_diagram(app, server, page, shots):
    from runtime.definitions.environment import build_environment
    from runtime.definitions.shipped import sync

    registry = app.extensions["vectis.registry"]
    app.extensions["vectis.db"].run(lambda s: sync(s, registry, build_environment(registry)))
    make_user(app, "merch@example.test", ["merchandiser"], PASSWORD)
    sign_in(page, server, "merch@example.test")
    page.goto(f"{server}/admin/definitions/state_machine/order")
    page.click("button[value=preview]")
    diagram = page.locator("#diagram svg")
    assert diagram.is_visible()
    states = diagram.locator("g.state").evaluate_all("nodes => nodes.map(n => n.dataset.state)")
    assert "placed" in states and len(states) >= 4
    assert page.locator("text=No live entity would be stranded.").is_visible()
    shots(page, "state-machine")


def test_a_viewer_has_no_publish_button_and_a_post_without_token_is_refused(app, server, page, shots):
    publish(app, SALE)
    make_user(app, "viewer@example.test", ["viewer"], PASSWORD)
    sign_in(page, server, "viewer@example.test")
    page.goto(f"{server}/admin/definitions/label/sale")
    assert page.locator("button[value=publish]").count() == 0
    assert page.locator("text=publishing needs the merchandiser role").is_visible()
    # the session cookie rides along, the CSRF token does not
    response = page.request.post(f"{server}/admin/definitions/label/sale",
                                 form={"source": CHEAP, "note": "x", "action": "publish", "base_revision": "1"})
    assert response.status == 400
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    response = page.request.post(f"{server}/admin/definitions/label/sale",
                                 form={"source": CHEAP, "note": "x", "action": "publish", "base_revision": "1",
                                       "csrf_token": token})
    assert response.status == 403
    assert [r[0] for r in revisions(app, "label", "sale")] == [1]
    shots(page, "viewer-editor")
