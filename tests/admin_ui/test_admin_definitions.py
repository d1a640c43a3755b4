"""The editor loop over the Flask test client: validate with errors by line, drafts, publish through
the store with a required note, the concurrent-edit refusal, history diffs, rollback, previews."""
from __future__ import annotations

import re
import threading

import pytest

from runtime.definitions import drafts
from tests.admin_ui.helpers import CHEAP, SALE, TYPO, publish, revisions, seed_catalog, sign_in


def post(client, path, token, **form):
    return client.post(path, data={"csrf_token": token, **form})


def test_validate_shows_each_error_at_its_line_with_pointer_and_hint(app, client):
    publish(app, SALE)
    token = sign_in(app, client, "merchandiser")
    response = post(client, "/admin/definitions/label/sale", token, source=TYPO, action="validate")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "1 error(s)" in page
    error = re.search(r'<li class="error" data-line="(\d+)">(.*?)</li>', page, re.S)
    assert error.group(1) == "7"
    assert "/when/compare_at_prise" in error.group(2)
    assert "did you mean &#39;compare_at_price&#39;?" in error.group(2)
    assert re.search(r'class="ln err" data-line="7"', page)
    assert "Help: the label schema" in page and "Higher shows first when several labels apply." in page


def test_a_draft_is_saved_without_publishing_and_reopens(app, client):
    publish(app, SALE)
    token = sign_in(app, client, "merchandiser")
    response = post(client, "/admin/definitions/label/sale", token, source=TYPO, action="save", base_revision="1")
    assert response.status_code == 302
    assert revisions(app, "label", "sale") == [(1, "someone@example.test", "test", True)]
    with app.extensions["vectis.db"].session() as s:
        draft = drafts.get(s, "label", "sale", "merchandiser@example.test")
    assert (draft.source, draft.base_revision) == (TYPO, 1)
    page = client.get("/admin/definitions/label/sale").get_data(as_text=True)
    assert "compare_at_prise" in page and "your draft" in page
    index = client.get("/admin/definitions?kind=label&q=sal").get_data(as_text=True)
    assert '<span class="status draft-invalid"' in index and '<span class="status live"' in index


def test_publish_needs_a_note_and_goes_through_the_store(app, client):
    publish(app, SALE)
    token = sign_in(app, client, "merchandiser")
    post(client, "/admin/definitions/label/sale", token, source=CHEAP, action="save", base_revision="1")
    refused = post(client, "/admin/definitions/label/sale", token, source=CHEAP, action="publish", base_revision="1")
    assert refused.status_code == 422 and "the change note is required" in refused.get_data(as_text=True)
    invalid = post(client, "/admin/definitions/label/sale", token, source=TYPO, action="publish", base_revision="1",
                   note="typo")
    assert invalid.status_code == 422
    assert revisions(app, "label", "sale") == [(1, "someone@example.test", "test", True)]
    done = post(client, "/admin/definitions/label/sale", token, source=CHEAP, action="publish", base_revision="1",
                note="cheap things")
    assert done.status_code == 302
    assert revisions(app, "label", "sale")[0] == (2, "merchandiser@example.test", "cheap things", True)
    with app.extensions["vectis.db"].session() as s:
        assert drafts.get(s, "label", "sale", "merchandiser@example.test") is None
    assert app.extensions["vectis.definitions"].get("label", "sale").revision == 2


def test_publishing_over_a_newer_revision_is_refused_with_who_changed_it(app, client):
    publish(app, SALE)
    token = sign_in(app, client, "merchandiser")
    assert 'name="base_revision" value="1"' in client.get("/admin/definitions/label/sale").get_data(as_text=True)
    publish(app, SALE.replace("priority: 20", "priority: 30"), author="other@example.test")
    response = post(client, "/admin/definitions/label/sale", token, source=CHEAP, action="publish",
                    base_revision="1", note="mine")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "label/sale changed since revision 1 was opened: now revision 2 by other@example.test at" in page
    assert [r[0] for r in revisions(app, "label", "sale")] == [2, 1]


def test_renaming_in_the_editor_is_refused(app, client):
    publish(app, SALE)
    token = sign_in(app, client, "merchandiser")
    response = post(client, "/admin/definitions/label/sale", token, source=SALE.replace("name: sale", "name: other"),
                    action="publish", base_revision="1", note="rename")
    assert response.status_code == 422
    assert "the source names label/other but this editor is for label/sale" in response.get_data(as_text=True)
    assert revisions(app, "label", "other") == []


