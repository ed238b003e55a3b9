//! Token management on the local engine through the real gRPC service:
//! list, update, revoke and delete tokens issued by real flows, and see the
//! change where it matters (introspection). Directly and over the engine's
//! HTTP API (v2 and v3); every reply is checked against Authlete's schemas.

#![allow(clippy::needless_update)]

mod local_common;

use authlete_grpc::backend::ApiVersion;
use authlete_grpc::pb;
use authlete_grpc::pb::token_management_service_client::TokenManagementServiceClient;
use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use local_common::*;
use tonic::Code;
use tonic::transport::Channel;

const VIAS: [Via; 3] = [
    Via::Direct,
    Via::Http(ApiVersion::V2),
    Via::Http(ApiVersion::V3),
];

fn manage(env: &Env) -> TokenManagementServiceClient<Channel> {
    TokenManagementServiceClient::new(env.channel())
}

/// How token lists name a token.
fn hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest(&SHA256, token.as_bytes()).as_ref())
}

async fn client_credentials(env: &Env) -> pb::TokenResponse {
    let t = token(
        env,
        "grant_type=client_credentials&scope=email",
        Some((WEB, WEB_SECRET)),
    )
    .await;
    assert_eq!(t.action_name, "OK", "{}", t.result_message);
    t
}

/// Every page of a list, gathered from the stream.
async fn list(env: &Env, request: pb::TokenListRequest) -> Vec<pb::TokenListResponse> {
    let mut stream = manage(env)
        .token_list(request)
        .await
        .expect("TokenList")
        .into_inner();
    let mut pages = Vec::new();
    while let Some(page) = stream.message().await.expect("a page") {
        pages.push(page);
    }
    pages
}

async fn action_of_introspection(env: &Env, token: &str, scopes: &[&str]) -> String {
    introspect(env, token, scopes).await.action_name
}

