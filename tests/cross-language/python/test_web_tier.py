"""The example web tier's own pages and endpoints, driven with plain requests."""

import time

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


def login(s, as_url, **params):
    page = s.get(f"{as_url}/authorize", params={**AUTHORIZATION, **params}, timeout=TIMEOUT)
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    return page, {"csrf": csrf, "decision": "allow", "username": "alice", "password": "wonderland"}


def test_prompt_login_and_max_age_ask_a_logged_in_user_to_log_in_again(as_url):
    s = requests.Session()
    _, form = login(s, as_url)
    done = s.post(f"{as_url}/authorize/decision", data=form, timeout=TIMEOUT, allow_redirects=False)
    assert done.status_code in (302, 303), done.text
    again, _ = login(s, as_url)
    assert "Signed in as alice" in again.text and 'name="password"' not in again.text
    for params in ({"prompt": "login"}, {"max_age": "1"}):
        if "max_age" in params:
            time.sleep(2.1)  # the login above is now older than max_age
        page, form = login(s, as_url, **params)
        assert 'name="password"' in page.text, params
        skipped = s.post(f"{as_url}/authorize/decision", timeout=TIMEOUT, allow_redirects=False,
                         data={"csrf": form["csrf"], "decision": "allow"})
        assert skipped.status_code == 200 and "Wrong username or password" in skipped.text, params
        done = s.post(f"{as_url}/authorize/decision", data=form, timeout=TIMEOUT,
                      allow_redirects=False)
        assert done.status_code in (302, 303), params


def test_a_bad_authorization_request_is_answered_by_the_service(as_url):
    res = requests.get(f"{as_url}/authorize", params={"client_id": "no-such-client"},
                       timeout=TIMEOUT, allow_redirects=False)
    assert res.status_code == 400
    assert res.headers["Cache-Control"] == "no-store"
    assert res.json()["error"] == "invalid_request"


def test_jwks_and_unknown_paths(as_url):
    keys = requests.get(f"{as_url}/jwks", timeout=TIMEOUT).json()["keys"]
    # One key per algorithm the engine signs with, each named and labelled.
    assert sorted(k["alg"] for k in keys) == ["ES256", "EdDSA", "PS256", "RS256"]
    assert sorted(k["kty"] for k in keys) == ["EC", "OKP", "RSA", "RSA"]
    assert all("d" not in k and k["kid"] for k in keys)
    assert requests.get(f"{as_url}/nowhere", timeout=TIMEOUT).status_code == 404


# The device flow's endpoints and pages (the whole flow runs in openid-client.test.mjs).
def device_authorization(as_url, auth=("example-app", "example-secret"), **form):
    return requests.post(f"{as_url}/device_authorization", auth=auth, data=form, timeout=TIMEOUT)


def test_device_authorization_checks_the_client(as_url):
    ok = device_authorization(as_url, scope="openid")
    assert ok.status_code == 200 and ok.headers["Cache-Control"] == "no-store"
    assert set(ok.json()) >= {"device_code", "user_code", "verification_uri", "expires_in"}
    wrong = device_authorization(as_url, ("example-app", "wrong"))
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    spa = device_authorization(as_url, None, client_id="example-spa")  # no device_code grant
    assert spa.status_code == 400 and spa.json()["error"] == "unauthorized_client"


def test_the_token_endpoint_takes_device_codes(as_url):
    code = device_authorization(as_url, scope="profile").json()["device_code"]
    res = requests.post(f"{as_url}/token", auth=("example-app", "example-secret"), timeout=TIMEOUT,
                        data={"grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                              "device_code": code})
    assert res.status_code == 400 and res.json()["error"] == "authorization_pending"


def test_the_verification_page(as_url):
    page = requests.get(f"{as_url}/device", timeout=TIMEOUT)
    assert page.status_code == 200 and 'name="user_code" value=""' in page.text
    prefilled = requests.get(f"{as_url}/device", params={"user_code": '"><b>x'}, timeout=TIMEOUT)
    assert 'value="&quot;&gt;&lt;b&gt;x"' in prefilled.text
    unknown = requests.post(f"{as_url}/device", data={"user_code": "BCDFGHJK"}, timeout=TIMEOUT)
    assert unknown.status_code == 404 and "There is no such code" in unknown.text
    empty = requests.post(f"{as_url}/device", data={"user_code": " "}, timeout=TIMEOUT)
    assert empty.status_code == 400 and "Type the code" in empty.text


def test_a_device_consent_goes_to_its_own_decision_route(as_url):
    user_code = device_authorization(as_url, scope="profile").json()["user_code"]
    s = requests.Session()
    page = s.post(f"{as_url}/device", data={"user_code": user_code}, timeout=TIMEOUT)
    assert page.status_code == 200 and "Example App asks for access" in page.text
    assert 'action="/device/decision"' in page.text
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    login = {"csrf": csrf, "decision": "allow", "username": "alice", "password": "wonderland"}
    assert s.post(f"{as_url}/authorize/decision", data=login, timeout=TIMEOUT,
                  allow_redirects=False).status_code == 400
    assert s.post(f"{as_url}/device/decision", data={**login, "csrf": "forged"},
                  timeout=TIMEOUT).status_code == 400
    wrong = s.post(f"{as_url}/device/decision", data={**login, "password": "nope"}, timeout=TIMEOUT)
    assert wrong.status_code == 200 and "Wrong username or password" in wrong.text
    done = s.post(f"{as_url}/device/decision", data=login, timeout=TIMEOUT)
    assert done.status_code == 200 and "<h1>Done</h1>" in done.text
