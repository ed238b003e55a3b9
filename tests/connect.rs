//! The Connect protocol on the main port, through the real server against a
//! fake Authlete: JSON and binary replies equal the gRPC replies field for
//! field, over HTTP/1.1 and HTTP/2; GET for the read-only RPCs; gzip both
//! ways; gRPC-Web on the same port.

mod common;

use authlete_grpc::pb;
use common::connect::{Connect, Version, envelope, envelopes, from_json, gzip};
use common::*;
use prost::Message as _;
use serde_json::json;

const TOKEN: &str = "/authlete.v1.TokenService/Token";
const INTROSPECTION: &str = "/authlete.v1.IntrospectionService/Introspection";
const CONFIGURATION: &str = "/authlete.v1.DiscoveryService/ServiceConfiguration";
const PARAMETERS: &str =
    "grant_type=authorization_code&code=abc&redirect_uri=https%3A%2F%2Fclient.example.org%2Fcb";

fn token_request() -> pb::TokenRequest {
    pb::TokenRequest {
        parameters: PARAMETERS.to_owned(),
        client_id: "26478243745571".to_owned(),
        client_secret: "SECRET-client-secret-QQQ".to_owned(),
        ..Default::default()
    }
}

/// The JSON a Connect client sends for `token_request`.
fn token_json() -> serde_json::Value {
    json!({
        "parameters": PARAMETERS,
        "clientId": "26478243745571",
        // The proto field name is accepted too.
        "client_secret": "SECRET-client-secret-QQQ",
    })
}

/// The service with a scripted `/auth/token`, and its gRPC reply to
/// `token_request`.
async fn token_over_grpc() -> (Env, pb::TokenResponse) {
    let env = start(V3).await;
    env.fake.reply("/auth/token", 200, fixture("token/ok.json"));
    let grpc = env.token().token(token_request()).await;
    (env, grpc.expect("OK").into_inner())
}

#[tokio::test]
async fn token_in_json_and_binary_equals_grpc_over_http1_and_http2() {
    let (env, grpc) = token_over_grpc().await;
    let authlete_body = env.fake.only_request().json();

    for version in [Version::Http1, Version::Http2] {
        let connect = Connect::new(env.addr, version);
        let a = connect.json(TOKEN, &token_json(), &[]).await;
        assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
        assert_eq!(a.header("content-type"), Some("application/json"));
        let expected = match version {
            Version::Http1 => reqwest::Version::HTTP_11,
            Version::Http2 => reqwest::Version::HTTP_2,
        };
        assert_eq!(a.version, expected);
        let body = a.json();
        // Canonical JSON: lowerCamelCase, enum names, int64 as strings.
        assert_eq!(body["action"], "ACTION_OK");
        assert_eq!(body["accessTokenExpiresAt"], "1640252942736");
        assert_eq!(body["http"]["status"], 200);
        let via_json: pb::TokenResponse = from_json("authlete.v1.TokenResponse", &a.body);
        assert_eq!(via_json, grpc);

        let b = connect.proto(TOKEN, &token_request()).await;
        assert_eq!(b.status, 200);
        assert_eq!(b.header("content-type"), Some("application/proto"));
        assert_eq!(pb::TokenResponse::decode(b.body.as_slice()).unwrap(), grpc);
    }
    // Every call sent Authlete the same request.
    let requests = env.fake.requests();
    assert_eq!(requests.len(), 5);
    for r in requests {
        assert_eq!(r.json(), authlete_body);
    }
}

#[tokio::test]
async fn introspection_in_json_equals_grpc() {
    let env = start(V2).await;
    env.fake
        .reply("/auth/introspection", 200, fixture("introspection/ok.json"));
    let request = pb::IntrospectionRequest {
        token: "Ntm9MDb8WXQAevqrBkd84KTTHbYHVQrTjgUZCOWqEUI".to_owned(),
        scopes: vec!["history.read".to_owned()],
        ..Default::default()
    };
    let grpc = env.introspection().introspection(request.clone()).await;
    let grpc = grpc.unwrap().into_inner();
    let connect = Connect::new(env.addr, Version::Http1);
    let body = json!({"token": request.token, "scopes": request.scopes});
    let a = connect.json(INTROSPECTION, &body, &[]).await;
    assert_eq!(a.status, 200);
    let via_json: pb::IntrospectionResponse =
        from_json("authlete.v1.IntrospectionResponse", &a.body);
    assert_eq!(via_json, grpc);
    let b = connect.proto(INTROSPECTION, &request).await;
    let via_proto = pb::IntrospectionResponse::decode(b.body.as_slice()).unwrap();
    assert_eq!(via_proto, grpc);
}

