"""Previews of a checked draft against real data, one module per kind.

Each ``preview(app, session, draft, live, form)`` gets the draft's compiled definition, the live
one (None when the definition is new) and the editor's form (its preview inputs), and returns
what its template (``admin/previews/<kind>.html``) shows. Nothing is written.
"""
from __future__ import annotations

from admin_ui.previews import (approval_route, automation, label, mmoq_cap, promotion, state_machine, tax_rule,
                               tender_cascade)

PREVIEWS = {
    "approval_route": approval_route.preview,
    "label": label.preview,
    "mmoq_cap": mmoq_cap.preview,
    "promotion": promotion.preview,
    "state_machine": state_machine.preview,
    "automation": automation.preview,
    "tax_rule": tax_rule.preview,
    "tender_cascade": tender_cascade.preview,
}
