//! What revoking calls name, and how long answers are kept.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use super::index::{Index, Listing};
use super::revoked::{Revoked, took_effect};
use super::*;
use crate::cache::ManualClock;

fn post(api: Api, body: serde_json::Value) -> Call {
    Call {
        api,
        query: Vec::new(),
        body: Some(body.to_string().into_bytes()),
    }
}

fn reply(body: &str) -> Reply {
    Reply {
        status: 200,
        body: body.to_owned(),
        request_id: None,
    }
}

#[test]
fn revocation_names_the_form_token_and_the_client() {
    let call = post(
        Api::Revocation,
        serde_json::json!({"parameters": "token=abc%2Bd&token_type_hint=refresh_token", "clientId": "web"}),
    );
    assert_eq!(
        Revoked::of(&call),
        Some(Revoked::Token {
            token: token_hash("abc+d"),
            client: Some("web".to_owned())
        })
    );
    let public = post(
        Api::Revocation,
        serde_json::json!({"parameters": "client_id=spa&token=t"}),
    );
    assert_eq!(
        Revoked::of(&public),
        Some(Revoked::Token {
            token: token_hash("t"),
            client: Some("spa".to_owned())
        })
    );
    let none = post(Api::Revocation, serde_json::json!({"parameters": "x=1"}));
    assert_eq!(Revoked::of(&none), Some(Revoked::Unknown));
    assert_eq!(Revoked::of(&post(Api::Token, serde_json::json!({}))), None);
}

#[test]
fn an_unlisted_token_falls_back_to_its_client_then_to_everything() {
    let index = Index::default();
    let key = [7; 32];
    index.add(
        key,
        &Listing {
            token: token_hash("at"),
            clients: vec!["42".to_owned(), "web".to_owned()],
            fill: 1,
        },
    );
    let refresh = Revoked::Token {
        token: token_hash("rt"),
        client: Some("web".to_owned()),
    };
    assert_eq!(refresh.keys(&index), Some(vec![key]));
    let anonymous = Revoked::Token {
        token: token_hash("rt"),
        client: None,
    };
    assert_eq!(anonymous.keys(&index), None, "nothing to go by: everything");
    let by_subject = Revoked::Filter {
        access_token: None,
        client: None,
        unindexed: true,
    };
    assert_eq!(by_subject.keys(&index), None);
    let hash = Revoked::Filter {
        access_token: Some(token_hash("a-hash")),
        client: None,
        unindexed: false,
    };
    assert_eq!(
        hash.keys(&index),
        None,
        "perhaps the hash of a listed token"
    );
}

#[test]
fn only_sure_refusals_of_a_revocation_keep_the_cache() {
    let api = Api::Revocation;
    assert!(took_effect(api, &Ok(reply(r#"{"action":"OK"}"#))));
    assert!(took_effect(
        api,
        &Ok(reply(r#"{"action":"INTERNAL_SERVER_ERROR"}"#))
    ));
    assert!(!took_effect(api, &Ok(reply(r#"{"action":"BAD_REQUEST"}"#))));
    assert!(!took_effect(
        api,
        &Ok(reply(r#"{"action":"INVALID_CLIENT"}"#))
    ));
    let lost = BackendError::ConnectionLost {
        api: "/auth/revocation",
        detail: String::new(),
    };
    assert!(took_effect(api, &Err(lost)));
    let refused = BackendError::Connect {
        api: "/auth/revocation",
        detail: String::new(),
    };
    assert!(!took_effect(api, &Err(refused)), "never sent");
}

fn shared_at(clock: Arc<ManualClock>, ttl: Duration) -> Arc<Shared> {
    struct Nothing;
    impl Backend for Nothing {
        fn call<'a>(&'a self, _: Call) -> BoxFuture<'a, Result<Reply, BackendError>> {
            Box::pin(async { unreachable!("not called") })
        }
    }
    let options = IntrospectionCacheOptions {
        ttl,
        clock,
        ..Default::default()
    };
    let cache = IntrospectionCache::new(
        Arc::new(Nothing),
        options,
        IntrospectionCacheMetrics::default(),
    );
    cache.shared.expect("a TTL turns it on")
}

#[test]
fn answers_are_kept_until_the_ttl_or_expires_at_whichever_is_first() {
    let clock = Arc::new(ManualClock::default());
    let now = clock.wall().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64;
    let shared = shared_at(clock, Duration::from_secs(60));
    let ok = |expires_at: i64| {
        format!(
            r#"{{"action":"OK","expiresAt":{expires_at},"clientId":42,"clientIdAlias":"web","clientEntityId":null}}"#
        )
    };
    let (keep, clients) = shared.keep(&reply(&ok(now + 5_000))).unwrap();
    assert_eq!(keep, Duration::from_secs(5));
    assert_eq!(clients, ["42", "web"]);
    let (keep, _) = shared.keep(&reply(&ok(now + 3_600_000))).unwrap();
    assert_eq!(
        keep,
        Duration::from_secs(3600),
        "the TTL bound is the cache's"
    );
    assert_eq!(shared.keep(&reply(&ok(now))), None, "expired");
    assert_eq!(shared.keep(&reply(&ok(now - 1))), None);
    assert_eq!(
        shared.keep(&reply(r#"{"action":"OK"}"#)),
        None,
        "no expiresAt"
    );
    let unauthorized = format!(r#"{{"action":"UNAUTHORIZED","expiresAt":{}}}"#, now + 5_000);
    assert_eq!(shared.keep(&reply(&unauthorized)), None);
}
