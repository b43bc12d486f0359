//! Build-time errors. Scanning and masking never fail.

/// Why a [`Detectors`](super::Detectors) value could not be built.
///
/// Messages name the offending pattern or setting, never a scanned value
/// (no scanned value exists at build time) and never the HMAC key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MaskError {
    /// A custom pattern's regex did not compile, or it can match the empty string.
    #[error("custom pattern `{name}` is invalid: {reason}")]
    InvalidCustomPattern {
        /// The custom pattern's name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A custom pattern's name is empty, not snake_case, a built-in name, or a duplicate.
    #[error("custom pattern name `{name}` is invalid: {reason}")]
    InvalidCustomName {
        /// The rejected name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A configured method needs the host's HMAC key and none was supplied.
    #[error(
        "method `{method}` for `{entity}` needs an HMAC key; the host must supply one with DetectorsBuilder::hmac_key"
    )]
    MissingHmacKey {
        /// The entity type (or `default`) the method was configured for.
        entity: String,
        /// The method's name.
        method: &'static str,
    },
    /// The HMAC key is shorter than 16 bytes.
    #[error("HMAC key is too short: {len} bytes, at least 16 are required")]
    WeakHmacKey {
        /// Length of the rejected key in bytes.
        len: usize,
    },
    /// A method's parameters are unusable (e.g. an alphanumeric mask character).
    #[error("invalid method for `{entity}`: {reason}")]
    InvalidMethod {
        /// The entity type (or `default`) the method was configured for.
        entity: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A built-in detector failed to compile (a bug in writ, not in the caller's input).
    #[error("internal detector failed to build: {0}")]
    Internal(String),
}
