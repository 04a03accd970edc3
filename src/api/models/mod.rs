//! The Studio API's objects, as the published OpenAPI spec defines them.
//!
//! One definition serves both the client (which decodes them) and the simulated Studio
//! (which encodes them). Field names follow the spec (camelCase); a field the spec marks
//! required is a plain field, an optional one is an `Option` left out when `None`.
//! Enumerations that the service may extend (block types, model variants) stay strings so
//! that a newer server never breaks an older client.

use serde::{Deserialize, Serialize};

/// An enumeration the service may extend: the values the spec lists, and any other text,
/// kept as `Other` so that a newer server never fails a call that it answered.
macro_rules! open_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)+
            /// A value this version does not know.
            Other(String),
        }

        impl $name {
            /// The values the spec lists.
            pub const KNOWN: &[Self] = &[$(Self::$variant,)+];

            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)+
                    Self::Other(text) => text,
                }
            }

            pub fn from_api(text: &str) -> Self {
                match text {
                    $($text => Self::$variant,)+
                    other => Self::Other(other.to_string()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = std::borrow::Cow::<str>::deserialize(d)?;
                Ok(Self::from_api(&text))
            }
        }
    };
}

/// `GenericApiResponse`: every response carries `success`, and `error` when it failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenericApiResponse {
    pub success: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl GenericApiResponse {
    pub fn failure(error: impl Into<String>) -> Self {
        Self {
            success: false,
            error: Some(error.into()),
        }
    }
}

mod impulse;
mod jobs;
mod metadata;
mod results;
mod thresholds;

pub use impulse::*;
pub use jobs::*;
pub use metadata::*;
pub use results::*;
pub use thresholds::*;

#[cfg(test)]
mod tests;
