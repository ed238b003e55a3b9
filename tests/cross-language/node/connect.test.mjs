// The official Connect client (@connectrpc/connect-node, with code generated
// from proto/ by @bufbuild/protoc-gen-es through `buf generate`) straight on
// the service's main port: Token, Introspection, a whole authorization code
// flow (Authorization, AuthorizationDecision, Token) and the server-streaming
// TokenList on the local engine, in JSON and in binary, over HTTP/1.1 and HTTP/2.
// Needs GRPC_ADDR; run by scripts/test-cross-language.sh after `buf generate`.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import {
  AuthorizationResponse_Action,
  AuthorizationService,
} from './gen/authlete/v1/authorization_pb.js';
import { IntrospectionResponse_Action, IntrospectionService } from './gen/authlete/v1/introspection_pb.js';
import { TokenResponse_Action, TokenService } from './gen/authlete/v1/token_pb.js';
import { TokenManagementService } from './gen/authlete/v1/token_management_pb.js';

const CLIENT = { clientId: 'example-app', clientSecret: 'example-secret' };
const REDIRECT = 'http://localhost:3000/callback';

function clients(useBinaryFormat, httpVersion) {
  assert.ok(process.env.GRPC_ADDR, 'GRPC_ADDR is not set');
  const transport = createConnectTransport({
    baseUrl: `http://${process.env.GRPC_ADDR}`,
    httpVersion,
    useBinaryFormat,
  });
  return {
    authorization: createClient(AuthorizationService, transport),
    token: createClient(TokenService, transport),
    introspection: createClient(IntrospectionService, transport),
    management: createClient(TokenManagementService, transport),
  };
}

const b64url = (buf) => buf.toString('base64url');

async function mint(c, scope) {
  const reply = await c.token.token({ parameters: `grant_type=client_credentials&scope=${scope}`, ...CLIENT });
  assert.equal(reply.action, TokenResponse_Action.OK);
  assert.equal(reply.http.status, 200);
  return JSON.parse(reply.http.body).access_token;
}

for (const [format, binary] of [['JSON', false], ['binary', true]]) {
  for (const httpVersion of ['1.1', '2']) {
    const name = `${format} over HTTP/${httpVersion}`;

    test(`Connect ${name}: Token and Introspection`, async () => {
      const c = clients(binary, httpVersion);
      const token = await mint(c, 'profile');
      const ok = await c.introspection.introspection({ token, scopes: ['profile'] });
      assert.equal(ok.action, IntrospectionResponse_Action.OK);
      assert.equal(ok.http, undefined, 'no HTTP response: the resource server goes on');
      assert.equal(ok.clientIdAlias, 'example-app');
      assert.equal(typeof ok.expiresAt, 'bigint', 'int64 arrives as a 64-bit integer');
      assert.ok(ok.expiresAt > BigInt(Date.now()));
      const short = await c.introspection.introspection({ token, scopes: ['phone'] });
      assert.equal(short.action, IntrospectionResponse_Action.FORBIDDEN);
      assert.equal(short.http.status, 403);
    });

    test(`Connect ${name}: a whole authorization code flow, then the user's tokens streamed`, async () => {
      const c = clients(binary, httpVersion);
      const subject = `alice-${format}-${httpVersion}`;
      const verifier = b64url(randomBytes(32));
      const challenge = b64url(createHash('sha256').update(verifier).digest());
      const state = b64url(randomBytes(8));
      const parameters = new URLSearchParams({
        response_type: 'code', client_id: CLIENT.clientId, redirect_uri: REDIRECT,
        scope: 'openid profile', state, nonce: 'n-0S6_WzA2Mj',
        code_challenge: challenge, code_challenge_method: 'S256',
      }).toString();
      const first = await c.authorization.authorization({ parameters });
      assert.equal(first.action, AuthorizationResponse_Action.INTERACTION);
      assert.ok(first.continuation, 'a continuation for the decision');

      const decided = await c.authorization.authorizationDecision({
        continuation: first.continuation,
        decision: {
          case: 'approved',
          value: { subject, authTime: BigInt(Math.floor(Date.now() / 1000)) },
        },
      });
      assert.equal(decided.http.status, 302);
      const location = decided.http.headers.find((h) => h.name === 'Location').value;
      const back = new URL(location);
      assert.equal(back.searchParams.get('state'), state);
      const code = back.searchParams.get('code');
      assert.ok(code, location);

      const tokens = await c.token.token({
        parameters: new URLSearchParams({
          grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier,
        }).toString(),
        ...CLIENT,
      });
      assert.equal(tokens.action, TokenResponse_Action.OK);
      const body = JSON.parse(tokens.http.body);
      assert.ok(body.id_token && body.access_token && body.refresh_token);
      assert.equal(tokens.subject, subject);

      const seen = await c.introspection.introspection({ token: body.access_token });
      assert.equal(seen.action, IntrospectionResponse_Action.OK);
      assert.equal(seen.subject, subject);

      // Server streaming (Connect streaming): TokenList's pages.
      const pages = [];
      for await (const page of c.management.tokenList({ subject, end: 10n })) pages.push(page);
      assert.equal(pages.length, 1);
      assert.equal(pages[0].totalCount, 1n);
      assert.equal(pages[0].accessTokens.length, 1);
      assert.equal(pages[0].accessTokens[0].subject, subject);

      // The code is spent: Authlete's answer, not an RPC error.
      const again = await c.token.token({
        parameters: `grant_type=authorization_code&code=${code}&redirect_uri=${REDIRECT}&code_verifier=${verifier}`,
        ...CLIENT,
      });
      assert.equal(again.action, TokenResponse_Action.BAD_REQUEST);
      assert.equal(again.http.status, 400);
    });

    test(`Connect ${name}: bad input is a ConnectError naming the field`, async () => {
      const c = clients(binary, httpVersion);
      await assert.rejects(
        c.authorization.authorizationDecision({ continuation: '' }),
        (e) => {
          assert.ok(e instanceof ConnectError, String(e));
          assert.equal(e.code, Code.InvalidArgument);
          assert.match(e.rawMessage, /^decision is required/);
          // The details as sent: google.rpc types, base64 values.
          assert.deepEqual(e.details.map((d) => d.type).sort(), ['google.rpc.BadRequest', 'google.rpc.ErrorInfo']);
          return true;
        },
      );
    });
  }
}
