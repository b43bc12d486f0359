//! Link settings napi-rs needs for a Node addon (on macOS: undefined symbols resolved at load).

fn main() {
    napi_build::setup();
}
