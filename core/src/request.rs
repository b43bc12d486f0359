//! The request model: who asks, on which resource, to do what.
//!
//! Requests arrive as JSON from the CLI, the bindings and test files:
//!
//! ```json
//! {"principal": {"id": "agent:analytics", "groups": ["analysts"]},
//!  "resource": "warehouse",
//!  "action": {"sql": "SELECT * FROM orders"}}
//! ```
//!
//! Unknown fields are rejected, so a misspelt field never silently drops a condition.

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// One request to check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// Who is asking. The host is responsible for having authenticated this principal.
    /// Absent (an empty id) when the request carries a `token` instead, or only a `grant`.
    #[serde(default, skip_serializing_if = "Principal::is_absent")]
    pub principal: Principal,
    /// The name of a resource declared in the policy.
    pub resource: String,
    /// What the principal wants to do: a map with one key naming the action type. The
    /// singleton-map form reads the same in JSON and in YAML test files (where serde_norway would
    /// otherwise expect a `!sql` tag).
    #[serde(with = "serde_norway::with::singleton_map")]
    #[schemars(with = "Action")]
    pub action: Action,
    /// A JWT to verify against the policy's issuers, instead of a `principal`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// A grant chain (`writg2.…`): the request acts for the chain's root principal, within
    /// every scope of the chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<String>,
    /// An approval token (`writa1.…`) for this request's digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<String>,
}

/// An authenticated identity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Principal {
    /// Stable identifier (`agent:analytics`, `user:alice@example.com`).
    pub id: String,
    /// Groups the principal belongs to.
    #[serde(default)]
    pub groups: Vec<String>,
}

/// What a request does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum Action {
    /// SQL text: one or more statements, run on a SQL resource.
    Sql(String),
    /// A shell command line, as it would be given to `bash -c`, run on a shell resource.
    Command(String),
    /// An argument vector executed without a shell (`execve`), run on a shell resource.
    Argv(Vec<String>),
    /// An HTTP request, on an `http` resource.
    Http(HttpRequest),
    /// A tool call (an MCP `tools/call`, an agent framework's tool), on a `tool` resource.
    Tool(ToolCall),
}

/// An HTTP request an agent wants to make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpRequest {
    /// The method (`GET`, `POST`, ...); case does not matter.
    pub method: String,
    /// The absolute URL.
    pub url: String,
}

/// A tool call an agent wants to make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolCall {
    /// The tool's name.
    pub name: String,
    /// The call's arguments (a JSON object, usually).
    #[serde(default)]
    pub arguments: serde_json::Value,
}

impl Request {
    /// A shell command-line request.
    pub fn command(
        principal: Principal,
        resource: impl Into<String>,
        line: impl Into<String>,
    ) -> Request {
        Request::new(principal, resource, Action::Command(line.into()))
    }

    /// A SQL request.
    pub fn sql(
        principal: Principal,
        resource: impl Into<String>,
        sql: impl Into<String>,
    ) -> Request {
        Request::new(principal, resource, Action::Sql(sql.into()))
    }

    /// A request with no token, grant or approval.
    pub fn new(principal: Principal, resource: impl Into<String>, action: Action) -> Request {
        Request {
            principal,
            resource: resource.into(),
            action,
            token: None,
            grant: None,
            approval: None,
        }
    }

    /// A stable digest of the request: what an approval binds to.
    ///
    /// It covers the principal id, the resource and the action. SQL text is taken as received
    /// except for surrounding white space and trailing semicolons, so `SELECT 1` and
    /// `SELECT 1;` bind alike while any other difference gives another digest; a command line
    /// is trimmed of surrounding white space; an argv is taken as it is; an HTTP method is
    /// upper-cased and its URL trimmed; tool arguments are compared as JSON values (key order
    /// does not matter, nor how a number is spelt: `1`, `1.0` and `1e0` are one number, as
    /// are `0` and `-0.0`; every other difference does). Groups are not part of it: they
    /// describe the principal, not the request.
    pub fn digest(&self) -> String {
        #[derive(Serialize)]
        struct CanonicalRequest<'a> {
            v: u32,
            principal: &'a str,
            resource: &'a str,
            action: CanonicalAction<'a>,
        }
        #[derive(Serialize)]
        #[serde(rename_all = "lowercase")]
        enum CanonicalAction<'a> {
            Sql(&'a str),
            Command(&'a str),
            Argv(&'a [String]),
            Http { method: String, url: &'a str },
            Tool { name: &'a str, arguments: Canonical<'a> },
        }
        let action = match &self.action {
            Action::Sql(text) => CanonicalAction::Sql(normalize_sql_for_digest(text)),
            Action::Command(line) => CanonicalAction::Command(line.trim()),
            Action::Argv(argv) => CanonicalAction::Argv(argv),
            Action::Http(h) => CanonicalAction::Http {
                method: h.method.trim().to_ascii_uppercase(),
                url: h.url.trim(),
            },
            // `Canonical` writes object keys sorted and numbers in one spelling, so equal
            // arguments serialize equally.
            Action::Tool(t) => {
                CanonicalAction::Tool { name: &t.name, arguments: Canonical(&t.arguments) }
            }
        };
        let request = CanonicalRequest {
            v: 1,
            principal: &self.principal.id,
            resource: &self.resource,
            action,
        };
        // Serialized into a buffer, then hashed. Serializing strings, numbers and JSON values
        // into a Vec cannot fail.
        let mut text = Vec::with_capacity(128);
        let _ = serde_json::to_writer(&mut text, &request);
        let hash = Sha256::digest(&text);
        let mut out = String::with_capacity(7 + 2 * hash.len());
        out.push_str("sha256:");
        crate::push_hex(&mut out, &hash);
        out
    }
}

impl Principal {
    /// True for the absent principal (an empty id) of a request that carries a token or a
    /// grant instead.
    pub fn is_absent(&self) -> bool {
        self.id.is_empty()
    }

    /// A principal with groups.
    pub fn new<I, S>(id: impl Into<String>, groups: I) -> Principal
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Principal { id: id.into(), groups: groups.into_iter().map(Into::into).collect() }
    }
}

/// A JSON value as the digest writes it: object keys sorted, and every number that is a whole
/// number within the 64-bit integer range written as an integer (`1.0` as `1`, `-0.0` as `0`,
/// `5000000000.0` as `5000000000`). Written from the borrowed value, without a copy.
///
/// The front ends hand the engine the same JSON number in different spellings: `serde_json`
/// keeps `1.0` a float, JavaScript has no integers (the Node binding receives `1` for `1.0`, and
/// a float for any whole number beyond 32 bits), Python keeps what `json.loads` made. Keys are
/// sorted here, not left to `serde_json::Map`: a host whose build enables serde_json's
/// `preserve_order` feature (cedar-policy does, among many) gets maps that keep the order of
/// the request's text, and the digest would then depend on it.
struct Canonical<'a>(&'a serde_json::Value);

