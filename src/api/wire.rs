//! The wire structs' machinery: macros defining Authlete's camelCase
//! request and reply bodies with a redacting `Debug`, and the macros that
//! connect a reply type to its row of the action table.

use serde::Deserialize;

/// Deserializes `null` as the field's default, as Authlete may send `null`
/// for any absent member.
pub(crate) fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Defines a request body sent to Authlete: camelCase members; the fields
/// before `;` are always sent, the others only when not zero-valued.
macro_rules! wire_request {
    ($(#[$m:meta])* $name:ident {
        $($(#[$am:meta])* $always:ident : $aty:ty,)* ;
        $($(#[$fm:meta])* $field:ident : $ty:ty,)*
    }) => {
        $(#[$m])*
        #[derive(Clone, Default, PartialEq, serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            $($(#[$am])* pub $always: $aty,)*
            $($(#[$fm])* #[serde(skip_serializing_if = "crate::api::is_default")] pub $field: $ty,)*
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let mut s = f.debug_struct(stringify!($name));
                $(crate::api::debug_field(&mut s, stringify!($always), &self.$always);)*
                $(crate::api::debug_field(&mut s, stringify!($field), &self.$field);)*
                s.finish()
            }
        }
    };
}

/// Defines a reply read from Authlete: camelCase members, absent or `null`
/// members read as zero values, unknown members ignored (they stay available
/// in the raw JSON).
macro_rules! wire_reply {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $field:ident : $ty:ty,)* }) => {
        $(#[$m])*
        #[derive(Clone, Default, PartialEq, serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            $($(#[$fm])* #[serde(default, deserialize_with = "crate::api::nullable")] pub $field: $ty,)*
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let mut s = f.debug_struct(stringify!($name));
                $(crate::api::debug_field(&mut s, stringify!($field), &self.$field);)*
                s.finish()
            }
        }
    };
}

pub(crate) use {wire_reply, wire_request};

pub(crate) use crate::secret::debug_field;

/// Implements [`Answer`] for a reply type from its action table function,
/// optionally with the endpoint headers the reply carries.
macro_rules! answer {
    ($reply:ty => $table:path $(, headers: |$r:ident| $headers:expr)?) => {
        impl crate::api::Answer for $reply {
            fn rule(&self) -> crate::http::Rule {
                $table(&self.action)
            }
            fn action_name(&self) -> &str {
                self.action.name()
            }
            fn result_code(&self) -> &str {
                &self.result_code
            }
            fn result_message(&self) -> &str {
                &self.result_message
            }
            fn content(&self) -> &str {
                &self.response_content
            }
            $(
                fn endpoint_headers(&self) -> crate::http::EndpointHeaders {
                    let $r = self;
                    $headers
                }
            )?
        }
    };
}

/// Implements [`Answer`] for a reply without `responseContent` (the APIs
/// whose reply is read by the web tier rather than sent to a client).
macro_rules! answer_without_content {
    ($reply:ty => $table:path) => {
        impl crate::api::Answer for $reply {
            fn rule(&self) -> crate::http::Rule {
                $table(&self.action)
            }
            fn action_name(&self) -> &str {
                self.action.name()
            }
            fn result_code(&self) -> &str {
                &self.result_code
            }
            fn result_message(&self) -> &str {
                &self.result_message
            }
            fn content(&self) -> &str {
                ""
            }
        }
    };
}

pub(crate) use {answer, answer_without_content};
