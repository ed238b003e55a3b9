// openid-client (a certified relying party library) against the example web
// tier (examples/python/server.py) on the local engine. The login and consent
// page is driven with plain HTTP requests; redirects are followed by hand.
// Needs AS_URL (the web tier, also the issuer); run by scripts/test-cross-language.sh.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as client from 'openid-client';

const AS = process.env.AS_URL;
const REDIRECT_URI = 'http://localhost:3000/callback';
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
  const csrf = (await page.text()).match(/name="csrf" value="([^"]+)"/)[1];
  return fetch(new URL('/authorize/decision', AS), {
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
