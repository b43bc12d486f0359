//! JSON Schemas of the policy document and test-file formats, so editors can complete and
//! validate them (`writ schema`). They are generated from the same types the loader
//! deserializes, so they cannot drift; a test validates every file in `policies/` against them.
//!
//! The schema is a guide for editors, not the loader: the loader also checks what a schema
//! cannot say (unique ids across documents, declared resources, glob syntax), with locations.

use serde_json::Value;

use crate::cases::TestFile;
use crate::policy::PolicyDocument;

/// The JSON Schema (draft 2020-12) of a policy document.
pub fn policy_document() -> Value {
    schemars::schema_for!(PolicyDocument).to_value()
}

/// The JSON Schema (draft 2020-12) of a policy test file (`*.test.yaml`).
pub fn test_file() -> Value {
    schemars::schema_for!(TestFile).to_value()
}
