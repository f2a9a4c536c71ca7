//! The engine every front end calls: Params -> Desired -> observe -> plan -> (apply unless
//! check mode) -> observe again -> Report. Check mode is decided here, once.

use crate::apply::apply;
use crate::observe::{Observed, observe};
use crate::plan::plan;
use crate::report::{Report, StateView, diff};
use crate::spec::{Desired, Params};

/// How to run: check mode plans without applying; diff mode adds before/after texts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunMode {
    pub check: bool,
    pub diff: bool,
}

fn failed(path: String, msg: String, check: bool) -> Report {
    Report {
        failed: true,
        msg,
        path,
        check_mode: check,
        ..Report::default()
    }
}

/// Runs one target to completion and reports; every failure is a Report with failed: true.
pub fn run(params: &Params, mode: RunMode) -> Report {
    let desired = match Desired::from_params(params) {
        Ok(d) => d,
        Err(e) => {
            return failed(
                params.path.clone().unwrap_or_default(),
                e.to_string(),
                mode.check,
            );
        }
    };
    let path = desired.path.clone();
    let before = match observe(&desired) {
        Ok(o) => o,
        Err(e) => return failed(path, e.to_string(), mode.check),
    };
    let plan = match plan(&desired, &before) {
        Ok(p) => p,
        Err(e) => {
            let mut r = failed(path, e.to_string(), mode.check);
            r.before = Some(StateView::of(&before, &desired));
            return r;
        }
    };
    let mut report = Report {
        changed: !plan.is_empty(),
        path: path.clone(),
        check_mode: mode.check,
        before: Some(StateView::of(&before, &desired)),
        warnings: plan.warnings.clone(),
        ..Report::default()
    };
    let summaries: Vec<String> = plan.steps.iter().map(|s| s.summary.clone()).collect();
    let after: Observed = if mode.check || plan.is_empty() {
        report.actions = summaries;
        plan.expected.clone()
    } else {
        match apply(&plan) {
            Ok(applied) => {
                report.actions = applied.done;
                report.backup_file = applied.backups.first().map(|p| p.display().to_string());
            }
            Err(e) => {
                report.failed = true;
                report.changed = !e.applied.done.is_empty();
                report.msg = format!("{path}: {e}");
                report.actions = e.applied.done;
            }
        }
        match observe(&desired) {
            Ok(o) => o,
            Err(e) => {
                report
                    .warnings
                    .push(format!("could not read the state back after applying: {e}"));
                plan.expected.clone()
            }
        }
    };
    if !report.failed && !mode.check {
        if let Ok(again) = crate::plan::plan(&desired, &after) {
            for s in again.steps {
                report.warnings.push(format!(
                    "still differs after applying (the kernel did not take it?): {}",
                    s.summary
                ));
            }
        }
    }
    report.after = Some(StateView::of(&after, &desired));
    if mode.diff {
        report.diff = Some(diff(&path, &before, &after, &desired));
    }
    if report.msg.is_empty() {
        report.msg = summary_sentence(&path, &report);
    }
    report
}

fn summary_sentence(path: &str, r: &Report) -> String {
    let n = r.actions.len();
    let plural = if n == 1 { "" } else { "s" };
    match (n, r.check_mode) {
        (0, _) => format!("{path} already matches the desired state"),
        (_, true) => format!(
            "{path}: would make {n} change{plural}: {}",
            r.actions.join("; ")
        ),
        (_, false) => format!("{path}: made {n} change{plural}: {}", r.actions.join("; ")),
    }
}

/// The current state of one mount point, read-only.
pub fn status(params: &Params) -> Result<StateView, String> {
    let desired = Desired::from_params(params).map_err(|e| e.to_string())?;
    let observed = observe(&desired).map_err(|e| e.to_string())?;
    Ok(StateView::of(&observed, &desired))
}
