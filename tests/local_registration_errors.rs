//! Dynamic client registration on the local engine, the refusals: off by
//! default, invalid metadata and redirect URIs, the initial access token,
//! wrong registration access tokens, RFC 7592 identity checks, and the cap
//! on registered clients. No reply ever carries a token it was given.

mod local_common;

use authlete_grpc::backend::ApiVersion;
use local_common::registration::*;
use local_common::*;
use serde_json::json;

const IAT: &str = "INITIAL-ACCESS-TOKEN-0123456789";
const WRONG: &str = "WRONG-TOKEN-0123456789";

fn web_app() -> String {
    json!({"redirect_uris": ["https://dyn.example/cb"]}).to_string()
}

/// No reply text names a token the request carried.
#[track_caller]
fn reveals_nothing(o: &Outcome, secrets: &[&str]) {
    for secret in secrets {
        assert!(!o.http.body.contains(secret), "{o:?}");
        assert!(!o.content.to_string().contains(secret), "{o:?}");
    }
}

#[tokio::test]
async fn registration_is_off_by_default() {
    let env = Env::start(Via::Direct).await;
    let r = register(&env, &web_app(), "").await;
    r.expect_error("BAD_REQUEST", 400, "invalid_request");
    assert!(
        r.content["error_description"]
            .as_str()
            .unwrap()
            .contains("registration.enabled")
    );
    read(&env, "2000001", WRONG)
        .await
        .expect_error("BAD_REQUEST", 400, "invalid_request");
    let doc = env
        .discovery()
        .service_configuration(authlete_grpc::pb::ServiceConfigurationRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(!doc.authlete_response.contains("registration_endpoint"));
}

#[tokio::test]
async fn invalid_metadata_and_redirect_uris_are_refused() {
    let env = Env::start_with(Via::Direct, dcr_config(None)).await;
    for (metadata, error) in [
        (
            json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt"}),
            "invalid_client_metadata",
        ),
        (
            json!({"grant_types": ["urn:openid:params:grant-type:ciba"]}),
            "invalid_client_metadata",
        ),
        (
            json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "none"}),
            "invalid_client_metadata",
        ),
        (
            json!({"response_types": ["token"], "redirect_uris": ["https://a.example/cb"]}),
            "invalid_client_metadata",
        ),
        (
            json!({"grant_types": ["authorization_code"], "response_types": ["id_token"], "redirect_uris": ["https://a.example/cb"]}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": "https://a.example/cb"}),
            "invalid_client_metadata",
        ),
        (
            json!({"client_name": "no redirect URI"}),
            "invalid_redirect_uri",
        ),
        (
            json!({"redirect_uris": ["http://a.example/cb"]}),
            "invalid_redirect_uri",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb#frag"]}),
            "invalid_redirect_uri",
        ),
        (json!({"redirect_uris": ["/cb"]}), "invalid_redirect_uri"),
        (
            json!({"redirect_uris": ["com.example.app:/cb"]}),
            "invalid_redirect_uri",
        ),
        (
            json!({"redirect_uris": ["javascript:alert(1)"], "application_type": "native"}),
            "invalid_redirect_uri",
        ),
    ] {
        let r = register(&env, &metadata.to_string(), "").await;
        r.expect_error("BAD_REQUEST", 400, error);
    }
    // A body that is not a JSON object, or none, is the client's mistake:
    // an answer for the client, not an error of the web tier.
    for body in ["[]", "", "not json"] {
        let r = register(&env, body, "").await;
        r.expect_error("BAD_REQUEST", 400, "invalid_client_metadata");
    }
}

#[tokio::test]
async fn the_initial_access_token_is_required_when_configured() {
    for via in [Via::Direct, Via::Http(ApiVersion::V3)] {
        let env = Env::start_with(via, dcr_config(Some(IAT))).await;
        for token in ["", WRONG, &IAT[1..]] {
            let r = register(&env, &web_app(), token).await;
            r.expect_error("UNAUTHORIZED", 401, "invalid_token");
            reveals_nothing(&r, &[IAT, WRONG]);
        }
        register(&env, &web_app(), IAT).await.expect("CREATED", 201);
        let summary = env.engine.startup_summary().join("\n");
        assert!(
            summary.contains("initial access token required"),
            "{summary}"
        );
        assert!(!summary.contains(IAT), "{summary}");
    }
}

