"""Helpers for the web tests: the CSRF token of a page, passwords, logging in through the form."""

import re

from fastapi.testclient import TestClient

from workflow.app import App
from workflow.testing import People
from workflow.web import accounts

PASSWORD = "correct paard batterij niet"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')



def csrf_of(html: str) -> str:
    found = CSRF_INPUT.search(html)
    assert found is not None, "page has no CSRF field"
    return found.group(1)


def set_password(app: App, people: People, key: str, password: str = PASSWORD) -> None:
    user_id = people[key].user_id
    assert user_id is not None
    accounts.set_password(app.db, user_id, password, check_current=False)


def log_in(client: TestClient, app: App, people: People, key: str) -> str:
    """Logs `key` in through the login form; returns the CSRF token of the new session."""
    set_password(app, people, key)
    page = client.get("/inloggen")
    response = client.post(
        "/inloggen",
        data={"email": people.emails[key], "password": PASSWORD, "csrf_token": csrf_of(page.text)},
    )
    assert response.status_code == 303, response.text
    home = client.get("/wacht-op-mij")
    assert home.status_code == 200
    return csrf_of(home.text)
