"""What resolvers get in ``info.context``, and the one way to return business errors as data."""
from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable

from flask import Flask
from graphql import GraphQLError
from runtime.auth.permissions import Actor, require
from runtime.errors import BusinessError, BusinessErrors


@dataclass
class Context:
    app: Flask
    actor: Actor
    request: Any
    #: Business refusals answered in payloads during this operation (for metrics).
    refusals: int = 0
    _reader: Any = field(default=None, repr=False)

    @property
    def db(self):
        return self.app.extensions["vectis.db"]

    @contextmanager
    def reads(self) -> Iterator[Any]:
        """The request's one read session: query and field resolvers read through it, so a request
        takes one pooled connection and one transaction, not one per resolver. Writes never use it
        (they run in ``db.run``); :meth:`close_reads` ends it around each mutation, so a payload
        never reads rows cached before the mutation committed."""
        if self._reader is None:
            self._reader = self.db.session()
        yield self._reader

    def close_reads(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    @property
    def settings(self):
        return self.app.config["VECTIS"]

    def require(self, permission: str) -> None:
        require(self.actor, permission)

    @functools.cached_property
    def channel(self):
        """The ``X-Channel-Slug`` channel, else the default one or None."""
        from runtime.channels.context import channel_for_request  # domains import this module, not it them

        return channel_for_request(self.db, self.request)


def context_of(info) -> Context:
    return info.context


def query_error(info, exc: BusinessError | BusinessErrors) -> GraphQLError:
    """A refusal in a query (which has no payload) as a top-level error with ``extensions.code``;
    several refusals are joined, and listed under ``extensions.errors``."""
    errors = getattr(exc, "errors", [exc])
    extensions: dict[str, Any] = {"code": errors[0].code}
    if len(errors) > 1:
        extensions["errors"] = [e.as_dict() for e in errors]
    return GraphQLError("; ".join(e.message for e in errors), info.field_nodes, path=info.path.as_list(),
                        extensions=extensions)


def payload(resolver: Callable[..., dict]) -> Callable[..., dict]:
    """Wrap a mutation resolver: a :class:`BusinessError` becomes ``{"errors": [...]}`` in the payload.

    The resolver's database work must run in one transaction (``ctx.db.run``), so a refusal
    leaves the database as it was.
    """

    @functools.wraps(resolver)
    def wrapper(obj, info, *args, **kwargs) -> dict:
        context_of(info).close_reads()
        try:
            result = resolver(obj, info, *args, **kwargs)
        except (BusinessError, BusinessErrors) as exc:
            context_of(info).refusals += 1
            return {"errors": [e.as_dict() for e in getattr(exc, "errors", [exc])]}
        finally:
            context_of(info).close_reads()
        result.setdefault("errors", [])
        return result

    return wrapper
