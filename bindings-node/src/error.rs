//! Errors as JavaScript sees them: an `Error` whose `code` names the family (`WRIT_POLICY`,
//! `WRIT_IO`, `WRIT_REQUEST`, `WRIT_KEY`, `WRIT_GRANT`, `WRIT_APPROVAL`, `WRIT_MASK`,
//! `WRIT_AUDIT`) and whose own properties carry the structured details (a policy error's
//! `diagnostics: [{file, line, column, message}]`, an I/O error's `path`, a masking error's
//! `kind`).
//!
//! Work on the libuv pool cannot touch JavaScript, so a failure is first a [`Failure`] (plain
//! Rust values) and becomes a JS `Error` on the JS thread ([`Failure::into_napi`]).

use napi::bindgen_prelude::ToNapiValue;
use napi::{Env, Status};
use serde_json::{Value, json};
use writ::PolicyError;

/// A failure, before it is turned into a JS `Error`.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    /// The `code` property.
    pub(crate) code: &'static str,
    /// The `message`.
    pub(crate) message: String,
    /// Extra own properties of the error (an object), or `Null`.
    pub(crate) details: Value,
}

impl Failure {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Failure {
        Failure { code, message: message.into(), details: Value::Null }
    }

    pub(crate) fn with(mut self, details: Value) -> Failure {
        self.details = details;
        self
    }

    /// A malformed argument or request.
    pub(crate) fn request(message: impl Into<String>) -> Failure {
        Failure::new("WRIT_REQUEST", message)
    }

    /// A policy that cannot be read or compiled.
    pub(crate) fn policy(e: &PolicyError) -> Failure {
        match e {
            PolicyError::Io { path, source } => Failure::new("WRIT_IO", e.to_string())
                .with(json!({"path": path.display().to_string(), "reason": source.to_string()})),
            PolicyError::NoDocuments(path) => Failure::new("WRIT_POLICY", e.to_string())
                .with(json!({"path": path.display().to_string(), "diagnostics": []})),
            PolicyError::Invalid(list) => {
                Failure::new("WRIT_POLICY", e.to_string()).with(json!({"diagnostics": list}))
            }
            // PolicyError is not `non_exhaustive` today; should it become so, keep a code.
            #[allow(unreachable_patterns, reason = "future variants of PolicyError")]
            _ => Failure::new("WRIT_POLICY", e.to_string()),
        }
    }

    /// The JS `Error` for this failure (to return as `Err` from a `#[napi]` function).
    pub(crate) fn into_napi(self, env: &Env) -> napi::Error {
        match self.build(env) {
            Ok(error) => error,
            // Building the object failed (the environment is going away): a plain error still
            // carries the code in its status.
            Err(_) => {
                napi::Error::new(Status::GenericFailure, format!("{}: {}", self.code, self.message))
            }
        }
    }

    fn build(&self, env: &Env) -> napi::Result<napi::Error> {
        let mut object =
            env.create_error(napi::Error::new(Status::GenericFailure, self.message.clone()))?;
        object.set("code", self.code)?;
        if let Value::Object(map) = &self.details {
            for (key, value) in map {
                object.set(key, env.to_js_value(value)?)?;
            }
        }
        Ok(napi::Error::from(ToNapiValue::into_unknown(object, env)?))
    }
}

/// A `#[napi]` result from a [`Failure`] result, on the JS thread.
pub(crate) fn js<T>(env: &Env, result: Result<T, Failure>) -> napi::Result<T> {
    result.map_err(|f| f.into_napi(env))
}