impl Serialize for Canonical<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        use serde_json::Value;
        match self.0 {
            Value::Number(n) => match whole_number(n) {
                Some(whole) => whole.serialize(serializer),
                None => n.serialize(serializer),
            },
            Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&Canonical(item))?;
                }
                seq.end()
            }
            Value::Object(map) => {
                let mut out = serializer.serialize_map(Some(map.len()))?;
                // Without `preserve_order` the map iterates sorted already: no copy then.
                if map.keys().is_sorted() {
                    for (key, value) in map {
                        out.serialize_entry(key, &Canonical(value))?;
                    }
                } else {
                    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
                    for (key, value) in entries {
                        out.serialize_entry(key, &Canonical(value))?;
                    }
                }
                out.end()
            }
            other => other.serialize(serializer),
        }
    }
}

/// True when `a` and `b` are the same JSON value, numbers compared as [`Canonical`] writes them.
pub(crate) fn same_value(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            whole_number(x).as_ref().unwrap_or(x) == whole_number(y).as_ref().unwrap_or(y)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_value(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_value(v, w)))
        }
        _ => a == b,
    }
}

/// The integer a float stands for, when it is a whole number within `i64::MIN..=u64::MAX`;
/// `None` for integers (already canonical) and other floats.
fn whole_number(n: &serde_json::Number) -> Option<serde_json::Number> {
    if !n.is_f64() {
        return None;
    }
    let f = n.as_f64()?;
    // 2^64 and -2^63 are exact as f64; every whole f64 in between converts exactly.
    if f.fract() != 0.0
        || !(-9_223_372_036_854_775_808.0..18_446_744_073_709_551_616.0).contains(&f)
    {
        return None;
    }
    let whole = if f >= 0.0 {
        serde_json::Number::from(f as u64)
    } else {
        serde_json::Number::from(f as i64)
    };
    Some(whole)
}

fn normalize_sql_for_digest(text: &str) -> &str {
    text.trim().trim_end_matches(|c: char| c == ';' || c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(sql: &str) -> Request {
        Request::sql(Principal::new("agent:a", ["g"]), "db", sql)
    }

    #[test]
    fn digest_ignores_surrounding_space_and_trailing_semicolons_only() {
        assert_eq!(req("SELECT 1").digest(), req("  SELECT 1 ;\n").digest());
        assert_ne!(req("SELECT 1").digest(), req("SELECT  1").digest());
        assert_ne!(req("SELECT 1").digest(), req("select 1").digest());
        assert!(req("SELECT 1").digest().starts_with("sha256:"));
    }

    #[test]
    fn digest_binds_principal_and_resource_but_not_groups() {
        let base = req("SELECT 1");
        let mut other = base.clone();
        other.principal.id = "agent:b".into();
        assert_ne!(base.digest(), other.digest());
        let mut other = base.clone();
        other.resource = "db2".into();
        assert_ne!(base.digest(), other.digest());
        let mut other = base.clone();
        other.principal.groups.push("admins".into());
        assert_eq!(base.digest(), other.digest());
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let json =
            r#"{"principal":{"id":"a"},"resource":"db","action":{"sql":"SELECT 1"},"extra":1}"#;
        assert!(serde_json::from_str::<Request>(json).is_err());
        let json = r#"{"principal":{"id":"a"},"resource":"db","action":{"shell":"ls"}}"#;
        assert!(serde_json::from_str::<Request>(json).is_err());
    }
}
