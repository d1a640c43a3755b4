"""Relabel after a commit that published a label revision or changed products.

A flush that inserts a ``label`` revision, or adds, changes or deletes products or variants,
notes it on the session; when that transaction commits (:func:`runtime.db.after_commit`) one job
is enqueued: the whole catalog for a label revision, else only the changed products. A rolled
back transaction enqueues nothing. Stock and sales move through plain UPDATEs and orders; the
periodic relabel catches those (and the passing of time that ``age_days`` reads).
"""
from __future__ import annotations

import logging
import weakref

import redis
from flask import Flask
from sqlalchemy import event
from sqlmodel import Session

from runtime.catalog.models import Product, ProductVariant
from runtime.db import after_commit
from runtime.definitions.models import DefinitionRevision
from runtime.jobs import get_dispatcher

log = logging.getLogger(__name__)

PENDING = "vectis.labels.pending"


def _product_id(instance) -> int | None:
    if isinstance(instance, Product):
        return instance.id
    if isinstance(instance, ProductVariant):
        return instance.product_id
    return None


#: engine → the app it serves: a flush finds its app even outside an app context (a CLI, a job).
_apps: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def _noted(session, flush_context) -> None:
    app = _apps.get(session.get_bind())
    if app is None:
        return
    products, catalog = set(), False
    for instance in (*session.new, *session.dirty, *session.deleted):
        if isinstance(instance, DefinitionRevision) and instance.kind == "label" and instance in session.new:
            catalog = True
        elif (product_id := _product_id(instance)) is not None:
            products.add(product_id)
    if not products and not catalog:
        return
    pending = session.info.get(PENDING)
    if pending is None:
        pending = session.info[PENDING] = {"catalog": False, "products": set()}
        after_commit(session, _enqueue(app, pending))
    pending["catalog"] |= catalog
    pending["products"] |= products


def _enqueue(app, pending: dict):
    def enqueue() -> None:
        from runtime.labels.index import relabel_catalog, relabel_products

        dispatcher = get_dispatcher(app)
        try:
            if pending["catalog"]:
                dispatcher.enqueue(relabel_catalog)
            else:
                dispatcher.enqueue(relabel_products, sorted(pending["products"]))
        except redis.RedisError:  # committed already: the periodic relabel catches up
            log.exception("label index: enqueueing the relabel after commit failed")
    return enqueue


def install(app: Flask) -> None:
    """Relabel after commits on ``app``'s database: the listener is on every session, and acts
    only for the engines of apps installed here."""
    _apps[app.extensions["vectis.db"].engine] = app
    if not event.contains(Session, "after_flush", _noted):
        event.listen(Session, "after_flush", _noted)
