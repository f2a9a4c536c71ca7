//! Scaling of observe-parse + plan, in process: synthetic mountinfo tables of 100/1k/10k mounts
//! and fstab files of 1k/10k/100k lines (generated here), parsed and planned exactly as
//! `engine::run` does once it has read the bytes. Prints medians and the cost per mount and per
//! fstab line, so linear growth is visible: ten times the input should cost ten times the time.
//!
//! `cargo bench --bench scaling --target x86_64-unknown-linux-musl` measures the shipped build
//! (bench/run does); without `--target`, the glibc build. Without `--bench` (that is, under
//! `cargo test`) or with `--quick` it runs every case once on tiny inputs and checks the plans,
//! with no timing assertion. No I/O: the system is never read.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use shmguard::observe::{FileState, Fstab, Observed, PathKind, Usage, live, mountinfo};
use shmguard::plan::{Plan, plan};
use shmguard::spec::{Desired, Host, Params};

const PATH: &str = "/dev/shm";
/// A 24 GiB host with 4 KiB pages, like the machine the README's figures come from.
const HOST: Host = Host {
    page_size: 4096,
    total_ram_pages: 6_291_456,
};
/// The target figure from the issue: 10k mounts and a 100k-line fstab in under 20 ms.
const TARGET: Duration = Duration::from_millis(20);

/// A mountinfo table of `mounts` lines: block devices, tmpfs, escaped mount points, and the
/// managed path first (drifted: 64M, mode 755, no noexec), so `find`, which scans from the
/// end, has to walk the whole table.
fn synthetic_mountinfo(mounts: usize) -> Vec<u8> {
    let mut out = String::with_capacity(mounts * 120);
    out += &format!(
        "30 1 0:25 / {PATH} rw,nosuid,nodev,relatime shared:4 - tmpfs tmpfs rw,size=65536k,nr_inodes=1000,mode=755,inode64\n"
    );
    for i in 1..mounts {
        let id = 100 + i;
        out += &match i % 10 {
            0 => format!(
                "{id} 1 8:{} / /srv/disk{i} rw,relatime shared:{id} - ext4 /dev/sd{i} rw,errors=remount-ro\n",
                i % 256
            ),
            5 => format!(
                "{id} 1 0:{id} / /mnt/My\\040Disk\\040{i} rw,nosuid,nodev,relatime shared:{id} - tmpfs tmpfs rw,size=1024k,mode=700,inode64\n"
            ),
            _ => format!(
                "{id} 1 0:{id} / /run/user/{i} rw,nosuid,nodev,relatime shared:{id} - tmpfs tmpfs rw,size=814004k,nr_inodes=203501,mode=700,uid={i},gid={i},inode64\n"
            ),
        };
    }
    out.into_bytes()
}

/// An fstab of `lines` lines: comments, UUID entries, other tmpfs, a commented-out old /dev/shm
/// line, and the managed entry last (drifted: `defaults`), so the planner must find it at the
/// far end and render the whole file around its edit.
fn synthetic_fstab(lines: usize) -> Vec<u8> {
    let mut out = String::with_capacity(lines * 70);
    out += "# /etc/fstab: static file system information (synthetic, shmguard bench)\n";
    out += "#tmpfs /dev/shm tmpfs defaults 0 0\n";
    for i in 2..lines.saturating_sub(1) {
        out += &match i % 10 {
            0 => format!("# volume {i}\n"),
            3 => format!("tmpfs\t/mnt/scratch{i}\ttmpfs\tnodev,nosuid,size=1g\t0\t0\n"),
            _ => format!(
                "UUID=3f0c{i:08x}-7a1e-4c1d-9a59-1b2c3d4e5f60 /srv/vol{i} ext4 defaults,noatime 0 2\n"
            ),
        };
    }
    out += &format!("tmpfs {PATH} tmpfs defaults 0 0\n");
    out.into_bytes()
}

fn desired() -> Desired {
    let p: Params = serde_json::from_value(serde_json::json!({
        "path": PATH,
        "mode": "1777",
        "size": "128m",
        "options": ["nodev", "nosuid", "noexec"],
        "fstab_path": "/etc/fstab",
    }))
    .expect("bench parameters");
    Desired::from_params(&p).expect("bench parameters are valid")
}

/// What `engine::run` does between reading the bytes and applying: parse both tables, find the
/// mount, build Observed, plan.
fn observe_and_plan(d: &Desired, mountinfo_bytes: &[u8], fstab_bytes: &[u8]) -> Plan {
    let entry = mountinfo::find_in(mountinfo_bytes, PATH.as_bytes()).expect("managed mount listed");
    let live = live::from_entry(&entry, 0o755, Usage::default(), &HOST);
    let observed = Observed {
        host: HOST,
        path_kind: PathKind::Directory,
        live: Some(live),
        fstab: FileState::from_bytes(
            Path::new("/etc/fstab"),
            Some(fstab_bytes.to_vec()),
            Fstab::from_shared,
        ),
        sysctl: None,
        mqueue_limits: BTreeMap::new(),
        systemd: false,
    };
    plan(d, &observed).expect("plan")
}

/// Checks the plan is the full drifted-to-compliant one, so the timing is of real work.
fn check(p: &Plan, fstab_lines: usize) {
    let summaries: Vec<&str> = p.steps.iter().map(|s| s.summary.as_str()).collect();
    assert!(
        summaries.iter().any(|s| s.starts_with("remount")),
        "{summaries:?}"
    );
    assert!(
        summaries.iter().any(|s| s.contains("fstab")),
        "{summaries:?}"
    );
    let after = p.expected.fstab.current().expect("fstab written");
    assert_eq!(
        after.iter().filter(|b| **b == b'\n').count(),
        fstab_lines,
        "every line kept"
    );
    let last = after
        .split(|b| *b == b'\n')
        .rev()
        .nth(1)
        .unwrap_or_default();
    assert!(
        String::from_utf8_lossy(last).contains("noexec"),
        "{}",
        String::from_utf8_lossy(last)
    );
}

