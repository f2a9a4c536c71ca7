//! The client matrix for POSIX message queues (see clients.rs): posix_ipc as `nobody` in
//! private mount and IPC namespaces against a 0755 mqueue, limits below what programs ask for,
//! a small RLIMIT_MSGQUEUE and no /dev/mqueue at all; the probe and the mqueue profile agree
//! with the programs, and their remedies make them work. Where several limits stop a queue,
//! the probe's one remedy names them all (issue 23).

use crate::audit::failing;
use crate::clients::{MQ, Matrix, check, failing_probe, passed, remedies, working_shm};

/// An mqueue situation where nobody's programs fail: the probe (as nobody) and the mqueue
/// profile fail; their remedies followed make them work.
fn broken_mqueue(m: &Matrix, want_probe: &str, want_audit: &[&str]) {
    assert!(!m.works(&MQ, ""), "{:?}", m.programs(&MQ, "", 0));
    let probe = m.probe("", &[]);
    assert!(
        failing_probe(&probe).contains(&want_probe.to_string()),
        "{probe}"
    );
    let audit = m.profile("mqueue");
    assert_eq!(failing(&audit), want_audit, "{audit}");
    assert_eq!(
        m.profile("multiprocessing")["compliant"],
        true,
        "multiprocessing never uses message queues"
    );
    let fixes = remedies(Some(&probe), Some(&audit));
    assert!(!fixes.is_empty(), "{probe}");
    for f in &fixes {
        m.follow(f);
    }
    assert!(
        m.works(&MQ, ""),
        "after {fixes:?}: {:?}",
        m.programs(&MQ, "", 0)
    );
    assert!(passed(&m.probe("", &[])));
    assert_eq!(m.profile("mqueue")["compliant"], true);
}

#[test]
fn clients_another_user_mqueue_0755_fails_and_1777_fixes_it() {
    let m = Matrix::new("mode=1777,size=16m", true);
    m.sb.sh("chmod 0755 /dev/mqueue");
    broken_mqueue(&m, "message_queue@nobody", &["dev-mqueue.mode.live"]);
}

#[test]
fn clients_another_user_mqueue_limits_below_what_programs_ask_fail_and_are_raised() {
    for (limit, value, id) in [
        ("msg_max", "4", "dev-mqueue.msg_max.live"),
        ("msgsize_max", "128", "dev-mqueue.msgsize_max.live"),
        ("queues_max", "0", "dev-mqueue.queues_max.live"),
    ] {
        let m = Matrix::new("mode=1777,size=16m", true);
        m.sb.sh(&format!("echo {value} > /proc/sys/fs/mqueue/{limit}"));
        let probe = m.probe("", &[]);
        let errno = check(&probe, "message_queue", "nobody")["errno"].clone();
        assert_eq!(
            errno,
            if limit == "queues_max" {
                "mq_open: ENOSPC"
            } else {
                "mq_open: EINVAL"
            },
            "{probe}"
        );
        broken_mqueue(&m, "message_queue@nobody", &[id]);
    }
}

/// RLIMIT_MSGQUEUE is the program's own limit: the probe (run under the same limit) sees it,
/// a profile of the host cannot; the remedy is `ulimit -q`, not queues_max.
#[test]
fn clients_another_user_small_rlimit_msgqueue_is_named_by_the_probe() {
    let m = Matrix::new("mode=1777,size=16m", true);
    // a soft limit below the need, the kernel's default hard one: `ulimit -q` can raise it
    let low = "prlimit --msgqueue=4096:819200";
    assert!(!m.works(&MQ, low), "{:?}", m.programs(&MQ, low, 0));
    let probe = m.probe(low, &[]);
    let mq = check(&probe, "message_queue", "nobody");
    assert_eq!(mq["errno"], "mq_open: EMFILE", "{probe}");
    let remedy = mq["remedy"].as_str().unwrap();
    assert!(
        remedy.contains("ulimit -q 819200")
            && remedy.contains("LimitMSGQUEUE=")
            && remedy.contains("msgqueue")
            && !remedy.contains("queues_max"),
        "{remedy}"
    );
    // following it: the limit raised where the program starts (to the kernel default: a
    // container may not allow unlimited)
    let raised = "prlimit --msgqueue=819200:819200";
    assert!(m.works(&MQ, raised));
    assert!(passed(&m.probe(raised, &[])));
}

/// No /dev/mqueue at all: mq_open still works (each IPC namespace has its own internal
/// mount), so the probe and both profiles pass (issue 18: the mqueue profile judges what
/// message-queue programs experience); a policy that wants /dev/mqueue mounted still fails,
/// and its remedy mounts it.
#[test]
fn clients_another_user_without_dev_mqueue_programs_work() {
    let m = Matrix::new("mode=1777,size=16m", false);
    assert!(m.works(&MQ, ""));
    working_shm(&m);
    let audit = m.profile("mqueue");
    assert_eq!(audit["compliant"], true, "{audit}");
    let policy = m.sb.file(
        "wants-mqueue.json",
        br#"{"path": "/dev/mqueue", "state": "ephemeral"}"#,
    );
    let audit = m.audit("", &["--policy", &policy]);
    assert_eq!(failing(&audit), ["dev-mqueue.mounted.live"], "{audit}");
    // the planner's checks say what apply would do: apply the policy's parameters
    m.follow("--path /dev/mqueue --state ephemeral");
    let after = m.audit("", &["--policy", &policy]);
    assert_eq!(after["compliant"], true, "{after}");
    assert_eq!(m.profile("mqueue")["compliant"], true);
    assert!(m.works(&MQ, ""));
}

