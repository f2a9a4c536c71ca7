//! Issue 18, done-when: PostgreSQL 15 from the distribution (/usr/lib/postgresql/15/bin) with
//! `dynamic_shared_memory_type=posix`, as `nobody`, in private mount and IPC namespaces on a
//! fresh /dev/shm, on a unix socket in a scratch directory only (`listen_addresses=''`),
//! started and stopped by PID. In each situation the server (start, a parallel count, a
//! parallel hash join) agrees with `shmguard probe` (as root, which probes as nobody too; with
//! `--bytes` the size PostgreSQL asked for), and the remedy printed, followed, makes it work.
//! One initdb (in a sandbox of its own) is reused by every case.

use std::sync::OnceLock;

use serde_json::Value;

use crate::sandbox::{BIN, Sandbox, require_real_root};

const PG: &str = "/usr/lib/postgresql/15/bin";

/// The initialised data directory every case copies: made once per run, as nobody, in
/// outside.rs's scratch directory, with a table of 300000 rows for the parallel plans.
fn template() -> String {
    static DIR: OnceLock<String> = OnceLock::new();
    DIR.get_or_init(|| {
        assert!(
            std::path::Path::new(&format!("{PG}/postgres")).exists(),
            "{PG}/postgres is missing: apt-get install postgresql-15"
        );
        // Made by nobody, so outside the checkout (which nobody may not reach): once per run.
        let dir = crate::outside::dir()
            .join("pg15-template")
            .display()
            .to_string();
        let sb = Sandbox::new();
        sb.private_dev();
        sb.tmpfs_over("/dev/shm", "mode=1777,size=64m");
        sb.sh(&format!("mkdir -p {dir} && chown nobody:nogroup {dir} && chmod 700 {dir}"));
        sb.sh(&format!(
            "cd / && setpriv --reuid=65534 --regid=65534 --clear-groups {PG}/initdb -D {dir} --auth=trust --locale=C -E UTF8 >/dev/null"
        ));
        let srv = Server::start(&sb, &dir).unwrap_or_else(|log| panic!("template: {log}"));
        srv.sql(&sb, "CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 300000) g; ANALYZE t;")
            .unwrap();
        srv.stop(&sb);
        dir
    })
    .clone()
}

/// A running postmaster, stopped by its PID.
struct Server {
    pid: u32,
    socket: String,
}

