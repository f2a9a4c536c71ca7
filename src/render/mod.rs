//! Renderers: an audit (one host's or a fleet's) in every format people, CI and monitoring
//! read — text, JSON, JUnit, Prometheus, XCCDF, HTML — and apply's --diff. Pure: no I/O; the
//! front ends (src/frontend/) parse requests and write what these return.

pub mod audit_doc;
pub mod escape;
pub mod fleet;
pub mod html;
pub mod json;
pub mod junit;
pub mod prometheus;
pub mod remedy;
pub mod text;
pub mod text_diff;
pub mod xccdf;

use crate::audit::AuditReport;

/// `audit --format html|xccdf`: the report as its JSON document, then the renderer.
pub fn render_one(r: &AuditReport, format: &str) -> Result<String, String> {
    let v = serde_json::to_value(r).map_err(|e| e.to_string())?;
    let d = audit_doc::from_audit_json(&v, None)?;
    Ok(match format {
        "xccdf" => xccdf::xccdf(&d),
        _ => html::audit(&d),
    })
}
