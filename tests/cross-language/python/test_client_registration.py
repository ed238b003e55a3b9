"""Dynamic client registration (RFC 7591) and management (RFC 7592) at the example
web tier (Python or PHP, AS_URL), with plain requests; the registered client
gets its tokens with Authlib."""

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError

TIMEOUT = 10
INITIAL_ACCESS_TOKEN = {"Authorization": "Bearer example-initial-access-token"}  # engine.toml
METADATA = {"client_name": "Python Tool", "redirect_uris": ["http://localhost:4000/cb"],
            "grant_types": ["authorization_code", "client_credentials"],
            "response_types": ["code"], "token_endpoint_auth_method": "client_secret_basic",
            "contacts": ["ops@example.com"]}


def register(as_url, metadata=METADATA, headers=INITIAL_ACCESS_TOKEN):
    return requests.post(f"{as_url}/register", json=metadata, headers=headers, timeout=TIMEOUT)


def client_credentials(as_url, client_id, secret):
    return OAuth2Session(client_id, secret, scope="profile").fetch_token(
        f"{as_url}/token", grant_type="client_credentials", timeout=TIMEOUT)


def authorization_page(as_url, client_id, redirect_uri):
    return requests.get(f"{as_url}/authorize", timeout=TIMEOUT, allow_redirects=False, params={
        "client_id": client_id, "response_type": "code", "scope": "openid",
        "redirect_uri": redirect_uri})


def test_register_read_update_delete(as_url):
    res = register(as_url)
    assert res.status_code == 201
    assert res.headers["Content-Type"].startswith("application/json")
    assert res.headers["Cache-Control"] == "no-store"
    reg = res.json()
    client_id, secret = reg["client_id"], reg["client_secret"]
    uri = reg["registration_client_uri"]
    assert uri == f"{as_url}/register/{client_id}"
    assert {k: reg[k] for k in METADATA} == METADATA
    manage = {"Authorization": f"Bearer {reg['registration_access_token']}"}
    token = client_credentials(as_url, client_id, secret)
    assert token["access_token"]

    got = requests.get(uri, headers=manage, timeout=TIMEOUT)
    assert got.status_code == 200
    assert got.json()["client_secret"] == secret
    assert got.json()["redirect_uris"] == METADATA["redirect_uris"]

    # RFC 7592 section 2.2: the whole metadata, with the client's own client_id.
    new_uri = "http://localhost:4000/new-cb"
    updated = requests.put(uri, headers=manage, timeout=TIMEOUT, json={
        **METADATA, "client_id": client_id, "redirect_uris": [new_uri]})
    assert updated.status_code == 200
    assert updated.json()["redirect_uris"] == [new_uri]
    assert updated.json()["client_secret"] == secret
    assert requests.get(uri, headers=manage, timeout=TIMEOUT).json()["redirect_uris"] == [new_uri]
    assert authorization_page(as_url, client_id, new_uri).status_code == 200
    old = authorization_page(as_url, client_id, METADATA["redirect_uris"][0])
    assert old.status_code == 400 and old.json()["error"] == "invalid_request"

    deleted = requests.delete(uri, headers=manage, timeout=TIMEOUT)
    assert deleted.status_code == 204
    assert deleted.content == b"" and "Content-Length" not in deleted.headers
    assert requests.get(uri, headers=manage, timeout=TIMEOUT).status_code == 401
    with pytest.raises(OAuthError) as e:
        client_credentials(as_url, client_id, secret)
    assert e.value.error == "invalid_client"
    introspection = requests.post(f"{as_url}/introspect", auth=("resource-server", "rs-secret"),
                                  data={"token": token["access_token"]}, timeout=TIMEOUT)
    assert introspection.json() == {"active": False}


def test_registration_needs_the_initial_access_token(as_url):
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        res = register(as_url, headers=headers)
        assert res.status_code == 401
        assert res.json()["error"] == "invalid_token"


def test_bad_metadata_is_refused(as_url):
    res = register(as_url, {**METADATA, "redirect_uris": ["http://attacker.example/cb"]})
    assert res.status_code == 400 and res.json()["error"] == "invalid_redirect_uri"
    for body in ("not json", "[]", ""):
        res = requests.post(f"{as_url}/register", data=body, headers=INITIAL_ACCESS_TOKEN,
                            timeout=TIMEOUT)
        assert res.status_code == 400 and res.json()["error"] == "invalid_client_metadata"


def test_management_needs_the_clients_own_registration_access_token(as_url):
    mine, theirs = register(as_url).json(), register(as_url).json()
    uri = mine["registration_client_uri"]
    no_token = requests.get(uri, timeout=TIMEOUT)
    assert no_token.status_code == 401 and no_token.headers["WWW-Authenticate"] == "Bearer"
    for token in (theirs["registration_access_token"], "wrong"):
        headers = {"Authorization": f"Bearer {token}"}
        assert requests.get(uri, headers=headers, timeout=TIMEOUT).status_code == 401
        assert requests.put(uri, headers=headers, json=METADATA, timeout=TIMEOUT).status_code == 401
        assert requests.delete(uri, headers=headers, timeout=TIMEOUT).status_code == 401
    configured = requests.get(f"{as_url}/register/example-app",
                              headers={"Authorization": f"Bearer {mine['registration_access_token']}"},
                              timeout=TIMEOUT)
    assert configured.status_code == 401
    for reg in (mine, theirs):  # both still work
        client_credentials(as_url, reg["client_id"], reg["client_secret"])
