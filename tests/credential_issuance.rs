//! CredentialIssuanceService (OpenID4VCI) through the real server against a
//! fake Authlete. The spec has no examples for `/vci/*`: the replies are
//! written inline from its schemas.

mod common;

use authlete_grpc::pb;
use common::*;
use serde_json::{Value, json};
use tonic::Code;

fn reply(action: &str, extra: Value) -> String {
    let mut v = json!({"action": action, "resultCode": "A", "resultMessage": "msg"});
    for (k, x) in extra.as_object().expect("object") {
        v[k] = x.clone();
    }
    v.to_string()
}

fn order() -> prost_types::Struct {
    let mut fields = std::collections::BTreeMap::new();
    fields.insert(
        "requestIdentifier".to_owned(),
        prost_types::Value {
            kind: Some(prost_types::value::Kind::StringValue("req-1".to_owned())),
        },
    );
    prost_types::Struct { fields }
}

#[tokio::test]
async fn metadata_jwks_and_nonce_send_pretty_and_answer_json() {
    let metadata = r#"{"credential_issuer":"https://ci.example"}"#;
    for (path, pretty) in [
        ("/vci/metadata", true),
        ("/vci/jwtissuer", false),
        ("/vci/jwks", true),
        ("/vci/nonce", false),
    ] {
        let env = start(V3).await;
        let text = reply("OK", json!({"responseContent": metadata}));
        env.fake.reply(path, 200, text.clone());
        let mut c = env.credentials();
        let (action, http, raw) = match path {
            "/vci/metadata" => {
                let r = c
                    .credential_issuer_metadata(pb::CredentialIssuerMetadataRequest { pretty })
                    .await
                    .expect("OK")
                    .into_inner();
                (r.action_name, r.http, r.authlete_response)
            }
            "/vci/jwtissuer" => {
                let r = c
                    .credential_jwt_issuer_metadata(pb::CredentialJwtIssuerMetadataRequest {
                        pretty,
                    })
                    .await
                    .expect("OK")
                    .into_inner();
                (r.action_name, r.http, r.authlete_response)
            }
            "/vci/jwks" => {
                let r = c
                    .credential_issuer_jwks(pb::CredentialIssuerJwksRequest { pretty })
                    .await
                    .expect("OK")
                    .into_inner();
                (r.action_name, r.http, r.authlete_response)
            }
            _ => {
                let r = c
                    .credential_nonce(pb::CredentialNonceRequest { pretty })
                    .await
                    .expect("OK")
                    .into_inner();
                assert_eq!(r.action, pb::credential_nonce_response::Action::Ok as i32);
                (r.action_name, r.http, r.authlete_response)
            }
        };
        let body = if pretty {
            json!({"pretty": true})
        } else {
            json!({})
        };
        env.assert_posted(path, body);
        assert_eq!(action, "OK", "{path}");
        assert_eq!(raw, text);
        assert_http(http.as_ref(), 200, &json_headers(&[]), metadata);
    }
}

#[tokio::test]
async fn metadata_not_found_is_404() {
    let env = start(V2).await;
    env.fake.reply(
        "/vci/metadata",
        200,
        reply(
            "NOT_FOUND",
            json!({"responseContent": "{\"error\":\"not_found\"}"}),
        ),
    );
    let r = env
        .credentials()
        .credential_issuer_metadata(pb::CredentialIssuerMetadataRequest::default())
        .await
        .expect("OK")
        .into_inner();
    use pb::credential_issuer_metadata_response::Action;
    assert_eq!(r.action, Action::NotFound as i32);
    assert_http(
        r.http.as_ref(),
        404,
        &json_headers(&[]),
        r#"{"error":"not_found"}"#,
    );
}