/// One table: the input grows through `sizes` while the other stays small. `inputs(n)` gives
/// the mountinfo bytes, the fstab bytes and the fstab's line count (for `check`).
fn scaling_table(
    d: &Desired,
    title: &str,
    [unit, per]: [&str; 2],
    sizes: &[usize],
    inputs: impl Fn(usize) -> (Vec<u8>, Vec<u8>, usize),
    (min_runs, budget): (usize, Duration),
) {
    let mut rows = Vec::new();
    let mut prev = None;
    for &n in sizes {
        let (mi, fstab, lines) = inputs(n);
        let (s, p) = measure(d, &mi, &fstab, min_runs, budget);
        check(&p, lines);
        rows.push(vec![
            n.to_string(),
            ms(s.median),
            per_unit(s.median, n),
            growth(prev, s.median, n),
            s.runs.to_string(),
        ]);
        prev = Some((s.median, n));
    }
    print_table(title, &[unit, "median", per, "growth", "runs"], &rows);
}

struct Sample {
    median: Duration,
    runs: usize,
}

/// Median of repeated runs: at least `min_runs`, then until `budget` is spent (cap 200).
fn measure(
    d: &Desired,
    mi: &[u8],
    fstab: &[u8],
    min_runs: usize,
    budget: Duration,
) -> (Sample, Plan) {
    let first = observe_and_plan(d, mi, fstab); // warm-up, and the plan to check
    let mut times = Vec::new();
    let start = Instant::now();
    while times.len() < min_runs || (start.elapsed() < budget && times.len() < 200) {
        let t = Instant::now();
        black_box(observe_and_plan(d, black_box(mi), black_box(fstab)));
        times.push(t.elapsed());
    }
    times.sort();
    let sample = Sample {
        median: times[times.len() / 2],
        runs: times.len(),
    };
    (sample, first)
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn per_unit(d: Duration, n: usize) -> String {
    format!("{:.3} µs", d.as_secs_f64() * 1e6 / n as f64)
}

fn growth(prev: Option<(Duration, usize)>, d: Duration, n: usize) -> String {
    match prev {
        Some((pd, pn)) => format!("x{:.1} for x{}", d.as_secs_f64() / pd.as_secs_f64(), n / pn),
        None => "-".to_string(),
    }
}

fn print_table(title: &str, header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:>w$}"))
            .collect();
        println!("| {} |", padded.join(" | "));
    };
    println!("{title}");
    line(header.to_vec());
    println!(
        "|{}|",
        widths
            .iter()
            .map(|w| "-".repeat(w + 2))
            .collect::<Vec<_>>()
            .join("|")
    );
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
    println!();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // cargo bench passes --bench; cargo test does not: a test run is a tiny smoke run.
    let quick = !args.iter().any(|a| a == "--bench") || args.iter().any(|a| a == "--quick");
    let (mount_sizes, line_sizes, small, big, min_runs, budget) = if quick {
        (
            vec![10, 100],
            vec![10, 100],
            10,
            (100, 1000),
            1,
            Duration::ZERO,
        )
    } else {
        (
            vec![100, 1_000, 10_000],
            vec![1_000, 10_000, 100_000],
            10,
            (10_000, 100_000),
            11,
            Duration::from_millis(400),
        )
    };
    let d = desired();
    let note = if quick {
        " (quick: tiny inputs, one run each)"
    } else {
        ""
    };
    // The allocator matters: these parsers allocate per line, and musl's malloc is slower.
    let libc = if cfg!(target_env = "musl") {
        "musl (as shipped)"
    } else {
        "glibc (the shipped binary is musl: cargo bench --target x86_64-unknown-linux-musl)"
    };
    let profile = if cfg!(debug_assertions) {
        "unoptimised (cargo test)"
    } else {
        "release profile (opt-level=z)"
    };
    println!(
        "observe-parse + plan in process, {profile}, {libc}, median of >= {min_runs} runs{note}\n"
    );

    let fstab_small = synthetic_fstab(small);
    let mi_small = synthetic_mountinfo(small);
    let timing = (min_runs, budget);
    scaling_table(
        &d,
        &format!("mountinfo size (fstab: {small} lines)"),
        ["mounts", "per mount"],
        &mount_sizes,
        |n| (synthetic_mountinfo(n), fstab_small.clone(), small),
        timing,
    );
    scaling_table(
        &d,
        &format!("fstab size (mountinfo: {small} mounts)"),
        ["fstab lines", "per line"],
        &line_sizes,
        |n| (mi_small.clone(), synthetic_fstab(n), n),
        timing,
    );

    let (mounts, lines) = big;
    let (s, p) = measure(
        &d,
        &synthetic_mountinfo(mounts),
        &synthetic_fstab(lines),
        min_runs,
        budget,
    );
    check(&p, lines);
    let verdict = if quick {
        "-"
    } else if s.median < TARGET {
        "met"
    } else {
        "NOT met"
    };
    print_table(
        "both at once",
        &["mounts", "fstab lines", "median", "target < 20 ms", "runs"],
        &[vec![
            mounts.to_string(),
            lines.to_string(),
            ms(s.median),
            verdict.to_string(),
            s.runs.to_string(),
        ]],
    );
}
