//! Raising the exceptions of `writ.errors`.
//!
//! The exception tree is plain Python (`python/writ/errors.py`): classes with real attributes
//! (`PolicyError.diagnostics`, `.file`, `.line`, `.column`, `PermissionDenied.decision`) work on
//! every CPython the abi3 wheel supports, where a native subclass of `Exception` would need
//! 3.12. This module imports the class by name when an error is raised (a rare path) and builds
//! the instance with keyword arguments.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

/// The module that defines the exception classes and value types.
const ERRORS: &str = "writ.errors";

/// An instance of `writ.errors.<class>` built with `message` and `kwargs`, as a `PyErr`. If the
/// class cannot be imported (a broken installation), that import error is raised instead.
pub(crate) fn raise(
    py: Python<'_>,
    class: &str,
    message: impl Into<String>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyErr {
    let message = message.into();
    let built = py
        .import(ERRORS)
        .and_then(|m| m.getattr(class))
        .and_then(|cls| cls.call((message,), kwargs));
    match built {
        Ok(instance) => PyErr::from_value(instance),
        Err(e) => e,
    }
}

/// `writ.errors.<class>(message)`.
pub(crate) fn simple(py: Python<'_>, class: &str, message: impl Into<String>) -> PyErr {
    raise(py, class, message, None)
}

/// A `PolicyError` carrying every diagnostic as `writ.errors.Diagnostic(file, line, column,
/// message)`; an unreadable path or a directory without documents has none.
pub(crate) fn policy(py: Python<'_>, error: &writ::PolicyError) -> PyErr {
    let build = || -> PyResult<Bound<'_, PyDict>> {
        let diagnostic = py.import(ERRORS)?.getattr("Diagnostic")?;
        let list = PyList::empty(py);
        for d in error.diagnostics() {
            let args = PyTuple::new(
                py,
                [
                    d.file.clone().into_pyobject(py)?.into_any(),
                    d.line.into_pyobject(py)?.into_any(),
                    d.column.into_pyobject(py)?.into_any(),
                    d.message.clone().into_pyobject(py)?.into_any(),
                ],
            )?;
            list.append(diagnostic.call1(args)?)?;
        }
        let kwargs = PyDict::new(py);
        kwargs.set_item("diagnostics", list)?;
        Ok(kwargs)
    };
    match build() {
        Ok(kwargs) => raise(py, "PolicyError", error.to_string(), Some(&kwargs)),
        Err(e) => e,
    }
}

/// `PermissionDenied` (or `ApprovalRequired` for an `approval_required` decision) carrying the
/// decision object.
pub(crate) fn denied(py: Python<'_>, decision: Py<PyAny>, approval: bool, reason: &str) -> PyErr {
    let class = if approval { "ApprovalRequired" } else { "PermissionDenied" };
    let kwargs = PyDict::new(py);
    if let Err(e) = kwargs.set_item("decision", decision) {
        return e;
    }
    raise(py, class, reason, Some(&kwargs))
}
