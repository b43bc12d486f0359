//! Shell command parsing: never panics, never hangs (run with `-timeout`), never overflows the
//! stack, and a line with an error is always dynamic (so the engine denies it).
#![no_main]

use libfuzzer_sys::fuzz_target;
use writ::command::{Limits, parse_argv, parse_line};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let limits = Limits::default();
    let view = if selector % 4 == 0 {
        let argv: Vec<String> = text.split('\0').map(str::to_owned).collect();
        parse_argv(&argv, &limits)
    } else {
        parse_line(text, &limits)
    };
    if view.error.is_some() {
        assert!(view.dynamic, "a line with an error was not dynamic: {text:?}");
    }
    assert!(view.commands.len() <= limits.max_commands, "too many commands listed");
});
