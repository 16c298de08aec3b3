"""Fixtures for the web tests: the FastAPI app on the test database, clients logged in per role."""

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.web.helpers import log_in
from workflow.app import App
from workflow.testing import People
from workflow.web import accounts, create_app


@pytest.fixture
def web(app: App) -> FastAPI:
    return create_app(app, run_scheduler=False)


@pytest.fixture
def client(web: FastAPI) -> Iterator[TestClient]:
    with TestClient(web, follow_redirects=False) as c:
        yield c


@pytest.fixture
def browser_for(web: FastAPI, app: App, people: People) -> Iterator[object]:
    """A factory of logged-in TestClients, one per cast member (separate cookie jars)."""
    opened: list[TestClient] = []

    def make(key: str) -> tuple[TestClient, str]:
        c = TestClient(web, follow_redirects=False)
        c.__enter__()
        opened.append(c)
        token = log_in(c, app, people, key)
        return c, token

    yield make
    for c in opened:
        c.__exit__(None, None, None)


@pytest.fixture
def token_for(app: App, people: People) -> object:
    """A factory of API tokens, one per cast member."""

    def make(key: str) -> str:
        user_id = people[key].user_id
        assert user_id is not None
        token, _row = accounts.create_api_token(app.db, user_id, f"test {key}")
        return token

    return make


@pytest.fixture
def live_server(web: FastAPI) -> Iterator[str]:
    """The app served by uvicorn on a free port on this machine, in a background thread."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(web, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
