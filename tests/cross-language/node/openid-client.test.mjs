// openid-client (a certified relying party library) against an example web
// tier (examples/python/server.py or examples/php/index.php) on the local
// engine: the code flow, DPoP (RFC 9449, with a server nonce), private_key_jwt
// (RFC 7523, at the token and PAR endpoints), request objects (RFC 9101,
// pushed and by value), the device flow
// (RFC 8628) and dynamic client registration (RFC 7591). The user's pages
// (login and consent, the device flow's verification page) are driven with
// plain HTTP requests; redirects are followed by hand.
// Needs AS_URL (the web tier, also the issuer); run by scripts/test-cross-language.sh.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { readFileSync } from 'node:fs';
import * as client from 'openid-client';

const AS = process.env.AS_URL;
const REDIRECT_URI = 'http://localhost:3000/callback';
const INITIAL_ACCESS_TOKEN = 'example-initial-access-token'; // examples/python/engine.toml
const TIMEOUT = AbortSignal.timeout.bind(AbortSignal);
let config;

before(async () => {
  assert.ok(AS, 'AS_URL is not set');
  config = await client.discovery(new URL(AS), 'example-app', undefined,
    client.ClientSecretBasic('example-secret'), { execute: [client.allowInsecureRequests], timeout: 10 });
});

// GET (or follow) a URL without following redirects.
async function get(url, cookie) {
  return fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {}, signal: TIMEOUT(10000) });
}

// Submits the consent page's form; returns the response (a redirect to the client, or a page).
async function decide(page, cookie, fields) {
  const html = await page.text();
  const action = html.match(/<form method="post" action="([^"]+)">/)[1];
  const csrf = html.match(/name="csrf" value="([^"]+)"/)[1];
  return fetch(new URL(action, AS), {
    method: 'POST', redirect: 'manual', signal: TIMEOUT(10000),
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf, ...fields }),
  });
}

function authorizationRequest(extra = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const checks = { pkceCodeVerifier: verifier, expectedNonce: client.randomNonce(),
    expectedState: client.randomState(), idTokenExpected: true };
  return {
    checks,
    params: async () => ({
      redirect_uri: REDIRECT_URI, scope: 'openid profile email offline_access',
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
      nonce: checks.expectedNonce, state: checks.expectedState, ...extra,
    }),
  };
}

function redirectTo(res) {
  assert.equal(res.status, 302, `expected a redirect, got ${res.status}`);
  const location = res.headers.get('location');
  assert.ok(location.startsWith(REDIRECT_URI), location);
  return new URL(location);
}

let session; // the web tier's login cookie after the first flow
let tokens;

test('discovery: the issuer and endpoints are the web tier\'s', () => {
  const md = config.serverMetadata();
  assert.equal(md.issuer, AS);
  assert.equal(md.authorization_endpoint, `${AS}/authorize`);
  assert.equal(md.token_endpoint, `${AS}/token`);
  assert.equal(md.userinfo_endpoint, `${AS}/userinfo`);
  assert.equal(md.jwks_uri, `${AS}/jwks`);
  assert.equal(md.introspection_endpoint, `${AS}/introspect`);
  assert.equal(md.revocation_endpoint, `${AS}/revoke`);
  assert.equal(md.pushed_authorization_request_endpoint, `${AS}/par`);
  assert.equal(md.authorization_response_iss_parameter_supported, true);
  assert.ok(md.code_challenge_methods_supported.includes('S256'));
});

test('authorization code with PKCE and nonce: login, consent, ID token validated', async () => {
  const req = authorizationRequest();
  const page = await get(client.buildAuthorizationUrl(config, await req.params()));
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /text\/html/);
  const cookie = page.headers.get('set-cookie').split(';')[0];

  const wrong = await decide(page, cookie, { username: 'alice', password: 'nope', decision: 'allow' });
  assert.equal(wrong.status, 200);
  assert.match(await wrong.clone().text(), /Wrong username or password/);

  const done = await decide(wrong, cookie, { username: 'alice', password: 'wonderland', decision: 'allow' });
  const callback = redirectTo(done);
  const login = done.headers.get('set-cookie').split(';')[0];
  assert.notEqual(login, cookie, 'a new session ID at login');
  assert.equal(callback.searchParams.get('iss'), AS);
  tokens = await client.authorizationCodeGrant(config, callback, req.checks);
  const claims = tokens.claims();
  assert.equal(claims.iss, AS);
  assert.equal(claims.sub, 'alice');
  assert.equal(claims.aud, 'example-app');
  assert.equal(claims.nonce, req.checks.expectedNonce);
  assert.ok(tokens.refresh_token, 'offline_access gives a refresh token');
  session = login;
});