#[tokio::test]
async fn offer_create_sends_every_field() {
    let env = start(V3).await;
    let text = reply("CREATED", json!({"info": {"identifier": "offer-1"}}));
    env.fake.reply("/vci/offer/create", 200, text.clone());
    let r = env
        .credentials()
        .credential_offer_create(pb::CredentialOfferCreateRequest {
            authorization_code_grant_included: true,
            issuer_state_included: true,
            pre_authorized_code_grant_included: true,
            subject: "john".to_owned(),
            duration: 600,
            context: "ctx".to_owned(),
            properties: vec![pb::Property {
                key: "k".to_owned(),
                value: "v".to_owned(),
                hidden: false,
            }],
            jwt_at_claims: "{}".to_owned(),
            auth_time: 1_700_000_000,
            acr: "acr".to_owned(),
            credential_configuration_ids: vec!["IdentityCredential".to_owned()],
            tx_code: "1234".to_owned(),
            tx_code_input_mode: "numeric".to_owned(),
            tx_code_description: "the PIN".to_owned(),
        })
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted(
        "/vci/offer/create",
        json!({
            "authorizationCodeGrantIncluded": true, "issuerStateIncluded": true,
            "preAuthorizedCodeGrantIncluded": true, "subject": "john", "duration": 600,
            "context": "ctx", "properties": [{"key": "k", "value": "v"}], "jwtAtClaims": "{}",
            "authTime": 1_700_000_000, "acr": "acr",
            "credentialConfigurationIds": ["IdentityCredential"], "txCode": "1234",
            "txCodeInputMode": "numeric", "txCodeDescription": "the PIN",
        }),
    );
    use pb::credential_offer_create_response::Action;
    assert_eq!(r.action, Action::Created as i32);
    assert_eq!(r.http, None);
    let info = r.info.expect("info");
    assert!(info.fields.contains_key("identifier"));
    assert_eq!(r.authlete_response, text);
}

#[tokio::test]
async fn offer_info_answers_the_offer_or_the_result_message() {
    let env = start(V3).await;
    let offer = r#"{"credential_issuer":"https://ci.example"}"#;
    env.fake.reply(
        "/vci/offer/info",
        200,
        reply("OK", json!({"info": {"credentialOffer": offer}})),
    );
    let r = env
        .credentials()
        .credential_offer_info(pb::CredentialOfferInfoRequest {
            identifier: "offer-1".to_owned(),
        })
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted("/vci/offer/info", json!({"identifier": "offer-1"}));
    assert_http(r.http.as_ref(), 200, &json_headers(&[]), offer);

    let env = start(V3).await;
    env.fake
        .reply("/vci/offer/info", 200, reply("NOT_FOUND", json!({})));
    let r = env
        .credentials()
        .credential_offer_info(pb::CredentialOfferInfoRequest {
            identifier: "gone".to_owned(),
        })
        .await
        .expect("OK")
        .into_inner();
    use pb::credential_offer_info_response::Action;
    assert_eq!(r.action, Action::NotFound as i32);
    assert_http(r.http.as_ref(), 404, &json_headers(&[]), "msg");
}

