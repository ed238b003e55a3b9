"""A CIBA poll flow (OpenID Connect CIBA Core 1.0) through the example web tier, with
plain requests: the client starts the backchannel request, the user approves on their
authentication device (the web tier's /backchannel/device), and the client polls the
token endpoint until it gets the tokens."""

import base64
import json
import time

import pytest
import requests

TIMEOUT = 10
CLIENT = ("example-ciba", "example-ciba-secret")
GRANT = "urn:openid:params:grant-type:ciba"


def backchannel(as_url, **params):
    res = requests.post(f"{as_url}/backchannel", data=params, auth=CLIENT, timeout=TIMEOUT)
    if res.status_code == 404:
        pytest.skip("this web tier exposes no CIBA backchannel endpoint")
    return res


def poll(as_url, auth_req_id):
    return requests.post(f"{as_url}/token", auth=CLIENT, timeout=TIMEOUT,
                         data={"grant_type": GRANT, "auth_req_id": auth_req_id})


def device(as_url, decision, password="wonderland"):
    return requests.post(f"{as_url}/backchannel/device", timeout=TIMEOUT, data={
        "username": "alice", "password": password, "decision": decision})


def claims(jwt):
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_discovery_advertises_the_backchannel_endpoint(as_url):
    no_hint = backchannel(as_url, scope="openid")  # skips on a web tier without the endpoint
    assert (no_hint.status_code, no_hint.json()["error"]) == (400, "invalid_request")
    doc = requests.get(f"{as_url}/.well-known/openid-configuration", timeout=TIMEOUT).json()
    assert doc["backchannel_authentication_endpoint"] == f"{as_url}/backchannel"
    assert "poll" in doc["backchannel_token_delivery_modes_supported"]
    assert GRANT in doc["grant_types_supported"]


def test_poll_flow_until_the_user_approves_on_their_device(as_url):
    res = backchannel(as_url, scope="openid email", login_hint="alice", binding_message="W4SCT")
    assert res.status_code == 200, res.text
    assert res.headers["Cache-Control"] == "no-store"
    started = res.json()
    auth_req_id, interval = started["auth_req_id"], started.get("interval", 0)
    assert started["expires_in"] > 0

    pending = poll(as_url, auth_req_id)
    assert (pending.status_code, pending.json()["error"]) == (400, "authorization_pending")
    assert device(as_url, "approve", password="wrong").status_code == 401
    decided = device(as_url, "approve")
    assert decided.status_code == 200, decided.text
    assert decided.json() == {"client": "Example CIBA App", "binding_message": "W4SCT",
                              "result": "NO_ACTION"}

    deadline = time.monotonic() + 30
    while True:
        time.sleep(interval)
        res = poll(as_url, auth_req_id)
        if res.status_code != 400 or res.json()["error"] not in ("authorization_pending", "slow_down"):
            break
        assert time.monotonic() < deadline, "no tokens within 30 s"
    assert res.status_code == 200, res.text
    tokens = res.json()
    assert tokens["token_type"] == "Bearer" and tokens["access_token"] and tokens["refresh_token"]
    id_token = claims(tokens["id_token"])
    assert (id_token["sub"], id_token["aud"], id_token["iss"]) == ("alice", CLIENT[0], as_url)
    assert id_token["email"] == "alice@example.com"
    replay = poll(as_url, auth_req_id)
    assert (replay.status_code, replay.json()["error"]) == (400, "invalid_grant")


def test_a_denial_and_an_unknown_user_reach_the_client(as_url):
    res = backchannel(as_url, scope="openid", login_hint="alice")
    auth_req_id = res.json()["auth_req_id"]
    assert device(as_url, "deny").json()["result"] == "NO_ACTION"
    denied = poll(as_url, auth_req_id)
    assert (denied.status_code, denied.json()["error"]) == (400, "access_denied")
    assert device(as_url, "approve").status_code == 404, "nothing left to decide"

    nobody = backchannel(as_url, scope="openid", login_hint="nobody")
    assert (nobody.status_code, nobody.json()["error"]) == (400, "unknown_user_id")
    unknown_client = requests.post(f"{as_url}/backchannel", auth=("nobody", "x"), timeout=TIMEOUT,
                                   data={"scope": "openid", "login_hint": "alice"})
    assert unknown_client.status_code == 401
    assert unknown_client.headers["WWW-Authenticate"] == 'Basic realm="backchannel/authentication"'
