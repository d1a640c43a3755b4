"""GraphQL resolvers for sign-in and the viewer."""
from __future__ import annotations

from ariadne import MutationType, QueryType

from runtime.auth import service
from runtime.auth.tokens import TokenPair
from runtime.graphql.context import context_of, payload

query = QueryType()
mutation = MutationType()


def _tokens(pair: TokenPair) -> dict:
    return {
        "tokens": {
            "access_token": pair.access_token,
            "access_expires_at": pair.access_expires_at,
            "refresh_token": pair.refresh_token,
            "refresh_expires_at": pair.refresh_expires_at,
        }
    }


@query.field("viewer")
def resolve_viewer(_, info):
    actor = context_of(info).actor
    if not actor.authenticated:
        return None
    return {"email": actor.email, "roles": sorted(actor.roles), "permissions": sorted(actor.permissions)}


@mutation.field("login")
@payload
def resolve_login(_, info, email: str, password: str):
    ctx = context_of(info)
    return _tokens(ctx.db.run(lambda s: service.login(s, ctx.settings, email, password)))


@mutation.field("refreshToken")
@payload
def resolve_refresh(_, info, refresh_token: str):
    ctx = context_of(info)
    return _tokens(ctx.db.run(lambda s: service.refresh(s, ctx.settings, refresh_token)))


bindables = [query, mutation]
