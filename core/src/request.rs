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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// Who is asking. The host is responsible for having authenticated this principal.
    pub principal: Principal,
    /// The name of a resource declared in the policy.
    pub resource: String,
    /// What the principal wants to do: a map with one key naming the action type. The
    /// singleton-map form reads the same in JSON and in YAML test files (where serde_norway would
    /// otherwise expect a `!sql` tag).
    #[serde(with = "serde_norway::with::singleton_map")]
    pub action: Action,
}

/// An authenticated identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Principal {
    /// Stable identifier (`agent:analytics`, `user:alice@example.com`).
    pub id: String,
    /// Groups the principal belongs to.
    #[serde(default)]
    pub groups: Vec<String>,
}

/// What a request does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum Action {
    /// SQL text: one or more statements, run on a SQL resource.
    Sql(String),
}

impl Request {
    /// A SQL request.
    pub fn sql(
        principal: Principal,
        resource: impl Into<String>,
        sql: impl Into<String>,
    ) -> Request {
        Request { principal, resource: resource.into(), action: Action::Sql(sql.into()) }
    }

    /// A stable digest of the request: what an approval binds to.
    ///
    /// It covers the principal id, the resource and the action. SQL text is taken as received
    /// except for surrounding white space and trailing semicolons, so `SELECT 1` and
    /// `SELECT 1;` bind alike while any other difference gives another digest. Groups are not
    /// part of it: they describe the principal, not the request.
    pub fn digest(&self) -> String {
        #[derive(Serialize)]
        struct Canonical<'a> {
            v: u32,
            principal: &'a str,
            resource: &'a str,
            action: CanonicalAction<'a>,
        }
        #[derive(Serialize)]
        #[serde(rename_all = "lowercase")]
        enum CanonicalAction<'a> {
            Sql(&'a str),
        }
        let action = match &self.action {
            Action::Sql(text) => CanonicalAction::Sql(normalize_sql_for_digest(text)),
        };
        let canonical =
            Canonical { v: 1, principal: &self.principal.id, resource: &self.resource, action };
        // Serializing plain strings and integers cannot fail.
        let bytes = serde_json::to_vec(&canonical).unwrap_or_default();
        format!("sha256:{}", crate::hex(&Sha256::digest(&bytes)))
    }
}

impl Principal {
    /// A principal with groups.
    pub fn new<I, S>(id: impl Into<String>, groups: I) -> Principal
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Principal { id: id.into(), groups: groups.into_iter().map(Into::into).collect() }
    }
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
