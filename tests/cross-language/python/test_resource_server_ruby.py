"""The Ruby resource server (examples/ruby/server.rb), which checks bearer tokens
with IntrospectionService over Connect JSON: tokens come from the web tier's
token endpoint with Authlib, the resource server answers 200, 401 or 403."""

import os

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session

TIMEOUT = 10


@pytest.fixture(scope="session")
def rs_url():
    url = os.environ.get("RS_URL")
    assert url, "RS_URL is not set"
    return url


def token(as_url, scope):
    return OAuth2Session("example-app", "example-secret", scope=scope).fetch_token(
        f"{as_url}/token", grant_type="client_credentials", timeout=TIMEOUT)["access_token"]


def get(url, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(url, headers=headers, timeout=TIMEOUT)


def test_a_token_with_the_routes_scope_gets_the_resource(as_url, rs_url):
    t = token(as_url, "profile email")
    for path in ("/profile", "/email"):
        res = get(f"{rs_url}{path}", t)
        assert res.status_code == 200, res.text
        assert res.headers["Cache-Control"] == "no-store"
        body = res.json()
        assert body["client_id"] == "example-app" and body["resource"] == path
        assert sorted(body["scopes"]) == ["email", "profile"]


def test_no_token_is_a_challenge_without_an_error_code(rs_url):
    for headers in ({}, {"Authorization": "Basic ZXhhbXBsZTp4"}, {"Authorization": "Bearer "}):
        res = requests.get(f"{rs_url}/profile", headers=headers, timeout=TIMEOUT)
        assert res.status_code == 401
        assert res.headers["WWW-Authenticate"] == 'Bearer realm="example-rs"'


def test_an_unknown_or_revoked_token_is_the_services_invalid_token(as_url, rs_url):
    t = token(as_url, "profile")
    assert get(f"{rs_url}/profile", t).status_code == 200
    revoked = requests.post(f"{as_url}/revoke", auth=("example-app", "example-secret"),
                            data={"token": t}, timeout=TIMEOUT)
    assert revoked.status_code == 200
    for bad in (t, "no-such-token"):
        res = get(f"{rs_url}/profile", bad)
        assert res.status_code == 401
        assert res.headers["WWW-Authenticate"].startswith("Bearer ")
        assert 'error="invalid_token"' in res.headers["WWW-Authenticate"]
        assert res.headers["Cache-Control"] == "no-store"


def test_a_token_without_the_routes_scope_is_insufficient_scope(as_url, rs_url):
    res = get(f"{rs_url}/email", token(as_url, "profile"))
    assert res.status_code == 403
    assert 'error="insufficient_scope"' in res.headers["WWW-Authenticate"]
    assert 'scope="email"' in res.headers["WWW-Authenticate"]


def test_unknown_paths(rs_url):
    assert requests.get(f"{rs_url}/nowhere", timeout=TIMEOUT).status_code == 404
