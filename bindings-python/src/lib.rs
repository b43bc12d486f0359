//! Python binding for writ (PyO3 + maturin).
//!
//! Minimal until the Python binding issue lands: the crate is part of the workspace so that the
//! shared lints and the build cover it from the start. It exposes nothing yet.
