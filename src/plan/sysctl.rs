//! Steps for the persisted mqueue limits: `fs.mqueue.*` keys in the sysctl.d file. Pure: no I/O.

use crate::plan::{Action, Plan, PlanError, Step, check_readable, check_replaceable};
use crate::spec::Desired;

const HEADER: &[u8] = b"# POSIX message queue limits for /dev/mqueue, managed by shmguard";

pub(super) fn plan(d: &Desired, plan: &mut Plan) -> Result<(), PlanError> {
    if !d.state.persistent() || d.mqueue.managed().is_empty() {
        return Ok(());
    }
    let Some(file) = plan.expected.sysctl.as_mut() else {
        return Ok(());
    };
    check_readable("sysctl_path", file)?;
    let mut doc = file.doc.clone();
    if !file.exists() {
        doc.file.append(HEADER.to_vec());
    }
    let mut changes = Vec::new();
    for (name, want) in d.mqueue.managed() {
        let key = format!("fs.mqueue.{name}");
        if doc.find(&key).map(|(_, v)| v) != Some(want.to_string()) {
            doc.set(&key, &want.to_string());
            changes.push(format!("{key} = {want}"));
        }
    }
    if changes.is_empty() {
        return Ok(());
    }
    let shown = file.path.display().to_string();
    check_replaceable("sysctl_path", file)?;
    let after = doc.render();
    plan.steps.push(Step {
        action: Action::WriteFile {
            param: "sysctl_path",
            path: file.path.clone(),
            before: file.bytes.clone(),
            after: after.clone(),
            backup: d.backup,
        },
        summary: format!("persist in {shown}: {}", changes.join(", ")),
    });
    file.bytes = Some(after);
    file.doc = doc;
    Ok(())
}
