//! Steps for the persisted mqueue limits: `fs.mqueue.*` keys in the sysctl.d file. Pure: no I/O.

use crate::plan::{Plan, PlanError, check_readable, replace_file};
use crate::spec::Desired;

/// The first line of a sysctl file shmguard creates, naming the mqueue path it manages (the
/// limits are the IPC namespace's, but the reader wants to know which target wrote them); a
/// control character in the path would end the comment, so it is shown as `?`.
fn header(path: &str) -> Vec<u8> {
    let shown: String = path
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    format!("# POSIX message queue limits for {shown}, managed by shmguard").into_bytes()
}

pub(super) fn plan(d: &Desired, plan: &mut Plan) -> Result<(), PlanError> {
    if !d.state.persistent() || d.mqueue.managed().is_empty() {
        return Ok(());
    }
    let Some(file) = plan.expected.sysctl.as_mut() else {
        return Ok(());
    };
    check_readable("sysctl_path", file)?;
    if !file.dir_exists {
        return Err(PlanError::FileMissing {
            param: "sysctl_path",
            path: file.path.display().to_string(),
            what: ", nor does its directory",
        });
    }
    let mut doc = file.doc.clone();
    if !file.exists() {
        doc.file.append(header(&d.path));
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
    let summary = format!("persist in {}: {}", file.path.display(), changes.join(", "));
    let after = doc.file.clone();
    let backup = d.backup.then_some(d.backup_keep);
    let step = replace_file(file, "sysctl_path", doc, after, backup, summary)?;
    plan.steps.push(step);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::header;

    #[test]
    fn the_header_names_the_managed_path() {
        assert_eq!(
            header("/srv/mq"),
            b"# POSIX message queue limits for /srv/mq, managed by shmguard"
        );
        assert_eq!(
            header("/srv/a\nb"),
            b"# POSIX message queue limits for /srv/a?b, managed by shmguard"
        );
    }
}
