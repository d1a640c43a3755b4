"""GraphQL resolvers for reading, validating, publishing and rolling back definitions."""
from __future__ import annotations

from ariadne import MutationType, ObjectType, QueryType

from runtime.definitions import store
from runtime.definitions.environment import build_environment
from runtime.graphql.context import context_of, payload

query = QueryType()
mutation = MutationType()
revision_type = ObjectType("DefinitionRevision")

READ, PUBLISH = "definitions.read", "definitions.publish"


def _env(ctx):
    return build_environment(ctx.app.extensions["vectis.registry"])


def _read(info, permission: str, work):
    ctx = context_of(info)
    ctx.require(permission)
    with ctx.reads() as session:
        return work(session)


@query.field("definitions")
def resolve_definitions(_, info, kind: str | None = None):
    return _read(info, READ, lambda s: store.all_live(s, kind))


@query.field("definition")
def resolve_definition(_, info, kind: str, name: str):
    return _read(info, READ, lambda s: store.live(s, kind, name))


@query.field("definitionHistory")
def resolve_history(_, info, kind: str, name: str):
    return _read(info, READ, lambda s: store.history(s, kind, name))


@query.field("validateDefinition")
def resolve_validate(_, info, source: str):
    ctx = context_of(info)
    ctx.require(READ)
    checked = store.check(source, _env(ctx))
    return {
        "valid": checked.ok,
        "kind": checked.kind,
        "name": checked.name,
        "checksum": checked.definition.checksum if checked.definition else None,
        "errors": [store.author_error(e).as_dict() for e in checked.errors],
    }


@mutation.field("publishDefinition")
@payload
def resolve_publish(_, info, source: str, note: str = "", base_revision: int | None = None):
    ctx = context_of(info)
    ctx.require(PUBLISH)
    env = _env(ctx)
    row, created = ctx.db.run(
        lambda s: store.publish(s, source, env, author=ctx.actor.label, note=note or "", origin="graphql",
                                base_revision=base_revision)
    )
    return {"definition": row, "created": created}


@mutation.field("rollbackDefinition")
@payload
def resolve_rollback(_, info, kind: str, name: str, revision: int, note: str = ""):
    ctx = context_of(info)
    ctx.require(PUBLISH)
    env = _env(ctx)
    row, created = ctx.db.run(
        lambda s: store.rollback(s, kind, name, revision, env, author=ctx.actor.label, note=note or "")
    )
    return {"definition": row, "created": created}


bindables = [query, mutation, revision_type]
