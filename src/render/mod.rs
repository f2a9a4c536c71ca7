//! Renderers: an audit (one host's or a fleet's) in every format people, CI and monitoring
//! read — text, JSON, JUnit, Prometheus, XCCDF, HTML — and apply's --diff. Pure: no I/O; the
//! front ends (src/frontend/) parse requests and write what these return.

pub mod audit_doc;
pub mod audit_output;
pub mod fleet;
pub mod html;
pub mod text_diff;
pub mod xccdf;
