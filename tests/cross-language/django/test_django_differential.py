"""Differential test: the service's ready `http` against Authlete's own Python
reference handlers (PyPI authlete-django, with its dependency authlete), for
the same Authlete replies.

One recording fake Authlete (a standard-library HTTP server on loopback, in
this process: no Authlete test double installs here) answers both sides. The
handlers run without a Django project (settings.configure() and
RequestFactory) on the authlete library's AuthleteApiImpl pointed at the fake;
the real authlete-grpc binary (AUTHLETE_GRPC_BIN) runs the Authlete backend
(v2, loopback http) against the same fake. For each case both get the same
scripted replies; the test compares status, the headers either side sets, and
the body, and that both made the same Authlete calls.

Where they differ, the case names the difference and its reason (also in
ARCHITECTURE.md); the service follows authlete-java-jaxrs in each:
  - NATIVE_SSO: the authlete library 1.3.0 does not know the action (its reply
    cannot be read: KeyError); the service answers 400 invalid_grant;
  - ID_TOKEN_REISSUABLE: authlete-django calls ResponseUtility.ok, which does
    not exist (AttributeError); the service answers 200 with responseContent;
  - userinfo errors with a DPoP nonce: authlete-django passes its headers dict
    where the body goes (argument order), so the nonce is lost and the body is
    the dict's key; the service sends the challenge and the DPoP-Nonce header;
  - userinfo without a token: the same fixed 400 challenge, with jaxrs's
    error_description in the service;
  - PAR UNAUTHORIZED: authlete-django adds `WWW-Authenticate: Basic
    realm="par"`, jaxrs (and the service) none.
Content-Type is compared by media type: authlete-django passes charset="UTF-8"
with an explicit content type, which Django ignores, so it sends
"application/json" where the service (as jaxrs) sends
"application/json;charset=UTF-8" (JSON is UTF-8 either way, RFC 8259). A
response without a body has no Content-Type to compare (Django always sets
text/html on one).
"""

import json
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
os.environ["NO_PROXY"] = "127.0.0.1,localhost"

# The generated stubs live in the `authlete.v1` package, the authlete library
# in `authlete`: let the library's package also hold the stubs.
import authlete  # noqa: E402

authlete.__path__.append(str(ROOT / "examples" / "python" / "gen" / "authlete"))

import grpc  # noqa: E402
from authlete.v1 import (  # noqa: E402
    authorization_pb2 as authz_pb,
    authorization_pb2_grpc as authz_grpc,
    introspection_pb2 as intro_pb,
    introspection_pb2_grpc as intro_grpc,
    pushed_authorization_pb2 as par_pb,
    pushed_authorization_pb2_grpc as par_grpc,
    revocation_pb2 as rev_pb,
    revocation_pb2_grpc as rev_grpc,
    token_pb2 as token_pb,
    token_pb2_grpc as token_grpc,
    userinfo_pb2 as ui_pb,
    userinfo_pb2_grpc as ui_grpc,
)

import django  # noqa: E402
from django.conf import settings  # noqa: E402

settings.configure(DEBUG=False, ALLOWED_HOSTS=["*"], DEFAULT_CHARSET="utf-8")
django.setup()

from authlete.api.authlete_api_impl import AuthleteApiImpl  # noqa: E402
from authlete.conf.authlete_configuration import AuthleteConfiguration  # noqa: E402
from authlete.django.handler.authorization_request_error_handler import (  # noqa: E402
    AuthorizationRequestErrorHandler,
)
from authlete.django.handler.introspection_request_handler import IntrospectionRequestHandler  # noqa: E402
from authlete.django.handler.par_request_handler import ParRequestHandler  # noqa: E402
from authlete.django.handler.revocation_request_handler import RevocationRequestHandler  # noqa: E402
from authlete.django.handler.spi.token_request_handler_spi_adapter import (  # noqa: E402
    TokenRequestHandlerSpiAdapter,
)
from authlete.django.handler.spi.userinfo_request_handler_spi_adapter import (  # noqa: E402
    UserInfoRequestHandlerSpiAdapter,
)
from authlete.django.handler.token_request_handler import TokenRequestHandler  # noqa: E402
from authlete.django.handler.userinfo_request_handler import UserInfoRequestHandler  # noqa: E402
from authlete.dto.authorization_request import AuthorizationRequest  # noqa: E402
from django.test import RequestFactory  # noqa: E402

