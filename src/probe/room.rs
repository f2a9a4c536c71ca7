//! The room left in /dev/shm, judged in three verdicts: fail when the described programs
//! cannot work (fewer free inodes or bytes than they need), warn when they work but the
//! headroom is below the recommendation (RECOMMENDED_INODES, RECOMMENDED_BYTES: bigger pools
//! or more objects would fail), pass otherwise. A warning names what to raise and by how much.
//! Pure: no I/O.

use crate::probe::ProbeStatus;
use crate::probe::facts::Space;
use crate::probe::needs::{RECOMMENDED_BYTES, RECOMMENDED_INODES};
use crate::probe::remedy::{amount, mib_ceil};
use crate::spec::HumanBytes;

/// A verdict with its detail and, unless it passes, what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub status: ProbeStatus,
    pub detail: String,
    pub remedy: Option<String>,
}

/// Free inodes `s.free_inodes` against `need` (fail below) and `need_text` (what needs them);
/// `after` says what is already held (e.g. "after reserving 8M and 5 semaphores").
pub fn inodes(s: &Space, need: u64, need_text: &str, after: &str) -> Verdict {
    if !s.inodes_limited() {
        return Verdict {
            status: ProbeStatus::Pass,
            detail: "/dev/shm has no inode limit".into(),
            remedy: None,
        };
    }
    let free = s.free_inodes;
    let used = s.inodes.saturating_sub(free);
    let needs = if need == 0 {
        String::new()
    } else {
        format!("{need_text} needs {need}, and ")
    };
    let detail = format!(
        "{free} of {} inodes free in /dev/shm{after}; {needs}{RECOMMENDED_INODES} free are recommended (every shared-memory object and named semaphore is one, and sem_open takes one more while it links: a Lock needs 2 free, a Queue 4, a ProcessPoolExecutor 6, a Pool 7)",
        s.inodes
    );
    if free < need {
        let want = (used + need + 1024).max(s.inodes * 2);
        return Verdict {
            status: ProbeStatus::Fail,
            detail,
            remedy: Some(format!(
                "raise nr_inodes to at least {want} (more size does not help) (shmguard apply --path /dev/shm --nr-inodes {want})"
            )),
        };
    }
    if free < RECOMMENDED_INODES {
        let short = RECOMMENDED_INODES - free;
        let want = s.inodes + short;
        return Verdict {
            status: ProbeStatus::Warn,
            detail,
            remedy: Some(format!(
                "raise nr_inodes by {short}, to {want} (shmguard apply --path /dev/shm --nr-inodes {want})"
            )),
        };
    }
    Verdict {
        status: ProbeStatus::Pass,
        detail,
        remedy: None,
    }
}

/// Free bytes against `need` (fail below) and the recommended headroom (warn below); never
/// asks for more than `ram`.
pub fn space(s: &Space, ram: u64, need: u64, need_text: &str, after: &str) -> Verdict {
    if s.size_bytes == 0 {
        return Verdict {
            status: ProbeStatus::Pass,
            detail: "/dev/shm has no size limit".into(),
            remedy: None,
        };
    }
    let free = s.free_bytes;
    let needs = if need == 0 {
        String::new()
    } else {
        format!("{need_text} needs {}, and ", HumanBytes(need))
    };
    let detail = format!(
        "{} free of {} in /dev/shm{after}; {needs}{} free are recommended (a named semaphore is a page: a Queue needs 3, a ProcessPoolExecutor 5, a Pool 6)",
        amount(free),
        HumanBytes(s.size_bytes),
        HumanBytes(RECOMMENDED_BYTES)
    );
    let grow_to = |missing: u64| mib_ceil(s.size_bytes + missing).max(s.size_bytes + (1 << 20));
    let fix = |verb: &str, missing: u64| {
        let to = grow_to(missing);
        if ram > 0 && to > ram {
            format!(
                "growing /dev/shm to {} is more than this host's {} of RAM: free space in it, or run the job on a bigger host",
                HumanBytes(to),
                HumanBytes(ram)
            )
        } else {
            format!(
                "{verb} /dev/shm by {}, to at least {t} (shmguard apply --path /dev/shm --min-size {t})",
                HumanBytes(to - s.size_bytes),
                t = HumanBytes(to)
            )
        }
    };
    if free < need {
        return Verdict {
            status: ProbeStatus::Fail,
            detail,
            remedy: Some(format!(
                "free space in /dev/shm or {}",
                fix("grow", need - free + RECOMMENDED_BYTES)
            )),
        };
    }
    if free < RECOMMENDED_BYTES {
        return Verdict {
            status: ProbeStatus::Warn,
            detail,
            remedy: Some(fix("grow", RECOMMENDED_BYTES - free)),
        };
    }
    Verdict {
        status: ProbeStatus::Pass,
        detail,
        remedy: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space_of(size: u64, free: u64, inodes: u64, free_inodes: u64) -> Space {
        Space {
            size_bytes: size,
            used_bytes: size - free,
            free_bytes: free,
            inodes,
            free_inodes,
        }
    }

    #[test]
    fn issue_18_inodes_fail_below_the_need_and_warn_in_the_band() {
        let v = |free| inodes(&space_of(16 << 20, 16 << 20, 20, free), 2, "a Lock", "").status;
        assert_eq!(v(1), ProbeStatus::Fail);
        assert_eq!(v(3), ProbeStatus::Warn, "Lock and Pool work with 3 free");
        assert_eq!(v(9), ProbeStatus::Warn);
        assert_eq!(v(16), ProbeStatus::Pass);
        let w = inodes(&space_of(16 << 20, 16 << 20, 20, 9), 2, "a Lock", "");
        assert_eq!(
            w.remedy.unwrap(),
            "raise nr_inodes by 7, to 27 (shmguard apply --path /dev/shm --nr-inodes 27)"
        );
    }

    #[test]
    fn issue_18_space_after_a_reservation_warns_in_the_band() {
        let s = space_of(64 << 20, 100 << 10, 0, 0);
        let v = space(&s, 8 << 30, 20 << 10, "ProcessPoolExecutor(4)", "");
        assert_eq!(v.status, ProbeStatus::Warn);
        assert_eq!(
            v.remedy.unwrap(),
            "grow /dev/shm by 1M, to at least 65M (shmguard apply --path /dev/shm --min-size 65M)"
        );
        let v = space(&s, 8 << 30, 200 << 10, "x", "");
        assert_eq!(v.status, ProbeStatus::Fail);
        assert_eq!(
            space(&space_of(64 << 20, 1 << 20, 0, 0), 8 << 30, 4096, "x", "").status,
            ProbeStatus::Pass
        );
    }
}