test('userinfo: the profile claims of the granted scopes', async () => {
  const info = await client.fetchUserInfo(config, tokens.access_token, 'alice');
  assert.equal(info.sub, 'alice');
  assert.equal(info.name, 'Alice Liddell');
  assert.equal(info.email, 'alice@example.com');
  assert.equal(info.email_verified, true);
});

test('userinfo without a valid token: 401 with a Bearer challenge', async () => {
  const res = await fetch(new URL('/userinfo', AS), { headers: { authorization: 'Bearer not-a-token' }, signal: TIMEOUT(10000) });
  assert.equal(res.status, 401);
  assert.match(res.headers.get('www-authenticate'), /^Bearer .*error="invalid_token"/);
});

test('refresh: a new access token that works at userinfo, the old refresh token is rotated out', async () => {
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert.notEqual(refreshed.access_token, tokens.access_token);
  const info = await client.fetchUserInfo(config, refreshed.access_token, 'alice');
  assert.equal(info.sub, 'alice');
  await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token),
    (e) => e.error === 'invalid_grant');
});

test('prompt=none with a logged-in session: a code at once', async () => {
  assert.ok(session, 'needs the login of the code flow test');
  const req = authorizationRequest({ prompt: 'none' });
  const callback = redirectTo(await get(client.buildAuthorizationUrl(config, await req.params()), session));
  const t = await client.authorizationCodeGrant(config, callback, req.checks);
  assert.equal(t.claims().sub, 'alice');
  assert.equal(t.claims().nonce, req.checks.expectedNonce);
});

test('DPoP (RFC 9449): bound tokens after a DPoP-Nonce round trip, then userinfo with a proof', async () => {
  assert.ok(session, 'needs the login of the code flow test');
  const dpopConfig = await client.discovery(new URL(AS), 'example-dpop', undefined,
    client.ClientSecretBasic('example-dpop-secret'), { execute: [client.allowInsecureRequests], timeout: 10 });
  assert.ok(dpopConfig.serverMetadata().dpop_signing_alg_values_supported.includes('ES256'));
  const DPoP = client.getDPoPHandle(dpopConfig, await client.randomDPoPKeyPair('ES256'));
  const req = authorizationRequest({ prompt: 'none' });
  const callback = redirectTo(await get(client.buildAuthorizationUrl(dpopConfig, await req.params()), session));
  // The first proof has no nonce: use_dpop_nonce with DPoP-Nonce, which the
  // library retries with once (the code is not used up by the refusal).
  const t = await client.authorizationCodeGrant(dpopConfig, callback, req.checks, undefined, { DPoP });
  assert.equal(t.token_type, 'dpop');
  assert.equal(t.claims().sub, 'alice');
  const info = await client.fetchUserInfo(dpopConfig, t.access_token, 'alice', { DPoP });
  assert.equal(info.name, 'Alice Liddell');
  // The same token as a Bearer token: refused.
  const bearer = await fetch(new URL('/userinfo', AS), { headers: { authorization: `Bearer ${t.access_token}` }, signal: TIMEOUT(10000) });
  assert.equal(bearer.status, 401);
  assert.match(bearer.headers.get('www-authenticate'), /^DPoP .*error="invalid_dpop_proof"/);
  // Without a proof, the client is refused tokens altogether.
  await assert.rejects(client.refreshTokenGrant(dpopConfig, t.refresh_token), (err) => {
    assert.equal(err.error, 'invalid_dpop_proof');
    return true;
  });
});

