//! Documents generated from the parameter table: the JSON Schemas, the Ansible sidecar doc and
//! the README's parameter table. Tests compare them with the committed files. Pure: no I/O.

use schemars::schema_for;

use crate::report::Report;
use crate::spec::Params;

pub fn params_schema() -> serde_json::Value {
    serde_json::to_value(schema_for!(Params)).unwrap_or_default()
}

pub fn result_schema() -> serde_json::Value {
    serde_json::to_value(schema_for!(Report)).unwrap_or_default()
}
