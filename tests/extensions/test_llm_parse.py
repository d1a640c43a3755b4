"""The llm_parse pack against a fake chat-completions endpoint the test starts on 127.0.0.1: the
request (model, JSON-schema response format, bearer key), the answer validated before use,
retries and time-outs, and through cartAiParseToLookupItems the catalog parser answering when the
model fails; off unless a channel configures it."""
from __future__ import annotations

import json

import pytest

from extensions.llm_parse.provider import ANSWER_SCHEMA, LlmParseProvider
from runtime.channels.models import Channel
from runtime.channels.providers import set_provider
from runtime.packs.api import ProviderError
from tests.extensions.fake_json_service import FakeJsonService
from tests.runtime.test_carts_api import post, store
from tests.runtime.test_packaging_api import ladder
from tests.runtime.test_quick_order_parse import PARSE

LLM = "llm_parse.cart_parse_provider.llm"
LINES = [{"product": "blue mugs", "quantity": 2, "unit": "boxes", "source": "two boxes of the blue mugs"},
         {"product": "CUP-1", "quantity": 3, "unit": None, "source": "CUP-1 three"}]


def _completion(body, action, value):
    content = json.dumps({"lines": value}) if action == "ok" else value  # "raw": the content as given
    return {"choices": [{"message": {"role": "assistant", "content": content}}]}


@pytest.fixture
def fake():
    with FakeJsonService("/v1/chat/completions", _completion, default=("ok", LINES),
                         error={"error": {"message": "boom"}}) as model:
        yield model


def test_the_provider_asks_for_the_schema_and_reads_the_lines(fake):
    result = LlmParseProvider().parse("two boxes of the blue mugs\nCUP-1 three", {"url": fake.url, "model": "m-1",
                                                                                  "api_key": "sk-1"})
    assert [(l.sku, l.quantity, l.package, l.source) for l in result.lines] == [
        ("blue mugs", 2, "boxes", "two boxes of the blue mugs"), ("CUP-1", 3, None, "CUP-1 three")]
    request = fake.requests[0]
    assert request["auth"] == "Bearer sk-1"
    assert request["body"]["model"] == "m-1" and request["body"]["temperature"] == 0
    assert request["body"]["response_format"]["json_schema"]["schema"] == ANSWER_SCHEMA
    assert request["body"]["messages"][1] == {"role": "user", "content": "two boxes of the blue mugs\nCUP-1 three"}


@pytest.mark.parametrize("content, message", [
    ("not json", "LLM answer: no JSON message content in choices.0.message.content"),
    (json.dumps({"lines": [{"product": "mug", "quantity": 0, "unit": None, "source": "x"}]}),
     "LLM answer: lines.0.quantity: 0 is less than the minimum of 1"),
    (json.dumps({"items": []}), "LLM answer: answer: 'lines' is a required property"),
])
def test_an_answer_outside_the_schema_is_refused(fake, content, message):
    fake.script = [("raw", content)]
    with pytest.raises(ProviderError) as failed:
        LlmParseProvider().parse("x", {"url": fake.url, "model": "m"})
    assert (failed.value.code, failed.value.message) == ("PROVIDER_UNAVAILABLE", message)


def test_time_outs_and_5xx_are_retried_then_unavailable_and_4xx_declined(fake):
    fake.script = [(500, None), ("slow", 0.6)]
    result = LlmParseProvider().parse("x", {"url": fake.url, "model": "m", "timeout_seconds": 0.3, "retries": 2})
    assert len(result.lines) == 2 and len(fake.requests) == 3

    fake.script = [(503, None)] * 2
    with pytest.raises(ProviderError) as failed:
        LlmParseProvider().parse("x", {"url": fake.url, "model": "m", "retries": 1})
    assert failed.value.message == "LLM endpoint answered 503 after 2 attempt(s)"

    fake.script = [(401, None)]
    with pytest.raises(ProviderError) as failed:
        LlmParseProvider().parse("x", {"url": fake.url, "model": "m"})
    assert failed.value.code == "PROVIDER_DECLINED"


def test_through_graphql_the_model_answers_first_and_the_catalog_when_it_fails(app, client, fake):
    ids = store(app)
    ladder(app, {"each": 1, "box": 12})
    text = "Hello,\ntwo boxes of the blue mugs\nCUP-1 three\nBest, Bo"

    # not configured: the model is never asked
    answer = post(client, PARSE, {"input": {"text": text}})["data"]["cartAiParseToLookupItems"]
    assert answer["provider"] == "core.cart_parse_provider.catalog" and fake.requests == []

    with app.app_context():
        app.extensions["vectis.db"].run(lambda session: set_provider(
            session, session.get(Channel, ids["channel"]), "cart_parse_provider", LLM,
            {"url": fake.url, "model": "m-1", "api_key": "sk-1", "retries": 0}))
    answer = post(client, PARSE, {"input": {"text": text}})["data"]["cartAiParseToLookupItems"]
    assert answer["provider"] == LLM and answer["errors"] == []
    assert [(i["sku"], i["quantity"], i["package"], i["source"]) for i in answer["items"]] == [
        ("MUG-1", 2, "box", "two boxes of the blue mugs"), ("CUP-1", 3, None, "CUP-1 three")]
    assert fake.requests[-1]["auth"] == "Bearer sk-1"  # the key, sealed at rest, is opened for the provider

    fake.script = [("raw", "{\"lines\": \"two mugs\"}")]
    answer = post(client, PARSE, {"input": {"text": text}})["data"]["cartAiParseToLookupItems"]
    assert answer["provider"] == "core.cart_parse_provider.catalog"
    assert answer["attempts"][0] == {"provider": LLM, "error": "LLM answer: lines: 'two mugs' is not of type 'array'"}