impl Server {
    /// Starts PostgreSQL on `data` as nobody; the server log when it does not come up.
    fn start(sb: &Sandbox, data: &str) -> Result<Server, String> {
        let socket = format!("{data}.sock");
        let log = format!("{data}.log");
        sb.sh(&format!(
            "mkdir -p {socket} && chown nobody:nogroup {socket} && : > {log} && chown nobody {log}"
        ));
        let pid: u32 = sb
            .sh(&format!(
                "cd / && setpriv --reuid=65534 --regid=65534 --clear-groups {PG}/postgres -D {data} \
                 -c listen_addresses='' -c unix_socket_directories={socket} \
                 -c dynamic_shared_memory_type=posix -c max_worker_processes=8 \
                 -c max_parallel_workers=8 >{log} 2>&1 </dev/null & echo $!"
            ))
            .trim()
            .parse()
            .unwrap();
        for _ in 0..100 {
            let ready = sb
                .command(&format!("{PG}/pg_isready"))
                .args(["-q", "-h", &socket])
                .status()
                .unwrap()
                .success();
            if ready {
                return Ok(Server { pid, socket });
            }
            let alive = sb
                .command("kill")
                .args(["-0", &pid.to_string()])
                .status()
                .unwrap()
                .success();
            if !alive {
                return Err(String::from_utf8_lossy(&sb.read(&log)).into_owned());
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("postgres (pid {pid}) did not come up: {:?}", sb.read(&log));
    }

    /// Runs SQL as nobody; its output, or psql's error.
    fn sql(&self, sb: &Sandbox, sql: &str) -> Result<String, String> {
        let out = sb
            .command("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(format!("{PG}/psql"))
            .args([
                "-X",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                &self.socket,
            ])
            .args(["-U", "nobody", "-d", "postgres", "-c", sql])
            .current_dir("/")
            .output()
            .unwrap();
        if out.status.success() {
            // the last line: the result after the SETs' command tags
            let text = String::from_utf8_lossy(&out.stdout);
            Ok(text.trim().lines().last().unwrap_or("").to_string())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// A parallel count and a parallel hash join, whose shared state lives in DSM segments.
    fn parallel(&self, sb: &Sandbox) -> Result<(), String> {
        let setup = "SET max_parallel_workers_per_gather = 4; SET parallel_setup_cost = 0; \
                     SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0; \
                     SET enable_parallel_hash = on; SET work_mem = '64MB';";
        let count = self.sql(sb, &format!("{setup} SELECT count(*) FROM t;"))?;
        let join = self.sql(
            sb,
            &format!("{setup} SELECT count(*) FROM t a JOIN t b USING (id);"),
        )?;
        assert_eq!((count.as_str(), join.as_str()), ("300000", "300000"));
        Ok(())
    }

    /// Stops it by PID (fast shutdown) and waits for it to exit.
    fn stop(self, sb: &Sandbox) {
        let pid = self.pid.to_string();
        sb.sh(&format!(
            "kill -INT {pid}; for i in $(seq 1 100); do kill -0 {pid} 2>/dev/null || exit 0; sleep 0.1; done; kill -KILL {pid}"
        ));
    }
}

/// A sandbox with a fresh /dev/shm of `opts` and a copy of the template data directory.
fn case(opts: &str) -> (Sandbox, String) {
    require_real_root();
    let template = template();
    let sb = Sandbox::new();
    sb.private_dev();
    sb.tmpfs_over("/dev/shm", opts);
    let data = sb.path("pgdata");
    sb.sh(&format!("cp -a {template} {data}"));
    (sb, data)
}

fn probe(sb: &Sandbox, extra: &[&str]) -> (i32, Value) {
    let out = sb
        .command(BIN)
        .args(["probe", "--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap();
    (out.status.code().unwrap_or(-1), v)
}

/// The `shmguard apply` lines of the failing checks' remedies.
fn remedies(v: &Value) -> Vec<String> {
    crate::clients::remedies(Some(v), None)
}

fn follow(sb: &Sandbox, line: &str) {
    let fstab = sb.file("fstab", b"");
    let mut args: Vec<&str> = vec!["apply", "--json"];
    args.extend(line.split_whitespace());
    args.extend(["--state", "ephemeral", "--fstab-path", &fstab]);
    let out = sb.run(&args);
    assert!(
        out.status.success(),
        "following `shmguard apply {line}`: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// The situations PostgreSQL meets: /dev/shm not writable by it (0755), read-only, and too
/// small for a parallel hash join. Each time the probe fails as PostgreSQL does, and its remedy
/// makes the server start and both parallel queries run; where it works, the probe passes.
#[test]
fn postgres_another_user_agrees_with_the_probe_and_its_remedies() {
    for (opts, failing, errno) in [
        (
            "mode=0755,size=64m",
            "shared_memory@nobody",
            "shm_open: EACCES",
        ),
        (
            "mode=1777,size=64m,ro",
            "shared_memory@nobody",
            "shm_open: EROFS",
        ),
    ] {
        let (sb, data) = case(opts);
        let log = Server::start(&sb, &data)
            .err()
            .expect("PostgreSQL cannot start");
        assert!(
            log.contains("could not open shared memory segment"),
            "{opts}: {log}"
        );
        let (code, v) = probe(&sb, &[]);
        assert_eq!(code, 2, "{opts}: {v}");
        let nobody = v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| {
                format!(
                    "{}@{}",
                    c["name"].as_str().unwrap(),
                    c["user"].as_str().unwrap()
                ) == failing
            })
            .unwrap_or_else(|| panic!("{opts}: no {failing}: {v}"));
        assert_eq!(nobody["errno"], errno, "{opts}: {v}");
        for f in remedies(&v) {
            follow(&sb, &f);
        }
        let srv = Server::start(&sb, &data).unwrap_or_else(|log| panic!("{opts}: {log}"));
        srv.parallel(&sb).unwrap_or_else(|e| panic!("{opts}: {e}"));
        srv.stop(&sb);
        assert_eq!(probe(&sb, &[]).0, 0, "{opts}");
    }

    // Too small: it starts, and the parallel hash join cannot resize its segments (ENOSPC,
    // not SIGBUS: PostgreSQL uses posix_fallocate). Its need is measured first (the smallest
    // size in MiB at which it works, found by remounting this fresh tmpfs); one MiB less,
    // `probe --bytes NEED` fails as it does, and the remedy printed makes it work.
    let (sb, data) = case("mode=1777,size=64m");
    let srv = Server::start(&sb, &data).unwrap_or_else(|log| panic!("{log}"));
    srv.parallel(&sb).expect("it works with 64M");
    let used = || -> u64 {
        sb.sh("df -B1 --output=used /dev/shm | tail -1")
            .trim()
            .parse()
            .unwrap()
    };
    let base = used();
    let resize = |mib: u64| sb.sh(&format!("mount -n -o remount,size={mib}m /dev/shm"));
    // the smallest size the kernel accepts: what is in use, rounded up
    let (mut lo, mut hi) = ((base >> 20) + 1, 64);
    resize(lo);
    assert!(srv.parallel(&sb).is_err(), "the join needs more than {lo}M");
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        resize(mid);
        if srv.parallel(&sb).is_ok() {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    resize(hi - 1);
    let err = srv.parallel(&sb).expect_err("one MiB less fails");
    assert!(
        err.contains("could not resize shared memory segment")
            && err.contains("No space left on device"),
        "{err}"
    );
    let need = ((hi << 20) - base).to_string();
    let (code, v) = probe(&sb, &["--bytes", &need]);
    assert_eq!(code, 2, "{v}");
    let fixes = remedies(&v);
    assert_eq!(fixes.len(), 1, "{v}");
    assert!(
        fixes[0].starts_with("--path /dev/shm --min-size "),
        "{fixes:?}"
    );
    follow(&sb, &fixes[0]);
    srv.parallel(&sb)
        .unwrap_or_else(|e| panic!("after {fixes:?}: {e}"));
    let (code, v) = probe(&sb, &["--bytes", &need]);
    assert_eq!(code, 0, "{v}");
    srv.stop(&sb);
    eprintln!(
        "postgres: the parallel hash join needs {hi}M of /dev/shm ({need} bytes beyond {base} in use)"
    );
}
