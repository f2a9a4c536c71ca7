//! Front ends: thin translations between a wire format and the engine (Params in, Report out).

pub mod ansible;
pub mod ansible_audit;
pub mod audit_cli;
pub mod audit_doc;
pub mod audit_output;
pub mod cli;
pub mod fleet_report;
pub mod html_report;
pub mod json_args;
pub mod report_cli;
pub mod salt;
pub mod text_diff;
pub mod xccdf;