def test_a_new_definition_is_published_from_the_new_page(app, client):
    token = sign_in(app, client, "merchandiser")
    source = SALE.replace("name: sale", "name: fresh")
    response = post(client, "/admin/definitions/new", token, kind="label", source=source, action="publish",
                    base_revision="", note="first")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/definitions/label/fresh"
    assert revisions(app, "label", "fresh") == [(1, "merchandiser@example.test", "first", True)]


def test_history_diffs_any_two_revisions_and_rolls_back_in_one_action(app, client):
    publish(app, SALE)
    publish(app, CHEAP, author="b@example.test", note="cheap")
    token = sign_in(app, client, "merchandiser")
    page = client.get("/admin/definitions/label/sale/history?a=1&b=2").get_data(as_text=True)
    assert '<span class="remove">-  compare_at_price: {gt: {field: price}}</span>' in page
    assert '<span class="add">+  price: {lt: 15}</span>' in page
    assert "Roll back to 1" in page and "Roll back to 2" not in page
    response = post(client, "/admin/definitions/label/sale/rollback", token, revision="1")
    assert response.status_code == 302
    assert revisions(app, "label", "sale")[0] == (3, "merchandiser@example.test", "rollback to revision 1", True)
    missing = post(client, "/admin/definitions/label/sale/rollback", token, revision="9")
    assert "label/sale has no revision 9" in client.get(missing.headers["Location"]).get_data(as_text=True)
    assert len(revisions(app, "label", "sale")) == 3


def test_label_preview_counts_gained_and_lost_products_and_explains_one(app, client):
    seed_catalog(app.extensions["vectis.db"])
    publish(app, SALE)
    token = sign_in(app, client, "merchandiser")
    response = post(client, "/admin/definitions/label/sale", token, source=CHEAP, action="preview",
                    base_revision="1", explain_product="p03")
    page = response.get_data(as_text=True)
    # live: the five even products; draft: p00-p04 (price under 15) → gained p01, p03; lost p06, p08
    assert "the draft labels <strong id=\"draft-count\">5</strong>, the live revision 5" in page
    assert "+2 gained" in page and "−2 lost" in page
    gained = re.search(r'<ul id="gained">(.*?)</ul>', page, re.S).group(1)
    lost = re.search(r'<ul id="lost">(.*?)</ul>', page, re.S).group(1)
    assert re.findall(r"<small>(p\d\d)</small>", gained) == ["p01", "p03"]
    assert re.findall(r"<small>(p\d\d)</small>", lost) == ["p06", "p08"]
    assert "Explain: Product 03" in page and "13.0" in page
    assert revisions(app, "label", "sale") == [(1, "someone@example.test", "test", True)]


CAP = """kind: mmoq_cap
name: bulk
select: {skus: [SKU-01, SKU-02]}
limits: {min_quantity: 6, increment: 6}
"""


def test_cap_preview_shows_violations_under_the_draft_beside_the_live_revision(app, client):
    seed_catalog(app.extensions["vectis.db"])
    publish(app, CAP)
    token = sign_in(app, client, "merchandiser")
    draft = CAP.replace("min_quantity: 6, increment: 6", "min_quantity: 12, increment: 6, max_per_customer_per_order: 24")
    response = post(client, "/admin/definitions/mmoq_cap/bulk", token, source=draft, action="preview",
                    base_revision="1", cart_rows="SKU-01 6\nSKU-02 30\nSKU-03 5\nNOPE 1\nSKU-01 x")
    page = response.get_data(as_text=True)
    rows = dict(re.findall(r'<tr data-sku="([^"]+)">(.*?)</tr>', page, re.S)[:3])
    live_1, draft_1 = re.search(r'class="live">(.*?)</td><td class="draft">(.*?)</td>', rows["SKU-01"], re.S).groups()
    assert "no violation" in live_1 and "MMOQ_BELOW_MIN" in draft_1 and "bulk (draft)" in draft_1
    live_2, draft_2 = re.search(r'class="live">(.*?)</td><td class="draft">(.*?)</td>', rows["SKU-02"], re.S).groups()
    assert "no violation" in live_2 and "MMOQ_ABOVE_MAX" in draft_2 and "(allowed 24)" in draft_2
    assert "no violation" in rows["SKU-03"] and "MMOQ" not in rows["SKU-03"]
    assert "line 4: no variant with SKU &#39;NOPE&#39;" in page
    assert "line 5: expected &#39;SKU quantity&#39;" in page


