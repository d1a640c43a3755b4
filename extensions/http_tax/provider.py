"""The HTTP :class:`~runtime.packs.api.TaxProvider`: a thin adapter over :mod:`httpx`."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from runtime.packs.api import Money, ProviderError, ProviderErrorCode, TaxLine, TaxRequest, post_json

#: Seconds before the n-th retry (0.05, 0.1, 0.2…): short, since a buyer is waiting.
BACKOFF_SECONDS = 0.05


class HttpTaxProvider:
    def __init__(self, transport: httpx.BaseTransport | None = None):
        self._transport = transport

    def calculate(self, request: TaxRequest, config: dict[str, Any]) -> list[TaxLine]:
        answer = self._post(config, _body(request))
        return _lines(answer, request)

    def _post(self, config: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {config['api_key']}"} if config.get("api_key") else {}
        return post_json(config["url"], body, service="tax service", headers=headers,
                         timeout=float(config.get("timeout_seconds", 3)),
                         retries=int(config.get("retries", 2)), backoff=BACKOFF_SECONDS,
                         transport=self._transport)


def _body(request: TaxRequest) -> dict[str, Any]:
    currency = request.lines[0].amount.currency if request.lines else None
    return {"country": request.country, "region": request.region, "postal_code": request.postal_code,
            "city": request.city, "tax_id": request.tax_id, "currency": currency,
            "prices_include_tax": request.prices_include_tax,
            "lines": [{"reference": line.reference, "amount": format(line.amount.amount, "f"),
                       "tax_class": line.tax_class or "standard"} for line in request.lines]}


def _lines(answer: Any, request: TaxRequest) -> list[TaxLine]:
    references = {line.reference: line.amount.currency for line in request.lines}
    found = answer.get("lines") if isinstance(answer, dict) else None
    if not isinstance(found, list):
        raise ProviderError(ProviderErrorCode.PROVIDER_UNAVAILABLE, "tax service answer: 'lines' must be a list")
    out = []
    for index, item in enumerate(found):
        where = f"tax service answer: lines.{index}"
        if not isinstance(item, dict) or item.get("reference") not in references:
            raise ProviderError(ProviderErrorCode.PROVIDER_UNAVAILABLE, f"{where}: unknown reference")
        try:
            rate, amount = Decimal(str(item["rate"])), Decimal(str(item["amount"]))
        except (KeyError, InvalidOperation):
            raise ProviderError(ProviderErrorCode.PROVIDER_UNAVAILABLE, f"{where}: rate and amount must be decimals") from None
        out.append(TaxLine(item["reference"], str(item.get("name") or "tax"), rate,
                           Money(amount, references[item["reference"]])))
    return out
