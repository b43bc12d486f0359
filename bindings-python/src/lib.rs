//! Python binding for writ: the native module `writ._writ` (PyO3, abi3, CPython 3.9 and
//! later), wrapped by the pure-Python package `writ` in `python/writ/`.
//!
//! The binding is thin: it converts Python values to the core's types and back, releases the
//! GIL around the core's work, and raises the exceptions of `writ.errors`. No policy logic
//! lives here; everything is decided by `writ::Host`.
//!
//! - `engine.rs`: `Engine` (checks, masking, audit sinks, trust, reload).
//! - `decision.rs`: `Decision`, with typed attributes.
//! - `keys.rs`: `SigningKey`, `VerifyingKey`, `keygen`, `mint_grant`, `sign_approval`,
//!   `request_digest`.
//! - `request.rs`, `convert.rs`, `errors.rs`: values across the boundary.

mod convert;
mod decision;
mod engine;
mod errors;
mod keys;
mod request;

use pyo3::prelude::*;

/// The native part of writ; import `writ` instead.
#[pymodule(name = "_writ")]
mod writ_module {
    #[pymodule_export]
    use super::decision::Decision;
    #[pymodule_export]
    use super::engine::Engine;
    #[pymodule_export]
    use super::keys::{
        SigningKey, VerifyingKey, keygen, mint_grant, request_digest, sign_approval,
    };

    use pyo3::prelude::*;

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("__version__", env!("CARGO_PKG_VERSION"))
    }
}