def test_state_machine_preview_draws_the_diagram_and_counts_states(app, client):
    from runtime.definitions.shipped import sync
    from runtime.definitions.environment import build_environment

    env = build_environment(app.extensions["vectis.registry"])
    app.extensions["vectis.db"].run(lambda s: sync(s, app.extensions["vectis.registry"], env))
    token = sign_in(app, client, "viewer")
    with app.extensions["vectis.db"].session() as s:
        from runtime.definitions import store
        source = store.live(s, "state_machine", "reservation").source
    response = post(client, "/admin/definitions/state_machine/reservation", token, source=source, action="preview")
    page = response.get_data(as_text=True)
    svg = re.search(r"<svg.*?</svg>", page, re.S).group(0)
    assert sorted(re.findall(r'data-state="(\w+)"', svg)) == ["confirmed", "expired", "fulfilled", "held", "released"]
    assert "⏱ expire after 15m" in svg and ">confirm<" in svg
    assert "Bound models: reservation." in page
    assert "No live entity would be stranded." in page


@pytest.mark.postgres
def test_two_editors_publishing_from_the_same_revision_one_wins(app, backend):
    if backend != "postgres":
        pytest.skip("real concurrent transactions: PostgreSQL")
    publish(app, SALE)
    clients = [app.test_client(), app.test_client()]
    tokens = []
    for i, c in enumerate(clients):
        from tests.runtime.helpers import make_user
        from tests.admin_ui.helpers import PASSWORD, token_of

        make_user(app, f"m{i}@example.test", ["merchandiser"], PASSWORD)
        t = token_of(c.get("/admin/login").get_data(as_text=True))
        c.post("/admin/login", data={"email": f"m{i}@example.test", "password": PASSWORD, "csrf_token": t})
        tokens.append(token_of(c.get("/admin/definitions").get_data(as_text=True)))
    barrier, codes = threading.Barrier(2), []

    def run(i):
        barrier.wait()
        source = CHEAP.replace("priority: 20", f"priority: {21 + i}")
        codes.append(post(clients[i], "/admin/definitions/label/sale", tokens[i], source=source, action="publish",
                          base_revision="1", note=f"editor {i}").status_code)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(codes) == [302, 409]
    assert [r[0] for r in revisions(app, "label", "sale")] == [2, 1]


def test_automation_preview_replays_recent_events_against_the_draft(app, client, frozen_clock):
    from datetime import timedelta

    from runtime.automations import publish_event
    from runtime.state_machines.effects import Effect

    app.extensions["vectis.registry"].register("test", "effect_action", "pause", Effect(lambda call: None),
                                               label="Pause")
    source = ("kind: automation\nname: repeated_refunds\non:\n  all:\n    - refund: {type: refund.executed}\n"
              "  count: 3\n  within: 30d\n  correlate_by: account_id\ndo: [test.pause]\n")
    events = [("r1", 20, "a1"), ("r2", 10, "a1"), ("r3", 5, "a1"), ("s1", 3, "a2"), ("s2", 2, "a2"), ("old", 45, "a2")]
    for event_id, days_ago, account in events:
        event = {"id": event_id, "type": "refund.executed", "account_id": account,
                 "occurred_at": (frozen_clock.now() - timedelta(days=days_ago)).isoformat()}
        with app.app_context():
            app.extensions["vectis.db"].run(lambda s, e=event: publish_event(s, e))
    token = sign_in(app, client, "merchandiser")
    page = post(client, "/admin/definitions/new", token, kind="automation", source=source, action="preview",
                replay_days="30").get_data(as_text=True)
    assert "Replayed 5 event(s) of the last 30 days" in page
    assert '<strong id="match-count">1</strong> match(es) would have fired test.pause' in page
    assert "<td>a1</td><td>r1, r2, r3</td>" in page
    short = post(client, "/admin/definitions/new", token, kind="automation", source=source, action="preview",
                 replay_days="12").get_data(as_text=True)
    assert "Replayed 4 event(s) of the last 12 days" in short and '<strong id="match-count">0</strong>' in short
