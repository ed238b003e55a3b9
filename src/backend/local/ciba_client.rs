//! A client's CIBA registration (OpenID Connect CIBA Core §4): its token
//! delivery mode, its notification endpoint (ping) and whether its
//! backchannel requests carry a user code. The engine does poll and ping;
//! push is refused at startup (FAPI-CIBA forbids it, and the engine would
//! have to deliver tokens to the client itself).

use super::client::parse_uri;
use super::config::ClientConfig;

/// The grant type of CIBA Core §10.1.
pub(super) const GRANT_TYPE: &str = "urn:openid:params:grant-type:ciba";

/// `backchannel_token_delivery_mode`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) enum DeliveryMode {
    #[default]
    Poll,
    Ping,
}

impl DeliveryMode {
    /// Authlete's `DeliveryMode` name.
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Poll => "POLL",
            Self::Ping => "PING",
        }
    }
}

/// What a client registered for CIBA.
#[derive(Debug, Clone, Default)]
pub(super) struct Backchannel {
    pub mode: DeliveryMode,
    /// `backchannel_client_notification_endpoint` (ping); empty otherwise.
    pub notification_endpoint: String,
    /// `backchannel_user_code_parameter`.
    pub user_code: bool,
}

impl Backchannel {
    /// The CIBA members of a configured client; `who` names it in errors.
    pub(super) fn from_config(
        c: &ClientConfig,
        grant_types: &[String],
        who: &str,
    ) -> Result<Self, String> {
        let ciba = grant_types.iter().any(|g| g == GRANT_TYPE);
        let given = c.backchannel_token_delivery_mode.is_some()
            || c.backchannel_client_notification_endpoint.is_some()
            || c.backchannel_user_code_parameter;
        if given && !ciba {
            return Err(format!(
                "{who}: backchannel_* members need the grant type {GRANT_TYPE}"
            ));
        }
        // CIBA Core §7.1: the client authenticates at the backchannel endpoint.
        if ciba && c.client_type.as_deref() == Some("public") {
            return Err(format!(
                "{who}: a public client cannot use {GRANT_TYPE} (CIBA clients authenticate)"
            ));
        }
        let mode = match c.backchannel_token_delivery_mode.as_deref() {
            None | Some("poll") => DeliveryMode::Poll,
            Some("ping") => DeliveryMode::Ping,
            Some("push") => {
                return Err(format!(
                    "{who}: backchannel_token_delivery_mode `push` is not supported by the \
                     local engine (FAPI-CIBA forbids it); use `poll` or `ping`"
                ));
            }
            Some(other) => {
                return Err(format!(
                    "{who}: backchannel_token_delivery_mode `{other}` is neither poll nor ping"
                ));
            }
        };
        let endpoint = c
            .backchannel_client_notification_endpoint
            .clone()
            .unwrap_or_default();
        match mode {
            DeliveryMode::Ping if endpoint.is_empty() => {
                return Err(format!(
                    "{who}: the ping mode needs backchannel_client_notification_endpoint"
                ));
            }
            DeliveryMode::Ping if !notification_url(&endpoint) => {
                return Err(format!(
                    "{who}: backchannel_client_notification_endpoint `{endpoint}` is not an \
                     http(s) URL without fragment"
                ));
            }
            DeliveryMode::Poll if !endpoint.is_empty() => {
                return Err(format!(
                    "{who}: backchannel_client_notification_endpoint is for the ping mode"
                ));
            }
            _ => {}
        }
        Ok(Self {
            mode,
            notification_endpoint: endpoint,
            user_code: c.backchannel_user_code_parameter,
        })
    }
}

/// CIBA Core §4 wants HTTPS; plain http is let through for development
/// (the service's notification egress policy refuses it unless allowed).
fn notification_url(uri: &str) -> bool {
    parse_uri(uri).is_some_and(|u| matches!(u.scheme(), "https" | "http") && u.fragment().is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(mode: Option<&str>, endpoint: Option<&str>) -> ClientConfig {
        ClientConfig {
            client_id: "c".into(),
            backchannel_token_delivery_mode: mode.map(str::to_owned),
            backchannel_client_notification_endpoint: endpoint.map(str::to_owned),
            ..ClientConfig::default()
        }
    }

    fn build(c: &ClientConfig) -> Result<Backchannel, String> {
        Backchannel::from_config(c, &[GRANT_TYPE.to_owned()], "client `c`")
    }

    #[test]
    fn poll_is_the_default_and_ping_needs_an_endpoint() {
        assert_eq!(build(&config(None, None)).unwrap().mode, DeliveryMode::Poll);
        let ping = build(&config(Some("ping"), Some("https://c.example/n"))).unwrap();
        assert_eq!(ping.mode.name(), "PING");
        assert_eq!(ping.notification_endpoint, "https://c.example/n");
        let e = build(&config(Some("ping"), None)).unwrap_err();
        assert!(
            e.contains("needs backchannel_client_notification_endpoint"),
            "{e}"
        );
        let e = build(&config(Some("ping"), Some("https://c.example/#x"))).unwrap_err();
        assert!(e.contains("not an http(s) URL"), "{e}");
        let e = build(&config(None, Some("https://c.example/n"))).unwrap_err();
        assert!(e.contains("for the ping mode"), "{e}");
    }

    #[test]
    fn push_and_unknown_modes_are_refused() {
        let e = build(&config(Some("push"), Some("https://c.example/n"))).unwrap_err();
        assert!(
            e.contains("`push` is not supported") && e.contains("FAPI-CIBA"),
            "{e}"
        );
        let e = build(&config(Some("pong"), None)).unwrap_err();
        assert!(e.contains("neither poll nor ping"), "{e}");
    }

    #[test]
    fn public_clients_cannot_use_ciba() {
        let public = ClientConfig {
            client_type: Some("public".into()),
            ..config(None, None)
        };
        assert!(build(&public).unwrap_err().contains("public client"));
    }

    #[test]
    fn ciba_members_need_the_grant_type() {
        let e = Backchannel::from_config(&config(Some("poll"), None), &[], "client `c`");
        assert!(e.unwrap_err().contains(GRANT_TYPE));
    }
}