/// Issue 23: every queue of queues_max in use AND msg_max below the queue: mq_open reports
/// only ENOSPC (the kernel counts queues first), yet the probe's one remedy names both
/// sysctls, and following that remedy alone makes the program work.
#[test]
fn clients_another_user_one_queue_remedy_names_every_sysctl_that_stops_it() {
    let m = Matrix::new("mode=1777,size=16m", true);
    m.sb.sh("echo 4 > /proc/sys/fs/mqueue/msg_max; echo 1 > /proc/sys/fs/mqueue/queues_max");
    // one queue held (queues live until unlinked): all of queues_max is in use
    m.sb.sh(&format!(
        "{} -c \"import posix_ipc as p; p.MessageQueue('/held', p.O_CREX, max_messages=1, max_message_size=1)\"",
        crate::clients::venv_python()
    ));
    assert!(!m.works(&MQ, ""), "{:?}", m.programs(&MQ, "", 0));
    let probe = m.probe("", &[]);
    let mq = check(&probe, "message_queue", "nobody");
    assert_eq!(mq["errno"], "mq_open: ENOSPC", "{probe}");
    let remedy = mq["remedy"].as_str().unwrap();
    assert!(
        remedy.starts_with("fs.mqueue.queues_max is 1 and all are in use and fs.mqueue.msg_max is 4, below the queue the program opens"),
        "{remedy}"
    );
    let line = apply_line(remedy);
    assert_eq!(line, "--path /dev/mqueue --queues-max 256 --msg-max 10");
    m.follow(line);
    assert!(m.works(&MQ, ""), "{:?}", m.programs(&MQ, "", 0));
    assert!(passed(&m.probe("", &[])));
}

/// The one `shmguard apply` line a remedy quotes.
fn apply_line(remedy: &str) -> &str {
    remedy
        .split("(shmguard apply ")
        .nth(1)
        .and_then(|t| t.split(')').next())
        .unwrap_or_else(|| panic!("no apply line: {remedy}"))
}

/// Issue 23: msg_max below the queue AND nobody's RLIMIT_MSGQUEUE used up by a queue it already
/// holds: mq_open reports only EINVAL (the shape is checked before the rlimit); the probe
/// learns the rest from a 1 x 1 queue, and its one remedy names msg_max and the rlimit with
/// its bytes. Following both parts (the sysctl, then `ulimit -q` where the program starts)
/// makes the program work; the sysctl alone does not.
#[test]
fn clients_another_user_one_queue_remedy_names_a_used_up_rlimit_too() {
    let m = Matrix::new("mode=1777,size=16m", true);
    // nobody holds a 10 x 8192 queue (82880 bytes by the kernel's accounting) under a limit
    // of 82900: the limit alone would allow the program's queue (the facts cannot tell), but
    // nothing is left for a second one, which only an attempt shows
    let low = "prlimit --msgqueue=82900:819200";
    m.sb.sh(&format!(
        "{low} setpriv --reuid=65534 --regid=65534 --clear-groups env {} -c \"import posix_ipc as p; p.MessageQueue('/held', p.O_CREX, max_messages=10, max_message_size=8192)\"",
        // the Python nobody can reach from any clone (not the checkout's venv)
        crate::clients::python_for_nobody()
    ));
    m.sb.sh("echo 4 > /proc/sys/fs/mqueue/msg_max");
    assert!(!m.works(&MQ, low));
    let probe = m.probe(low, &[]);
    let mq = check(&probe, "message_queue", "nobody");
    assert_eq!(mq["errno"], "mq_open: EINVAL", "{probe}");
    let remedy = mq["remedy"].as_str().unwrap();
    assert!(
        remedy.starts_with("2 limits stop this queue, raise them all: fs.mqueue.msg_max is 4, below the queue the program opens (10 messages of 8192 bytes, posix_ipc's and the kernel's defaults): raise it (shmguard apply --path /dev/mqueue --msg-max 10); and RLIMIT_MSGQUEUE is 82900 bytes, and a queue of 10 x 8192 needs 82880 bytes"),
        "{remedy}"
    );
    assert!(remedy.contains("`ulimit -q 819200`"), "{remedy}");
    m.follow(apply_line(remedy));
    let mq = check(&m.probe(low, &[]), "message_queue", "nobody").clone();
    assert_eq!(
        mq["errno"], "mq_open: EMFILE",
        "the sysctl alone is not enough: {mq}"
    );
    let followed = format!("{low} bash -c 'ulimit -q 819200 && exec \"$@\"' bash");
    assert!(
        m.works(&MQ, &followed),
        "{:?}",
        m.programs(&MQ, &followed, 0)
    );
    assert!(passed(&m.probe(&followed, &[])));
}
