"""Definition pages: the index, the editor (validate, save a draft, preview, publish), history
with diffs, and rollback. Publishing and rolling back call ``runtime.definitions.store`` — the
same functions the CLI and the GraphQL mutations call — so the UI can never publish what they
would refuse."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from rules.kinds import get_kind, kind_names
from rules.pipeline import Checked

from admin_ui import bp, listing
from admin_ui.previews import PREVIEWS
from admin_ui.review import diff, errors_by_line, examples
from admin_ui.schema_help import schema_help
from admin_ui.security import actor, database, requires
from runtime.definitions import drafts, store
from runtime.definitions.environment import build_environment
from runtime.definitions.live import live_definitions
from runtime.errors import BusinessError, BusinessErrors

READ, PUBLISH = "definitions.read", "definitions.publish"


def _env():
    return build_environment(current_app.extensions["vectis.registry"])


@bp.get("/definitions")
@requires(READ)
def definitions_index():
    kind, search = request.args.get("kind", ""), request.args.get("q", "")
    with database().session() as s:
        rows = listing.entries(current_app, s, kind=kind, search=search)
    return render_template("admin/index.html", rows=rows, kinds=kind_names(), kind=kind, q=search)


@dataclass
class Editor:
    """Everything the editor page shows."""

    kind: str
    name: str
    source: str
    base_revision: int | None
    live: Any = None
    draft: Any = None
    checked: Checked | None = None
    problems: list[str] = field(default_factory=list)
    preview: dict[str, Any] | None = None
    note: str = ""
    is_new: bool = False

    @property
    def errors_by_line(self):
        return errors_by_line(self.checked)

    @property
    def examples(self):
        return examples(self.source, self.checked) if self.checked else []


def _render(editor: Editor, status: int = 200):
    description, help_rows = schema_help(editor.kind)
    return render_template("admin/editor.html", e=editor, kinds=kind_names(), schema_description=description,
                           help_rows=help_rows), status


@bp.get("/definitions/new")
@requires(PUBLISH)
def new_definition():
    kind = request.args.get("kind", "label")
    if get_kind(kind) is None:
        abort(404)
    return _render(Editor(kind, "", f"kind: {kind}\nname: \n", None, is_new=True))


@bp.get("/definitions/<kind>/<name>")
@requires(READ)
def editor(kind: str, name: str):
    with database().session() as s:
        live = store.live(s, kind, name)
        draft = drafts.get(s, kind, name, actor().label)
    if live is None and draft is None:
        abort(404)
    source = draft.source if draft else live.source
    base = draft.base_revision if draft else live.revision
    return _render(Editor(kind, name, source, base, live, draft))


@bp.post("/definitions/new")
@requires(PUBLISH)
def new_definition_submit():
    return _submit(request.form.get("kind", ""), "", is_new=True)


@bp.post("/definitions/<kind>/<name>")
@requires(READ)  # each action checks its own permission below
def editor_submit(kind: str, name: str):
    return _submit(kind, name, is_new=False)


def _submit(kind: str, name: str, *, is_new: bool):
    form, who = request.form, actor()
    action = form.get("action", "validate")
    if action != "validate" and action != "preview" and not who.has(PUBLISH):
        abort(403, description=f"permission {PUBLISH!r} is required")
    source = form.get("source", "").replace("\r\n", "\n")
    base = int(form["base_revision"]) if form.get("base_revision", "").isdigit() else None
    with database().session() as s:
        live = store.live(s, kind, name) if name else None
        draft = drafts.get(s, kind, name, who.label) if name else None
    e = Editor(kind, name, source, base, live, draft, note=form.get("note", ""), is_new=is_new)
    e.checked = store.check(source, _env(), f"{kind or 'new'}/{name or 'definition'}")
    e.problems = _identity_problems(e)
    if action == "discard":
        database().run(lambda s: drafts.discard(s, kind, name, who.label))
        flash("Draft discarded.")
        return redirect(url_for("admin.editor", kind=kind, name=name)) if live else redirect(url_for("admin.definitions_index"))
    if action == "save":
        return _save(e)
    if action == "publish":
        return _publish(e)
    if action == "preview" and e.checked.ok and not e.problems:
        e.preview = _preview(e, form)
    return _render(e, 200 if e.checked.ok or action == "preview" else 422)


def _identity_problems(e: Editor) -> list[str]:
    """The source must name the definition the editor is for (a rename is a new definition)."""
    checked = e.checked
    if e.is_new:
        return [] if checked.kind and checked.name else ["the source needs a 'kind' and a 'name'"]
    if checked.kind and checked.name and (checked.kind, checked.name) != (e.kind, e.name):
        return [f"the source names {checked.kind}/{checked.name} but this editor is for {e.kind}/{e.name}: "
                "to rename, create a new definition"]
    return []


def _save(e: Editor):
    if e.problems:
        return _render(e, 422)
    kind, name, author = e.checked.kind, e.checked.name, actor().label
    database().run(lambda s: drafts.save(s, kind, name, author, e.source, e.base_revision))
    flash("Draft saved." + ("" if e.checked.ok else f" It has {len(e.checked.errors)} error(s) to fix before publishing."))
    return redirect(url_for("admin.editor", kind=kind, name=name))


def _publish(e: Editor):
    if not e.note.strip():
        e.problems.append("note: say what changed and why (the change note is required)")
    if e.problems or not e.checked.ok:
        return _render(e, 422)
    author, env = actor().label, _env()

    def work(s):
        row, created = store.publish(s, e.source, env, author=author, note=e.note.strip(), origin="admin",
                                     base_revision=e.base_revision if e.base_revision is not None else 0)
        drafts.discard(s, row.kind, row.name, author)
        return row, created

    try:
        row, created = database().run(work)
    except (BusinessError, BusinessErrors) as exc:
        e.problems += [err.message for err in getattr(exc, "errors", [exc])]
        return _render(e, 409)
    live_definitions(current_app).refresh(force=True)
    flash(f"Published {row.kind}/{row.name} revision {row.revision}." if created
          else f"Unchanged: revision {row.revision} already has this source.")
    return redirect(url_for("admin.editor", kind=row.kind, name=row.name))


def _preview(e: Editor, form) -> dict[str, Any] | None:
    run = PREVIEWS.get(e.checked.kind)
    if run is None:
        return None
    current = live_definitions(current_app).get(e.checked.kind, e.checked.name)
    with database().session() as s:
        return run(current_app, s, e.checked.definition.compiled, current.compiled if current else None, form)


@bp.get("/definitions/<kind>/<name>/history")
@requires(READ)
def history(kind: str, name: str):
    with database().session() as s:
        revisions = store.history(s, kind, name)
    if not revisions:
        abort(404)
    by_number = {r.revision: r for r in revisions}
    newest = revisions[0].revision
    a = request.args.get("a", type=int) or (newest - 1 if newest > 1 else newest)
    b = request.args.get("b", type=int) or newest
    lines = None
    if a in by_number and b in by_number:
        lines = diff(by_number[a].source, by_number[b].source, f"revision {a}", f"revision {b}")
    return render_template("admin/history.html", kind=kind, name=name, revisions=revisions, a=a, b=b, lines=lines)


@bp.post("/definitions/<kind>/<name>/rollback")
@requires(PUBLISH)
def rollback(kind: str, name: str):
    revision = request.form.get("revision", type=int)
    if revision is None:
        abort(400, description="revision: a revision number is required")
    author, env, note = actor().label, _env(), request.form.get("note", "").strip()
    try:
        row, created = database().run(lambda s: store.rollback(s, kind, name, revision, env, author=author, note=note))
    except (BusinessError, BusinessErrors) as exc:
        for err in getattr(exc, "errors", [exc]):
            flash(err.message, "error")
        return redirect(url_for("admin.history", kind=kind, name=name))
    live_definitions(current_app).refresh(force=True)
    flash(f"Rolled back: revision {row.revision} republishes revision {revision}." if created
          else f"Unchanged: revision {revision}'s source is already live.")
    return redirect(url_for("admin.history", kind=kind, name=name))
