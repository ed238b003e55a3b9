"""authlib as an OAuth client of the example web tier (Python or PHP, AS_URL):
client_credentials, the password grant, introspection and revocation."""

import pytest
from authlib.integrations.requests_client import OAuth2Session, OAuthError

TIMEOUT = 10


def app(**kw):
    return OAuth2Session("example-app", "example-secret",
                         token_endpoint_auth_method="client_secret_basic", **kw)


def resource_server():
    return OAuth2Session("resource-server", "rs-secret")


def test_client_credentials(as_url):
    token = app(scope="profile email").fetch_token(
        f"{as_url}/token", grant_type="client_credentials", timeout=TIMEOUT)
    assert token["token_type"] == "Bearer"
    assert token["access_token"]
    assert 0 < token["expires_in"] <= 3600
    assert sorted(token["scope"].split()) == ["email", "profile"]
    assert "refresh_token" not in token


def test_client_credentials_wrong_secret(as_url):
    client = OAuth2Session("example-app", "wrong", token_endpoint_auth_method="client_secret_basic")
    with pytest.raises(OAuthError) as e:
        client.fetch_token(f"{as_url}/token", grant_type="client_credentials", timeout=TIMEOUT)
    assert e.value.error == "invalid_client"


def test_password_grant_then_userinfo(as_url):
    client = app(scope="openid profile email")
    token = client.fetch_token(f"{as_url}/token", username="alice", password="wonderland",
                               timeout=TIMEOUT)
    assert token["access_token"] and token["refresh_token"]
    info = client.get(f"{as_url}/userinfo", timeout=TIMEOUT)
    assert info.status_code == 200
    assert info.headers["Cache-Control"] == "no-store"
    assert info.json() == {"sub": "alice", "name": "Alice Liddell", "given_name": "Alice",
                           "family_name": "Liddell", "email": "alice@example.com",
                           "email_verified": True}


# A wrong password is /auth/token/fail INVALID_RESOURCE_OWNER_CREDENTIALS, which
# Authlete answers with invalid_grant (RFC 6749 section 5.2).
def test_password_grant_wrong_password(as_url):
    with pytest.raises(OAuthError) as e:
        app(scope="profile").fetch_token(f"{as_url}/token", username="alice", password="nope",
                                         timeout=TIMEOUT)
    assert e.value.error == "invalid_grant"


def test_password_grant_unknown_user(as_url):
    with pytest.raises(OAuthError) as e:
        app(scope="profile").fetch_token(f"{as_url}/token", username="bob", password="x",
                                         timeout=TIMEOUT)
    assert e.value.error == "invalid_grant"


def test_introspection(as_url):
    token = app(scope="profile").fetch_token(f"{as_url}/token", username="alice",
                                             password="wonderland", timeout=TIMEOUT)
    res = resource_server().introspect_token(f"{as_url}/introspect", token=token["access_token"],
                                             timeout=TIMEOUT)
    assert res.status_code == 200
    body = res.json()
    assert body["active"] is True
    assert body["sub"] == "alice"
    assert body["client_id"] == "example-app"
    assert body["scope"] == "profile"
    unknown = resource_server().introspect_token(f"{as_url}/introspect", token="no-such-token",
                                                 timeout=TIMEOUT)
    assert unknown.json() == {"active": False}


def test_introspection_needs_a_resource_server(as_url):
    res = app().introspect_token(f"{as_url}/introspect", token="whatever", timeout=TIMEOUT)
    assert res.status_code == 401
    assert res.headers["WWW-Authenticate"] == 'Basic realm="introspection"'


def test_revocation(as_url):
    client = app(scope="profile")
    token = client.fetch_token(f"{as_url}/token", username="alice", password="wonderland",
                               timeout=TIMEOUT)
    res = client.revoke_token(f"{as_url}/revoke", token=token["refresh_token"],
                              token_type_hint="refresh_token", timeout=TIMEOUT)
    assert res.status_code == 200
    for t in (token["access_token"], token["refresh_token"]):  # revoking one revokes both
        body = resource_server().introspect_token(f"{as_url}/introspect", token=t,
                                                  timeout=TIMEOUT).json()
        assert body == {"active": False}
    with pytest.raises(OAuthError) as e:
        client.refresh_token(f"{as_url}/token", refresh_token=token["refresh_token"],
                             timeout=TIMEOUT)
    assert e.value.error == "invalid_grant"


def test_revocation_wrong_client_secret(as_url):
    res = OAuth2Session("example-app", "wrong").revoke_token(f"{as_url}/revoke", token="x",
                                                             timeout=TIMEOUT)
    assert res.status_code == 401
    assert res.json()["error"] == "invalid_client"
