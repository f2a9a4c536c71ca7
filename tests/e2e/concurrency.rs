//! Parallel runs against one fstab: no lost update, no duplicate, a valid file. Runs are
//! serialised by flock on fstab's lock file under /run/lock/shmguard, which other tools share
//! (`flock /run/lock/shmguard/etc-fstab.lock CMD`).

use std::process::Child;
use std::time::{Duration, Instant};

use shmguard::observe::Fstab;

use crate::counts;
use crate::sandbox::{BIN, Sandbox};
use crate::strace;

const RUNS: usize = 20;
const BASE: &[u8] = b"# base\nproc /proc proc defaults 0 0\n";

fn spawn(sb: &Sandbox, args: &[String]) -> Child {
    sb.command(BIN)
        .args(["apply", "--json"])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(children: Vec<Child>) {
    for c in children {
        let out = c.wait_with_output().unwrap();
        let r = strace::json(&out);
        assert_eq!(r["failed"], false, "{r}");
    }
}

#[test]
fn twenty_parallel_runs_for_twenty_mount_points_lose_no_update() {
    let sb = Sandbox::new();
    let fstab = sb.file("fstab", BASE);
    let mounts: Vec<String> = (0..RUNS)
        .map(|i| sb.tmpfs(&format!("m{i:02}"), "size=4m"))
        .collect();
    // Round 1: every run adds its own line, with its own size.
    let children = mounts
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let args = [
                "--path",
                m,
                "-o",
                "nodev",
                "--size",
                &format!("{}m", i + 1),
                "--fstab-path",
                &fstab,
            ];
            spawn(&sb, &args.map(String::from))
        })
        .collect();
    finish(children);
    let text = sb.read(&fstab);
    assert!(text.starts_with(BASE), "the existing lines changed");
    let doc = Fstab::parse(&text);
    assert_eq!(doc.render(), text);
    assert_eq!(doc.file.len(), 2 + RUNS, "lost or duplicated lines");
    for (i, m) in mounts.iter().enumerate() {
        let at = doc.entries_at(m.as_bytes());
        assert_eq!(at.len(), 1, "{m}: {} entries", at.len());
        let e = doc.entry(at[0]).unwrap();
        assert_eq!(e.options, ["nodev", &format!("size={}m", i + 1)], "{m}");
        assert!(
            sb.mountinfo(m)
                .contains(&format!("size={}k", (i + 1) * 1024))
        );
    }
    // Round 2: every run edits its own existing line.
    let children = mounts
        .iter()
        .map(|m| {
            spawn(
                &sb,
                &["--path", m, "-o", "noexec", "--fstab-path", &fstab].map(String::from),
            )
        })
        .collect();
    finish(children);
    let doc = Fstab::parse(&sb.read(&fstab));
    assert_eq!(doc.file.len(), 2 + RUNS);
    for (i, m) in mounts.iter().enumerate() {
        let e = doc.entry(doc.entries_at(m.as_bytes())[0]).unwrap();
        assert_eq!(
            e.options,
            ["nodev", &format!("size={}m", i + 1), "noexec"],
            "{m}"
        );
    }
    counts::record(
        "concurrency",
        &format!(
            "concurrency: 2 rounds of {RUNS} parallel runs on one fstab ({} runs), no lost update, no duplicate",
            2 * RUNS
        ),
    );
}

#[test]
fn parallel_runs_on_one_mount_keep_every_flag_live_and_in_fstab() {
    let sb = Sandbox::new();
    let fstab = sb.file("fstab", BASE);
    let shm = sb.tmpfs("shm", "size=4m");
    let flags = ["nodev", "nosuid", "noexec", "noatime"];
    // Live only: serialised by the lock on the mount point itself.
    let children = (0..8)
        .map(|i| {
            spawn(
                &sb,
                &["--path", &shm, "--state", "ephemeral", "-o", flags[i % 4]].map(String::from),
            )
        })
        .collect();
    finish(children);
    let live = sb.mountinfo(&shm);
    for f in flags {
        assert!(live.contains(f), "{f} lost live (ephemeral): {live}");
    }
    sb.sh(&format!(
        "umount {shm} && mount -t tmpfs -o size=4m tmpfs {shm}"
    ));
    let children = (0..12)
        .map(|i| {
            spawn(
                &sb,
                &["--path", &shm, "-o", flags[i % 4], "--fstab-path", &fstab].map(String::from),
            )
        })
        .collect();
    finish(children);
    let live = sb.mountinfo(&shm);
    let doc = Fstab::parse(&sb.read(&fstab));
    let e = doc.entry(doc.entries_at(shm.as_bytes())[0]).unwrap();
    for f in flags {
        assert!(live.contains(f), "{f} lost live: {live}");
        assert!(
            e.options.iter().any(|o| o == f),
            "{f} lost in fstab: {:?}",
            e.options
        );
    }
}

#[test]
fn a_lock_held_with_flock_1_makes_shmguard_wait() {
    let sb = Sandbox::new();
    let fstab = sb.file("fstab", BASE);
    let shm = sb.tmpfs("shm", "size=4m");
    let ready = sb.path("ready");
    let lock = sb.lock_file(&fstab);
    sb.sh("mkdir -m 0700 -p /run/lock/shmguard");
    let mut holder = sb
        .command("flock")
        .args([lock.as_str(), "-c", &format!("touch {ready}; sleep 1.5")])
        .spawn()
        .unwrap();
    while !sb
        .sh(&format!("test -e {ready} && echo y || true"))
        .contains('y')
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    let start = Instant::now();
    let child = spawn(
        &sb,
        &[
            "--path",
            &shm,
            "--state",
            "present",
            "-o",
            "nodev",
            "--fstab-path",
            &fstab,
        ]
        .map(String::from),
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        sb.read(&fstab),
        BASE,
        "written while another process held the lock"
    );
    finish(vec![child]);
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "did not wait for the lock"
    );
    assert!(holder.wait().unwrap().success());
    assert!(
        String::from_utf8(sb.read(&fstab))
            .unwrap()
            .contains("nodev")
    );
}
