//! Bad input fails with a message naming the parameter, the value and what is accepted, and
//! changes nothing: mounts, modes, fstab and the mqueue limits are compared before and after.

use serde_json::{Value, json};

use crate::sandbox::Sandbox;

/// (parameters, text the message must contain)
fn cases(shm: &str, mq: &str) -> Vec<(Value, &'static str)> {
    vec![
        (
            json!({"path": shm, "mode": "a+rwx"}),
            "mode: \"a+rwx\" is not accepted; expected an octal mode",
        ),
        (json!({"path": shm, "mode": "8777"}), "mode: \"8777\""),
        (
            json!({"path": shm, "mode": 1777}),
            "mode: 1777 is not accepted; expected an octal mode as a quoted string",
        ),
        (
            json!({"path": shm, "size": "4X"}),
            "size: \"4X\" is not accepted; expected a whole number of bytes",
        ),
        (json!({"path": shm, "size": "1.5G"}), "size: \"1.5G\""),
        (json!({"path": shm, "size": "-1"}), "size: \"-1\""),
        (
            json!({"path": shm, "size": "99999999999999e"}),
            "overflows 64 bits",
        ),
        (json!({"path": shm, "min_size": "0"}), "min_size: \"0\""),
        (
            json!({"path": shm, "size": "1G", "min_size": "2G"}),
            "either size or min_size",
        ),
        (
            json!({"path": shm, "nr_inodes": "lots"}),
            "nr_inodes: \"lots\"",
        ),
        (
            json!({"path": shm, "options": ["nodev", "nosuidd"]}),
            "options: \"nosuidd\" is not accepted; expected mount flags from: ro, rw",
        ),
        (
            json!({"path": shm, "options": ["noexec", "exec"]}),
            "noexec and exec both given",
        ),
        (
            json!({"path": shm, "options": 5}),
            "options: 5 is not accepted",
        ),
        (
            json!({"path": shm, "state": "bogus"}),
            "value of state must be one of: absent, absent_from_fstab, ephemeral, mounted, present, got: bogus",
        ),
        (
            json!({"path": shm, "fstype": "ext4"}),
            "value of fstype must be one of: mqueue, tmpfs, got: ext4",
        ),
        (
            json!({"path": "relative/shm"}),
            "path: \"relative/shm\" is not accepted; expected an absolute path",
        ),
        (json!({"path": "/"}), "path: \"/\""),
        (
            json!({"path": shm, "queues_max": 10}),
            "queues_max: \"10\" is not accepted; expected no value with fstype tmpfs",
        ),
        (
            json!({"path": mq, "fstype": "mqueue", "size": "1G"}),
            "size: \"1G\" is not accepted; expected no value with fstype mqueue",
        ),
        (
            json!({"path": mq, "fstype": "mqueue", "msg_max": 0}),
            "msg_max: \"0\" is not accepted; expected a whole number from 1 to 65536",
        ),
        (
            json!({"path": mq, "fstype": "mqueue", "msgsize_max": 99999999}),
            "msgsize_max: \"99999999\"",
        ),
        (
            json!({"path": mq, "fstype": "mqueue", "queues_max": "many"}),
            "queues_max: \"many\" is not accepted; expected a whole number",
        ),
        (
            json!({"path": shm, "backup": "maybe"}),
            "not a valid boolean",
        ),
        (
            json!({"path": shm, "fstab_path": "fstab"}),
            "fstab_path: \"fstab\"",
        ),
        (
            json!({"path": shm, "bogus": 1}),
            "Unsupported parameters for (shmguard) module: bogus.",
        ),
        // Huge and overflowing values.
        (
            json!({"path": shm, "size": "18446744073709551616"}),
            "size: \"18446744073709551616\" is not accepted",
        ),
        (json!({"path": shm, "size": "16e"}), "overflows 64 bits"),
        (
            json!({"path": shm, "size": "17179869184g"}),
            "size: \"17179869184g\" is not accepted; expected a value below 16 EiB",
        ),
        (
            json!({"path": shm, "min_size": "99999999999999999999999k"}),
            "min_size: \"99999999999999999999999k\"",
        ),
        (
            json!({"path": shm, "size": "99999999999999999999%"}),
            "size: \"99999999999999999999%\"",
        ),
        (
            json!({"path": shm, "nr_inodes": "99999999999999999999"}),
            "nr_inodes: \"99999999999999999999\"",
        ),
        (
            json!({"path": shm, "nr_inodes": "1.5k"}),
            "nr_inodes: \"1.5k\"",
        ),
        (
            json!({"path": mq, "fstype": "mqueue", "queues_max": 2147483648u64}),
            "queues_max: \"2147483648\" is not accepted; expected a whole number from 0 to 2147483647",
        ),
        (
            json!({"path": mq, "fstype": "mqueue", "queues_max": -1}),
            "queues_max: \"-1\"",
        ),
        (
            json!({"path": mq, "fstype": "mqueue", "msg_max": 9223372036854775808u64}),
            "msg_max: 9223372036854775808 is not accepted; expected a whole number",
        ),
        (
            json!({"path": mq, "fstype": "mqueue", "msgsize_max": 127}),
            "msgsize_max: \"127\"",
        ),
        // Wrong types.
        (
            json!({"path": shm, "size": true}),
            "size: true is not accepted",
        ),
        (json!({"path": shm, "size": -5}), "size: -5 is not accepted"),
        (
            json!({"path": shm, "size": 1.5}),
            "size: 1.5 is not accepted",
        ),
        (
            json!({"path": shm, "size": ["1G"]}),
            "size: [\"1G\"] is not accepted",
        ),
        (json!({"path": shm, "mode": ["1777"]}), "mode: [\"1777\"]"),
        (
            json!({"path": mq, "fstype": "mqueue", "msg_max": 1.5}),
            "msg_max: 1.5 is not accepted; expected a whole number",
        ),
        (
            json!({"path": shm, "options": ["nodev", 1]}),
            "options: 1 is not accepted; expected a list of flag names",
        ),
        (
            json!({"path": shm, "options": {"nodev": true}}),
            "options: {\"nodev\":true} is not accepted",
        ),
        (json!({"path": 42}), "path: 42 is not accepted"),
        (
            json!({"path": shm, "fstab_path": ["/etc/fstab"]}),
            "fstab_path: [\"/etc/fstab\"] is not accepted",
        ),
        (
            json!({"path": shm, "state": 1}),
            "value of state must be one of: absent, absent_from_fstab, ephemeral, mounted, present, got: 1",
        ),
        (
            json!({"path": shm, "backup": 2}),
            "backup: the value 2 is not a valid boolean",
        ),
        // Malformed strings.
        (
            json!({"path": shm, "size": ""}),
            "size: \"\" is not accepted",
        ),
        (
            json!({"path": shm, "mode": ""}),
            "mode: \"\" is not accepted",
        ),
        (
            json!({"path": shm, "mode": "1777\u{0}"}),
            "mode: \"1777\\0\" is not accepted",
        ),
        (json!({"path": shm, "mode": "0o17777"}), "mode: \"0o17777\""),
        (
            json!({"path": shm, "options": ["nodev", ""]}),
            "options: \"\" is not accepted",
        ),
        (
            json!({"path": "/dev/shm/../etc"}),
            "path: \"/dev/shm/../etc\" is not accepted",
        ),
        (
            json!({"path": "/dev/shm\u{0}x"}),
            "path: \"/dev/shm\\0x\" is not accepted",
        ),
        (
            json!({"path": shm, "fstab_path": "/etc/../etc/fstab"}),
            "fstab_path: \"/etc/../etc/fstab\"",
        ),
        (json!({"path": shm, "fstab_path": ""}), "fstab_path: \"\""),
        (
            json!({"path": shm, "sysctl_path": "sysctl.conf"}),
            "sysctl_path: \"sysctl.conf\"",
        ),
        (
            json!({"path": shm, "fstype": "ramfs"}),
            "value of fstype must be one of: mqueue, tmpfs, got: ramfs",
        ),
        (
            json!({"path": shm, "min_size": "0%"}),
            "min_size: \"0%\" is not accepted; expected a size above 0",
        ),
        (
            json!({"path": format!("/{}", "x".repeat(5000))}),
            "File name too long",
        ),
    ]
}

