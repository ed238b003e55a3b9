//! OpenID4VCI's second steps as jaxrs answers them, through the real server
//! against the recording fake: the parse and issue RPCs carry the preceding
//! introspection's `DPoP-Nonce` (never sent to Authlete), and `/vci/offer/info`
//! answers `resultMessage` for an OK without `info` and treats CREATED as an
//! action it does not have.

mod common;

use authlete_grpc::pb;
use common::*;
use serde_json::json;

const NONCE: &str = "nonce-from-introspection";

#[tokio::test]
async fn parse_and_issue_answers_carry_the_introspections_dpop_nonce() {
    let env = start(V3).await;
    let refused = json!({"action": "BAD_REQUEST", "responseContent": "{\"error\":\"invalid_credential_request\"}"});
    for path in [
        "/vci/single/parse",
        "/vci/batch/parse",
        "/vci/deferred/parse",
    ] {
        env.fake.reply(path, 200, refused.to_string());
    }
    let issued = json!({"action": "OK", "responseContent": "{\"credential\":\"c\"}"});
    for path in [
        "/vci/single/issue",
        "/vci/batch/issue",
        "/vci/deferred/issue",
    ] {
        env.fake.reply(path, 200, issued.to_string());
    }
    let vci = env.credentials();
    let (access_token, dpop_nonce) = ("at".to_owned(), NONCE.to_owned());
    let answers = [
        vci.clone()
            .credential_single_parse(pb::CredentialSingleParseRequest {
                access_token: access_token.clone(),
                dpop_nonce: dpop_nonce.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .http,
        vci.clone()
            .credential_batch_parse(pb::CredentialBatchParseRequest {
                access_token: access_token.clone(),
                dpop_nonce: dpop_nonce.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .http,
        vci.clone()
            .credential_deferred_parse(pb::CredentialDeferredParseRequest {
                access_token: access_token.clone(),
                dpop_nonce: dpop_nonce.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .http,
    ];
    for http in &answers {
        let headers = json_headers(&[("DPoP-Nonce", NONCE)]);
        let body = r#"{"error":"invalid_credential_request"}"#;
        assert_http(http.as_ref(), 400, &headers, body);
    }
    let issues = [
        vci.clone()
            .credential_single_issue(pb::CredentialSingleIssueRequest {
                access_token: access_token.clone(),
                dpop_nonce: dpop_nonce.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .http,
        vci.clone()
            .credential_batch_issue(pb::CredentialBatchIssueRequest {
                access_token: access_token.clone(),
                dpop_nonce: dpop_nonce.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .http,
        vci.clone()
            .credential_deferred_issue(pb::CredentialDeferredIssueRequest {
                dpop_nonce: dpop_nonce.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .http,
    ];
    for http in &issues {
        let headers = json_headers(&[("DPoP-Nonce", NONCE)]);
        assert_http(http.as_ref(), 200, &headers, r#"{"credential":"c"}"#);
    }
    for request in env.fake.requests() {
        let body = request.json();
        assert!(body.get("dpopNonce").is_none(), "{}: {body}", request.path);
    }
    // Without a carried nonce there is no header.
    let http = vci
        .clone()
        .credential_single_issue(pb::CredentialSingleIssueRequest::default())
        .await
        .unwrap()
        .into_inner()
        .http;
    assert_http(
        http.as_ref(),
        200,
        &json_headers(&[]),
        r#"{"credential":"c"}"#,
    );
}

async fn offer_info(reply: serde_json::Value) -> pb::CredentialOfferInfoResponse {
    let env = start(V2).await;
    env.fake.reply("/vci/offer/info", 200, reply.to_string());
    env.credentials()
        .credential_offer_info(pb::CredentialOfferInfoRequest {
            identifier: "offer-1".to_owned(),
        })
        .await
        .expect("OK")
        .into_inner()
}

#[tokio::test]
async fn offer_info_without_info_answers_the_result_message_and_created_is_unknown() {
    use pb::credential_offer_info_response::Action;
    let r = offer_info(json!({"action": "OK", "resultMessage": "[A] no offer"})).await;
    assert_eq!(r.action, Action::Ok as i32);
    assert_http(r.http.as_ref(), 200, &json_headers(&[]), "[A] no offer");

    // jaxrs prefers `info.credentialOffer` whenever `info` is present.
    let offer = r#"{"credential_issuer":"https://ci.example"}"#;
    let with_info = json!({"action": "FORBIDDEN", "resultMessage": "m",
                           "info": {"credentialOffer": offer}});
    let r = offer_info(with_info).await;
    assert_http(r.http.as_ref(), 403, &json_headers(&[]), offer);

    let r = offer_info(json!({"action": "CREATED", "resultMessage": "m"})).await;
    assert_eq!(r.action, Action::Unspecified as i32);
    assert_eq!(r.action_name, "CREATED");
    assert_eq!(r.http.map(|h| h.status), Some(500));
}
