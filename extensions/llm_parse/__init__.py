"""LLM order parser: a ``cart_parse_provider`` that asks an OpenAI-compatible chat-completions
endpoint to split an order text into lines (product as written, quantity, unit, source line).

The answer must be JSON matching :data:`provider.ANSWER_SCHEMA` (requested as the response
format, validated again before use); the runtime then matches each product against the channel's
catalog. A time-out, a connection error or a 5xx is retried, then reported as
``PROVIDER_UNAVAILABLE``, and the channel's next parse provider answers. The pack does nothing
until a channel configures it (``setChannelProvider`` with slot ``cart_parse_provider``).
"""
from __future__ import annotations

import json
from pathlib import Path

from runtime.packs.api import PackContext

from .provider import LlmParseProvider

CONFIG_SCHEMA = json.loads((Path(__file__).parent / "config.schema.json").read_text())


def register(pack: PackContext) -> None:
    pack.register("cart_parse_provider", "llm", LlmParseProvider(), label="LLM order parser (chat completions)",
                  config_schema=CONFIG_SCHEMA)
