// A resource server in Node: @grpc/grpc-js and @grpc/proto-loader straight on
// IntrospectionService/Introspection, checking the challenges it would send.
// Tokens are minted with TokenService/Token and revoked with RevocationService.
// Needs GRPC_ADDR; run by scripts/test-cross-language.sh.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const PROTO = fileURLToPath(new URL('../../../proto', import.meta.url));
const CLIENT = { client_id: 'example-app', client_secret: 'example-secret' };
let v1, introspection, tokenService, revocation;

before(() => {
  assert.ok(process.env.GRPC_ADDR, 'GRPC_ADDR is not set');
  const def = protoLoader.loadSync(
    ['authlete/v1/introspection.proto', 'authlete/v1/token.proto', 'authlete/v1/revocation.proto'],
    { includeDirs: [PROTO], keepCase: true, enums: String, longs: Number, defaults: true, oneofs: true });
  v1 = grpc.loadPackageDefinition(def).authlete.v1;
  const creds = grpc.credentials.createInsecure();
  introspection = new v1.IntrospectionService(process.env.GRPC_ADDR, creds);
  tokenService = new v1.TokenService(process.env.GRPC_ADDR, creds);
  revocation = new v1.RevocationService(process.env.GRPC_ADDR, creds);
});

after(() => [introspection, tokenService, revocation].forEach((c) => c.close()));

function call(stub, method, request) {
  return new Promise((resolve, reject) => stub[method](request, { deadline: Date.now() + 10000 },
    (err, reply) => (err ? reject(err) : resolve(reply))));
}

async function mint(scope, extra = {}) {
  const reply = await call(tokenService, 'Token',
    { parameters: `grant_type=client_credentials&scope=${encodeURIComponent(scope)}`, ...CLIENT, ...extra });
  assert.equal(reply.action, 'ACTION_OK');
  return JSON.parse(reply.http.body).access_token;
}

const introspect = (token, scopes = []) => call(introspection, 'Introspection', { token, scopes });

function challenge(reply, status) {
  assert.equal(reply.http.status, status);
  const h = reply.http.headers.find((x) => x.name.toLowerCase() === 'www-authenticate');
  assert.ok(h, 'a WWW-Authenticate header');
  assert.equal(h.value, reply.response_content, 'the challenge is Authlete\'s responseContent');
  const cc = reply.http.headers.find((x) => x.name === 'Cache-Control');
  assert.equal(cc.value, 'no-store');
  return h.value;
}

test('valid token with the required scope: OK, no HTTP response, the token\'s facts', async () => {
  const token = await mint('profile email');
  const reply = await introspect(token, ['profile']);
  assert.equal(reply.action, 'ACTION_OK');
  assert.equal(reply.http, null);
  assert.equal(reply.client_id_alias, 'example-app');
  assert.deepEqual([...reply.scopes].sort(), ['email', 'profile']);
  assert.ok(reply.usable && reply.sufficient && reply.existent);
  assert.ok(reply.expires_at > Date.now());
});

test('insufficient scope: 403 insufficient_scope', async () => {
  const reply = await introspect(await mint('profile'), ['phone']);
  assert.equal(reply.action, 'ACTION_FORBIDDEN');
  assert.match(challenge(reply, 403), /^Bearer .*error="insufficient_scope"/);
  assert.equal(reply.sufficient, false);
});

test('expired token: 401 invalid_token once its (one second) lifetime is over', async () => {
  const token = await mint('profile', { access_token_duration: 1 });
  assert.equal((await introspect(token)).action, 'ACTION_OK');
  const deadline = Date.now() + 5000;
  let reply;
  do {
    await sleep(250);
    reply = await introspect(token);
  } while (reply.action === 'ACTION_OK' && Date.now() < deadline);
  assert.equal(reply.action, 'ACTION_UNAUTHORIZED');
  assert.match(challenge(reply, 401), /^Bearer .*error="invalid_token"/);
  assert.equal(reply.existent, true);
  assert.equal(reply.usable, false);
});

test('revoked token: 401 invalid_token', async () => {
  const token = await mint('profile');
  assert.equal((await introspect(token)).action, 'ACTION_OK');
  const revoked = await call(revocation, 'Revocation', { parameters: `token=${token}`, ...CLIENT });
  assert.equal(revoked.action, 'ACTION_OK');
  assert.equal(revoked.http.status, 200);
  const reply = await introspect(token);
  assert.equal(reply.action, 'ACTION_UNAUTHORIZED');
  assert.match(challenge(reply, 401), /^Bearer .*error="invalid_token"/);
});

test('unknown token: 401 invalid_token', async () => {
  const reply = await introspect('no-such-token');
  assert.equal(reply.action, 'ACTION_UNAUTHORIZED');
  assert.match(challenge(reply, 401), /^Bearer .*error="invalid_token"/);
});

test('no token: 400 invalid_token, answered without calling Authlete', async () => {
  const reply = await introspect('');
  assert.equal(reply.action, 'ACTION_BAD_REQUEST');
  assert.match(challenge(reply, 400), /^Bearer .*error="invalid_token"/);
});
