//! Revocations through this process evict the introspection cache's entries
//! of what they revoke: `Revocation` of an access token (its entries), of a
//! refresh token (every entry of the revoking client), `TokenRevoke` and
//! `TokenDelete`; also an answer fetched while the revocation ran.

mod common;

use std::time::Duration;

use authlete_grpc::pb;
use common::introspected::{Cached, INTROSPECTION, started};
use common::*;
use serde_json::json;

const TOKEN: &str = "Ww9Tu2Bd5N8ZfCbFx1hJqL3mRkVs6YpA0eGi7QjXo4U";
const OTHER: &str = "Qz3Lk8Vb1Nc6Xd0Fg5Hj2Mp7Rs4Tw9Yu";
const HOUR_MS: i64 = 3_600_000;

/// Caches `TOKEN` for two scope sets and `OTHER` (of client 7, `mobile`).
async fn cached_two_clients() -> Cached {
    let c = started().await;
    let mobile = fixture_with(
        "introspection/ok.json",
        json!({"expiresAt": c.now_ms() + HOUR_MS, "clientId": 7, "clientIdAlias": "mobile"}),
    );
    c.answer(c.ok(HOUR_MS));
    c.env
        .fake
        .queue(INTROSPECTION, [Scripted::new(200, mobile)]);
    c.introspect(OTHER, &[]).await.unwrap();
    c.introspect(TOKEN, &["read"]).await.unwrap();
    c.introspect(TOKEN, &["write"]).await.unwrap();
    assert_eq!(c.upstream(), 3);
    c
}

/// Introspects the three again; how many reached Authlete.
async fn again(c: &Cached) -> (usize, usize) {
    let before = c.upstream();
    c.introspect(TOKEN, &["read"]).await.unwrap();
    c.introspect(TOKEN, &["write"]).await.unwrap();
    let token = c.upstream() - before;
    c.introspect(OTHER, &[]).await.unwrap();
    (token, c.upstream() - before - token)
}

/// Authlete revokes what it is asked to.
fn revocation_ok(c: &Cached) {
    c.env
        .fake
        .reply("/auth/revocation", 200, fixture("revocation/ok.json"));
}

async fn revoke(c: &Cached, parameters: &str, client_id: &str) -> pb::RevocationResponse {
    c.env
        .revocation()
        .revocation(pb::RevocationRequest {
            parameters: parameters.to_owned(),
            client_id: client_id.to_owned(),
            client_secret: "SECRET-client".to_owned(),
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner()
}

#[tokio::test]
async fn revoking_an_access_token_evicts_its_entries_only() {
    let c = cached_two_clients().await;
    revocation_ok(&c);
    revoke(
        &c,
        &format!("token={TOKEN}&token_type_hint=access_token"),
        "web",
    )
    .await;
    assert_eq!(
        again(&c).await,
        (2, 0),
        "both of TOKEN's entries went; OTHER's stayed"
    );
    assert_eq!(c.metrics.evictions_of("revocation"), 2);
}

#[tokio::test]
async fn revoking_a_refresh_token_evicts_every_entry_of_the_client() {
    let c = cached_two_clients().await;
    revocation_ok(&c);
    // Authlete revokes a refresh token's access tokens with it; the cache
    // does not know which they are, so all of the client's go.
    revoke(&c, "token=a-refresh-token&client_id=web", "").await;
    assert_eq!(again(&c).await, (2, 0));
}

#[tokio::test]
async fn a_revocation_authlete_refused_evicts_nothing() {
    let c = cached_two_clients().await;
    let refused = fixture_with("revocation/ok.json", json!({"action": "BAD_REQUEST"}));
    c.env.fake.reply("/auth/revocation", 200, refused);
    revoke(&c, &format!("token={TOKEN}"), "web").await;
    assert_eq!(again(&c).await, (0, 0));
}

#[tokio::test]
async fn token_revoke_evicts_the_named_token_and_a_subject_filter_evicts_all() {
    let c = cached_two_clients().await;
    c.env
        .fake
        .reply("/auth/token/revoke", 200, fixture("token_revoke/ok.json"));
    let mut management = c.env.token_management();
    management
        .token_revoke(pb::TokenRevokeRequest {
            access_token_identifier: TOKEN.to_owned(),
            ..Default::default()
        })
        .await
        .expect("OK");
    assert_eq!(again(&c).await, (2, 0));
    assert_eq!(c.metrics.evictions_of("token_revoke"), 2);

    management
        .token_revoke(pb::TokenRevokeRequest {
            subject: "john".to_owned(),
            ..Default::default()
        })
        .await
        .expect("OK");
    assert_eq!(
        again(&c).await,
        (2, 1),
        "the cache cannot tell john's: all went"
    );
}

#[tokio::test]
async fn token_delete_evicts_the_token() {
    let c = cached_two_clients().await;
    c.env
        .fake
        .reply(&format!("/auth/token/delete/{TOKEN}"), 204, "");
    c.env
        .token_management()
        .token_delete(pb::TokenDeleteRequest {
            access_token_identifier: TOKEN.to_owned(),
        })
        .await
        .expect("deleted");
    assert_eq!(again(&c).await, (2, 0));
    assert_eq!(c.metrics.evictions_of("token_delete"), 2);
}

#[tokio::test]
async fn an_answer_fetched_while_a_revocation_runs_is_not_kept_after_it() {
    let c = started().await;
    c.env.fake.script(
        INTROSPECTION,
        Scripted::new(200, c.ok(HOUR_MS)).delay(Duration::from_millis(300)),
    );
    revocation_ok(&c);
    let mut client = c.env.introspection();
    let slow = tokio::spawn(async move {
        client
            .introspection(introspected::request(TOKEN, &[]))
            .await
            .map(|r| r.into_inner().action_name)
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    revoke(&c, &format!("token={TOKEN}"), "web").await;
    assert!(
        slow.is_finished(),
        "the revocation waited for the fetch under way"
    );
    assert_eq!(
        slow.await.unwrap().unwrap(),
        "OK",
        "asked before the revocation"
    );
    c.env.fake.reply(INTROSPECTION, 200, c.ok(HOUR_MS));
    c.introspect(TOKEN, &[]).await.unwrap();
    assert_eq!(
        c.upstream(),
        2,
        "the answer from before the revocation was evicted"
    );
}

#[tokio::test]
async fn no_token_in_the_metrics() {
    let c = cached_two_clients().await;
    revocation_ok(&c);
    revoke(&c, &format!("token={TOKEN}"), "web").await;
    again(&c).await;
    let mut registry = prometheus_client::registry::Registry::default();
    c.metrics.register(&mut registry);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    assert!(text.contains("authlete_grpc_introspection_cache_hits_total{source=\"cache\"}"));
    assert!(
        text.contains("authlete_grpc_introspection_cache_evictions_total{cause=\"revocation\"} 2")
    );
    for secret in [TOKEN, OTHER, "web", "mobile"] {
        assert!(!text.contains(secret), "{secret} in:\n{text}");
    }
}
