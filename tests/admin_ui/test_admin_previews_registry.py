"""Every definition kind the workbench edits has a preview: a function and its template, and the
editor offers its inputs where it has some."""
from __future__ import annotations

from pathlib import Path

from rules.kinds import kind_names

from admin_ui.previews import PREVIEWS

TEMPLATES = Path(__file__).resolve().parents[2] / "admin_ui" / "templates" / "admin" / "previews"


def test_every_kind_has_a_preview_and_its_template(app):
    kinds = set(kind_names())
    assert {"tax_rule", "tender_cascade"} <= kinds
    assert kinds - set(PREVIEWS) == set()
    assert [kind for kind in sorted(kinds) if not (TEMPLATES / f"{kind}.html").is_file()] == []


def test_the_editor_offers_the_tax_and_cascade_inputs(app):
    editor = (TEMPLATES.parent / "editor.html").read_text(encoding="utf-8")
    for kind in ("tax_rule", "tender_cascade"):
        assert f"e.kind == '{kind}'" in editor and (TEMPLATES / f"{kind}_inputs.html").is_file()