test('private_key_jwt (RFC 7523): client credentials, then PAR and a code flow, with assertions signed by the client', async () => {
  assert.ok(session, 'needs the login of the code flow test');
  const jwk = JSON.parse(readFileSync(new URL('../../fixtures/example-jwt-key.json', import.meta.url), 'utf8'));
  const key = await crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  const jwtConfig = await client.discovery(new URL(AS), 'example-jwt', undefined,
    client.PrivateKeyJwt({ key, kid: jwk.kid }), { execute: [client.allowInsecureRequests], timeout: 10 });
  const md = jwtConfig.serverMetadata();
  assert.ok(md.token_endpoint_auth_methods_supported.includes('private_key_jwt'));
  assert.ok(md.token_endpoint_auth_signing_alg_values_supported.includes('ES256'));
  const cc = await client.clientCredentialsGrant(jwtConfig);
  assert.equal(cc.token_type, 'bearer');
  // PAR authenticates the client with an assertion too; the code then redeems with another.
  const req = authorizationRequest({ prompt: 'none' });
  const url = await client.buildAuthorizationUrlWithPAR(jwtConfig, await req.params());
  assert.match(url.searchParams.get('request_uri'), /^urn:ietf:params:oauth:request_uri:/);
  const t = await client.authorizationCodeGrant(jwtConfig, redirectTo(await get(url, session)), req.checks);
  assert.equal(t.claims().sub, 'alice');
  // A secret is not this client's method: refused.
  const basic = await client.discovery(new URL(AS), 'example-jwt', undefined,
    client.ClientSecretBasic('not-its-method'), { execute: [client.allowInsecureRequests], timeout: 10 });
  assert.equal(await oauthError(client.clientCredentialsGrant(basic)), 'invalid_client');
});

test('prompt=none without a session: login_required', async () => {
  const req = authorizationRequest({ prompt: 'none' });
  const callback = redirectTo(await get(client.buildAuthorizationUrl(config, await req.params())));
  await assert.rejects(client.authorizationCodeGrant(config, callback, req.checks),
    (e) => e.error === 'login_required');
});

test('consent denied: access_denied', async () => {
  const req = authorizationRequest();
  const page = await get(client.buildAuthorizationUrl(config, await req.params()));
  const cookie = page.headers.get('set-cookie').split(';')[0];
  const callback = redirectTo(await decide(page, cookie, { decision: 'deny' }));
  await assert.rejects(client.authorizationCodeGrant(config, callback, req.checks),
    (e) => e.error === 'access_denied');
});

test('pushed authorization request (PAR), then consent as the logged-in user', async () => {
  assert.ok(session, 'needs the login of the code flow test');
  const req = authorizationRequest();
  const url = await client.buildAuthorizationUrlWithPAR(config, await req.params());
  assert.match(url.searchParams.get('request_uri'), /^urn:ietf:params:oauth:request_uri:/);
  const page = await get(url, session);
  assert.equal(page.status, 200);
  assert.match(await page.clone().text(), /Signed in as alice/);
  const callback = redirectTo(await decide(page, session, { decision: 'allow' }));
  const t = await client.authorizationCodeGrant(config, callback, req.checks);
  assert.equal(t.claims().sub, 'alice');
});

// Request objects (RFC 9101): example-jar registers the public half of the
// fixture key and must sign its requests (require_signed_request_object).
async function jarConfig() {
  const jwk = JSON.parse(readFileSync(new URL('../../fixtures/example-jar-key.json', import.meta.url), 'utf8'));
  const key = await crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  const config = await client.discovery(new URL(AS), 'example-jar', undefined,
    client.ClientSecretBasic('example-jar-secret'), { execute: [client.allowInsecureRequests], timeout: 10 });
  return { config, key: { key, kid: jwk.kid } };
}

test('JAR (RFC 9101) with PAR: a signed request object pushed, then consent and tokens', async () => {
  assert.ok(session, 'needs the login of the code flow test');
  const jar = await jarConfig();
  assert.equal(jar.config.serverMetadata().request_parameter_supported, true);
  assert.ok(jar.config.serverMetadata().request_object_signing_alg_values_supported.includes('ES256'));
  const req = authorizationRequest();
  const signed = await client.buildAuthorizationUrlWithJAR(jar.config, await req.params(), jar.key);
  assert.ok(signed.searchParams.get('request'), 'a request object');
  const url = await client.buildAuthorizationUrlWithPAR(jar.config, signed.searchParams);
  assert.match(url.searchParams.get('request_uri'), /^urn:ietf:params:oauth:request_uri:/);
  const page = await get(url, session);
  assert.equal(page.status, 200);
  const callback = redirectTo(await decide(page, session, { decision: 'allow' }));
  const t = await client.authorizationCodeGrant(jar.config, callback, req.checks);
  assert.equal(t.claims().sub, 'alice');
  assert.equal(t.claims().aud, 'example-jar');
  assert.equal(t.claims().nonce, req.checks.expectedNonce);
});

