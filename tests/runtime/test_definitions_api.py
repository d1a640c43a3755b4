from sqlmodel import func, select

from runtime.definitions.models import DefinitionRevision
from tests.runtime.helpers import gql, signed_in

CHEAP = """kind: label
name: cheap
label:
  text: Cheap
when:
  price: {lt: 20}
examples:
  - given: {price: 10}
    expect: true
  - given: {price: 30}
    expect: false
"""
CHEAPER = CHEAP.replace("lt: 20", "lt: 15")
TYPO = CHEAP.replace("price: {lt: 20}", "prise: {lt: 20}")

PUBLISH = """mutation P($source: String!, $base: Int) {
  publishDefinition(source: $source, note: "test", baseRevision: $base) {
    created
    definition { kind name revision isLive author note rolledBackFrom }
    errors { code field message line column path hint }
  }
}"""
ROLLBACK = """mutation R($revision: Int!) {
  rollbackDefinition(kind: "label", name: "cheap", revision: $revision) {
    created
    definition { revision isLive rolledBackFrom source }
    errors { code field message }
  }
}"""
HISTORY = '{ definitionHistory(kind: "label", name: "cheap") { revision isLive } }'
VALIDATE = "query V($source: String!) { validateDefinition(source: $source) { valid kind name errors { code field line message hint } } }"


def _publish(client, token, source, base=None):
    return gql(client, PUBLISH, {"source": source, "base": base}, token=token).get_json()["data"]["publishDefinition"]


def _revision_count(database) -> int:
    with database.session() as session:
        return session.exec(select(func.count()).select_from(DefinitionRevision)).one()


def test_publish_creates_an_immutable_live_revision(app, client):
    token = signed_in(app, client, "merchandiser")

    result = _publish(client, token, CHEAP)

    assert result == {
        "created": True,
        "definition": {"kind": "label", "name": "cheap", "revision": 1, "isLive": True,
                       "author": "merchandiser@example.test", "note": "test", "rolledBackFrom": None},
        "errors": [],
    }


def test_publishing_the_live_source_again_creates_nothing(app, client, database):
    token = signed_in(app, client, "merchandiser")
    _publish(client, token, CHEAP)

    again = _publish(client, token, CHEAP)

    assert again["created"] is False and again["definition"]["revision"] == 1
    assert _revision_count(database) == 1


def test_invalid_source_is_refused_with_line_and_leaves_live_revision(app, client, database):
    token = signed_in(app, client, "merchandiser")
    _publish(client, token, CHEAP)

    result = _publish(client, token, TYPO)

    assert result["definition"] is None and result["created"] is None
    [error] = result["errors"]
    assert error["code"] == "INVALID_DEFINITION"
    assert error["line"] == 6 and error["path"] == "source"
    assert "prise" in error["message"] and error["hint"] == "did you mean 'price'?"
    assert error["message"].startswith("source:6:")
    assert _revision_count(database) == 1
    assert gql(client, HISTORY, token=token).get_json()["data"]["definitionHistory"] == [{"revision": 1, "isLive": True}]


def test_history_and_rollback_republish_an_older_revision(app, client):
    token = signed_in(app, client, "merchandiser")
    _publish(client, token, CHEAP)
    _publish(client, token, CHEAPER)

    rolled = gql(client, ROLLBACK, {"revision": 1}, token=token).get_json()["data"]["rollbackDefinition"]
    history = gql(client, HISTORY, token=token).get_json()["data"]["definitionHistory"]

    assert rolled == {"created": True, "errors": [],
                      "definition": {"revision": 3, "isLive": True, "rolledBackFrom": 1, "source": CHEAP}}
    assert history == [{"revision": 3, "isLive": True}, {"revision": 2, "isLive": False}, {"revision": 1, "isLive": False}]


def test_rollback_to_a_missing_revision_is_refused(app, client, database):
    token = signed_in(app, client, "merchandiser")
    _publish(client, token, CHEAP)

    result = gql(client, ROLLBACK, {"revision": 7}, token=token).get_json()["data"]["rollbackDefinition"]

    assert result["errors"] == [{"code": "REVISION_NOT_FOUND", "field": "revision", "message": "label/cheap has no revision 7"}]
    assert _revision_count(database) == 1


def test_publish_over_a_changed_revision_is_refused(app, client, database):
    token = signed_in(app, client, "merchandiser")
    _publish(client, token, CHEAP)
    _publish(client, token, CHEAPER)

    result = _publish(client, token, CHEAP, base=1)

    [error] = result["errors"]
    assert error["code"] == "STALE_REVISION" and error["field"] == "baseRevision"
    assert error["message"].startswith("label/cheap changed since revision 1 was opened: now revision 2 by merchandiser@example.test")
    assert _revision_count(database) == 2


def test_validate_reports_every_error_without_publishing(app, client, database):
    token = signed_in(app, client, "viewer")

    result = gql(client, VALIDATE, {"source": TYPO}, token=token).get_json()["data"]["validateDefinition"]

    assert result["valid"] is False and (result["kind"], result["name"]) == ("label", "cheap")
    assert [(e["code"], e["line"], e["hint"]) for e in result["errors"]] == [("INVALID_DEFINITION", 6, "did you mean 'price'?")]
    assert _revision_count(database) == 0


def test_publishing_needs_a_signed_in_merchandiser(app, client, database):
    viewer = signed_in(app, client, "viewer")

    anonymous = gql(client, PUBLISH, {"source": CHEAP}).get_json()
    forbidden = gql(client, PUBLISH, {"source": CHEAP}, token=viewer).get_json()

    assert anonymous["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
    assert forbidden["errors"][0]["extensions"] == {"code": "FORBIDDEN"}
    assert forbidden["errors"][0]["message"] == "permission 'definitions.publish' is required"
    assert _revision_count(database) == 0


def test_live_definitions_follow_publish_and_rollback(app, client):
    from runtime.definitions.live import live_definitions

    token = signed_in(app, client, "merchandiser")
    _publish(client, token, CHEAP)
    live = live_definitions(app)
    live.refresh(force=True)
    assert live.get("label", "cheap").revision == 1

    _publish(client, token, CHEAPER)
    live.refresh(force=True)

    assert live.get("label", "cheap").revision == 2
    assert live.get("label", "cheap").definition.source == CHEAPER
