"""The web commands: `serve` on an empty database, API tokens and login links from the shell."""

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx


def test_tokens_create_prints_the_token_once_and_revoke_stops_it(run, client, app, people):
    code, out, err = run("tokens", "create", "regiekamer@example.nl", "--name", "rapport")
    assert 0 == code
    token = out.strip()
    assert token.startswith("ini_")
    assert "Bewaar het nu" in err
    headers = {"Authorization": f"Bearer {token}"}
    assert 200 == client.get("/api/initiatives", headers=headers).status_code
    code, out, _err = run("tokens", "list")
    assert token not in out
    token_id = int(out.split()[0])
    code, out, _err = run("tokens", "revoke", token_id)
    assert (0, f"Token {token_id} (rapport) is ingetrokken.") == (code, out.strip())
    response = client.get("/api/initiatives", headers=headers)
    assert (401, "token_ingetrokken") == (response.status_code, response.json()["code"])


def test_tokens_for_an_unknown_user_or_token_fail_in_dutch(run):
    code, _out, err = run("tokens", "create", "niemand")
    assert (5, True) == (code, "Onbekende gebruiker" in err)
    code, _out, err = run("tokens", "revoke", 999)
    assert (6, "Fout: Token 999 bestaat niet.") == (code, err.strip())


def test_login_link_prints_a_working_one_time_link(run, client, app, people):
    code, out, _err = run("login-link", "griffie_dordrecht")
    assert 0 == code
    path = re.search(r"(/inloggen/link/\S+)", out).group(1)
    confirm = client.get(path)
    assert 200 == confirm.status_code
    token = re.search(r'name="csrf_token" value="([^"]+)"', confirm.text).group(1)
    assert 303 == client.post(path, data={"csrf_token": token}).status_code
    assert 410 == client.post(path, data={"csrf_token": token}).status_code


def test_serve_on_an_empty_database_is_ready_quickly_and_explains_the_first_login(tmp_path):
    """Always a fresh SQLite file: this is what `serve` does on a new machine."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("INITIATIEF_")}
    env.update(INITIATIEF_DATA_DIR=str(tmp_path / "data"), PYTHONUNBUFFERED="1")
    command = [sys.executable, "-c", "from workflow.cli import main; main()", "serve", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True)
    reader.start()
    try:
        health = None
        # How fast it starts is measured in tests/benchmarks/test_serve_start.py; this only waits.
        with httpx.Client(timeout=1) as poller:
            while health is None and time.monotonic() - started < 20:
                try:
                    health = poller.get(f"{base}/api/health")
                except httpx.TransportError:
                    time.sleep(0.05)
        assert health is not None and 200 == health.status_code
        assert {"status": "ok", "scheduler": "actief"} == health.json()
        printed = []
        while not any("/eerste-keer/" in line for line in printed):
            printed.append(lines.get(timeout=5))
        setup = re.search(rf"{re.escape(base)}(/eerste-keer/\S+)", "".join(printed)).group(1)
        with httpx.Client(base_url=base) as browser:
            assert "Er is nog geen beheerder." in browser.get("/inloggen").text
            form = browser.get(setup)
            token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
            created = browser.post(setup, data={
                "csrf_token": token, "name": "Eerste Beheerder", "email": "beheer@example.nl",
                "password": "een lang wachtwoord", "password_repeat": "een lang wachtwoord"})
            assert (303, "/beheer/gebruikers") == (created.status_code, created.headers["location"])
            assert "Eerste Beheerder" in browser.get("/beheer/gebruikers").text
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=15)
        reader.join(timeout=5)
        process.stdout.close()
    output = "".join(printed) + "".join(lines.get() for _ in range(lines.qsize()))
    assert f"Initiatief draait op {base}" in output
    assert "Database aangemaakt (versie" in output
    assert 'initiatief users add "Uw naam" --email u@gemeente.nl --role admin' in output
    assert (tmp_path / "data" / "initiatief.db").exists()
    assert 0 == process.returncode
