"""Small helpers shared by runtime tests."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from runtime.auth.service import create_user, seed_roles


def make_user(app, email: str, roles: list[str], password: str = "correct horse battery") -> None:
    database = app.extensions["vectis.db"]

    def work(session):
        seed_roles(session)
        create_user(session, email, password, roles)

    database.run(work)


def gql(client, query: str, variables: dict | None = None, token: str | None = None, operation: str | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {"query": query, "variables": variables or {}}
    if operation:
        body["operationName"] = operation
    return client.post("/graphql", json=body, headers=headers)


LOGIN = """mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password) {
    tokens { accessToken refreshToken accessExpiresAt }
    errors { code field message }
  }
}"""


def login(client, email: str, password: str = "correct horse battery") -> str:
    response = gql(client, LOGIN, {"email": email, "password": password})
    return response.get_json()["data"]["login"]["tokens"]["accessToken"]


def signed_in(app, client, role: str) -> str:
    email = f"{role}@example.test"
    make_user(app, email, [role])
    return login(client, email)


@contextmanager
def recorded_statements(database) -> Iterator[list[str]]:
    """Every SQL statement the block sends. The periodic check for new definition revisions
    (at most once a second, in whichever request comes) is paused meanwhile, so that a count
    never depends on timing."""
    from sqlalchemy import event

    from runtime.definitions.live import LiveDefinitions

    statements: list[str] = []

    def listen(conn, cursor, statement, *args):
        statements.append(statement)

    refresh = LiveDefinitions.refresh
    LiveDefinitions.refresh = lambda self, force=False: refresh(self, force) if force else False
    event.listen(database.engine, "before_cursor_execute", listen)
    try:
        yield statements
    finally:
        event.remove(database.engine, "before_cursor_execute", listen)
        LiveDefinitions.refresh = refresh
