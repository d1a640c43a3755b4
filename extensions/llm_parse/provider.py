"""The chat-completions :class:`~runtime.packs.api.CartParseProvider`: a thin adapter over httpx."""
from __future__ import annotations

import json
from typing import Any

import httpx
from jsonschema import Draft202012Validator

from runtime.packs.api import ParsedLine, ParseResult, ProviderError, ProviderErrorCode, post_json

#: Seconds before the n-th retry (0.1, 0.2…).
BACKOFF_SECONDS = 0.1
#: The answer asked for and checked: one entry per order line of the text.
ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["lines"],
    "additionalProperties": False,
    "properties": {"lines": {"type": "array", "maxItems": 500, "items": {
        "type": "object",
        "required": ["product", "quantity", "unit", "source"],
        "additionalProperties": False,
        "properties": {
            "product": {"type": "string", "minLength": 1, "maxLength": 300,
                        "description": "The SKU or product name as written"},
            "quantity": {"type": "integer", "minimum": 1, "maximum": 1000000},
            "unit": {"type": ["string", "null"], "maxLength": 64,
                     "description": "The package as written (box, case), null for pieces"},
            "source": {"type": "string", "maxLength": 1000, "description": "The line of the text it came from"},
        }}}},
}
PROMPT = ("You read purchase orders. Return every order line of the user's text as JSON: the product (SKU or "
          "name exactly as written), the quantity as a whole number (a dozen is 12), the unit or package as "
          "written (null for pieces) and the source line. Ignore greetings, signatures and other text.")
_VALIDATOR = Draft202012Validator(ANSWER_SCHEMA)


class LlmParseProvider:
    def __init__(self, transport: httpx.BaseTransport | None = None):
        self._transport = transport

    def parse(self, text: str, config: dict[str, Any]) -> ParseResult:
        answer = _answer(self._post(config, _body(text, config)))
        return ParseResult(tuple(ParsedLine(line["product"], line["quantity"], line["source"] or line["product"],
                                            package=(line["unit"] or None), confidence=0.9)
                                 for line in answer["lines"]))

    def _post(self, config: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {config['api_key']}"} if config.get("api_key") else {}
        return post_json(config["url"], body, service="LLM endpoint", headers=headers,
                         timeout=float(config.get("timeout_seconds", 10)),
                         retries=int(config.get("retries", 1)), backoff=BACKOFF_SECONDS,
                         transport=self._transport)


def _body(text: str, config: dict[str, Any]) -> dict[str, Any]:
    return {"model": config["model"], "temperature": 0,
            "messages": [{"role": "system", "content": PROMPT}, {"role": "user", "content": text}],
            "response_format": {"type": "json_schema",
                                "json_schema": {"name": "order_lines", "strict": True, "schema": ANSWER_SCHEMA}}}


def _answer(completion: Any) -> dict[str, Any]:
    """The message's JSON, checked against :data:`ANSWER_SCHEMA` (a model may ignore the format)."""
    try:
        content = completion["choices"][0]["message"]["content"]
        answer = json.loads(content)
    except (KeyError, IndexError, TypeError, ValueError):
        raise ProviderError(ProviderErrorCode.PROVIDER_UNAVAILABLE,
                            "LLM answer: no JSON message content in choices.0.message.content") from None
    error = next(iter(sorted(_VALIDATOR.iter_errors(answer), key=lambda e: list(e.absolute_path))), None)
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path) or "answer"
        raise ProviderError(ProviderErrorCode.PROVIDER_UNAVAILABLE, f"LLM answer: {where}: {error.message[:200]}")
    return answer
