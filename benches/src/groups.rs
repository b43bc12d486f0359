//! Generated group/resource policies for the decide bench, written out once for writ (YAML),
//! Cedar and Rego from one list of rules, so the three say the same thing.
//!
//! Teams get access to agent tools. Ten rules per tool: nine allow a team, one denies the
//! `contractors` group; the first rule of all denies the `suspended` group on every tool. A
//! principal is allowed on a tool when some allow rule names one of its groups and that tool,
//! and no deny rule matches; everything else is denied (writ's and Cedar's default, and
//! `default allow := false` in Rego).

use std::fmt::Write as _;

/// Rules per tool.
const RULES_PER_TOOL: usize = 10;
/// Teams the allow rules pick from.
const TEAMS: usize = 40;

/// One generated rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Allow (true) or deny.
    pub allow: bool,
    /// The group the rule names.
    pub group: String,
    /// The tool it applies to, or every tool.
    pub tool: Option<String>,
}

/// The name of tool `n`.
pub fn tool(n: usize) -> String {
    format!("tool-{n}")
}

/// The team that allow rule `slot` (1 to 8) of tool `n` names.
fn team(n: usize, slot: usize) -> String {
    format!("team-{}", (n * 3 + slot) % TEAMS)
}

/// Number of tools a policy of `rules` rules declares.
pub fn tools(rules: usize) -> usize {
    rules.div_ceil(RULES_PER_TOOL).max(1)
}

/// The rules of a policy of `rules` rules, in order.
pub fn rules(rules: usize) -> Vec<Rule> {
    (0..rules)
        .map(|i| {
            let (n, slot) = (i / RULES_PER_TOOL, i % RULES_PER_TOOL);
            if i == 0 {
                Rule { allow: false, group: "suspended".into(), tool: None }
            } else if slot == RULES_PER_TOOL - 1 {
                Rule { allow: false, group: "contractors".into(), tool: Some(tool(n)) }
            } else {
                Rule { allow: true, group: team(n, slot), tool: Some(tool(n)) }
            }
        })
        .collect()
}

/// The policy as a writ YAML document: `tool` resources, rules with `groups` and `resources`
/// conditions only.
pub fn writ_policy(count: usize) -> String {
    let mut out = String::from("version: 1\nresources:\n");
    for n in 0..tools(count) {
        let _ = writeln!(out, "  - {{name: {}, kind: tool}}", tool(n));
    }
    out.push_str("rules:\n");
    for (i, rule) in rules(count).iter().enumerate() {
        let effect = if rule.allow { "allow" } else { "deny" };
        let resources = match &rule.tool {
            Some(t) => format!(", resources: [{t}]"),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "  - {{id: r{i}, effect: {effect}, when: {{groups: [{}]{resources}}}}}",
            rule.group
        );
    }
    out
}

/// The policy in Cedar: one `permit` or `forbid` per rule, any action.
pub fn cedar_policy(count: usize) -> String {
    let mut out = String::new();
    for rule in rules(count) {
        let effect = if rule.allow { "permit" } else { "forbid" };
        let resource = match &rule.tool {
            Some(t) => format!("resource == Tool::\"{t}\""),
            None => "resource".to_owned(),
        };
        let _ =
            writeln!(out, "{effect}(principal in Group::\"{}\", action, {resource});", rule.group);
    }
    out
}

/// The policy in Rego (v1 syntax): `data.writbench.allow`, with one `permitted` or
/// `forbidden` body per rule.
pub fn rego_policy(count: usize) -> String {
    let mut out = String::from(
        "package writbench\n\ndefault allow := false\n\nallow if {\n\tpermitted\n\tnot forbidden\n}\n",
    );
    for rule in rules(count) {
        let head = if rule.allow { "permitted" } else { "forbidden" };
        let _ = write!(out, "\n{head} if {{\n");
        if let Some(t) = &rule.tool {
            let _ = writeln!(out, "\tinput.resource == \"{t}\"");
        }
        let _ = writeln!(out, "\t\"{}\" in input.principal.groups", rule.group);
        out.push_str("}\n");
    }
    out
}

