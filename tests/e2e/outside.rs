//! A scratch directory outside the checkout that every user can reach, for what the tests run
//! as `nobody`: a copy of the build under test, the client programs' Python packages and
//! PostgreSQL's data directory. A checkout may sit where only its owner can enter (a clone in
//! root's home, mode 0700), and nothing here loosens its permissions.
//!
//! One per test process, made on first use under $SHMGUARD_E2E_OUTSIDE or else $TMPDIR (/tmp),
//! and removed when the process exits. tests/run makes SHMGUARD_E2E_OUTSIDE (mode 0755) and
//! removes it when it ends, however it ends: an interrupted run leaves nothing either.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::sandbox::BIN;

/// The directory; made on first use.
pub fn dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let parent = std::env::var_os("SHMGUARD_E2E_OUTSIDE")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let dir = parent.join(format!("shmguard-e2e-outside-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap_or_else(|e| panic!("cannot make {}: {e}", dir.display()));
        remove_at_exit(&dir);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        // Every directory above it must let others pass: otherwise nobody's programs fail
        // with "Permission denied" far from the cause.
        for a in dir.ancestors() {
            let mode = std::fs::metadata(a)
                .unwrap_or_else(|e| panic!("{}: {e}", a.display()))
                .permissions()
                .mode();
            assert!(
                mode & 0o001 != 0,
                "{} (mode {:o}) cannot be entered by other users, so `nobody` cannot reach {}: point TMPDIR at a directory every user can reach (/tmp)",
                a.display(),
                mode & 0o7777,
                dir.display()
            );
        }
        dir
    })
}

/// The removal of a directory this process made, when the test harness exits (it ends with
/// `std::process::exit`, which runs the C library's exit handlers; a panicking test does not
/// stop it).
fn remove_at_exit(d: &Path) {
    static MADE: OnceLock<PathBuf> = OnceLock::new();
    MADE.set(d.to_path_buf()).unwrap();
    extern "C" fn remove() {
        if let Some(d) = MADE.get() {
            let _ = std::fs::remove_dir_all(d);
        }
    }
    // SAFETY: registers a plain function with no arguments; it only removes a directory.
    let registered = unsafe { nix::libc::atexit(remove) };
    assert_eq!(registered, 0, "atexit failed");
}

/// A copy of the shmguard build under test, which `nobody` can run.
pub fn bin() -> String {
    static COPY: OnceLock<String> = OnceLock::new();
    COPY.get_or_init(|| {
        let copy = dir().join("shmguard");
        // Copied under another name, then renamed: never a half-written executable.
        let part = dir().join("shmguard.part");
        std::fs::copy(BIN, &part).unwrap();
        std::fs::set_permissions(&part, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::rename(&part, &copy).unwrap();
        copy.display().to_string()
    })
    .clone()
}

/// A copy of the directory `src` (owners and modes kept) as `name`, which `nobody` can read.
pub fn copy_dir(src: &Path, name: &str) -> String {
    let dst = dir().join(name);
    let _ = std::fs::remove_dir_all(&dst);
    let out = std::process::Command::new("cp")
        .arg("-a")
        .arg(src)
        .arg(&dst)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cp -a {} {}: {}",
        src.display(),
        dst.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    dst.display().to_string()
}