#[tokio::test]
async fn get_serves_the_read_only_rpcs_only() {
    let env = start(V3).await;
    let reply = fixture("service_configuration/ok.json");
    env.fake.reply("/service/configuration", 200, reply);
    let request = pb::ServiceConfigurationRequest {
        pretty: true,
        ..Default::default()
    };
    let mut discovery = env.discovery();
    let grpc = discovery.service_configuration(request).await;
    let grpc = grpc.unwrap().into_inner();
    let connect = Connect::new(env.addr, Version::Http1);

    let json_get = "?connect=v1&encoding=json&message=%7B%22pretty%22%3Atrue%7D";
    let a = connect.get(&format!("{CONFIGURATION}{json_get}")).await;
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    let via_get: pb::ServiceConfigurationResponse =
        from_json("authlete.v1.ServiceConfigurationResponse", &a.body);
    assert_eq!(via_get, grpc);

    // Binary, URL-safe base64, as Connect clients send it.
    use base64::Engine as _;
    let message = pb::ServiceConfigurationRequest {
        pretty: true,
        ..Default::default()
    };
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(message.encode_to_vec());
    let query = format!("?connect=v1&encoding=proto&base64=1&message={b64}");
    let b = connect.get(&format!("{CONFIGURATION}{query}")).await;
    assert_eq!(b.status, 200);
    let via_proto = pb::ServiceConfigurationResponse::decode(b.body.as_slice()).unwrap();
    assert_eq!(via_proto, grpc);
    assert_eq!(env.fake.requests().len(), 3);

    // Token has side effects: no GET, and no Authlete call.
    let c = connect
        .get(&format!("{TOKEN}?encoding=json&message=%7B%7D"))
        .await;
    assert_eq!(c.status, 405);
    assert_eq!(c.header("allow"), Some("POST"));
    assert_eq!(c.json()["code"], "unimplemented");
    assert_eq!(env.fake.requests().len(), 3);
}

#[tokio::test]
async fn gzip_requests_and_replies() {
    let (env, grpc) = token_over_grpc().await;
    let connect = Connect::new(env.addr, Version::Http2);
    let body = gzip(&serde_json::to_vec(&token_json()).unwrap());
    let headers = [("content-encoding", "gzip"), ("accept-encoding", "gzip")];
    let a = connect
        .post(TOKEN, "application/json", body, &headers)
        .await;
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    assert_eq!(a.header("content-encoding"), Some("gzip"));
    let via_gzip: pb::TokenResponse = from_json("authlete.v1.TokenResponse", &a.decoded());
    assert_eq!(via_gzip, grpc);
    assert!(a.body.len() < a.decoded().len());

    // No Accept-Encoding after a plain request: a plain reply.
    let plain = connect.json(TOKEN, &token_json(), &[]).await;
    assert_eq!(plain.header("content-encoding"), None);
    // An encoding the service does not speak.
    let br = [("content-encoding", "br")];
    let c = connect
        .post(TOKEN, "application/json", b"{}".to_vec(), &br)
        .await;
    assert_eq!(
        (c.status, c.json()["code"].clone()),
        (501, json!("unimplemented"))
    );
    assert_eq!(env.fake.requests().len(), 3);
}

#[tokio::test]
async fn grpc_web_calls_are_served_on_the_same_port() {
    let (env, grpc) = token_over_grpc().await;
    let connect = Connect::new(env.addr, Version::Http1);
    let message = token_request().encode_to_vec();
    let framed = envelope(0, &message);
    let a = connect
        .post(TOKEN, "application/grpc-web+proto", framed, &[])
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.header("content-type"), Some("application/grpc-web+proto"));
    // A data frame, then the trailers frame (flag 0x80).
    let len = u32::from_be_bytes(a.body[1..5].try_into().unwrap()) as usize;
    assert_eq!(a.body[0], 0);
    let reply = pb::TokenResponse::decode(&a.body[5..5 + len]).unwrap();
    assert_eq!(reply, grpc);
    let trailers = &a.body[5 + len..];
    assert_eq!(trailers[0], 0x80);
    assert!(String::from_utf8_lossy(&trailers[5..]).contains("grpc-status:0"));
}

