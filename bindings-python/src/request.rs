//! Requests from Python: a dict or JSON text in the JSON contract (`Engine.check`), or the
//! keyword helpers' arguments (`check_sql`, `check_command`, ...).

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use writ::{Action, Principal, Request};

use crate::convert::to_json;
use crate::errors;

/// A request from a dict (or any JSON-shaped mapping) or a JSON string; `RequestError` when it
/// is not a valid request (unknown fields are refused, as in the core).
pub(crate) fn request_from(py: Python<'_>, obj: &Bound<'_, PyAny>) -> PyResult<Request> {
    let parsed = if let Ok(text) = obj.cast::<PyString>() {
        serde_json::from_str(&text.to_cow()?)
    } else if let Ok(bytes) = obj.cast::<PyBytes>() {
        serde_json::from_slice(bytes.as_bytes())
    } else {
        let value = to_json(obj)
            .map_err(|e| errors::simple(py, "RequestError", format!("invalid request: {e}")))?;
        serde_json::from_value(value)
    };
    parsed.map_err(|e| errors::simple(py, "RequestError", format!("invalid request: {e}")))
}

/// What the keyword helpers share: who, where and with which credentials.
pub(crate) struct Envelope {
    pub(crate) principal: Option<String>,
    pub(crate) groups: Vec<String>,
    pub(crate) resource: String,
    pub(crate) token: Option<String>,
    pub(crate) grant: Option<String>,
    pub(crate) approval: Option<String>,
}

impl Envelope {
    /// The request for `action`.
    pub(crate) fn request(self, action: Action) -> Request {
        let principal = match self.principal {
            Some(id) => Principal { id, groups: self.groups },
            None => Principal::default(),
        };
        let mut request = Request::new(principal, self.resource, action);
        request.token = self.token;
        request.grant = self.grant;
        request.approval = self.approval;
        request
    }
}
