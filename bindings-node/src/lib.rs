//! Node binding for writ (napi-rs).
//!
//! Minimal until the Node binding issue lands: the crate is part of the workspace so that the
//! shared lints and the build cover it from the start. It exposes nothing yet.
