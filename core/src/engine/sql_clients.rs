//! The SQL-client hook of command checks.
//!
//! A shell resource may name, in `sql_clients`, the SQL resource its database clients talk to
//! (`[{programs: [psql], resource: app-db}]`). After the commands of a line are decided,
//! [`Engine::sql_client_parts`] looks at every command whose tool model is a SQL client routed
//! by that resource:
//! * when its SQL is fully known (`psql -c`, `mysql -e`, `sqlite3 DB SQL`, a literal
//!   here-document, no meta-command), the SQL is checked as a SQL request of the same
//!   principal on the target resource, exactly as [`Engine::check`] would, and the parts of
//!   that decision are appended (a refusal before any rule, such as SQL with no statement,
//!   becomes one part);
//! * otherwise (interactive, `-f file`, meta-commands, SQL that is not literal) one part is
//!   appended with the policy's `defaults.unknown` effect.
//!
//! The command itself is still decided by the shell's command rules: both must allow.
//! A client reached through `kubectl exec` or `ssh` is routed the same way; the host and
//! database options of the client are not compared with the target resource.

use super::{Engine, fallback};
use crate::command::{CommandLineView, ToolModel};
use crate::decision::PartDecision;
use crate::policy::CompiledResource;
use crate::request::{Action, Principal, Request};

impl Engine {
    /// The parts the routed SQL clients of `view` add (see the module docs).
    pub(super) fn sql_client_parts(
        &self,
        principal: &Principal,
        resource: &CompiledResource,
        view: &CommandLineView,
    ) -> Vec<PartDecision> {
        let mut parts = Vec::new();
        if resource.sql_clients.is_empty() {
            return parts;
        }
        for command in &view.commands {
            let Some(ToolModel::SqlClient(client)) = &command.tool else { continue };
            let Some((_, target)) = resource.sql_clients.iter().find(|(p, _)| *p == client.client)
            else {
                continue;
            };
            let sql = match (&client.sql, &client.opaque) {
                (Some(sql), None) => sql,
                (_, opaque) => {
                    let why = opaque.as_deref().unwrap_or("it sends no SQL");
                    parts.push(PartDecision {
                        effect: fallback(self.policy.unknown_effect),
                        rules: Vec::new(),
                        reason: format!(
                            "the SQL `{}` sends to `{target}` could not be fully understood: {why}",
                            command.program
                        ),
                    });
                    continue;
                }
            };
            let inner = Request::new(principal.clone(), target.clone(), Action::Sql(sql.clone()));
            let decision = self.decide(&inner);
            if decision.parts.is_empty() {
                parts.push(PartDecision {
                    effect: decision.effect,
                    rules: decision.rules,
                    reason: decision.reason,
                });
            } else {
                parts.extend(decision.parts);
            }
        }
        parts
    }
}
