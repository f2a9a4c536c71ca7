//! What `shmguard watch` prints: a target's verdict from an audit, and the event (one line,
//! JSON or text) about a change of it. Pure: no I/O.

use serde::Serialize;

use crate::audit::{AuditReport, Status};
use crate::spec::Params;

/// What an audit says about one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Compliant,
    /// the failing check ids, as the audit names them (`dev-shm.mode.live`), in its order
    Failing(Vec<String>),
    /// the target could not be judged
    Error(String),
}

/// One target of an audit, as the watcher sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetView {
    pub path: String,
    pub verdict: Verdict,
    /// the `shmguard apply` command that repairs it
    pub remedy: Option<String>,
    /// the same remedy as parameters, for `--apply` (through the engine)
    pub remedy_params: Option<Params>,
}

/// The targets of an audit report, in its order.
pub fn views(r: &AuditReport) -> Vec<TargetView> {
    r.targets
        .iter()
        .map(|t| {
            let failing: Vec<String> = t
                .checks
                .iter()
                .filter(|c| c.status == Status::Fail)
                .map(|c| c.id.clone())
                .collect();
            let verdict = match (&t.error, failing.is_empty()) {
                (Some(e), _) => Verdict::Error(e.clone()),
                (None, true) => Verdict::Compliant,
                (None, false) => Verdict::Failing(failing),
            };
            TargetView {
                path: t.path.clone(),
                verdict,
                remedy: t.remedy.clone(),
                remedy_params: t.remedy_params.clone(),
            }
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// the first verdict on a target (compliant or failing)
    Initial,
    /// checks started failing, or a different set of them fails
    Drift,
    /// every check of the target passes again
    Compliant,
    /// the target could not be judged, or a repair failed
    Error,
    /// `--apply` ran the remedy
    Repaired,
    /// `--apply` repaired the target too often within the window: left alone until it is
    /// compliant again
    Flapping,
}

impl Kind {
    pub fn word(self) -> &'static str {
        match self {
            Kind::Initial => "initial",
            Kind::Drift => "drift",
            Kind::Compliant => "compliant",
            Kind::Error => "error",
            Kind::Repaired => "repaired",
            Kind::Flapping => "flapping",
        }
    }
}

/// One line of `shmguard watch`'s output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub event: Kind,
    /// RFC 3339, UTC
    pub time: String,
    pub host: String,
    pub path: String,
    /// whether every check of the target passed in the audit behind this event (`repaired`:
    /// the audit before the repair; the audit after it follows as its own event)
    pub compliant: bool,
    /// the failing check ids (`repaired`: those the repair was for)
    pub failing: Vec<String>,
    /// the command that repairs the target (while it fails)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remedy: Option<String>,
    /// why the target could not be judged or repaired
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// what a repair changed
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<String>,
}

impl Event {
    /// The event `kind` about `view`, at `time` on `host`.
    pub fn about(kind: Kind, view: &TargetView, time: &str, host: &str) -> Event {
        let (compliant, failing, error) = match &view.verdict {
            Verdict::Compliant => (true, Vec::new(), None),
            Verdict::Failing(f) => (false, f.clone(), None),
            Verdict::Error(e) => (false, Vec::new(), Some(e.clone())),
        };
        Event {
            event: kind,
            time: time.to_string(),
            host: host.to_string(),
            path: view.path.clone(),
            compliant,
            remedy: if compliant { None } else { view.remedy.clone() },
            failing,
            error,
            actions: Vec::new(),
        }
    }

    /// One JSON object, no newline.
    pub fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// One line for people: `TIME HOST PATH drift: id, id — fix: shmguard apply ...`.
    pub fn text(&self) -> String {
        let mut out = format!(
            "{} {} {} {}",
            self.time,
            self.host,
            self.path,
            self.event.word()
        );
        if !self.failing.is_empty() {
            out += &format!(": {}", self.failing.join(", "));
        } else if self.compliant {
            out += ": compliant";
        }
        if let Some(e) = &self.error {
            out += &format!(": {e}");
        }
        if !self.actions.is_empty() {
            out += &format!(" ({})", self.actions.join("; "));
        }
        if let Some(r) = &self.remedy {
            out += &format!(" — fix: {r}");
        }
        out.replace('\n', " ")
    }
}