#[tokio::test]
async fn management_needs_the_clients_own_registration_access_token() {
    let env = Env::start_with(Via::Direct, dcr_config(None)).await;
    let a = register(&env, &web_app(), "").await;
    let b = register(&env, &web_app(), "").await;
    let (id, rat) = (a.s("client_id"), a.s("registration_access_token"));
    let other = b.s("registration_access_token");
    for (client_id, token) in [
        (id.as_str(), WRONG),
        (id.as_str(), other.as_str()),
        ("1000001", rat.as_str()), // a configured client: not manageable
        ("not-a-number", rat.as_str()),
        ("999999999", rat.as_str()),
    ] {
        let r = read(&env, client_id, token).await;
        r.expect_error("UNAUTHORIZED", 401, "invalid_token");
        reveals_nothing(&r, &[token, &rat]);
        let r = update(&env, client_id, token, &web_app()).await;
        r.expect_error("UNAUTHORIZED", 401, "invalid_token");
        delete(&env, client_id, token)
            .await
            .expect_error("UNAUTHORIZED", 401, "invalid_token");
    }
    // The client is untouched.
    read(&env, &id, &rat).await.expect("OK", 200);
}

#[tokio::test]
async fn updates_keep_the_clients_identity_and_rules() {
    let env = Env::start_with(Via::Direct, dcr_config(None)).await;
    let a = register(&env, &web_app(), "").await;
    let (id, rat, secret) = (
        a.s("client_id"),
        a.s("registration_access_token"),
        a.s("client_secret"),
    );
    let with = |extra: serde_json::Value| {
        let mut m: serde_json::Value = serde_json::from_str(&web_app()).unwrap();
        m.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        m.to_string()
    };
    for (metadata, error) in [
        (
            with(json!({"client_id": "2999999"})),
            "invalid_client_metadata",
        ),
        (
            with(json!({"client_secret": "chosen-by-the-client"})),
            "invalid_client_metadata",
        ),
        (
            with(json!({"redirect_uris": ["http://evil.example/cb"]})),
            "invalid_redirect_uri",
        ),
    ] {
        let r = update(&env, &id, &rat, &metadata).await;
        r.expect_error("BAD_REQUEST", 400, error);
        reveals_nothing(&r, &[&secret, &rat, "chosen-by-the-client"]);
    }
    let same = read(&env, &id, &rat).await;
    same.expect("OK", 200);
    assert_eq!(same.content, a.content, "a refused update changes nothing");
    // The members RFC 7592 says the server ignores, with the right identity.
    let echoed = with(json!({
        "client_id": id, "client_secret": secret, "registration_access_token": rat,
        "registration_client_uri": "https://elsewhere", "client_id_issued_at": 1,
        "client_secret_expires_at": 1, "client_name": "Renamed",
    }));
    let u = update(&env, &id, &rat, &echoed).await;
    u.expect("UPDATED", 200);
    assert_eq!(u.content["client_name"], "Renamed");
    assert_eq!(
        u.content["registration_client_uri"],
        a.content["registration_client_uri"]
    );
    assert_eq!(
        u.content["client_id_issued_at"],
        a.content["client_id_issued_at"]
    );
}

#[tokio::test]
async fn the_number_of_registered_clients_is_capped() {
    let mut config = dcr_config(None);
    config.registration.max_clients = 2;
    let env = Env::start_with(Via::Direct, config).await;
    let first = register(&env, &web_app(), "").await;
    first.expect("CREATED", 201);
    register(&env, &web_app(), "").await.expect("CREATED", 201);
    let full = register(&env, &web_app(), "").await;
    full.expect_error("INTERNAL_SERVER_ERROR", 500, "server_error");
    assert_eq!(full.result_code, "L001102");
    assert!(
        full.content["error_description"]
            .as_str()
            .unwrap()
            .contains("registration.max_clients")
    );
    // Deleting one makes room; its ID is not reused.
    let rat = first.s("registration_access_token");
    delete(&env, &first.s("client_id"), &rat)
        .await
        .expect("DELETED", 204);
    let again = register(&env, &web_app(), "").await;
    again.expect("CREATED", 201);
    assert_ne!(again.s("client_id"), first.s("client_id"));
}