#[test]
fn every_bad_parameter_fails_clearly_and_changes_nothing() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=64m,mode=755");
    let mq = sb.mqueue("mq", "rw");
    let fstab = sb.file("fstab", b"# mine\n");
    let sysctl = sb.file("sysctl.conf", b"# mine\n");
    let snap = sb.snapshot(&[&shm, &mq], &[&fstab, &sysctl]);
    let mut checked = 0;
    for (mut params, want) in cases(&shm, &mq) {
        let m = params.as_object_mut().unwrap();
        m.entry("fstab_path").or_insert(json!(fstab));
        m.entry("sysctl_path").or_insert(json!(sysctl));
        let r = sb.module(&params);
        assert_eq!(r["failed"], true, "{params}: {r}");
        let msg = r["msg"].as_str().unwrap();
        assert!(msg.contains(want), "{params}:\n  got  {msg}\n  want {want}");
        assert_eq!(
            sb.snapshot(&[&shm, &mq], &[&fstab, &sysctl]),
            snap,
            "{params} changed something"
        );
        checked += 1;
    }
    assert!(checked >= 40, "only {checked} bad parameter sets");
    crate::counts::record(
        "bad-input",
        &format!(
            "invalid parameter sets: {checked} failed with a message naming the parameter, nothing changed"
        ),
    );
}

#[test]
fn the_cli_names_the_bad_value_and_exits_nonzero() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=8m");
    let out = sb.run(&[
        "apply",
        "--path",
        &shm,
        "--size",
        "lots",
        "--state",
        "ephemeral",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stderr).unwrap();
    assert!(
        text.starts_with("error: size: \"lots\" is not accepted"),
        "{text}"
    );
}
