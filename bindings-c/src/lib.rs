//! C ABI for writ (cbindgen header in `include/writ.h`).
//!
//! Minimal until the C ABI issue lands: the crate is part of the workspace so that the shared
//! lints and the build cover it from the start. It exposes nothing yet.
