//! Compiles `proto/` with protox (pure Rust, no system `protoc`) and generates
//! the tonic services from the same descriptor set that server reflection serves.

use std::path::PathBuf;

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "authlete/v1/common.proto",
        "authlete/v1/authorization.proto",
        "authlete/v1/pushed_authorization.proto",
        "authlete/v1/token.proto",
        "authlete/v1/introspection.proto",
        "authlete/v1/revocation.proto",
        "authlete/v1/userinfo.proto",
        "authlete/v1/discovery.proto",
        "authlete/v1/backchannel_authentication.proto",
        "authlete/v1/device_flow.proto",
        "authlete/v1/client_registration.proto",
        "authlete/v1/grant_management.proto",
        "authlete/v1/id_token.proto",
        "authlete/v1/native_sso.proto",
        "authlete/v1/federation.proto",
        "authlete/v1/credential_issuance.proto",
        "authlete/v1/token_management.proto",
        "authlete/v1/backchannel_logout.proto",
        "authlete/v1/client_attestation.proto",
    ];
    let fds = protox::compile(files, ["proto"])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("authlete_descriptor.bin"), fds.encode_to_vec())?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(fds)?;
    println!("cargo:rerun-if-changed=proto");
    Ok(())
}