test('JAR by value at the authorization endpoint; a plain request of that client is refused', async () => {
  assert.ok(session, 'needs the login of the code flow test');
  const jar = await jarConfig();
  const req = authorizationRequest();
  const url = await client.buildAuthorizationUrlWithJAR(jar.config, await req.params(), jar.key);
  const page = await get(url, session);
  assert.equal(page.status, 200);
  const callback = redirectTo(await decide(page, session, { decision: 'allow' }));
  const t = await client.authorizationCodeGrant(jar.config, callback, req.checks);
  assert.equal(t.claims().sub, 'alice');
  await assert.rejects(client.buildAuthorizationUrlWithPAR(jar.config, await authorizationRequest().params()),
    (e) => e.error === 'invalid_request' && /signed request object/.test(e.error_description));
});

// The device flow (RFC 8628) and dynamic client registration (RFC 7591).

// The OAuth error code of a refused request, also when it is a 401 with a WWW-Authenticate challenge.
async function oauthError(promise) {
  try {
    await promise;
  } catch (e) {
    return e.code === 'OAUTH_WWW_AUTHENTICATE_CHALLENGE' ? (await e.response.json()).error : e.error;
  }
  assert.fail('the request succeeded');
}

// Types a user code on the verification page; returns the response (the consent page, or an error page).
async function enterUserCode(userCode, cookie) {
  return fetch(new URL('/device', AS), {
    method: 'POST', redirect: 'manual', signal: TIMEOUT(10000),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
    body: new URLSearchParams({ user_code: userCode }),
  });
}

// example-app, as a device: a configuration of its own that records every token endpoint answer.
async function deviceClient() {
  const polls = [];
  let firstPoll;
  const polled = new Promise((resolve) => { firstPoll = resolve; });
  const device = await client.discovery(new URL(AS), 'example-app', undefined,
    client.ClientSecretBasic('example-secret'), { execute: [client.allowInsecureRequests], timeout: 10 });
  device[client.customFetch] = async (url, options) => {
    const res = await fetch(url, options);
    if (new URL(url).pathname === '/token') {
      polls.push((await res.clone().json()).error ?? 'tokens');
      firstPoll();
    }
    return res;
  };
  return { device, polls, polled };
}

test('discovery: the device authorization and registration endpoints are the web tier\'s', () => {
  const md = config.serverMetadata();
  assert.equal(md.device_authorization_endpoint, `${AS}/device_authorization`);
  assert.equal(md.registration_endpoint, `${AS}/register`);
  assert.ok(md.grant_types_supported.includes('urn:ietf:params:oauth:grant-type:device_code'));
});

test('device flow: the user enters the code, logs in and allows while the device polls', async () => {
  const { device, polls, polled } = await deviceClient();
  const auth = await client.initiateDeviceAuthorization(device, { scope: 'openid profile email offline_access' });
  assert.match(auth.user_code, /^[BCDFGHJKLMNPQRSTVWXZ]{8}$/);
  assert.equal(auth.verification_uri, `${AS}/device`);
  assert.equal(auth.verification_uri_complete, `${AS}/device?user_code=${auth.user_code}`);
  assert.equal(auth.interval, 1);
  assert.ok(auth.expires_in > 0 && auth.expires_in <= 600);
  const polling = client.pollDeviceAuthorizationGrant(device, auth);
  await polled; // the device's first poll: nobody has decided yet

  // The user opens verification_uri_complete: the code is filled in.
  const form = await get(auth.verification_uri_complete);
  assert.equal(form.status, 200);
  assert.match(await form.text(), new RegExp(`name="user_code" value="${auth.user_code}"`));
  const page = await enterUserCode(auth.user_code);
  assert.equal(page.status, 200);
  assert.match(await page.clone().text(), /Example App asks for access<\/h1><p>Scopes: openid profile email offline_access</);
  const cookie = page.headers.get('set-cookie').split(';')[0];
  const done = await decide(page, cookie, { username: 'alice', password: 'wonderland', decision: 'allow' });
  assert.equal(done.status, 200);
  assert.match(await done.text(), /<h1>Done<\/h1>/);

  const tokens = await polling;
  assert.equal(polls[0], 'authorization_pending');
  assert.equal(polls.at(-1), 'tokens');
  assert.ok(tokens.refresh_token, 'offline_access and the refresh_token grant give a refresh token');
  const claims = tokens.claims();
  assert.equal(claims.iss, AS);
  assert.equal(claims.sub, 'alice');
  assert.equal(claims.aud, 'example-app');
  assert.equal(claims.nonce, undefined);
  assert.ok(claims.at_hash && Number.isInteger(claims.auth_time));
  // No authorization request to say otherwise: the claims of the scopes are in the ID token too.
  assert.equal(claims.name, 'Alice Liddell');
  assert.equal(claims.email, 'alice@example.com');
  const info = await client.fetchUserInfo(device, tokens.access_token, 'alice');
  assert.deepEqual(info, { sub: 'alice', name: 'Alice Liddell', given_name: 'Alice', family_name: 'Liddell',
    email: 'alice@example.com', email_verified: true });
  await assert.rejects(client.pollDeviceAuthorizationGrant(device, { ...auth, interval: 0 }),
    (e) => e.error === 'invalid_grant', 'a device code works once');
});

