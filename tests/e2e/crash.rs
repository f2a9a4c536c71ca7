//! kill -9 at any moment: fstab is always exactly the old file or exactly the new one, and
//! parses; the next run finishes the job and removes what the killed one left. Two ways:
//! SIGKILL at every syscall of a run, one run per syscall (strace -e inject=S:signal=KILL),
//! and at least 200 runs killed after a random delay.

use std::time::{Duration, Instant, SystemTime};

use shmguard::observe::Fstab;

use crate::counts;
use crate::sandbox::{BIN, Sandbox};
use crate::strace;

const OLD: &[u8] = b"# fstab\r\nproc /proc proc defaults 0 0\r\n";

struct Setup {
    sb: Sandbox,
    shm: String,
    etc: String,
    fstab: String,
}

impl Setup {
    fn new() -> Setup {
        let sb = Sandbox::new();
        let shm = sb.tmpfs("shm", "size=8m,mode=755");
        let etc = sb.path("etc");
        let fstab = format!("{etc}/fstab");
        let s = Setup {
            sb,
            shm,
            etc,
            fstab,
        };
        s.reset();
        s
    }

    fn args(&self) -> Vec<String> {
        [
            "apply",
            "--json",
            "--path",
            &self.shm,
            "--state",
            "present",
            "-o",
            "nodev,nosuid,noexec",
            "--size",
            "1G",
            "--backup",
            "--fstab-path",
            &self.fstab,
        ]
        .map(String::from)
        .to_vec()
    }

    fn reset(&self) {
        self.sb
            .sh(&format!("mkdir -p {0} && rm -f {0}/*~", self.etc));
        self.sb.file("etc/fstab", OLD);
    }

    /// Old or new, byte for byte, and it parses with the managed line (new) or without (old).
    fn check(&self, new: &[u8], what: &str) -> bool {
        let now = self.sb.read(&self.fstab);
        let doc = Fstab::parse(&now);
        assert_eq!(doc.render(), now, "{what}");
        let entries = doc.entries_at(self.shm.as_bytes()).len();
        if now == OLD {
            assert_eq!(entries, 0, "{what}");
            false
        } else {
            assert_eq!(
                now, new,
                "{what}: fstab is neither the old nor the new file"
            );
            assert_eq!(entries, 1, "{what}");
            true
        }
    }

    /// A normal run after a killed one converges and leaves only fstab and backups.
    fn recover(&self, new: &[u8], what: &str) {
        let args = self.args();
        let out = self.sb.command(BIN).args(&args).output().unwrap();
        let r = strace::json(&out);
        assert_eq!(r["failed"], false, "{what}: the next run failed: {r}");
        assert_eq!(self.sb.read(&self.fstab), new, "{what}");
        let left = self.sb.sh(&format!("ls -A {} | grep -v '~$'", self.etc));
        assert_eq!(left, "fstab\n", "{what}: files left behind");
    }
}

#[test]
fn sigkill_at_every_syscall_leaves_the_old_or_the_new_fstab() {
    strace::require();
    let s = Setup::new();
    let args = s.args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let calls = strace::trace(&s.sb, &[], &args);
    let new = s.sb.read(&s.fstab);
    assert_ne!(new, OLD);
    let (mut old_seen, mut new_seen) = (0, 0);
    for c in &calls {
        s.reset();
        let inject = format!("inject={}:signal=KILL:when={}", c.name, c.nth);
        let out = strace::run(&s.sb, &["-o", "/dev/null", "-e", &inject], &args);
        let what = format!("killed at {} ({inject}), status {:?}", c.line, out.status);
        if s.check(&new, &what) {
            new_seen += 1;
        } else {
            old_seen += 1;
        }
        s.recover(&new, &what);
    }
    assert!(
        old_seen > 0 && new_seen > 0,
        "{old_seen} old, {new_seen} new"
    );
    counts::record(
        "kill9-syscalls",
        &format!(
            "kill -9 at every syscall: {} runs ({old_seen} left the old fstab, {new_seen} the new one), none torn",
            calls.len()
        ),
    );
}

/// xorshift64*, seeded from the clock; the seed is printed so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn two_hundred_runs_killed_after_a_random_delay_never_tear_fstab() {
    const RUNS: usize = 200;
    let s = Setup::new();
    let args = s.args();
    // How long a whole run takes here, to spread the kills over all of it.
    let start = Instant::now();
    let out = s.sb.command(BIN).args(&args).output().unwrap();
    let full = start.elapsed();
    assert_eq!(strace::json(&out)["failed"], false);
    let new = s.sb.read(&s.fstab);
    let seed = std::env::var("SHMGUARD_KILL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("kill -9 loop seed: {seed} (SHMGUARD_KILL_SEED to replay)");
    let mut rng = Rng(seed);
    let span = full.as_micros() as u64 * 12 / 10 + 1;
    let (mut old_seen, mut new_seen, mut finished) = (0, 0, 0);
    for run in 0..RUNS {
        s.reset();
        let delay = Duration::from_micros(rng.next() % span);
        let mut child =
            s.sb.command(BIN)
                .args(&args)
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill();
        let status = child.wait().unwrap();
        if status.success() {
            finished += 1;
        }
        let what = format!("run {run}, killed after {delay:?} (seed {seed})");
        if s.check(&new, &what) {
            new_seen += 1;
        } else {
            old_seen += 1;
        }
        if run % 10 == 9 {
            s.recover(&new, &what);
        }
    }
    s.recover(&new, "after the loop");
    counts::record(
        "kill9-random",
        &format!(
            "kill -9 after a random delay: {RUNS} runs (delays 0-{span}us; {old_seen} left the old fstab, {new_seen} the new one, {finished} finished first), none torn"
        ),
    );
}
