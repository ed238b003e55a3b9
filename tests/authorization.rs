//! AuthorizationService through the real server against a fake Authlete.

mod common;

use authlete_grpc::backend::ApiVersion;
use authlete_grpc::pb::{
    self, authorization_fail_request::Reason, authorization_fail_response,
    authorization_issue_response, authorization_response::Action,
};
use common::*;
use serde_json::json;

/// `Authorization` (`response_type=code`) with the fake answering `reply`.
async fn authorize_on(env: &Env, reply: &str) -> pb::AuthorizationResponse {
    env.fake.reply("/auth/authorization", 200, reply);
    env.authorization()
        .authorization(pb::AuthorizationRequest {
            parameters: "response_type=code".to_owned(),
            ..Default::default()
        })
        .await
        .expect("an action")
        .into_inner()
}

async fn interaction(version: ApiVersion) {
    let env = start(version).await;
    let reply = fixture_with("authorization/interaction.json", json!({"maxAge": 3600}));
    env.fake.reply("/auth/authorization", 200, reply.clone());

    let r = env
        .authorization()
        .authorization(pb::AuthorizationRequest {
            parameters: "response_type=code&client_id=26478243745571&scope=history.read".to_owned(),
            context: "ctx-1".to_owned(),
            cimd_options: Some(pb::CimdOptions {
                always_retrieved: Some(true),
                http_permitted: Some(false),
                query_permitted: None,
            }),
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();

    env.assert_posted(
        "/auth/authorization",
        json!({
            "parameters": "response_type=code&client_id=26478243745571&scope=history.read",
            "context": "ctx-1",
            "cimdOptions": {"alwaysRetrieved": true, "httpPermitted": false},
        }),
    );
    assert_eq!(r.action, Action::Interaction as i32);
    assert_eq!(r.action_name, "INTERACTION");
    assert_eq!(r.http, None, "INTERACTION has no ready response");
    assert_eq!(r.result_code, "A004001");
    assert!(r.result_message.starts_with("[A004001]"));
    assert_eq!(r.authlete_response, reply);
    assert_eq!(r.ticket, "hXoY87t_t23enrVHWxpXNP5FfVDhDypD3T6H6lt4IPA");
    assert_eq!(r.display, "PAGE");
    assert_eq!(r.max_age, 3600);
    assert!(!r.acr_essential);
    let client = r.client.expect("client");
    assert_eq!(client.client_id, 26478243745571);
    assert_eq!(client.client_id_alias, "my-client");
    assert!(client.client_id_alias_enabled);
    assert_eq!(client.client_name, "My updated client");
    let scopes: Vec<(&str, &str)> = r
        .scopes
        .iter()
        .map(|s| (s.name.as_str(), s.description.as_str()))
        .collect();
    assert_eq!(
        scopes,
        [
            ("history.read", "A permission to read your history."),
            ("timeline.read", "A permission to read your timeline."),
        ]
    );
}

#[tokio::test]
async fn authorization_interaction_v2() {
    interaction(V2).await;
}

#[tokio::test]
async fn authorization_interaction_v3() {
    interaction(V3).await;
}

#[tokio::test]
async fn authorization_sends_parameters_even_when_empty() {
    let env = start(V3).await;
    let reply = fixture("authorization_fail/bad_request.json");
    env.fake.reply("/auth/authorization", 200, reply.clone());

    let r = env
        .authorization()
        .authorization(pb::AuthorizationRequest::default())
        .await
        .expect("OK")
        .into_inner();

    env.assert_posted("/auth/authorization", json!({"parameters": ""}));
    assert_eq!(r.action, Action::BadRequest as i32);
    assert_eq!(r.action_name, "BAD_REQUEST");
    assert_eq!(r.result_code, "A004201");
    assert_eq!(r.response_content, response_content(&reply));
    assert_http(
        r.http.as_ref(),
        400,
        &json_headers(&[]),
        &response_content(&reply),
    );
}

#[tokio::test]
async fn authorization_actions_become_http_responses() {
    let env = start(V2).await;
    let location = "https://client.example.org/cb?error=access_denied&state=xyz";
    let form = "<html><body onload=\"document.forms[0].submit()\"><form method=\"post\"></form></body></html>";
    let error = r#"{"error":"server_error"}"#;
    let cases = [
        ("LOCATION", location, Action::Location, 302),
        ("FORM", form, Action::Form, 200),
        (
            "INTERNAL_SERVER_ERROR",
            error,
            Action::InternalServerError,
            500,
        ),
    ];
    for (name, content, action, status) in cases {
        let reply = fixture_with(
            "authorization/interaction.json",
            json!({"action": name, "responseContent": content}),
        );
        let r = authorize_on(&env, &reply).await;
        assert_eq!(r.action, action as i32, "{name}");
        assert_eq!(r.action_name, name);
        assert_eq!(r.authlete_response, reply);
        match name {
            "LOCATION" => assert_http(
                r.http.as_ref(),
                status,
                &cache_headers(&[("Location", location)]),
                "",
            ),
            "FORM" => assert_http(
                r.http.as_ref(),
                status,
                &cache_headers(&[("Content-Type", "text/html;charset=UTF-8")]),
                form,
            ),
            _ => assert_http(r.http.as_ref(), status, &json_headers(&[]), error),
        }
    }
    // NO_INTERACTION is finished by the service: tests/flows_authorization.rs.
}

#[tokio::test]
async fn authorization_unknown_action_is_unspecified_with_a_500() {
    let env = start(V3).await;
    let reply = fixture_with(
        "authorization/interaction.json",
        json!({"action": "SOMETHING_NEW"}),
    );
    env.fake.reply("/auth/authorization", 200, reply.clone());
    let r = env
        .authorization()
        .authorization(pb::AuthorizationRequest::default())
        .await
        .expect("OK")
        .into_inner();
    assert_eq!(r.action, Action::Unspecified as i32);
    assert_eq!(r.action, 0);
    assert_eq!(r.action_name, "SOMETHING_NEW");
    assert_eq!(r.authlete_response, reply);
    assert_http(
        r.http.as_ref(),
        500,
        &json_headers(&[]),
        UNKNOWN_ACTION_BODY,
    );
}

async fn issue(version: ApiVersion) {
    let env = start(version).await;
    let reply = fixture("authorization_issue/location.json");
    env.fake
        .reply("/auth/authorization/issue", 200, reply.clone());
    let details = prost_types::Struct {
        fields: [(
            "elements".to_owned(),
            prost_types::Value {
                kind: Some(prost_types::value::Kind::StringValue("payment".to_owned())),
            },
        )]
        .into(),
    };

    let r = env
        .authorization()
        .authorization_issue(pb::AuthorizationIssueRequest {
            ticket: "hXoY87t_t23enrVHWxpXNP5FfVDhDypD3T6H6lt4IPA".to_owned(),
            subject: "john".to_owned(),
            auth_time: 1_700_000_000,
            acr: "urn:mace:incommon:iap:silver".to_owned(),
            claims: r#"{"name":"John Smith"}"#.to_owned(),
            properties: vec![
                pb::Property {
                    key: "shown".to_owned(),
                    value: "1".to_owned(),
                    hidden: false,
                },
                pb::Property {
                    key: "secret".to_owned(),
                    value: "2".to_owned(),
                    hidden: true,
                },
            ],
            scopes: vec!["history.read".to_owned()],
            authorization_details: Some(details),
            access_token_duration: 600,
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();

    env.assert_posted(
        "/auth/authorization/issue",
        json!({
            "ticket": "hXoY87t_t23enrVHWxpXNP5FfVDhDypD3T6H6lt4IPA",
            "subject": "john",
            "authTime": 1_700_000_000,
            "acr": "urn:mace:incommon:iap:silver",
            "claims": "{\"name\":\"John Smith\"}",
            "properties": [
                {"key": "shown", "value": "1"},
                {"key": "secret", "value": "2", "hidden": true},
            ],
            "scopes": ["history.read"],
            "authorizationDetails": {"elements": "payment"},
            "accessTokenDuration": 600,
        }),
    );
    let location = response_content(&reply);
    assert_eq!(
        r.action,
        authorization_issue_response::Action::Location as i32
    );
    assert_eq!(r.action_name, "LOCATION");
    assert_eq!(r.result_code, "A040001");
    assert_eq!(r.authlete_response, reply);
    assert_eq!(
        r.authorization_code,
        "Xv_su944auuBgc5mfUnxXayiiQU9Z4-T_Yae_UfExmo"
    );
    assert_http(
        r.http.as_ref(),
        302,
        &cache_headers(&[("Location", &location)]),
        "",
    );
}

#[tokio::test]
async fn authorization_issue_v2() {
    issue(V2).await;
}

#[tokio::test]
async fn authorization_issue_v3() {
    issue(V3).await;
}

#[tokio::test]
async fn authorization_issue_leaves_zero_values_out() {
    let env = start(V2).await;
    env.fake.reply(
        "/auth/authorization/issue",
        200,
        fixture("authorization_issue/location.json"),
    );
    env.authorization()
        .authorization_issue(pb::AuthorizationIssueRequest {
            ticket: "t-1".to_owned(),
            subject: "john".to_owned(),
            ..Default::default()
        })
        .await
        .expect("OK");
    env.assert_posted(
        "/auth/authorization/issue",
        json!({"ticket": "t-1", "subject": "john"}),
    );
}

async fn fail(version: ApiVersion) {
    let env = start(version).await;
    let reply = fixture("authorization_fail/bad_request.json");
    env.fake
        .reply("/auth/authorization/fail", 200, reply.clone());

    let r = env
        .authorization()
        .authorization_fail(pb::AuthorizationFailRequest {
            ticket: "t-2".to_owned(),
            reason: Reason::Denied as i32,
            description: "The user said no.".to_owned(),
        })
        .await
        .expect("OK")
        .into_inner();

    env.assert_posted(
        "/auth/authorization/fail",
        json!({"ticket": "t-2", "reason": "DENIED", "description": "The user said no."}),
    );
    assert_eq!(
        r.action,
        authorization_fail_response::Action::BadRequest as i32
    );
    assert_eq!(r.action_name, "BAD_REQUEST");
    assert_eq!(r.result_code, "A004201");
    assert_eq!(r.authlete_response, reply);
    assert_http(
        r.http.as_ref(),
        400,
        &json_headers(&[]),
        &response_content(&reply),
    );
}

#[tokio::test]
async fn authorization_fail_v2() {
    fail(V2).await;
}

#[tokio::test]
async fn authorization_fail_v3() {
    fail(V3).await;
}

#[tokio::test]
async fn a_header_value_with_cr_or_lf_is_never_written_back() {
    // Whatever its source (here Authlete's responseContent), a value that
    // would split the response becomes the generic 500.
    let env = start(V3).await;
    for evil in ["\r\nSet-Cookie: sid=x", "\nX-Injected: 1", "\0"] {
        let reply = json!({"action": "LOCATION", "resultCode": "A", "resultMessage": "m",
                           "responseContent": format!("https://client.example/cb?code=c{evil}")});
        let r = authorize_on(&env, &reply.to_string()).await;
        assert_eq!(r.action, Action::Location as i32);
        let http = r.http.expect("http");
        assert_eq!(http.status, 500, "{evil:?}");
        assert!(
            http.headers
                .iter()
                .all(|h| !h.value.contains(['\r', '\n', '\0'])),
            "{http:?}"
        );
        assert!(http.body.contains("server_error"));
    }
}
