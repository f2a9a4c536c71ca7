//! `shmguard report FILE...`: audit JSON documents from many hosts (files of
//! `shmguard audit --format json`, Salt's `shmguard.audit --out=json`, the Ansible audit
//! playbook's map, which also holds the hosts whose task failed or that were unreachable)
//! merged into one fleet view — html, text, json, junit or prometheus — in which every host
//! is. Exit 0 every host compliant; 2 a host drifted, errored or unreachable, or no host at
//! all; 1 the report's own failure. Never a non-zero exit without saying why on stderr.

use clap::Args;

use crate::frontend::output::emit;
use crate::render::audit_doc::HostStatus;
use crate::render::audit_doc::{self, AuditDoc};
use crate::render::{fleet, html, json, junit, prometheus, text};

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Audit JSON files: `shmguard audit --format json` (one host each), or a map of host
    /// names to them (Salt's `shmguard.audit --out=json`, the Ansible audit playbook);
    /// `-` reads stdin
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,
    /// html (a hosts × checks page), text (a line per host), json, junit (a testsuite per
    /// host) or prometheus (a series per host and check)
    #[arg(long, value_parser = ["html", "text", "json", "junit", "prometheus"], default_value = "html")]
    pub format: String,
    /// Write the report to FILE instead of stdout, replacing it atomically
    #[arg(long, value_name = "FILE")]
    pub output: Option<String>,
}

fn read(file: &str) -> Result<Vec<AuditDoc>, String> {
    let bytes = if file == "-" {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut b).map(|_| b)
    } else {
        std::fs::read(file)
    }
    .map_err(|e| format!("{file}: cannot read it: {e}"))?;
    audit_doc::parse(&bytes).map_err(|e| format!("{file}: {e}"))
}

/// Every file's hosts; an unreadable file or a host seen twice is an error naming the file.
pub fn load(files: &[String]) -> Result<Vec<AuditDoc>, String> {
    let mut docs: Vec<AuditDoc> = Vec::new();
    let mut from: Vec<&str> = Vec::new();
    for f in files {
        for d in read(f)? {
            if let Some(i) = docs.iter().position(|o| o.host == d.host) {
                return Err(format!(
                    "{f}: host {:?} is already in {}: give each host's audit once",
                    d.host, from[i]
                ));
            }
            docs.push(d);
            from.push(f);
        }
    }
    Ok(docs)
}

pub fn report(a: &ReportArgs) -> i32 {
    let docs = match load(&a.files) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("shmguard report: {e}");
            return 1;
        }
    };
    let fleet = fleet::Fleet::new(docs);
    let text = match a.format.as_str() {
        "json" => json::fleet(&fleet),
        "text" => text::fleet(&fleet),
        "junit" => junit::fleet(&fleet),
        "prometheus" => prometheus::fleet(&fleet),
        _ => html::fleet(&fleet),
    };
    if !emit("report", &a.output, &text) {
        return 1;
    }
    let code = fleet.exit_code();
    if code != 0 {
        eprintln!("shmguard report: {}: {}", fleet.verdict(), why(&fleet));
    }
    code
}

/// Why the fleet is not compliant, for stderr: the summary and the hosts that are not.
fn why(f: &fleet::Fleet) -> String {
    let mut out = f.summary();
    for status in [
        HostStatus::Unreachable,
        HostStatus::Error,
        HostStatus::Drifted,
    ] {
        let hosts: Vec<&str> = f
            .hosts
            .iter()
            .filter(|d| d.status() == status)
            .map(|d| d.host.as_str())
            .collect();
        if !hosts.is_empty() {
            out += &format!("; {}: {}", status.word(), hosts.join(", "));
        }
    }
    out
}
