//! Request objects from JavaScript, read field by field.
//!
//! Turning the whole object into a `serde_json::Value` and deserializing that was most of
//! `check(request)`'s cost over `checkSql`. [`read`] takes the usual shapes straight from the
//! object: a plain object with only the known fields, strings where strings go, arrays of
//! strings for `groups` and `argv`. Anything else (an unknown field, a wrong type, `null` where
//! serde would refuse it, an array standing for a struct, ...) is not judged here: the request
//! goes the serde way ([`parse`]), which either accepts it or gives the very error it always
//! gave. So the fast path may only ever accept what serde accepts, with the same meaning:
//! - a field whose value is `undefined` is absent (as napi-rs's conversion leaves it out);
//! - `null` is absent for `token`, `grant` and `approval` (serde's `Option`), and refused
//!   (left to serde) anywhere else;
//! - a tool call's `arguments` go through the same `serde_json::Value` conversion as before.

use napi::bindgen_prelude::{Object, Unknown};
use napi::{Env, JsValue, Status, ValueType};
use serde_json::Value;
use writ::{Action, HttpRequest, Principal, Request, ToolCall};

use crate::error::Failure;

/// The request in `value`, read directly when it has a usual shape, else through serde.
///
/// # Errors
///
/// A [`Failure`] (`WRIT_REQUEST`) for a malformed request; a napi error when the value cannot
/// be a JSON value at all (`undefined`, a function, ...), as napi-rs's own conversion gives.
pub(crate) fn from_js(env: &Env, value: &Unknown) -> napi::Result<Result<Request, Failure>> {
    if let Some(request) = object(value).and_then(|o| read(&o)) {
        return Ok(Ok(request));
    }
    Ok(parse(json(env, value)?))
}

/// The request a JSON value describes, as serde reads it.
pub(crate) fn parse(value: Value) -> Result<Request, Failure> {
    serde_json::from_value(value).map_err(|e| Failure::request(format!("invalid request: {e}")))
}

/// `value` as a `serde_json::Value`, by napi-rs's conversion of the whole value (its depth and
/// size limits included): the value is put in a holder object and read back as a `Value`.
fn json(env: &Env, value: &Unknown) -> napi::Result<Value> {
    let mut holder = Object::new(env)?;
    holder.set("value", *value)?;
    match holder.get::<Value>("value")? {
        Some(json) => Ok(json),
        None => Err(napi::Error::new(
            Status::InvalidArg,
            "undefined cannot be represented as a serde_json::Value",
        )),
    }
}

/// `value` as an object when it is a plain (non-array) object.
fn object<'env>(value: &Unknown<'env>) -> Option<Object<'env>> {
    let is_object = value.get_type().ok()? == ValueType::Object && !value.is_array().ok()?;
    is_object.then(|| Object::from_raw(value.value().env, value.raw()))
}

/// `object`'s field names when all are among `known` (a field may still be `undefined`).
fn known_fields<'k>(object: &Object, known: &[&'k str]) -> Option<Vec<&'k str>> {
    let names = Object::keys(object).ok()?;
    names.iter().map(|name| known.iter().find(|k| *k == name).copied()).collect()
}

/// Field `name` of `object`: `Some(None)` when absent or `undefined`, `Some(Some(_))` for a
/// plain object, `None` (fails the fast path) for anything else.
fn nested<'env>(object: &Object<'env>, name: &str) -> Option<Option<Object<'env>>> {
    match object.get::<Unknown>(name).ok()? {
        None => Some(None),
        Some(value) => self::object(&value).map(Some),
    }
}

fn string(object: &Object, name: &str) -> Option<String> {
    object.get::<String>(name).ok()?
}

/// An optional string field: absent, `undefined` or `null` is `None`; a string is `Some`;
/// anything else fails the fast path.
fn optional_string(object: &Object, name: &str) -> Option<Option<String>> {
    object.get::<Option<String>>(name).ok().map(Option::flatten)
}

/// An array of strings (`groups`, `argv`): `Some(None)` when absent or `undefined`; anything
/// but an array of strings (holes included) fails the fast path.
fn strings(object: &Object, name: &str) -> Option<Option<Vec<String>>> {
    let Some(value) = object.get::<Unknown>(name).ok()? else { return Some(None) };
    if !value.is_array().ok()? {
        return None;
    }
    object.get::<Vec<String>>(name).ok()
}

fn principal(object: &Object) -> Option<Principal> {
    known_fields(object, &["id", "groups"])?;
    let id = string(object, "id")?;
    let groups = strings(object, "groups")?.unwrap_or_default();
    Some(Principal { id, groups })
}

fn action(object: &Object) -> Option<Action> {
    let mut present = Vec::with_capacity(1);
    for name in known_fields(object, &["sql", "command", "argv", "http", "tool"])? {
        if object.get::<Unknown>(name).ok()?.is_some() {
            present.push(name);
        }
    }
    let [kind] = present.as_slice() else { return None };
    match *kind {
        "sql" => string(object, "sql").map(Action::Sql),
        "command" => string(object, "command").map(Action::Command),
        "argv" => strings(object, "argv")?.map(Action::Argv),
        "http" => {
            let http = nested(object, "http")??;
            known_fields(&http, &["method", "url"])?;
            let method = string(&http, "method")?;
            let url = string(&http, "url")?;
            Some(Action::Http(HttpRequest { method, url }))
        }
        "tool" => {
            let tool = nested(object, "tool")??;
            known_fields(&tool, &["name", "arguments"])?;
            let name = string(&tool, "name")?;
            let arguments = tool.get::<Value>("arguments").ok()?.unwrap_or(Value::Null);
            Some(Action::Tool(ToolCall { name, arguments }))
        }
        _ => None,
    }
}

/// The request in `object` when it has a usual shape; `None` sends it the serde way.
fn read(object: &Object) -> Option<Request> {
    known_fields(object, &["principal", "resource", "action", "token", "grant", "approval"])?;
    let principal = match nested(object, "principal")? {
        Some(p) => principal(&p)?,
        None => Principal::default(),
    };
    Some(Request {
        principal,
        resource: string(object, "resource")?,
        action: action(&nested(object, "action")??)?,
        token: optional_string(object, "token")?,
        grant: optional_string(object, "grant")?,
        approval: optional_string(object, "approval")?,
    })
}
