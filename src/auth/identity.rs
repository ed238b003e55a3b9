//! Caller identities keep their source: every identity is written with the
//! prefix of where it came from (`key:web`, `uri:spiffe://...`,
//! `dns:web.example`, `cn:web`), in the policy, the logs and the binding of
//! continuations. So a client certificate whose SAN or CN equals a caller
//! key's name is a different caller, and never gets that key's grants.
//!
//! Certificates verified here and the `x-forwarded-client-cert` of a trusted
//! sidecar share `uri:`, `dns:` and `cn:`: both are a certificate a CA the
//! deployment trusts signed, and a SPIFFE ID is the same workload whichever
//! proxy checked it.

/// Where a caller identity comes from; its prefix keeps the namespaces
/// apart, so a certificate can never be taken for a caller key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A bearer caller key's name.
    Key,
    /// A URI SAN (a SPIFFE ID), of a client certificate or in XFCC.
    Uri,
    /// A DNS SAN, of a client certificate or in XFCC.
    Dns,
    /// A subject CN, of a client certificate or in XFCC.
    Cn,
}

impl Source {
    /// Every source, in the order of the policy's documentation.
    pub const ALL: [Source; 4] = [Source::Key, Source::Uri, Source::Dns, Source::Cn];

    /// The prefix of identities from this source, colon included.
    pub fn prefix(self) -> &'static str {
        match self {
            Source::Key => "key:",
            Source::Uri => "uri:",
            Source::Dns => "dns:",
            Source::Cn => "cn:",
        }
    }

    /// The identity `value` has when it comes from this source.
    pub fn name(self, value: &str) -> String {
        format!("{}{value}", self.prefix())
    }
}
