//! The Connect protocol on the main port, through the real server against a
//! fake Authlete: JSON and binary replies equal the gRPC replies field for
//! field, over HTTP/1.1 and HTTP/2; GET for the read-only RPCs; gzip both
//! ways; gRPC-Web on the same port.

mod common;

use authlete_grpc::pb;
use common::connect::{Connect, Version, from_json, gzip};
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
    let mut framed = vec![0u8];
    framed.extend_from_slice(&(message.len() as u32).to_be_bytes());
    framed.extend_from_slice(&message);
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
async fn connect_streaming_is_refused_naming_the_grpc_alternative() {
    let env = start(V3).await;
    let connect = Connect::new(env.addr, Version::Http1);
    let path = "/authlete.v1.TokenManagementService/TokenList";
    let mut envelope = vec![0u8, 0, 0, 0, 2];
    envelope.extend_from_slice(b"{}");
    let a = connect
        .post(path, "application/connect+json", envelope, &[])
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.header("content-type"), Some("application/connect+json"));
    assert_eq!(a.body[0], 0x02, "an end-of-stream envelope");
    let end: serde_json::Value = serde_json::from_slice(&a.body[5..]).unwrap();
    assert_eq!(end["error"]["code"], "unimplemented");
    let message = end["error"]["message"].as_str().unwrap();
    assert!(message.contains("TokenList over gRPC"), "{message}");
    // Unary Connect on the streaming RPC: the same answer, as a unary error.
    let b = connect.json(path, &json!({}), &[]).await;
    assert_eq!(
        (b.status, b.json()["code"].clone()),
        (501, json!("unimplemented"))
    );
    env.fake.assert_no_request();
}