#[tokio::test]
async fn parse_apis_continue_on_ok_and_challenge_on_unauthorized() {
    for path in [
        "/vci/single/parse",
        "/vci/batch/parse",
        "/vci/deferred/parse",
    ] {
        let env = start(V3).await;
        env.fake.reply(
            path,
            200,
            reply("OK", json!({"info": {"format": "vc+sd-jwt"}})),
        );
        let mut c = env.credentials();
        let token = "at".to_owned();
        let content = r#"{"format":"vc+sd-jwt"}"#.to_owned();
        let (http, info) = match path {
            "/vci/single/parse" => {
                let r = c
                    .credential_single_parse(pb::CredentialSingleParseRequest {
                        access_token: token,
                        request_content: content.clone(),
                        ..Default::default()
                    })
                    .await
                    .expect("OK")
                    .into_inner();
                (r.http, r.info)
            }
            "/vci/batch/parse" => {
                let r = c
                    .credential_batch_parse(pb::CredentialBatchParseRequest {
                        access_token: token,
                        request_content: content.clone(),
                        ..Default::default()
                    })
                    .await
                    .expect("OK")
                    .into_inner();
                (r.http, r.info)
            }
            _ => {
                let r = c
                    .credential_deferred_parse(pb::CredentialDeferredParseRequest {
                        access_token: token,
                        request_content: content.clone(),
                        ..Default::default()
                    })
                    .await
                    .expect("OK")
                    .into_inner();
                (r.http, r.info)
            }
        };
        env.assert_posted(
            path,
            json!({"accessToken": "at", "requestContent": content}),
        );
        assert_eq!(http, None, "{path}: the web tier builds the credential");
        assert!(info.expect("info").fields.contains_key("format"));
    }

    let env = start(V3).await;
    let challenge = r#"Bearer error="invalid_token""#;
    env.fake.reply(
        "/vci/single/parse",
        200,
        reply("UNAUTHORIZED", json!({"responseContent": challenge})),
    );
    let r = env
        .credentials()
        .credential_single_parse(pb::CredentialSingleParseRequest::default())
        .await
        .expect("OK")
        .into_inner();
    assert_http(
        r.http.as_ref(),
        401,
        &cache_headers(&[("WWW-Authenticate", challenge)]),
        "",
    );
}

#[tokio::test]
async fn single_issue_accepted_carries_the_transaction_id() {
    let env = start(V3).await;
    let content = r#"{"transaction_id":"tx-1"}"#;
    env.fake.reply(
        "/vci/single/issue",
        200,
        reply(
            "ACCEPTED",
            json!({"responseContent": content, "transactionId": "tx-1"}),
        ),
    );
    let r = env
        .credentials()
        .credential_single_issue(pb::CredentialSingleIssueRequest {
            access_token: "at".to_owned(),
            order: Some(order()),
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted(
        "/vci/single/issue",
        json!({"accessToken": "at", "order": {"requestIdentifier": "req-1"}}),
    );
    use pb::credential_single_issue_response::Action;
    assert_eq!(r.action, Action::Accepted as i32);
    assert_eq!(r.transaction_id, "tx-1");
    assert_http(r.http.as_ref(), 202, &json_headers(&[]), content);
}

#[tokio::test]
async fn batch_and_deferred_issue() {
    let env = start(V3).await;
    env.fake.reply(
        "/vci/batch/issue",
        200,
        reply("OK_JWT", json!({"responseContent": "eyJ.batch"})),
    );
    let r = env
        .credentials()
        .credential_batch_issue(pb::CredentialBatchIssueRequest {
            access_token: "at".to_owned(),
            orders: vec![order(), order()],
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted(
        "/vci/batch/issue",
        json!({"accessToken": "at", "orders": [{"requestIdentifier": "req-1"},
                                                {"requestIdentifier": "req-1"}]}),
    );
    assert_http(
        r.http.as_ref(),
        200,
        &cache_headers(&[("Content-Type", "application/jwt")]),
        "eyJ.batch",
    );

    let env = start(V2).await;
    env.fake.reply(
        "/vci/deferred/issue",
        200,
        reply(
            "CALLER_ERROR",
            json!({"responseContent": "{\"error\":\"x\"}"}),
        ),
    );
    let r = env
        .credentials()
        .credential_deferred_issue(pb::CredentialDeferredIssueRequest {
            order: Some(order()),
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted(
        "/vci/deferred/issue",
        json!({"order": {"requestIdentifier": "req-1"}}),
    );
    use pb::credential_deferred_issue_response::Action;
    assert_eq!(r.action, Action::CallerError as i32);
    assert_http(r.http.as_ref(), 500, &json_headers(&[]), r#"{"error":"x"}"#);
}

#[tokio::test]
async fn offer_info_needs_an_identifier() {
    let env = start(V3).await;
    let status = env
        .credentials()
        .credential_offer_info(pb::CredentialOfferInfoRequest::default())
        .await
        .expect_err("INVALID_ARGUMENT");
    assert_eq!(status.code(), Code::InvalidArgument);
    env.fake.assert_no_request();
}