/// A principal asking, with its groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asker {
    /// The principal id (`user:...`).
    pub id: String,
    /// Its groups.
    pub groups: Vec<String>,
}

/// The requests the bench times on a policy of `rules` rules, all on its last tool: an
/// allowed one, one no rule allows (decided by the default), and one a deny rule stops.
pub fn timed(rules: usize) -> [(&'static str, (Asker, String)); 3] {
    let n = tools(rules) - 1;
    let asker = |id: &str, groups: &[String]| Asker { id: id.to_owned(), groups: groups.to_vec() };
    // The team of the tool's eighth allow rule, and a team none of its rules names.
    let member = team(n, RULES_PER_TOOL - 2);
    let outsider = team(n, TEAMS / 2);
    let staff = "staff".to_owned();
    [
        ("allowed", (asker("user:ada", &[staff.clone(), member.clone()]), tool(n))),
        ("denied_no_rule", (asker("user:bob", &[staff.clone(), outsider]), tool(n))),
        ("denied_by_rule", (asker("user:cy", &[member, "contractors".to_owned()]), tool(n))),
    ]
}

/// The principals of the bench: those of [`timed`], then `count` drawn from a fixed seed with
/// one to three teams each, some contractors and a few suspended.
pub fn askers(rules: usize, count: usize) -> Vec<Asker> {
    let mut rng = fastrand::Rng::with_seed(0x5eed_0011);
    let mut out: Vec<Asker> = timed(rules).into_iter().map(|(_, (a, _))| a).collect();
    for k in 0..count {
        let mut groups: Vec<String> =
            (0..rng.usize(1..=3)).map(|_| format!("team-{}", rng.usize(..TEAMS))).collect();
        if rng.usize(..100) < 15 {
            groups.push("contractors".into());
        }
        if rng.usize(..100) < 5 {
            groups.push("suspended".into());
        }
        groups.dedup();
        out.push(Asker { id: format!("user:u{k}"), groups });
    }
    out
}

/// What every engine must decide: whether `asker` may use `tool` under the policy of `count`
/// rules (some allow rule names one of its groups and the tool, and no deny rule matches).
pub fn allows(count: usize, asker: &Asker, tool: &str) -> bool {
    let applies =
        |r: &Rule| asker.groups.contains(&r.group) && r.tool.as_deref().is_none_or(|t| t == tool);
    let all = rules(count);
    all.iter().any(|r| r.allow && applies(r)) && !all.iter().any(|r| !r.allow && applies(r))
}

/// `count` requests: principals from `askers` on tools of the policy, from a fixed seed.
/// Half of them ask for a tool one of their teams has a rule on, so the sample holds allowed
/// requests at every policy size.
pub fn sample(rules: usize, askers: &[Asker], count: usize) -> Vec<(Asker, String)> {
    let mut rng = fastrand::Rng::with_seed(0x5eed_0012);
    let all = self::rules(rules);
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let Some(asker) = askers.get(rng.usize(..askers.len().max(1))) else { break };
        let granted: Vec<&Rule> =
            all.iter().filter(|r| r.allow && asker.groups.contains(&r.group)).collect();
        let pick = if rng.bool() { granted.get(rng.usize(..granted.len().max(1))) } else { None };
        let t = match pick.and_then(|r| r.tool.clone()) {
            Some(t) => t,
            None => tool(rng.usize(..tools(rules))),
        };
        out.push((asker.clone(), t));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_have_the_asked_number_of_rules() {
        for n in [10, 100, 1_000] {
            assert_eq!(rules(n).len(), n);
            assert_eq!(cedar_policy(n).lines().count(), n);
            assert_eq!(writ_policy(n).matches("- {id: ").count(), n);
            assert_eq!(rego_policy(n).matches(" if {").count(), n + 1);
        }
    }
}
