//! Full OAuth flows on the local engine through the real gRPC service:
//! directly, and over the engine's HTTP API through the `authlete` backend
//! (v2 and v3). Every engine reply is checked against Authlete's schemas.

// Proto messages may gain fields: every literal ends in `..Default::default()`.
#![allow(clippy::needless_update)]

mod local_common;

use authlete_grpc::backend::ApiVersion;
use authlete_grpc::pb;
use local_common::idtoken::{half_hash, header, jwks, verify};
use local_common::*;
use serde_json::Value;

const VIAS: [Via; 3] = [
    Via::Direct,
    Via::Http(ApiVersion::V2),
    Via::Http(ApiVersion::V3),
];

#[tokio::test]
async fn authorization_code_with_pkce_openid_to_revocation() {
    for via in VIAS {
        let env = Env::start(via).await;
        let t = tokens(&env).await;
        let body: Value = serde_json::from_str(&t.response_content).unwrap();
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 3600);
        assert_eq!(body["scope"], "openid profile email");
        assert_eq!(t.grant_type, "AUTHORIZATION_CODE");
        assert_eq!(t.subject, "alice");
        assert_eq!(t.client_auth_method, "CLIENT_SECRET_BASIC");
        assert_eq!(t.http.as_ref().unwrap().status, 200);

        // The ID token, verified against ServiceJwks.
        let claims = verify(&jwks(&env).await, &t.id_token);
        assert_eq!(claims["iss"], ISSUER);
        assert_eq!(claims["aud"], WEB);
        assert_eq!(claims["sub"], "alice");
        assert_eq!(claims["nonce"], "n-1");
        assert_eq!(claims["name"], "Alice");
        assert_eq!(claims["acr"], "urn:acr:pwd");
        assert_eq!(claims["auth_time"], 1_700_000_000);
        assert_eq!(claims["at_hash"], half_hash(&t.access_token));
        let now = env.clock_seconds();
        assert!(claims["exp"].as_i64().unwrap() > now);
        assert!(claims["iat"].as_i64().unwrap() <= now);

        // Introspection: OK, then FORBIDDEN for a scope not granted.
        let i = introspect(&env, &t.access_token, &["openid", "email"]).await;
        assert_eq!(i.action_name, "OK", "{via:?}");
        assert_eq!(i.subject, "alice");
        assert!(i.usable && i.sufficient && i.refreshable);
        let i = introspect(&env, &t.access_token, &["phone"]).await;
        assert_eq!(i.action_name, "FORBIDDEN");
        let http = i.http.unwrap();
        assert_eq!(http.status, 403);
        assert!(
            header(&http, "WWW-Authenticate")
                .unwrap()
                .starts_with("Bearer error=\"insufficient_scope\"")
        );

        // UserInfo, then UserInfoIssue.
        let u = env
            .userinfo()
            .user_info(pb::UserInfoRequest {
                token: t.access_token.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(u.action_name, "OK");
        assert_eq!(u.subject, "alice");
        assert!(u.claims.contains(&"name".to_owned()) && u.claims.contains(&"email".to_owned()));
        let ui = env
            .userinfo()
            .user_info_issue(pb::UserInfoIssueRequest {
                token: t.access_token.clone(),
                claims: r#"{"name":"Alice","email":"alice@example.com"}"#.to_owned(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(ui.action_name, "JSON");
        let info: Value = serde_json::from_str(&ui.response_content).unwrap();
        assert_eq!(info["sub"], "alice");
        assert_eq!(info["email"], "alice@example.com");

        // Refresh with rotation: new tokens; the old ones stop working.
        let r = token(
            &env,
            &format!("grant_type=refresh_token&refresh_token={}", t.refresh_token),
            Some((WEB, WEB_SECRET)),
        )
        .await;
        assert_eq!(r.action_name, "OK", "{}", r.result_message);
        assert_eq!(r.grant_type, "REFRESH_TOKEN");
        assert_ne!(r.refresh_token, t.refresh_token);
        assert_ne!(r.access_token, t.access_token);
        assert_eq!(
            introspect(&env, &t.access_token, &[]).await.action_name,
            "UNAUTHORIZED"
        );
        let again = token(
            &env,
            &format!("grant_type=refresh_token&refresh_token={}", t.refresh_token),
            Some((WEB, WEB_SECRET)),
        )
        .await;
        assert_eq!(again.action_name, "BAD_REQUEST");
        assert!(again.response_content.contains("invalid_grant"));
        // The reuse revoked the family (OAuth 2.0 Security BCP): new tokens.
        assert_eq!(
            introspect(&env, &r.access_token, &[]).await.action_name,
            "UNAUTHORIZED"
        );
        let r = tokens(&env).await;

        // Standard introspection (RFC 7662), before and after revocation.
        let active = standard_introspection(&env, &r.access_token).await;
        assert_eq!(active["active"], true);
        assert_eq!(active["sub"], "alice");
        assert_eq!(active["client_id"], WEB);

        // Revocation, then the token is gone.
        let rev = env
            .revocation()
            .revocation(pb::RevocationRequest {
                parameters: format!("token={}&token_type_hint=access_token", r.access_token),
                client_id: WEB.to_owned(),
                client_secret: WEB_SECRET.to_owned(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(rev.action_name, "OK");
        let i = introspect(&env, &r.access_token, &[]).await;
        assert_eq!(i.action_name, "UNAUTHORIZED");
        let http = i.http.unwrap();
        assert_eq!(http.status, 401);
        assert!(
            header(&http, "WWW-Authenticate")
                .unwrap()
                .starts_with("Bearer error=\"invalid_token\"")
        );
        assert_eq!(
            standard_introspection(&env, &r.access_token).await["active"],
            false
        );
        let after = token(
            &env,
            &format!("grant_type=refresh_token&refresh_token={}", r.refresh_token),
            Some((WEB, WEB_SECRET)),
        )
        .await;
        assert_eq!(
            after.action_name, "BAD_REQUEST",
            "revoking the access token revokes its refresh token"
        );
    }
}

#[tokio::test]
async fn client_credentials_basic_and_post() {
    for via in VIAS {
        let env = Env::start(via).await;
        let t = token(
            &env,
            "grant_type=client_credentials&scope=email",
            Some((WEB, WEB_SECRET)),
        )
        .await;
        assert_eq!(t.action_name, "OK", "{}", t.result_message);
        assert!(t.refresh_token.is_empty());
        assert_eq!(t.grant_type, "CLIENT_CREDENTIALS");
        let params = format!(
            "grant_type=client_credentials&client_id={POSTER}&client_secret={POSTER_SECRET}"
        );
        let p = token(&env, &params, None).await;
        assert_eq!(p.action_name, "OK", "{}", p.result_message);
        assert_eq!(p.client_auth_method, "CLIENT_SECRET_POST");
        let i = introspect(&env, &t.access_token, &["email"]).await;
        assert_eq!(i.action_name, "OK");
        assert!(i.subject.is_empty());
        assert_eq!(i.grant_type, "CLIENT_CREDENTIALS");
        let u = env
            .userinfo()
            .user_info(pb::UserInfoRequest {
                token: t.access_token.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(u.action_name, "FORBIDDEN");
    }
}

#[tokio::test]
async fn password_grant_right_and_wrong() {
    for via in VIAS {
        let env = Env::start(via).await;
        let params = "grant_type=password&username=alice&password=wonderland&scope=openid";
        let p = token(&env, params, Some((WEB, WEB_SECRET))).await;
        assert_eq!(p.action_name, "PASSWORD", "{}", p.result_message);
        assert_eq!(
            (p.username.as_str(), p.password.as_str()),
            ("alice", "wonderland")
        );
        assert!(p.http.is_none(), "the web tier must check the password");
        let ok = env
            .token()
            .token_issue(pb::TokenIssueRequest {
                ticket: p.ticket.clone(),
                subject: "alice".to_owned(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(ok.action_name, "OK", "{}", ok.result_message);
        assert!(!ok.access_token.is_empty() && !ok.refresh_token.is_empty());
        assert_eq!(
            introspect(&env, &ok.access_token, &["openid"])
                .await
                .subject,
            "alice"
        );

        let p = token(&env, params, Some((WEB, WEB_SECRET))).await;
        let fail = env
            .token()
            .token_fail(pb::TokenFailRequest {
                ticket: p.ticket.clone(),
                reason: pb::token_fail_request::Reason::InvalidResourceOwnerCredentials as i32,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(fail.action_name, "BAD_REQUEST");
        assert_eq!(fail.http.unwrap().status, 400);
        assert!(
            fail.response_content
                .contains("\"error\":\"invalid_grant\""),
            "RFC 6749 5.2: wrong resource owner credentials are invalid_grant: {}",
            fail.response_content
        );
        // The ticket worked once.
        let twice = env
            .token()
            .token_issue(pb::TokenIssueRequest {
                ticket: p.ticket,
                subject: "alice".to_owned(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(twice.action_name, "INTERNAL_SERVER_ERROR");
    }
}

#[tokio::test]
async fn pushed_authorization_then_authorization() {
    for via in VIAS {
        let env = Env::start(via).await;
        let pushed = env
            .par()
            .pushed_authorization(pb::PushedAuthorizationRequest {
                parameters: code_request(""),
                client_id: WEB.to_owned(),
                client_secret: WEB_SECRET.to_owned(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(pushed.action_name, "CREATED", "{}", pushed.result_message);
        assert!(
            pushed
                .request_uri
                .starts_with("urn:ietf:params:oauth:request_uri:")
        );
        assert_eq!(pushed.http.unwrap().status, 201);
        let content: Value = serde_json::from_str(&pushed.response_content).unwrap();
        assert_eq!(content["expires_in"], 90);
        let params = format!("client_id={WEB}&request_uri={}", enc(&pushed.request_uri));
        let r = authorize(&env, &params).await;
        assert_eq!(r.action_name, "INTERACTION", "{}", r.result_message);
        let i = issue(&env, &r.ticket, "alice", "").await;
        let code = param(&i.response_content, "code").unwrap();
        let t = token(&env, &code_exchange(&code), Some((WEB, WEB_SECRET))).await;
        assert_eq!(t.action_name, "OK", "{}", t.result_message);
        // A request URI works once.
        let again = authorize(&env, &params).await;
        assert_eq!(again.action_name, "BAD_REQUEST");
        assert!(again.response_content.contains("invalid_request_uri"));
    }
}
