//! Spec rules of the local engine found with independent OAuth/OIDC client
//! libraries, through the real gRPC service: bounded parameter lists, code
//! and refresh-token families, `redirect_uri` for OpenID requests, request
//! objects, revocation by another client.

// Proto messages may gain fields: every literal ends in `..Default::default()`.
#![allow(clippy::needless_update)]

mod local_common;

use local_common::*;

/// `n` distinct space-separated values.
fn words(prefix: &str, n: usize) -> String {
    (0..n)
        .map(|i| format!("{prefix}{i}"))
        .collect::<Vec<_>>()
        .join("+")
}

#[tokio::test]
async fn parameter_lists_are_bounded() {
    let env = Env::start(Via::Direct).await;
    // 200 KB of claims_locales (under the message limit): refused at once,
    // naming the parameter.
    let huge = format!("&claims_locales={}", words("l", 30_000));
    let r = authorize(&env, &code_request(&huge)).await;
    assert_eq!(r.action_name, "BAD_REQUEST", "{}", r.result_message);
    assert!(
        r.response_content.contains("claims_locales"),
        "{}",
        r.response_content
    );
    // At the bound, fine.
    let at = format!("&claims_locales={}", words("l", 64));
    let r = authorize(&env, &code_request(&at)).await;
    assert_eq!(r.action_name, "INTERACTION", "{}", r.result_message);
    // Repeated resources count too.
    let resources: String = (0..65)
        .map(|i| format!("&resource=https%3A%2F%2Frs{i}.example"))
        .collect();
    let t = token(
        &env,
        &format!("grant_type=client_credentials{resources}"),
        Some((WEB, WEB_SECRET)),
    )
    .await;
    assert_eq!(t.action_name, "BAD_REQUEST", "{}", t.result_message);
    assert!(
        t.response_content.contains("resource"),
        "{}",
        t.response_content
    );
}
