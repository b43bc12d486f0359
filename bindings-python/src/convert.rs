//! Python values to JSON values and back.
//!
//! Requests, grant scopes and tool arguments are JSON in the core, so a Python dict crosses the
//! boundary as a `serde_json::Value`. Two directions of strictness:
//! - [`to_json`] is strict (requests, scopes, arguments): anything that is not JSON-shaped
//!   (`None`, `bool`, `int`, `float`, `str`, list / tuple, dict with `str` keys) is a
//!   `TypeError`, so a request never means something other than what the caller wrote.
//! - [`cell_to_json`] is lenient (result cells to mask): a value of another type (`bytes`,
//!   `datetime`, `Decimal`, ...) is masked as its text (`bytes` decoded as UTF-8 when they are,
//!   `str(value)` otherwise). The caller gets its original object back when masking left the
//!   value unchanged, and the masked text otherwise: masking never lets a value through
//!   because of its type.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};

/// Deepest nesting converted; deeper values are refused (strict) or stringified (lenient).
const MAX_DEPTH: usize = 128;

/// A JSON-shaped Python value as JSON; `TypeError` / `ValueError` for anything else.
pub(crate) fn to_json(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    strict(obj, 0)
}

fn strict(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err(format!("value nested deeper than {MAX_DEPTH} levels")));
    }
    if let Some(v) = scalar(obj)? {
        return Ok(v);
    }
    if let Ok(dict) = obj.cast::<PyDict>() {
        let mut map = Map::with_capacity(dict.len());
        for (k, v) in dict.iter() {
            let key = k.cast::<PyString>().map_err(|_| {
                PyTypeError::new_err(format!(
                    "dict keys must be str, not {}",
                    type_name(&k).unwrap_or_else(|| "?".into())
                ))
            })?;
            map.insert(key.to_cow()?.into_owned(), strict(&v, depth + 1)?);
        }
        return Ok(Value::Object(map));
    }
    if let Ok(list) = obj.cast::<PyList>() {
        return list
            .iter()
            .map(|v| strict(&v, depth + 1))
            .collect::<PyResult<_>>()
            .map(Value::Array);
    }
    if let Ok(tuple) = obj.cast::<PyTuple>() {
        return tuple
            .iter()
            .map(|v| strict(&v, depth + 1))
            .collect::<PyResult<_>>()
            .map(Value::Array);
    }
    Err(PyTypeError::new_err(format!(
        "{} is not JSON (use None, bool, int, float, str, list, tuple or dict)",
        type_name(obj).unwrap_or_else(|| "this value".into())
    )))
}

/// `None`, `bool`, `int`, `float` or `str` as JSON; `None` for other types. An integer
/// outside the 64-bit range or a non-finite float is a `ValueError`.
fn scalar(obj: &Bound<'_, PyAny>) -> PyResult<Option<Value>> {
    if obj.is_none() {
        return Ok(Some(Value::Null));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Some(Value::String(s.to_cow()?.into_owned())));
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Some(Value::Bool(b.is_true())));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Some(Value::Number(i.into())));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Some(Value::Number(u.into())));
        }
        return Err(PyValueError::new_err("integer out of the 64-bit range JSON numbers keep"));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Number::from_f64(f.value())
            .map(|n| Some(Value::Number(n)))
            .ok_or_else(|| PyValueError::new_err("NaN and infinity are not JSON numbers"));
    }
    Ok(None)
}

/// A result cell as JSON, leniently (see the module docs).
pub(crate) fn cell_to_json(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    lenient(obj, 0)
}

fn lenient(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    if depth <= MAX_DEPTH {
        match scalar(obj) {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(_) => return as_text(obj),
        }
        if let Ok(b) = obj.cast::<PyBytes>() {
            return match std::str::from_utf8(b.as_bytes()) {
                Ok(text) => Ok(Value::String(text.to_owned())),
                Err(_) => as_text(obj),
            };
        }
        if let Ok(dict) = obj.cast::<PyDict>() {
            let mut map = Map::with_capacity(dict.len());
            for (k, v) in dict.iter() {
                let key = match k.cast::<PyString>() {
                    Ok(s) => s.to_cow()?.into_owned(),
                    Err(_) => k.str()?.to_cow()?.into_owned(),
                };
                map.insert(key, lenient(&v, depth + 1)?);
            }
            return Ok(Value::Object(map));
        }
        if let Ok(list) = obj.cast::<PyList>() {
            return list
                .iter()
                .map(|v| lenient(&v, depth + 1))
                .collect::<PyResult<_>>()
                .map(Value::Array);
        }
        if let Ok(tuple) = obj.cast::<PyTuple>() {
            return tuple
                .iter()
                .map(|v| lenient(&v, depth + 1))
                .collect::<PyResult<_>>()
                .map(Value::Array);
        }
    }
    as_text(obj)
}

fn as_text(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    Ok(Value::String(obj.str()?.to_cow()?.into_owned()))
}

/// JSON as a Python value (`dict`, `list`, `str`, `int`, `float`, `bool`, `None`).
pub(crate) fn to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

/// The name of `obj`'s type, for messages.
pub(crate) fn type_name(obj: &Bound<'_, PyAny>) -> Option<String> {
    obj.get_type().name().ok().map(|n| n.to_string())
}
