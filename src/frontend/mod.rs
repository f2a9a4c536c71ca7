//! Front ends: thin translations between a wire format and the engine (Params in, Report out).

pub mod ansible;
pub mod ansible_audit;
pub mod args;
pub mod audit_cli;
pub mod cli;
pub mod output;
pub mod report_cli;
pub mod salt;

/// Parameters as a JSON object: the table's own parser, in spec/ (the audit's policies use it).
pub use crate::spec::json_args;
