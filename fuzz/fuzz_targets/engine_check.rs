//! Engine checks of arbitrary SQL against a fixed policy: never panics, and nothing that is not
//! understood is allowed.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use writ::{ActionView, Effect, Engine, Principal, Request};

const POLICY: &str = "version: 1
resources:
  - {name: db, kind: postgres, default_schema: public}
rules:
  - {id: everything, effect: allow}
  - id: no-drop
    effect: deny
    when: {sql: {kinds: [drop, truncate]}}
";

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::from_yaml(POLICY).expect("the fuzz policy compiles"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let request = Request::sql(Principal::new("agent:fuzz", ["g"]), "db", text);
    let decision = engine().check(&request);
    if decision.effect == Effect::Allow {
        let Some(ActionView::Sql(view)) = &decision.view else { panic!("allowed without a view") };
        assert!(view.statements.iter().all(|s| s.understood()), "allowed what it did not understand: {text:?}");
        assert!(!view.statements.is_empty());
    }
});
