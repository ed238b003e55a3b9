//! What a revoking call (`/auth/revocation`, `/auth/token/revoke`,
//! `/auth/token/delete`) takes away, as far as the introspection cache can
//! tell, and which of its entries must go.
//!
//! The cache knows the access tokens it holds answers for (by hash) and their
//! clients. Anything else is resolved conservatively: a revoked refresh token
//! (Authlete revokes its access tokens with it) or a token the cache has not
//! seen evicts every entry of the revoking client; a filter the cache cannot
//! evaluate (a token hash, a refresh token identifier, a subject) evicts
//! everything.

use serde::Deserialize;

use super::index::Index;
use super::{Key, TokenHash, token_hash};
use crate::backend::{Api, BackendError, Call, Reply};

/// See the module documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revoked {
    /// `/auth/revocation`: one token (access or refresh) and the client that
    /// revoked it, when the request names it.
    Token {
        token: TokenHash,
        client: Option<String>,
    },
    /// `/auth/token/revoke` and `/auth/token/delete`: a filter.
    Filter {
        access_token: Option<TokenHash>,
        client: Option<String>,
        /// A refresh token identifier or a subject: not in the index.
        unindexed: bool,
    },
    /// A request the cache cannot read.
    Unknown,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RevocationBody {
    parameters: String,
    client_id: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RevokeBody {
    access_token_identifier: String,
    refresh_token_identifier: String,
    client_identifier: String,
    subject: String,
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

impl Revoked {
    /// What `call` revokes; `None` when its API revokes nothing.
    pub fn of(call: &Call) -> Option<Self> {
        let body = call.body.as_deref().unwrap_or_default();
        Some(match call.api {
            Api::Revocation => match serde_json::from_slice::<RevocationBody>(body) {
                Ok(b) => revocation(b),
                Err(_) => Self::Unknown,
            },
            Api::TokenRevoke => match serde_json::from_slice::<RevokeBody>(body) {
                Ok(b) => Self::Filter {
                    access_token: non_empty(b.access_token_identifier).map(|t| token_hash(&t)),
                    client: non_empty(b.client_identifier),
                    unindexed: !b.refresh_token_identifier.is_empty() || !b.subject.is_empty(),
                },
                Err(_) => Self::Unknown,
            },
            Api::TokenDelete => match call
                .query
                .iter()
                .find(|(k, _)| *k == "accessTokenIdentifier")
            {
                Some((_, id)) => Self::Filter {
                    access_token: Some(token_hash(id)),
                    client: None,
                    unindexed: false,
                },
                None => Self::Unknown,
            },
            _ => return None,
        })
    }

    /// Takes the keys of the entries to evict out of `index`; `None` means
    /// every entry.
    pub fn keys(&self, index: &Index) -> Option<Vec<Key>> {
        match self {
            Self::Token { token, client } => index
                .take_token(token)
                .or_else(|| client.as_deref().map(|c| index.take_client(c))),
            Self::Filter {
                unindexed: true, ..
            }
            | Self::Unknown => None,
            Self::Filter {
                access_token,
                client,
                unindexed: false,
            } => {
                let mut keys = Vec::new();
                if let Some(token) = access_token {
                    // Not listed: a hash, or a token this process has not seen.
                    keys.extend(index.take_token(token)?);
                }
                if let Some(client) = client {
                    keys.extend(index.take_client(client));
                }
                Some(keys)
            }
        }
    }
}

/// `/auth/revocation`'s token and client: the client is `clientId` (from the
/// web tier's client authentication) or the form's `client_id`.
fn revocation(body: RevocationBody) -> Revoked {
    let mut token = None;
    let mut client = non_empty(body.client_id);
    for (name, value) in url::form_urlencoded::parse(body.parameters.as_bytes()) {
        match &*name {
            "token" => token = Some(token_hash(&value)),
            "client_id" if client.is_none() => client = non_empty(value.into_owned()),
            _ => {}
        }
    }
    match token {
        Some(token) => Revoked::Token { token, client },
        None => Revoked::Unknown,
    }
}

/// Whether the call may have revoked something: any answer but the two of
/// `/auth/revocation` that revoke nothing for sure (`BAD_REQUEST`,
/// `INVALID_CLIENT`: no flush for bogus requests), or a call that broke after
/// it was sent.
pub fn took_effect(api: Api, result: &Result<Reply, BackendError>) -> bool {
    match result {
        Ok(reply) if api == Api::Revocation => {
            #[derive(Deserialize)]
            struct Action<'a> {
                #[serde(borrow)]
                action: Option<std::borrow::Cow<'a, str>>,
            }
            let action = serde_json::from_str::<Action>(&reply.body).ok();
            !matches!(
                action.as_ref().and_then(|a| a.action.as_deref()),
                Some("BAD_REQUEST" | "INVALID_CLIENT")
            )
        }
        Ok(_) => true,
        Err(e) => matches!(
            e,
            BackendError::ConnectionLost { .. }
                | BackendError::Timeout { .. }
                | BackendError::DeadlineExceeded { .. }
        ),
    }
}