test('device flow: the signed-in user denies, the device gets access_denied', async () => {
  assert.ok(session, 'needs the login of the code flow test');
  const auth = await client.initiateDeviceAuthorization(config, { scope: 'profile' });
  // Typed by hand: lower case, with a hyphen.
  const typed = `${auth.user_code.slice(0, 4)}-${auth.user_code.slice(4)}`.toLowerCase();
  const page = await enterUserCode(typed, session);
  assert.equal(page.status, 200);
  assert.match(await page.clone().text(), /Signed in as alice/);
  const done = await decide(page, session, { decision: 'deny' });
  assert.equal(done.status, 200);
  assert.match(await done.text(), /<h1>Denied<\/h1>/);
  await assert.rejects(client.pollDeviceAuthorizationGrant(config, auth), (e) => e.error === 'access_denied');
  const again = await enterUserCode(auth.user_code);
  assert.equal(again.status, 404, 'a user code takes one decision');
});

test('dynamic client registration needs the initial access token', async () => {
  await assert.rejects(client.dynamicClientRegistration(new URL(AS), { redirect_uris: [REDIRECT_URI] }, undefined,
    { execute: [client.allowInsecureRequests], timeout: 10 }),
  // RFC 6750 section 3: the 401 carries a Bearer challenge, which openid-client reports as such.
  (e) => e.status === 401 && e.cause?.[0]?.scheme === 'bearer' && e.cause[0].parameters.error === 'invalid_token');
});

test('dynamic client registration, then the new client signs alice in (PKCE) and uses client_credentials', async () => {
  const registered = await client.dynamicClientRegistration(new URL(AS), {
    client_name: 'Registered App', redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'], response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
  }, undefined, { initialAccessToken: INITIAL_ACCESS_TOKEN, execute: [client.allowInsecureRequests], timeout: 10 });
  const md = registered.clientMetadata();
  assert.match(md.client_id, /^\d+$/);
  assert.ok(md.client_secret && md.registration_access_token);
  assert.equal(md.registration_client_uri, `${AS}/register/${md.client_id}`);
  assert.deepEqual(md.redirect_uris, [REDIRECT_URI]);

  const req = authorizationRequest();
  const page = await get(client.buildAuthorizationUrl(registered, await req.params()));
  assert.equal(page.status, 200);
  assert.match(await page.clone().text(), /Registered App asks for access/);
  const cookie = page.headers.get('set-cookie').split(';')[0];
  const callback = redirectTo(await decide(page, cookie, { username: 'alice', password: 'wonderland', decision: 'allow' }));
  const tokens = await client.authorizationCodeGrant(registered, callback, req.checks);
  assert.equal(tokens.claims().sub, 'alice');
  assert.equal(tokens.claims().aud, md.client_id);
  assert.equal((await client.fetchUserInfo(registered, tokens.access_token, 'alice')).email, 'alice@example.com');

  const machine = await client.clientCredentialsGrant(registered, { scope: 'profile' });
  assert.ok(machine.access_token);
  assert.equal(machine.scope, 'profile');

  const manage = (method) => fetch(md.registration_client_uri, {
    method, signal: TIMEOUT(10000), headers: { authorization: `Bearer ${md.registration_access_token}` } });
  assert.equal((await (await manage('GET')).json()).client_name, 'Registered App');
  assert.equal((await manage('DELETE')).status, 204);
  assert.equal(await oauthError(client.clientCredentialsGrant(registered)), 'invalid_client');
});
