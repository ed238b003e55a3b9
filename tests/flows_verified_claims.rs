//! OpenID Connect for Identity Assurance through the decision RPCs, end to
//! end on the recording fake: the `verified_claims` the request's
//! `idTokenClaims` / `userInfoClaims` ask for are built from the profile and
//! sent as `claims.verified_claims` and `verifiedClaimsForTx`, as
//! authlete-java-jaxrs' `VerifiedClaimsCollector` sends what its SPI built.

mod common;

use authlete_grpc::pb::{self, authorization_decision_request::Decision};
use common::*;
use serde_json::{Value, json};

fn profile() -> String {
    json!({"name": "Alice", "verified_claims": {
        "verification": {"trust_framework": "eidas", "time": "2021-04-09T14:12Z"},
        "claims": {"given_name": "Alice", "family_name": "Liddell", "birthdate": "1970-01-23"}}})
    .to_string()
}

fn requested() -> String {
    json!({"verified_claims": {"verification": {"trust_framework": {"value": "eidas"}},
                               "claims": {"given_name": null, "email": null}}})
    .to_string()
}

fn expected_verified() -> Value {
    json!({"verification": {"trust_framework": "eidas", "time": "2021-04-09T14:12Z"},
           "claims": {"given_name": "Alice"}})
}

fn sent(env: &Env, path: &str) -> Value {
    let requests = env.fake.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].path, env.path(path));
    requests[1].json()
}

#[tokio::test]
async fn an_approval_sends_the_verified_claims_the_id_token_asks_for() {
    let env = start(V3).await;
    let changes = json!({"claims": ["name"], "idTokenClaims": requested(),
                         "requestedVerifiedClaimsForTx": [["birthdate"]]});
    env.fake.reply(
        "/auth/authorization",
        200,
        fixture_with("authorization/interaction.json", changes),
    );
    env.fake.reply(
        "/auth/authorization/issue",
        200,
        fixture("authorization_issue/location.json"),
    );
    let first = env
        .authorization()
        .authorization(pb::AuthorizationRequest::default())
        .await
        .unwrap()
        .into_inner();
    let approval = pb::AuthorizationApproval {
        subject: "alice".into(),
        claims: profile(),
        ..Default::default()
    };
    env.authorization()
        .authorization_decision(pb::AuthorizationDecisionRequest {
            continuation: first.continuation,
            decision: Some(Decision::Approved(approval)),
        })
        .await
        .unwrap();
    let body = sent(&env, "/auth/authorization/issue");
    let claims: Value = serde_json::from_str(body["claims"].as_str().unwrap()).unwrap();
    assert_eq!(
        claims,
        json!({"name": "Alice", "verified_claims": expected_verified()})
    );
    assert_eq!(
        body["verifiedClaimsForTx"],
        json!([r#"{"birthdate":"1970-01-23"}"#])
    );
}

#[tokio::test]
async fn userinfo_sends_the_verified_claims_the_userinfo_part_asks_for() {
    let env = start(V2).await;
    let changes = json!({"claims": ["name"], "userInfoClaims": requested()});
    env.fake.reply(
        "/auth/userinfo",
        200,
        fixture_with("userinfo/ok.json", changes),
    );
    env.fake.reply(
        "/auth/userinfo/issue",
        200,
        fixture("userinfo_issue/json.json"),
    );
    let first = env
        .userinfo()
        .user_info(pb::UserInfoRequest {
            token: "at".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    env.userinfo()
        .user_info_decision(pb::UserInfoDecisionRequest {
            continuation: first.continuation,
            claims: profile(),
            sub: String::new(),
        })
        .await
        .unwrap();
    let body = sent(&env, "/auth/userinfo/issue");
    let claims: Value = serde_json::from_str(body["claims"].as_str().unwrap()).unwrap();
    assert_eq!(
        claims,
        json!({"name": "Alice", "verified_claims": expected_verified()})
    );
    assert!(body.get("verifiedClaimsForTx").is_none(), "{body}");
}

#[tokio::test]
async fn without_a_verified_claims_request_the_profiles_datasets_stay_home() {
    let env = start(V2).await;
    env.fake.reply(
        "/auth/userinfo",
        200,
        fixture_with("userinfo/ok.json", json!({"claims": ["name"]})),
    );
    env.fake.reply(
        "/auth/userinfo/issue",
        200,
        fixture("userinfo_issue/json.json"),
    );
    let first = env
        .userinfo()
        .user_info(pb::UserInfoRequest {
            token: "at".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    env.userinfo()
        .user_info_decision(pb::UserInfoDecisionRequest {
            continuation: first.continuation,
            claims: profile(),
            sub: String::new(),
        })
        .await
        .unwrap();
    let body = sent(&env, "/auth/userinfo/issue");
    assert_eq!(body["claims"], r#"{"name":"Alice"}"#);
}
