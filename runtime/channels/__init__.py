"""Channels (where and how the store sells: commerce mode, currencies, capture mode), exchange
rates between currencies, and the price-precision rule every saved price obeys.

* :mod:`.models` — ``Channel`` and ``ExchangeRate`` tables.
* :mod:`.service` — create, update and validate channels.
* :mod:`.rates` — set and look up exchange rates; :func:`.rates.convert`.
* :mod:`.precision` — :func:`.precision.require_precision` for prices.
* :mod:`.context` — the request's channel from the ``X-Channel-Slug`` header.
"""


def init_app(app) -> None:
    """Keep the active channels briefly in memory (see :mod:`.context`)."""
    from runtime.channels.context import CACHE, ChannelCache

    seconds = app.config["VECTIS"].channel_cache_seconds
    if seconds > 0:
        app.extensions[CACHE] = ChannelCache(seconds)
