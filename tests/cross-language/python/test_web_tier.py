"""The example web tier's own pages, driven with plain requests."""

import requests

TIMEOUT = 10
AUTHORIZATION = {"client_id": "example-app", "response_type": "code", "scope": "openid",
                 "redirect_uri": "http://localhost:3000/callback"}


def test_authorization_by_post_shows_the_login_page(as_url):
    res = requests.post(f"{as_url}/authorize", data=AUTHORIZATION, timeout=TIMEOUT,
                        allow_redirects=False)
    assert res.status_code == 200
    assert "Example App asks for access" in res.text
    assert 'name="password"' in res.text
    cookie = res.headers["Set-Cookie"]
    assert cookie.startswith("sid=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_decision_without_its_csrf_token_is_refused(as_url):
    s = requests.Session()
    assert s.get(f"{as_url}/authorize", params=AUTHORIZATION, timeout=TIMEOUT).status_code == 200
    res = s.post(f"{as_url}/authorize/decision", timeout=TIMEOUT, allow_redirects=False,
                 data={"csrf": "forged", "decision": "allow", "username": "alice",
                       "password": "wonderland"})
    assert res.status_code == 400


def test_a_bad_authorization_request_is_answered_by_the_service(as_url):
    res = requests.get(f"{as_url}/authorize", params={"client_id": "no-such-client"},
                       timeout=TIMEOUT, allow_redirects=False)
    assert res.status_code == 400
    assert res.headers["Cache-Control"] == "no-store"
    assert res.json()["error"] == "invalid_request"


def test_jwks_and_unknown_paths(as_url):
    keys = requests.get(f"{as_url}/jwks", timeout=TIMEOUT).json()["keys"]
    assert [k["kty"] for k in keys] == ["EC"] and all("d" not in k for k in keys)
    assert requests.get(f"{as_url}/nowhere", timeout=TIMEOUT).status_code == 404