#[tokio::test]
async fn token_list_streams_over_connect_in_json_and_binary() {
    let env = start(V2).await;
    // Tokens 2..3 of 10 every time: two pages for start 2, end 7.
    let reply = fixture_with(
        "token_list/ok.json",
        json!({"start": 2, "end": 3, "totalCount": 10}),
    );
    env.fake.reply("/auth/token/get/list", 200, reply);
    let request = pb::TokenListRequest {
        start: 2,
        end: 7,
        ..Default::default()
    };
    let grpc = token_list_pages(&env, request.clone()).await;
    assert_eq!(grpc.len(), 2);
    let connect = Connect::new(env.addr, Version::Http1);
    let path = "/authlete.v1.TokenManagementService/TokenList";

    let body = envelope(0, br#"{"start":"2","end":7}"#);
    let a = connect
        .post(path, "application/connect+json", body, &[])
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.header("content-type"), Some("application/connect+json"));
    let parts = envelopes(&a.body);
    assert_eq!(parts.len(), 3, "two pages and the end");
    for (i, page) in grpc.iter().enumerate() {
        assert_eq!(parts[i].0, 0);
        let via_json: pb::TokenListResponse =
            from_json("authlete.v1.TokenListResponse", &parts[i].1);
        assert_eq!(&via_json, page);
    }
    assert_eq!(parts[2], (0x02, b"{}".to_vec()), "a successful end");

    let body = envelope(0, &request.encode_to_vec());
    let b = connect
        .post(path, "application/connect+proto", body, &[])
        .await;
    let parts = envelopes(&b.body);
    let pages: Vec<pb::TokenListResponse> = parts[..2]
        .iter()
        .map(|(_, m)| pb::TokenListResponse::decode(m.as_slice()).unwrap())
        .collect();
    assert_eq!(pages, grpc);
    assert_eq!(parts[2].0, 0x02);

    // Unary Connect on the streaming RPC: unimplemented, naming streaming.
    let c = connect.json(path, &json!({}), &[]).await;
    assert_eq!(c.status, 501);
    let message = c.json()["message"].as_str().unwrap().to_owned();
    assert!(message.contains("application/connect+json"), "{message}");
    assert_eq!(env.fake.requests().len(), 6);
}

#[tokio::test]
async fn a_failed_stream_ends_with_the_error() {
    let env = start(V3).await;
    env.fake.reply("/auth/token/get/list", 503, "{}");
    let connect = Connect::new(env.addr, Version::Http2);
    let path = "/authlete.v1.TokenManagementService/TokenList";
    let body = envelope(0, b"{}");
    let a = connect
        .post(path, "application/connect+json", body, &[])
        .await;
    assert_eq!(a.status, 200, "streams fail in their end message");
    let parts = envelopes(&a.body);
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0].0, 0x02);
    let end: serde_json::Value = serde_json::from_slice(&parts[0].1).unwrap();
    assert_eq!(end["error"]["code"], "unavailable");
    assert_eq!(end["error"]["details"][0]["type"], "google.rpc.ErrorInfo");

    let bad = envelope(0, br#"{"nope":1}"#);
    let b = connect
        .post(path, "application/connect+json", bad, &[])
        .await;
    let end: serde_json::Value = serde_json::from_slice(&envelopes(&b.body)[0].1).unwrap();
    assert_eq!(end["error"]["code"], "invalid_argument");
    assert_eq!(env.fake.requests().len(), 1);
}

#[tokio::test]
async fn health_answers_connect_json_for_http_probes() {
    let env = start(V3).await;
    let connect = Connect::new(env.addr, Version::Http1);
    let a = connect
        .json("/grpc.health.v1.Health/Check", &json!({}), &[])
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json(), json!({"status": "SERVING"}));
    let service = json!({"service": "authlete.v1.NoSuchService"});
    let b = connect
        .json("/grpc.health.v1.Health/Check", &service, &[])
        .await;
    assert_eq!(
        (b.status, b.json()["code"].clone()),
        (404, json!("not_found"))
    );
}
