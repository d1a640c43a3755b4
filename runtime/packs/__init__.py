"""Extension packs: discovery, loading, the slot registry and install state.

The app factory calls :func:`init_app`; start-up calls :func:`sync_install_state` after
migrations. Packs themselves import only :mod:`runtime.packs.api`.
"""
from __future__ import annotations

from flask import Flask, current_app

from runtime.packs.install import sync_install_state
from runtime.packs.loader import LoadedPack, load_packs
from runtime.packs.registry import Registry
from runtime.packs.slots import declare_core_slots

__all__ = ["LoadedPack", "get_registry", "init_app", "sync_install_state"]


def init_app(app: Flask) -> Registry:
    """Create the app's registry, declare the core slots and load every enabled pack.

    Sets ``app.extensions``: ``vectis.registry`` (the :class:`Registry`), ``vectis.packs``
    (name → :class:`LoadedPack`, in load order) and ``vectis.pack_failures`` (name → one-line
    message, shown by ``/ready``). A failing pack never stops the app.
    """
    registry = Registry()
    declare_core_slots(registry)
    loaded, failures = load_packs(registry, app.config["VECTIS"])
    app.extensions["vectis.registry"] = registry
    app.extensions["vectis.packs"] = loaded
    app.extensions["vectis.pack_failures"] = failures
    return registry


def get_registry(app: Flask | None = None) -> Registry:
    """The registry of ``app`` (default: the current app)."""
    return (app or current_app).extensions["vectis.registry"]
