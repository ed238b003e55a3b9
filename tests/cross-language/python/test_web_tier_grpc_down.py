"""The web tier when authlete-grpc hangs or goes away: a plain 500, no detail leaked.
Runs last (see conftest.py): it stops the service (ENGINE_PID, at GRPC_ADDR). The
script gives the web tier a 3 s deadline per call (--grpc-timeout 3, AUTHLETE_GRPC_TIMEOUT=3)."""

import os
import signal
import socket
import time

import requests

TIMEOUT = 10


def refused(addr):
    host, port = addr.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
        return False
    except OSError:
        return True


def assert_plain_500(res, grpc_addr):
    assert res.status_code == 500
    assert res.headers["Content-Type"] == "application/json"
    assert res.json() == {"error": "server_error"}  # nothing about gRPC, addresses or causes
    assert grpc_addr.rsplit(":", 1)[1] not in res.text


def test_a_stuck_service_is_a_plain_500_after_the_deadline(as_url):
    grpc_addr, pid = os.environ["GRPC_ADDR"], int(os.environ["ENGINE_PID"])
    os.kill(pid, signal.SIGSTOP)
    try:
        start = time.monotonic()
        res = requests.get(f"{as_url}/jwks", timeout=TIMEOUT)
        elapsed = time.monotonic() - start
    finally:
        os.kill(pid, signal.SIGCONT)
    assert_plain_500(res, grpc_addr)
    assert 2.5 < elapsed < 8, elapsed
    assert requests.get(f"{as_url}/jwks", timeout=TIMEOUT).status_code == 200


def test_grpc_failure_is_a_plain_500(as_url):
    grpc_addr, pid = os.environ["GRPC_ADDR"], int(os.environ["ENGINE_PID"])
    assert requests.get(f"{as_url}/.well-known/openid-configuration", timeout=TIMEOUT).ok

    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while not refused(grpc_addr):
        assert time.monotonic() < deadline, "the service did not stop"
        time.sleep(0.1)

    for res in (requests.get(f"{as_url}/.well-known/openid-configuration", timeout=TIMEOUT),
                requests.post(f"{as_url}/token", data={"grant_type": "client_credentials"},
                              auth=("example-app", "example-secret"), timeout=TIMEOUT),
                requests.get(f"{as_url}/authorize?client_id=example-app&response_type=code",
                             timeout=TIMEOUT, allow_redirects=False)):
        assert_plain_500(res, grpc_addr)
