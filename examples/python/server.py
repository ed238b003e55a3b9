"""An OAuth 2.0 / OpenID Connect authorization server's web tier on authlete-grpc.

Every endpoint forwards what it received to the gRPC service and writes the
reply's `http` back as it is. The only things this file knows itself are its
users (login, password grant, userinfo claims) and its sessions; its HTML pages
are in pages.py.

    ./gen_stubs.sh && python server.py --port 8080 --grpc localhost:50051
"""

import argparse
import base64
import hmac
import json
import os
import re
import secrets
import sys
import time
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, unquote_plus, urlsplit

import pages

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen"))
import grpc  # noqa: E402
from authlete.v1 import authorization_pb2 as az, authorization_pb2_grpc  # noqa: E402
from authlete.v1 import backchannel_authentication_pb2 as ba  # noqa: E402
from authlete.v1 import backchannel_authentication_pb2_grpc  # noqa: E402
from authlete.v1 import client_registration_pb2 as reg, client_registration_pb2_grpc  # noqa: E402
from authlete.v1 import device_flow_pb2 as dv, device_flow_pb2_grpc  # noqa: E402
from authlete.v1 import discovery_pb2 as disco, discovery_pb2_grpc  # noqa: E402
from authlete.v1 import introspection_pb2 as intro, introspection_pb2_grpc  # noqa: E402
from authlete.v1 import pushed_authorization_pb2 as par, pushed_authorization_pb2_grpc  # noqa: E402
from authlete.v1 import revocation_pb2 as revo, revocation_pb2_grpc  # noqa: E402
from authlete.v1 import token_pb2 as tk, token_pb2_grpc  # noqa: E402
from authlete.v1 import userinfo_pb2 as ui, userinfo_pb2_grpc  # noqa: E402