PROFILE = {"name": "Alice", "name#ja": "アリス", "email": "alice@example.com", "phone_number": "+1"}
FORM = "application/x-www-form-urlencoded"


class FakeAuthlete:
    """Scripted JSON replies by API path, and the calls received, in order."""

    def __init__(self):
        self.replies, self.calls = {}, []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                path = self.path.split("?")[0].removeprefix("/api")
                fake.calls.append((path, json.loads(body) if body else None))
                reply = fake.replies.get(path)
                data = json.dumps(reply).encode() if reply is not None else b"{}"
                self.send_response(200 if reply is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST  # noqa: N815

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def script(self, replies):
        self.replies, self.calls = dict(replies), []

    def paths(self):
        return [p for p, _ in self.calls]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def fake():
    f = FakeAuthlete()
    yield f
    f.server.shutdown()


@pytest.fixture(scope="module")
def channel(fake):
    binary = os.environ.get("AUTHLETE_GRPC_BIN")
    assert binary, "AUTHLETE_GRPC_BIN is not set (scripts/test-cross-language.sh sets it)"
    port = free_port()
    env = dict(os.environ, AUTHLETE_BASE_URL=fake.url, AUTHLETE_API_VERSION="V2",
               AUTHLETE_SERVICE_APIKEY="key", AUTHLETE_SERVICE_APISECRET="secret", RUST_LOG="warn")
    service = subprocess.Popen(
        [binary, "--backend", "authlete", "--listen", f"127.0.0.1:{port}", "--insecure-no-caller-auth"],
        env=env, stdout=subprocess.DEVNULL, stderr=sys.stderr)
    ch = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        grpc.channel_ready_future(ch).result(timeout=30)
        yield ch
    finally:
        ch.close()
        service.terminate()
        service.wait(timeout=10)


@pytest.fixture(scope="module")
def api(fake):
    cnf = AuthleteConfiguration()
    cnf.baseUrl, cnf.serviceApiKey, cnf.serviceApiSecret = fake.url, "key", "secret"
    return AuthleteApiImpl(cnf)


def media(value):
    """A Content-Type's media type, case aside (see the module doc on charset)."""
    return (value or "").split(";")[0].strip().lower()


COMPARED = ("cache-control", "pragma", "www-authenticate", "location", "dpop-nonce",
            "oauth-client-attestation-challenge")


def from_django(response):
    body = response.content.decode()
    headers = {k.lower(): v for k, v in response.items() if k.lower() in COMPARED}
    if body:
        headers["content-type"] = media(response["Content-Type"])
    return response.status_code, headers, body


def from_service(http):
    headers = {h.name.lower(): h.value for h in http.headers if h.name.lower() in COMPARED}
    if http.body:
        headers["content-type"] = media(next(h.value for h in http.headers if h.name.lower() == "content-type"))
    return http.status, headers, http.body


def compare(fake, replies, django_side, service_side):
    """Runs both sides on the same replies; returns both results and calls."""
    fake.script(replies)
    theirs = from_django(django_side())
    their_calls = fake.paths()
    fake.script(replies)
    ours = from_service(service_side())
    assert fake.paths() == their_calls, "both make the same Authlete calls"
    return theirs, ours


rf = RequestFactory()


class TokenSpi(TokenRequestHandlerSpiAdapter):
    def authenticateUser(self, username, password):  # noqa: N802 (the SPI's name)
        return "alice" if (username, password) == ("alice", "wonderland") else None


def token_reply(action, **extra):
    return {"action": action, "resultCode": "A0", "resultMessage": "m",
            "responseContent": extra.pop("content", '{"error":"x"}'), **extra}


def django_token(api, form="grant_type=x"):
    return lambda: TokenRequestHandler(api, TokenSpi()).handle(rf.post("/token", form, content_type=FORM))


def service_token(channel, password_ok=None):
    def run():
        r = token_grpc.TokenServiceStub(channel).Token(token_pb.TokenRequest(parameters="grant_type=x"))
        if r.action == token_pb.TokenResponse.ACTION_PASSWORD:
            # The web tier's part of PASSWORD, as TokenSpi decides it.
            ok = (r.username, r.password) == ("alice", "wonderland")
            decision = token_pb.TokenDecisionRequest(continuation=r.continuation)
            if ok:
                decision.granted.subject = "alice"
            else:
                decision.denied.SetInParent()
            return token_grpc.TokenServiceStub(channel).TokenDecision(decision).http
        if r.HasField("http"):
            return r.http
        return r.unsupported_http  # the web tier supports none of these grants
    return run


@pytest.mark.parametrize("replies", [
    {"/auth/token": token_reply("OK", content='{"access_token":"at"}', dpopNonce="n-1")},
    {"/auth/token": token_reply("INVALID_CLIENT")},
    {"/auth/token": token_reply("BAD_REQUEST", dpopNonce="n-2")},
    {"/auth/token": token_reply("INTERNAL_SERVER_ERROR")},
    {"/auth/token": token_reply("PASSWORD", ticket="t", username="alice", password="wonderland",
                                dpopNonce="n-3"),
     "/auth/token/issue": token_reply("OK", content='{"access_token":"at"}')},
    {"/auth/token": token_reply("PASSWORD", ticket="t", username="alice", password="wrong"),
     "/auth/token/fail": token_reply("BAD_REQUEST", content='{"error":"invalid_grant"}')},
    {"/auth/token": token_reply("TOKEN_EXCHANGE", content=None, clientId=7, dpopNonce="n-4")},
    {"/auth/token": token_reply("JWT_BEARER", content=None, clientId=7, dpopNonce="n-5")},
], ids=["ok", "invalid_client", "bad_request", "server_error", "password_right", "password_wrong",
        "token_exchange_unsupported", "jwt_bearer_unsupported"])
def test_token_endpoint(fake, api, channel, replies):
    theirs, ours = compare(fake, replies, django_token(api), service_token(channel))
    assert ours == theirs


def test_token_native_sso_follows_jaxrs_where_authlete_django_has_no_branch(fake, api, channel):
    replies = {"/auth/token": token_reply("NATIVE_SSO", content=None, dpopNonce="n-6")}
    fake.script(replies)
    # The authlete library's TokenAction has no NATIVE_SSO: its reply cannot
    # even be read, so authlete-django never reaches a response.
    with pytest.raises(KeyError):
        django_token(api)()
    fake.script(replies)
    status, headers, body = from_service(service_token(channel)())
    assert (status, json.loads(body)["error"]) == (400, "invalid_grant")
    assert "dpop-nonce" not in headers, "jaxrs sends no endpoint headers on it"


def test_token_id_token_reissuable_breaks_authlete_django(fake, api, channel):
    replies = {"/auth/token": token_reply("ID_TOKEN_REISSUABLE", content='{"access_token":"at"}')}
    fake.script(replies)
    with pytest.raises(AttributeError):
        django_token(api)()
    fake.script(replies)
    assert from_service(service_token(channel)()) == (
        200, {"cache-control": "no-store", "pragma": "no-cache",
              "content-type": "application/json"}, '{"access_token":"at"}')


@pytest.mark.parametrize("action", ["OK", "BAD_REQUEST", "INTERNAL_SERVER_ERROR"])
def test_standard_introspection(fake, api, channel, action):
    replies = {"/auth/introspection/standard": token_reply(action, content='{"active":true}')}
    theirs, ours = compare(
        fake, replies,
        lambda: IntrospectionRequestHandler(api).handle(rf.post("/introspect", "token=at", content_type=FORM)),
        lambda: intro_grpc.IntrospectionServiceStub(channel).StandardIntrospection(
            intro_pb.StandardIntrospectionRequest(parameters="token=at")).http)
    assert ours == theirs


@pytest.mark.parametrize("action", ["OK", "INVALID_CLIENT", "BAD_REQUEST", "INTERNAL_SERVER_ERROR"])
def test_revocation(fake, api, channel, action):
    replies = {"/auth/revocation": token_reply(action, content="" if action == "OK" else '{"error":"x"}')}
    theirs, ours = compare(
        fake, replies,
        lambda: RevocationRequestHandler(api).handle(rf.post("/revoke", "token=at", content_type=FORM)),
        lambda: rev_grpc.RevocationServiceStub(channel).Revocation(
            rev_pb.RevocationRequest(parameters="token=at")).http)
    assert ours == theirs


class UserInfoSpi(UserInfoRequestHandlerSpiAdapter):
    def getUserClaimValue(self, subject, claimName, languageTag):  # noqa: N802 (the SPI's name)
        return PROFILE.get(f"{claimName}#{languageTag}" if languageTag else claimName)


def django_userinfo(api, token="at"):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return lambda: UserInfoRequestHandler(api, UserInfoSpi()).handle(rf.get("/userinfo", **headers))


def service_userinfo(channel, token="at"):
    def run():
        stub = ui_grpc.UserInfoServiceStub(channel)
        r = stub.UserInfo(ui_pb.UserInfoRequest(token=token))
        if r.HasField("http"):
            return r.http
        decision = ui_pb.UserInfoDecisionRequest(continuation=r.continuation, claims=json.dumps(PROFILE))
        return stub.UserInfoDecision(decision).http
    return run


CHALLENGE = 'Bearer error="invalid_token",error_description="The access token has expired."'


@pytest.mark.parametrize("action", ["BAD_REQUEST", "UNAUTHORIZED", "FORBIDDEN", "INTERNAL_SERVER_ERROR"])
def test_userinfo_errors(fake, api, channel, action):
    replies = {"/auth/userinfo": token_reply(action, content=CHALLENGE)}
    theirs, ours = compare(fake, replies, django_userinfo(api), service_userinfo(channel))
    assert ours == theirs


@pytest.mark.parametrize("issue", [
    token_reply("JSON", content='{"sub":"alice"}'),
    token_reply("JWT", content="eyJ.userinfo.sig"),
    token_reply("UNAUTHORIZED", content=CHALLENGE),
], ids=["json", "jwt", "unauthorized"])
def test_userinfo_ok_picks_the_same_claims_and_answers_alike(fake, api, channel, issue):
    replies = {"/auth/userinfo": token_reply("OK", content=None, token="at", subject="alice",
                                             claims=["name", "email", "name#ja", "address"]),
               "/auth/userinfo/issue": issue}
    theirs, ours = compare(fake, replies, django_userinfo(api), service_userinfo(channel))
    assert ours == theirs
    # The claims each side sent to /auth/userinfo/issue.
    sent = json.loads(fake.calls[-1][1]["claims"])
    assert sent == {"name": "Alice", "email": "alice@example.com", "name#ja": "アリス"}


def test_userinfo_without_a_token_is_a_fixed_400_challenge_on_both(fake, api, channel):
    theirs, ours = compare(fake, {}, django_userinfo(api, token=None), service_userinfo(channel, token=""))
    assert fake.calls == [], "neither calls Authlete"
    # The same answer but for the description: the service keeps jaxrs's text.
    their_challenge = theirs[1].pop("www-authenticate")
    our_challenge = ours[1].pop("www-authenticate")
    assert ours == theirs
    assert their_challenge == 'Bearer error="invalid_token",error_description="An access token is required."'
    assert our_challenge.startswith('Bearer error="invalid_token",error_description="An access token must be sent')


def test_userinfo_error_with_a_dpop_nonce_loses_it_in_authlete_django(fake, api, channel):
    replies = {"/auth/userinfo": token_reply("UNAUTHORIZED", content=CHALLENGE, dpopNonce="n-7")}
    theirs, ours = compare(fake, replies, django_userinfo(api), service_userinfo(channel))
    assert theirs[2] == "DPoP-Nonce" and "dpop-nonce" not in theirs[1], "their argument-order bug"
    assert ours == (401, {"cache-control": "no-store", "pragma": "no-cache",
                          "www-authenticate": CHALLENGE, "dpop-nonce": "n-7"}, "")


@pytest.mark.parametrize("action,content", [
    ("BAD_REQUEST", '{"error":"invalid_request"}'),
    ("LOCATION", "https://client.example/cb?error=access_denied&state=s"),
    ("FORM", "<html><body>form_post</body></html>"),
    ("INTERNAL_SERVER_ERROR", '{"error":"server_error"}'),
], ids=["bad_request", "location", "form", "server_error"])
def test_authorization_errors(fake, api, channel, action, content):
    replies = {"/auth/authorization": token_reply(action, content=content)}

    def theirs():
        req = AuthorizationRequest()
        req.parameters = "response_type=code&client_id=c"
        return AuthorizationRequestErrorHandler().handle(api.authorization(req))

    theirs, ours = compare(
        fake, replies, theirs,
        lambda: authz_grpc.AuthorizationServiceStub(channel).Authorization(
            authz_pb.AuthorizationRequest(parameters="response_type=code&client_id=c")).http)
    assert ours == theirs


@pytest.mark.parametrize("action", ["CREATED", "BAD_REQUEST", "FORBIDDEN", "PAYLOAD_TOO_LARGE",
                                    "INTERNAL_SERVER_ERROR"])
def test_pushed_authorization(fake, api, channel, action):
    replies = {"/pushed_auth_req": token_reply(action, content='{"request_uri":"urn:x"}', dpopNonce="n-8")}
    theirs, ours = compare(
        fake, replies,
        lambda: ParRequestHandler(api).handle(rf.post("/par", "response_type=code", content_type=FORM)),
        lambda: par_grpc.PushedAuthorizationServiceStub(channel).PushedAuthorization(
            par_pb.PushedAuthorizationRequest(parameters="response_type=code")).http)
    assert ours == theirs


def test_pushed_authorization_unauthorized_has_no_basic_challenge_as_in_jaxrs(fake, api, channel):
    replies = {"/pushed_auth_req": token_reply("UNAUTHORIZED", content='{"error":"invalid_client"}')}
    theirs, ours = compare(
        fake, replies,
        lambda: ParRequestHandler(api).handle(rf.post("/par", "response_type=code", content_type=FORM)),
        lambda: par_grpc.PushedAuthorizationServiceStub(channel).PushedAuthorization(
            par_pb.PushedAuthorizationRequest(parameters="response_type=code")).http)
    # authlete-django adds `WWW-Authenticate: Basic realm="par"`; jaxrs passes
    # no challenge, and the service follows jaxrs (action-mapping.md 2.2).
    assert theirs[1].pop("www-authenticate") == 'Basic realm="par"'
    assert ours == theirs


def test_the_fake_and_the_service_really_answer(fake, channel):
    # Guards the comparisons above against two sides failing alike: with no
    # scripted reply the fake answers 404, which is a gRPC error, not an http.
    fake.script({})
    with pytest.raises(grpc.RpcError) as failed:
        token_grpc.TokenServiceStub(channel).Token(token_pb.TokenRequest(parameters="grant_type=x"))
    assert failed.value.code() != grpc.StatusCode.OK
    assert fake.paths() == ["/auth/token"]