#[tokio::test]
async fn list_shows_live_tokens_by_client_and_subject_as_hashes() {
    for via in VIAS {
        let env = Env::start(via).await;
        let alice = tokens(&env).await;
        let machine = client_credentials(&env).await;
        let pages = list(
            &env,
            pb::TokenListRequest {
                client_identifier: WEB.to_owned(),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(pages.len(), 1, "{via:?}");
        let page = &pages[0];
        assert_eq!((page.start, page.end, page.total_count), (0, 2, 2));
        assert_eq!(page.client.as_ref().expect("client").client_id_alias, WEB);
        let listed: Vec<&str> = page
            .access_tokens
            .iter()
            .map(|t| t.access_token_hash.as_str())
            .collect();
        assert_eq!(
            listed,
            [hash(&alice.access_token), hash(&machine.access_token)]
        );
        let first = &page.access_tokens[0];
        assert_eq!(first.subject, "alice");
        assert_eq!(first.grant_type, "AUTHORIZATION_CODE");
        assert_eq!(first.refresh_token_hash, hash(&alice.refresh_token));
        assert_eq!(first.scopes, ["openid", "profile", "email"]);
        assert!(first.access_token_expires_at > first.created_at);
        // No token value ever appears in a list.
        assert!(!page.authlete_response.contains(&alice.access_token));

        let pages = list(
            &env,
            pb::TokenListRequest {
                subject: "alice".to_owned(),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(pages[0].total_count, 1);
        assert_eq!(pages[0].subject, "alice");

        // A record lives while its refresh token does; then it is gone.
        env.advance(3601);
        let pages = list(&env, pb::TokenListRequest::default()).await;
        let hashes: Vec<&str> = pages[0]
            .access_tokens
            .iter()
            .map(|t| t.refresh_token_hash.as_str())
            .collect();
        assert_eq!(hashes, [hash(&alice.refresh_token)], "{via:?}");
        env.advance(86_400);
        let pages = list(&env, pb::TokenListRequest::default()).await;
        assert_eq!(pages[0].total_count, 0, "{via:?}");
        env.checked.assert_all_valid();
    }
}

#[tokio::test]
async fn a_long_list_streams_page_by_page() {
    let env = Env::start(Via::Direct).await;
    let mut issued = Vec::new();
    for _ in 0..230 {
        issued.push(hash(&client_credentials(&env).await.access_token));
    }
    let pages = list(&env, pb::TokenListRequest::default()).await;
    let sizes: Vec<usize> = pages.iter().map(|p| p.access_tokens.len()).collect();
    assert_eq!(sizes, [100, 100, 30]);
    let listed: Vec<String> = pages
        .iter()
        .flat_map(|p| p.access_tokens.iter().map(|t| t.access_token_hash.clone()))
        .collect();
    assert_eq!(listed, issued);
    // A range: tokens 95..105 cross the page boundary of the engine's answer.
    let pages = list(
        &env,
        pb::TokenListRequest {
            start: 95,
            end: 105,
            ..Default::default()
        },
    )
    .await;
    let listed: Vec<&str> = pages
        .iter()
        .flat_map(|p| p.access_tokens.iter().map(|t| t.access_token_hash.as_str()))
        .collect();
    assert_eq!(listed, issued[95..105]);
}

#[tokio::test]
async fn update_changes_scopes_expiry_properties_and_value() {
    for via in VIAS {
        let env = Env::start(via).await;
        let t = tokens(&env).await;
        let r = manage(&env)
            .token_update(pb::TokenUpdateRequest {
                access_token_hash: hash(&t.access_token),
                scopes: vec!["openid".to_owned(), "no-such-scope".to_owned()],
                properties: vec![pb::Property {
                    key: "tier".to_owned(),
                    value: "gold".to_owned(),
                    hidden: false,
                }],
                ..Default::default()
            })
            .await
            .expect("TokenUpdate")
            .into_inner();
        assert_eq!(r.action_name, "OK", "{via:?} {}", r.result_message);
        // Scopes the service does not know are dropped, as Authlete does.
        assert_eq!(r.scopes, ["openid"]);
        assert_eq!(r.access_token, t.access_token);
        assert_eq!(r.properties[0].value, "gold");
        assert_eq!(
            action_of_introspection(&env, &t.access_token, &["openid"]).await,
            "OK"
        );
        assert_eq!(
            action_of_introspection(&env, &t.access_token, &["email"]).await,
            "FORBIDDEN"
        );
        let i = introspect(&env, &t.access_token, &[]).await;
        assert_eq!(i.properties[0].key, "tier");
        // A refresh does not bring the removed scopes back.
        let refresh = format!("grant_type=refresh_token&refresh_token={}", t.refresh_token);
        let t = token(&env, &refresh, Some((WEB, WEB_SECRET))).await;
        assert_eq!(t.action_name, "OK", "{}", t.result_message);
        assert_eq!(t.scopes, ["openid"], "{via:?}");

        // A new expiry, then a new value: the old value stops working.
        let soon = env.clock_seconds() * 1000 + 10_000;
        let r = manage(&env)
            .token_update(pb::TokenUpdateRequest {
                access_token: t.access_token.clone(),
                access_token_expires_at: soon,
                access_token_value_updated: true,
                ..Default::default()
            })
            .await
            .expect("TokenUpdate")
            .into_inner();
        assert_eq!(r.access_token_expires_at, soon);
        assert_ne!(r.access_token, t.access_token);
        assert_eq!(
            action_of_introspection(&env, &t.access_token, &[]).await,
            "UNAUTHORIZED"
        );
        assert_eq!(
            action_of_introspection(&env, &r.access_token, &[]).await,
            "OK"
        );
        env.advance(11);
        assert_eq!(
            action_of_introspection(&env, &r.access_token, &[]).await,
            "UNAUTHORIZED"
        );
        env.checked.assert_all_valid();
    }
}

#[tokio::test]
async fn update_refuses_what_the_engine_cannot_do_and_unknown_tokens() {
    let env = Env::start(Via::Direct).await;
    let t = tokens(&env).await;
    let refused = [
        pb::TokenUpdateRequest {
            access_token: t.access_token.clone(),
            access_token_persistent: true,
            ..Default::default()
        },
        pb::TokenUpdateRequest {
            access_token: t.access_token.clone(),
            dpop_key_thumbprint: "jkt".to_owned(),
            ..Default::default()
        },
        pb::TokenUpdateRequest {
            token_id: "some-id".to_owned(),
            ..Default::default()
        },
    ];
    for request in refused {
        let r = manage(&env)
            .token_update(request)
            .await
            .expect("TokenUpdate")
            .into_inner();
        assert_eq!(r.action_name, "BAD_REQUEST", "{}", r.result_message);
    }
    let r = manage(&env)
        .token_update(pb::TokenUpdateRequest {
            access_token: "not-a-token".to_owned(),
            scopes: vec!["openid".to_owned()],
            ..Default::default()
        })
        .await
        .expect("TokenUpdate")
        .into_inner();
    assert_eq!(r.action_name, "NOT_FOUND");
    // Nothing was applied by the refused requests.
    let i = introspect(&env, &t.access_token, &["email"]).await;
    assert_eq!(i.action_name, "OK");
    env.checked.assert_all_valid();
}

#[tokio::test]
async fn revoke_by_token_refresh_token_client_and_subject() {
    for via in VIAS {
        let env = Env::start(via).await;
        let revoke = |request: pb::TokenRevokeRequest| {
            let mut client = manage(&env);
            async move {
                client
                    .token_revoke(request)
                    .await
                    .expect("TokenRevoke")
                    .into_inner()
                    .count
            }
        };
        let a = tokens(&env).await;
        let b = tokens(&env).await;
        let c = client_credentials(&env).await;
        let d = client_credentials(&env).await;

        let by_hash = revoke(pb::TokenRevokeRequest {
            access_token_identifier: hash(&a.access_token),
            ..Default::default()
        });
        assert_eq!(by_hash.await, 1, "{via:?}");
        assert_eq!(
            action_of_introspection(&env, &a.access_token, &[]).await,
            "UNAUTHORIZED"
        );

        let by_refresh = revoke(pb::TokenRevokeRequest {
            refresh_token_identifier: b.refresh_token.clone(),
            ..Default::default()
        });
        assert_eq!(by_refresh.await, 1);
        assert_eq!(
            action_of_introspection(&env, &b.access_token, &[]).await,
            "UNAUTHORIZED"
        );
        let refresh = format!("grant_type=refresh_token&refresh_token={}", b.refresh_token);
        let r = token(&env, &refresh, Some((WEB, WEB_SECRET))).await;
        assert_eq!(r.action_name, "BAD_REQUEST");

        // A subject that has no token here: the filters narrow, never widen.
        let none = revoke(pb::TokenRevokeRequest {
            client_identifier: WEB.to_owned(),
            subject: "nobody".to_owned(),
            ..Default::default()
        });
        assert_eq!(none.await, 0);
        assert_eq!(
            action_of_introspection(&env, &c.access_token, &[]).await,
            "OK"
        );

        let by_client = revoke(pb::TokenRevokeRequest {
            client_identifier: WEB.to_owned(),
            ..Default::default()
        });
        assert_eq!(by_client.await, 2);
        assert_eq!(
            action_of_introspection(&env, &c.access_token, &[]).await,
            "UNAUTHORIZED"
        );
        assert_eq!(
            action_of_introspection(&env, &d.access_token, &[]).await,
            "UNAUTHORIZED"
        );
        env.checked.assert_all_valid();
    }
}

#[tokio::test]
async fn delete_by_value_or_hash_and_again() {
    for via in VIAS {
        let env = Env::start(via).await;
        let a = tokens(&env).await;
        let b = client_credentials(&env).await;
        for identifier in [a.access_token.clone(), hash(&b.access_token)] {
            manage(&env)
                .token_delete(pb::TokenDeleteRequest {
                    access_token_identifier: identifier.clone(),
                })
                .await
                .expect("TokenDelete");
            // Deleting what is gone is not an error (DELETE is idempotent).
            manage(&env)
                .token_delete(pb::TokenDeleteRequest {
                    access_token_identifier: identifier,
                })
                .await
                .expect("TokenDelete again");
        }
        assert_eq!(
            action_of_introspection(&env, &a.access_token, &[]).await,
            "UNAUTHORIZED"
        );
        assert_eq!(
            action_of_introspection(&env, &b.access_token, &[]).await,
            "UNAUTHORIZED"
        );
        assert_eq!(env.checked.counts()["/auth/token/delete"], 4, "{via:?}");
        // An access token past its expiry still names the record, whose
        // refresh token works until it is deleted.
        let c = tokens(&env).await;
        env.advance(3601);
        manage(&env)
            .token_delete(pb::TokenDeleteRequest {
                access_token_identifier: c.access_token.clone(),
            })
            .await
            .expect("TokenDelete");
        let refresh = format!("grant_type=refresh_token&refresh_token={}", c.refresh_token);
        let r = token(&env, &refresh, Some((WEB, WEB_SECRET))).await;
        assert_eq!(r.action_name, "BAD_REQUEST", "{via:?}");
        for identifier in ["", ".", ".."] {
            let status = manage(&env)
                .token_delete(pb::TokenDeleteRequest {
                    access_token_identifier: identifier.to_owned(),
                })
                .await
                .expect_err("INVALID_ARGUMENT");
            assert_eq!(status.code(), Code::InvalidArgument, "{identifier:?}");
        }
        env.checked.assert_all_valid();
    }
}