# Your user store. The subject is the username; the profile is handed over whole
# and the service picks the claims each request asked for.
USERS = {
    "alice": {"password": "wonderland", "profile": {
        "name": "Alice Liddell", "given_name": "Alice", "family_name": "Liddell",
        "email": "alice@example.com", "email_verified": True}},
}
# Who may call the introspection endpoint (RFC 7662 section 2.1): resource servers.
RESOURCE_SERVERS = {"resource-server": "rs-secret"}
T = 10  # seconds: every gRPC call has a deadline, so a stuck service cannot hold a request
SESSIONS = {}  # cookie "sid" -> {"user", "auth_time", "pending": the consent in progress}
CIBA_PENDING = {}  # user -> [(client name, binding message, continuation)], for their device
HTML = [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")]


class Handler(BaseHTTPRequestHandler):
    def handle_request(self):
        url = urlsplit(self.path)
        path = re.sub(r"^/register/[^/]+$", "/register/{client_id}", url.path)
        route = ROUTES.get((self.command, path))
        if route is None:
            return self.send(404, [("Content-Type", "text/plain")], "Not found")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        try:
            route(self, body if self.command in ("POST", "PUT") else url.query)
        except grpc.RpcError as e:  # the service is down or refused the call: say nothing more
            self.log_error("authlete-grpc call failed: %s", e.code())
            self.send(500, [("Content-Type", "application/json"), ("Cache-Control", "no-store")],
                      '{"error":"server_error"}')

    do_GET = do_POST = do_PUT = do_DELETE = handle_request

    def reply(self, http, cookie=None):
        """Writes an authlete.v1.HttpResponse back verbatim."""
        self.send(http.status, [(h.name, h.value) for h in http.headers], http.body, cookie)

    def send(self, status, headers, body, cookie=None):
        data = body.encode()
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if cookie:
            self.send_header("Set-Cookie", f"sid={cookie}; Path=/; HttpOnly; SameSite=Lax")
        if status != 204:  # RFC 9110 section 8.6: no Content-Length on a 204
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def session(self):
        sid = SimpleCookie(self.headers.get("Cookie")).get("sid")
        return (sid.value, SESSIONS[sid.value]) if sid and sid.value in SESSIONS else (None, {})

    def basic_credentials(self):
        """client_id and client_secret from `Authorization: Basic` (RFC 6749 section 2.3.1)."""
        scheme, _, value = (self.headers.get("Authorization") or "").partition(" ")
        try:
            user, _, password = base64.b64decode(value).decode().partition(":")
        except ValueError:
            return "", ""
        return (unquote_plus(user), unquote_plus(password)) if scheme.lower() == "basic" else ("", "")

    def bearer(self):
        """The token of `Authorization: Bearer` (RFC 6750 section 2.1), or ""."""
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" else ""


def authorize(h, params):
    _, s = h.session()
    login = None
    if "user" in s:  # for prompt=none: the service checks this login and finishes the flow itself
        login = az.UserSession(subject=s["user"], auth_time=s["auth_time"],
                               claims=json.dumps(USERS[s["user"]]["profile"]))
    r = AUTHZ.Authorization(az.AuthorizationRequest(parameters=params, session=login), timeout=T)
    if r.action != az.AuthorizationResponse.ACTION_INTERACTION:
        return h.reply(r.http)
    # OIDC Core 3.1.2.1: prompt=login, or a login older than max_age, needs a fresh login.
    stale = r.max_age > 0 and s.get("auth_time", 0) + r.max_age < time.time()
    ask_consent(h, "/authorize/decision", r.continuation,
                r.client.client_name or r.client.client_id_alias, r.scopes,
                reauthenticate="LOGIN" in r.prompts or stale)


def ask_consent(h, action, continuation, client, scopes, reauthenticate=False):
    """Shows the login and consent page, whose form goes to `action` (a decision route)."""
    sid, s = h.session()
    s["pending"] = {"action": action, "continuation": continuation,
                    "csrf": secrets.token_urlsafe(16), "client": client,
                    "scopes": " ".join(sc.name for sc in scopes), "login": reauthenticate}
    sid = sid or secrets.token_urlsafe(24)
    SESSIONS[sid] = s
    consent_page(h, s, cookie=sid)


def consent_page(h, s, error="", cookie=None):
    p = s["pending"]
    user = None if p["login"] else s.get("user")  # None shows the login form
    h.send(200, HTML, pages.consent(p["action"], p["csrf"], p["client"], p["scopes"],
                                    user, error), cookie)


def decide(h, form):
    """The consent form's answer, for the authorization endpoint and the device flow."""
    sid, s = h.session()
    f = dict(parse_qsl(form))
    p = s.get("pending")
    if not p or p["action"] != urlsplit(h.path).path \
            or not hmac.compare_digest(f.get("csrf", ""), p["csrf"]):
        return h.send(400, [("Content-Type", "text/plain")], "No authorization request in progress.")
    new_sid = None
    allowed = f.get("decision") == "allow"
    if allowed and ("username" in f or "user" not in s or p["login"]):  # the login form was shown
        user = USERS.get(f.get("username", ""))
        if not user or not hmac.compare_digest(user["password"], f.get("password", "")):
            return consent_page(h, s, "Wrong username or password.")
        s.update(user=f["username"], auth_time=int(time.time()))
        SESSIONS.pop(sid)  # a new session ID at login (no session fixation)
        new_sid = secrets.token_urlsafe(24)
        SESSIONS[new_sid] = s
    del s["pending"]
    finish = finish_device if p["action"] == "/device/decision" else finish_authorization
    finish(h, p["continuation"], s if allowed else None, new_sid)


def finish_authorization(h, continuation, login, new_sid):
    if login is None:
        decision = {"denied": az.AuthorizationDenial()}
    else:
        decision = {"approved": az.AuthorizationApproval(
            subject=login["user"], auth_time=login["auth_time"],
            claims=json.dumps(USERS[login["user"]]["profile"]))}
    h.reply(AUTHZ.AuthorizationDecision(
        az.AuthorizationDecisionRequest(continuation=continuation, **decision), timeout=T).http,
        cookie=new_sid)


def token(h, form):
    client_id, secret = h.basic_credentials()
    r = TOKEN.Token(tk.TokenRequest(parameters=form, client_id=client_id, client_secret=secret,
                                    dpop=h.headers.get("DPoP", ""), htm="POST"), timeout=T)
    if r.HasField("http"):
        return h.reply(r.http)
    decision = tk.TokenDecisionRequest(continuation=r.continuation)
    user = USERS.get(r.username)
    if r.action == tk.TokenResponse.ACTION_PASSWORD and user \
            and hmac.compare_digest(user["password"], r.password):
        decision.granted.subject = r.username
    else:  # a wrong password; token exchange, JWT bearer and Native SSO are not offered here
        decision.denied.SetInParent()
    h.reply(TOKEN.TokenDecision(decision, timeout=T).http)


def userinfo(h, params):
    scheme, _, access_token = (h.headers.get("Authorization") or "").partition(" ")
    if scheme.lower() not in ("bearer", "dpop"):
        access_token = dict(parse_qsl(params)).get("access_token", "")
    r = USERINFO.UserInfo(ui.UserInfoRequest(token=access_token, dpop=h.headers.get("DPoP", ""),
                                             htm=h.command), timeout=T)
    if r.action != ui.UserInfoResponse.ACTION_OK:
        return h.reply(r.http)
    profile = USERS.get(r.subject, {}).get("profile", {})
    h.reply(USERINFO.UserInfoDecision(
        ui.UserInfoDecisionRequest(continuation=r.continuation, claims=json.dumps(profile)),
        timeout=T).http)


def introspect(h, form):
    rs, secret = h.basic_credentials()
    if rs not in RESOURCE_SERVERS or not hmac.compare_digest(RESOURCE_SERVERS[rs], secret):
        return h.send(401, [("WWW-Authenticate", 'Basic realm="introspection"'),
                            ("Cache-Control", "no-store")], "")
    h.reply(INTROSPECTION.StandardIntrospection(intro.StandardIntrospectionRequest(
        parameters=form, http_accept_header=h.headers.get("Accept", "")), timeout=T).http)


def revoke(h, form):
    client_id, secret = h.basic_credentials()
    h.reply(REVOCATION.Revocation(revo.RevocationRequest(
        parameters=form, client_id=client_id, client_secret=secret), timeout=T).http)


def pushed_authorization(h, form):
    client_id, secret = h.basic_credentials()
    h.reply(PAR.PushedAuthorization(par.PushedAuthorizationRequest(
        parameters=form, client_id=client_id, client_secret=secret,
        dpop=h.headers.get("DPoP", ""), htm="POST"), timeout=T).http)


# The device flow (RFC 8628). The device asks for codes here and polls the token endpoint.
def device_authorization(h, form):
    client_id, secret = h.basic_credentials()
    h.reply(DEVICE.DeviceAuthorization(dv.DeviceAuthorizationRequest(
        parameters=form, client_id=client_id, client_secret=secret), timeout=T).http)


# Pages for a user code that cannot be used, with java-oauth-server's statuses.
UNUSABLE_CODE = {
    dv.DeviceVerificationResponse.ACTION_NOT_EXIST: (404, "There is no such code. Check it."),
    dv.DeviceVerificationResponse.ACTION_EXPIRED: (400, "The code has expired. Start again."),
}
NOT_COMPLETED = {
    dv.DeviceCompleteResponse.ACTION_USER_CODE_NOT_EXIST: (400, "The code is no longer valid."),
    dv.DeviceCompleteResponse.ACTION_USER_CODE_EXPIRED: (400, "The code has expired. Start again."),
}


def device(h, params):
    """The verification URI: GET asks for the user code (verification_uri_complete fills it
    in), POST looks it up and asks the user to log in and consent."""
    code = dict(parse_qsl(params)).get("user_code", "").strip()
    if h.command == "GET" or not code:
        return h.send(200 if h.command == "GET" else 400, HTML, pages.user_code(
            code, "" if h.command == "GET" else "Type the code your device shows."))
    r = DEVICE.DeviceVerification(dv.DeviceVerificationRequest(user_code=code), timeout=T)
    if r.action != dv.DeviceVerificationResponse.ACTION_VALID:
        status, error = UNUSABLE_CODE.get(r.action, (500, "Something went wrong. Try again later."))
        return h.send(status, HTML, pages.user_code(code, error))
    ask_consent(h, "/device/decision", r.continuation, r.client_name or r.client_id_alias, r.scopes)


def finish_device(h, continuation, login, new_sid):
    if login is None:
        decision = {"denied": dv.DeviceDenial()}
    else:
        decision = {"approved": dv.DeviceApproval(
            subject=login["user"], auth_time=login["auth_time"],
            claims=json.dumps(USERS[login["user"]]["profile"]))}
    r = DEVICE.DeviceDecision(dv.DeviceDecisionRequest(continuation=continuation, **decision),
                              timeout=T).complete
    if r.action != dv.DeviceCompleteResponse.ACTION_SUCCESS:
        status, error = NOT_COMPLETED.get(r.action, (500, "Something went wrong. Try again later."))
        return h.send(status, HTML, pages.result("Not done", error), new_sid)
    h.send(200, HTML, pages.result("Done", "You may go back to your device.") if login else
           pages.result("Denied", "The device gets no access."), new_sid)


# CIBA (OpenID Connect CIBA Core 1.0): the client asks here for a user's authentication;
# the user approves on their authentication device (here: POST /backchannel/device with
# their password), and the client polls the token endpoint or gets a ping.
def backchannel(h, form):
    client_id, secret = h.basic_credentials()
    r = CIBA.BackchannelAuthentication(ba.BackchannelAuthenticationRequest(
        parameters=form, client_id=client_id, client_secret=secret), timeout=T)
    if r.HasField("http"):  # an error for the client
        return h.reply(r.http)
    # Who the hint names: a username, or the sub of an ID token the service verified.
    user = r.sub if r.hint_type == "ID_TOKEN_HINT" else r.hint if r.hint_type == "LOGIN_HINT" else ""
    d = CIBA.BackchannelAuthenticationDecision(ba.BackchannelAuthenticationDecisionRequest(
        continuation=r.continuation, subject=user if user in USERS else "",
        binding_message_accepted=len(r.binding_message) <= 40), timeout=T)
    if d.continuation:  # issued: "start the communication with the authentication device"
        pending = CIBA_PENDING.setdefault(user, [])
        pending.append((r.client_name or r.client_id_alias, r.binding_message, d.continuation))
        del pending[:-10]  # a user's device shows their last ten requests at most
    h.reply(d.http)


def backchannel_device(h, form):
    """The user's authentication device: the user logs in and decides on their oldest request."""
    f = dict(parse_qsl(form))
    user = USERS.get(f.get("username", ""))
    if not user or not hmac.compare_digest(user["password"], f.get("password", "")):
        return h.send(401, [("Content-Type", "application/json")], '{"error":"login_failed"}')
    pending = CIBA_PENDING.get(f["username"])
    if not pending:
        return h.send(404, [("Content-Type", "application/json")], '{"error":"nothing_pending"}')
    client, binding_message, continuation = pending.pop(0)
    if f.get("decision") == "approve":
        decision = {"approved": ba.BackchannelAuthenticationApproval(
            subject=f["username"], auth_time=int(time.time()), claims=json.dumps(user["profile"]))}
    else:
        decision = {"denied": ba.BackchannelAuthenticationDenial()}
    r = CIBA.BackchannelAuthenticationUserDecision(ba.BackchannelAuthenticationUserDecisionRequest(
        continuation=continuation, **decision), timeout=T).complete
    h.send(200, [("Content-Type", "application/json")], json.dumps(
        {"client": client, "binding_message": binding_message, "result": r.action_name}))


# Dynamic client registration (RFC 7591) and its client configuration endpoint (RFC 7592).
# Whatever the client sends goes to the service, whose reply (400 invalid_client_metadata,
# 401 invalid_token, ...) is written back as it comes.
def register(h, body):
    h.reply(REGISTRATION.ClientRegistration(reg.ClientRegistrationRequest(
        json=body, token=h.bearer()), timeout=T).http)


def manage_client(h, body):
    """GET, PUT and DELETE /register/{client_id}, with the registration access token."""
    client_id = unquote(urlsplit(h.path).path[len("/register/"):])
    token = h.bearer()
    if not token:  # no credentials: a challenge without an error code (RFC 6750 section 3.1)
        return h.send(401, [("WWW-Authenticate", "Bearer"), ("Cache-Control", "no-store")], "")
    if h.command == "GET":
        r = REGISTRATION.ClientRegistrationGet(reg.ClientRegistrationGetRequest(
            client_id=client_id, token=token), timeout=T)
    elif h.command == "PUT":
        r = REGISTRATION.ClientRegistrationUpdate(reg.ClientRegistrationUpdateRequest(
            client_id=client_id, token=token, json=body), timeout=T)
    else:
        r = REGISTRATION.ClientRegistrationDelete(reg.ClientRegistrationDeleteRequest(
            client_id=client_id, token=token), timeout=T)
    h.reply(r.http)


ROUTES = {
    ("GET", "/authorize"): authorize,
    ("POST", "/authorize"): authorize,
    ("POST", "/authorize/decision"): decide,
    ("POST", "/token"): token,
    ("GET", "/userinfo"): userinfo,
    ("POST", "/userinfo"): userinfo,
    ("POST", "/introspect"): introspect,
    ("POST", "/revoke"): revoke,
    ("POST", "/par"): pushed_authorization,
    ("POST", "/device_authorization"): device_authorization,
    ("GET", "/device"): device,
    ("POST", "/device"): device,
    ("POST", "/device/decision"): decide,
    ("POST", "/backchannel"): backchannel,
    ("POST", "/backchannel/device"): backchannel_device,
    ("POST", "/register"): register,
    ("GET", "/register/{client_id}"): manage_client,
    ("PUT", "/register/{client_id}"): manage_client,
    ("DELETE", "/register/{client_id}"): manage_client,
    ("GET", "/.well-known/openid-configuration"):
        lambda h, _: h.reply(DISCOVERY.ServiceConfiguration(
            disco.ServiceConfigurationRequest(), timeout=T).http),
    ("GET", "/jwks"):
        lambda h, _: h.reply(DISCOVERY.ServiceJwks(disco.ServiceJwksRequest(), timeout=T).http),
}

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="localhost")
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--grpc", default="localhost:50051", help="address of authlete-grpc")
    ap.add_argument("--grpc-timeout", type=float, default=T, help="deadline of each call (s)")
    args = ap.parse_args()
    T = args.grpc_timeout
    channel = grpc.insecure_channel(args.grpc)
    AUTHZ = authorization_pb2_grpc.AuthorizationServiceStub(channel)
    TOKEN = token_pb2_grpc.TokenServiceStub(channel)
    USERINFO = userinfo_pb2_grpc.UserInfoServiceStub(channel)
    INTROSPECTION = introspection_pb2_grpc.IntrospectionServiceStub(channel)
    REVOCATION = revocation_pb2_grpc.RevocationServiceStub(channel)
    PAR = pushed_authorization_pb2_grpc.PushedAuthorizationServiceStub(channel)
    DISCOVERY = discovery_pb2_grpc.DiscoveryServiceStub(channel)
    DEVICE = device_flow_pb2_grpc.DeviceFlowServiceStub(channel)
    REGISTRATION = client_registration_pb2_grpc.ClientRegistrationServiceStub(channel)
    CIBA = backchannel_authentication_pb2_grpc.BackchannelAuthenticationServiceStub(channel)
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    print(f"web tier on http://{args.host}:{server.server_port}, authlete-grpc at {args.grpc}",
          flush=True)
    server.serve_forever()
