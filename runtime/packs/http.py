"""One JSON-over-HTTP call with time-outs and retries, for packs that talk to a remote service
(a tax service, a chat-completions endpoint): the retry policy is written once.

A time-out, a connection error, a 429 or a 5xx is retried after a short exponential back-off (a
buyer is usually waiting); any other 4xx is the service refusing the request and is not retried.
Failures are :class:`ProviderError`s whose message names the service, so a checkout's fallback or a
parse attempt can record why.
"""
from __future__ import annotations

import time
from typing import Any

import httpx

from runtime.packs.protocols import ProviderError, ProviderErrorCode


def post_json(url: str, body: Any, *, service: str, headers: dict[str, str] | None = None,
              timeout: float = 3.0, retries: int = 2, backoff: float = 0.05,
              transport: httpx.BaseTransport | None = None) -> Any:
    """POST ``body`` as JSON and answer the decoded JSON reply; ``retries`` more attempts after
    the first, waiting ``backoff``, ``2 × backoff``… seconds between them."""
    attempts = 1 + max(0, int(retries))
    last = ""
    with httpx.Client(timeout=float(timeout), transport=transport) as client:
        for attempt in range(attempts):
            if attempt:
                time.sleep(backoff * 2 ** (attempt - 1))
            try:
                response = client.post(url, json=body, headers=headers or {})
            except httpx.TimeoutException:
                last = "timed out"
                continue
            except httpx.TransportError as exc:
                last = f"could not connect ({type(exc).__name__})"
                continue
            if response.status_code >= 500 or response.status_code == 429:
                last = f"answered {response.status_code}"
                continue
            if response.status_code >= 400:
                raise ProviderError(ProviderErrorCode.PROVIDER_DECLINED,
                                    f"{service} refused the request ({response.status_code}): {response.text[:200]}")
            try:
                return response.json()
            except ValueError:
                raise ProviderError(ProviderErrorCode.PROVIDER_UNAVAILABLE, f"{service} answered with no JSON") from None
    raise ProviderError(ProviderErrorCode.PROVIDER_UNAVAILABLE, f"{service} {last} after {attempts} attempt(s)")
