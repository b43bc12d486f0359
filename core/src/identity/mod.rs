//! Who is asking: verified tokens, host key material, and the checks that use them.
//!
//! - [`IssuerDoc`] and token verification (`jwt.rs`): a request may carry a JWT (`token`)
//!   instead of a plain `principal`; the engine verifies it against the issuers the policy
//!   declares and turns it into a [`Principal`](crate::Principal).
//! - [`SigningKey`], [`VerifyingKey`], [`KeyRing`], [`Trust`] (`keys.rs`): what the host holds.
//! - [`Context`] and [`Engine::check_with`](crate::Engine::check_with) (`context.rs`): one check
//!   with a token, a grant chain ([`crate::grant`]) and an approval ([`crate::approval`]).
//!
//! # Where key material lives (decision)
//! Token issuers' public keys (JWKS) are policy: declared in the document or a file beside it,
//! versioned with it, rotated by reloading it. Everything secret or host-specific (grant and
//! approval verification keys, `HS256` shared secrets) is in a [`Trust`] the host builds, and
//! everything that changes from one check to the next (the clock, revoked and used grant ids)
//! is in the [`Context`] of that check. The engine itself stays immutable and holds no secret.

mod context;
pub(crate) mod envelope;
mod jwt;
mod keys;

pub use context::{ApprovalUse, Checked, Context};
pub(crate) use jwt::Issuers;
pub use jwt::{DEFAULT_LEEWAY, IssuerDoc, JwtAlgorithm, MAX_TOKEN_BYTES, TokenError};
pub use keys::{IdSet, KeyError, KeyRing, MIN_HMAC_SECRET, SigningKey, Trust, VerifyingKey};

/// The current Unix time in seconds, from the system clock (0 if the clock is before 1970).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
