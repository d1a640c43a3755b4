"""Product labels: ``Product.labels`` resolved per request in one batch evaluation, the
catalog-wide label index (recomputed by a job) that product search filters by, and clearing
label references to predicate functions an extension dropped. See ``docs/labels.md``.

:func:`init_app` registers the periodic relabel and the after-commit triggers.
"""
from __future__ import annotations

from flask import Flask

#: Seconds between periodic full relabels (facts such as age, stock and sales move with time).
RELABEL_INTERVAL = 300


def init_app(app: Flask) -> None:
    from runtime.jobs import DEFAULT, register_periodic_job
    from runtime.labels import triggers
    from runtime.labels.index import relabel_catalog

    triggers.install(app)
    register_periodic_job(app.extensions["vectis.registry"], "relabel_catalog", relabel_catalog,
                          interval=RELABEL_INTERVAL, queue=DEFAULT,
                          description="Recompute the product label index (RelabelCatalog)")
