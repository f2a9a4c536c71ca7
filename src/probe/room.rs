//! The room left in /dev/shm, judged for the program the probe or profile describes (its
//! multiprocessing objects, `--program`, and the data it shares, `--bytes`) in three verdicts:
//! fail when that program cannot be made (fewer free inodes or bytes than it needs), warn when
//! it can but the headroom beyond it is below the recommendation (RECOMMENDED_INODES,
//! RECOMMENDED_BYTES), pass otherwise. `judge` is the one function `probe` and `audit` both ask,
//! so one state and one shape get one verdict everywhere. A verdict that is not a pass names
//! what to raise and by how much. Pure: no I/O.

use crate::probe::ProbeStatus;
use crate::probe::facts::Space;
use crate::probe::needs::{Program, RECOMMENDED_BYTES, RECOMMENDED_INODES};
use crate::probe::remedy::mib_ceil;
use crate::spec::HumanBytes;

/// A byte count in the largest unit that shows it exactly (`65532K`, `64M`, `0B`): a need one
/// page above the free space must not read as the same number.
pub fn exact(b: u64) -> String {
    for (unit, name) in [(1u64 << 30, "G"), (1 << 20, "M"), (1 << 10, "K")] {
        if b >= unit && b % unit == 0 {
            return format!("{}{name}", b / unit);
        }
    }
    format!("{b}B")
}

/// A verdict with its detail and, unless it passes, what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub status: ProbeStatus,
    pub detail: String,
    pub remedy: Option<String>,
}

/// The program whose room is judged: the multiprocessing objects it makes and the bytes it
/// shares (in one object with a header page, as SharedArray and multiprocessing.shared_memory
/// map them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shape {
    pub program: Program,
    pub bytes: Option<u64>,
}

impl Shape {
    /// Free inodes it needs: its semaphores (one more while the last links) and its data.
    pub fn inodes(&self) -> u64 {
        self.program.inodes() + u64::from(self.bytes.is_some())
    }

    /// Free bytes it needs in whole pages: the data and its header page, and a page per
    /// semaphore.
    pub fn space(&self, page: u64) -> u64 {
        let page = page.max(1);
        let data = self
            .bytes
            .map_or(0, |b| b.saturating_add(page).div_ceil(page) * page);
        data.saturating_add(self.program.pages() * page)
    }

    /// What it is: `a multiprocessing.Pool (6 named semaphores)`, or with data `8M of shared
    /// data with a header page, and a multiprocessing.Pool (6 named semaphores) beside it`.
    pub fn describe(&self) -> String {
        match self.bytes {
            None => self.program.describe(),
            Some(b) => format!(
                "{} of shared data with a header page, and {} beside it,",
                exact(b),
                self.program.describe()
            ),
        }
    }
}

/// The verdicts on free inodes and free space for one program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    pub inodes: Verdict,
    pub space: Verdict,
}

/// Judges the room `s` leaves for `shape` on a host with `ram` bytes of RAM and pages of
/// `page` bytes: the verdicts of `probe` (free_inodes, free_space) and of the multiprocessing
/// profile (dev-shm.free_inodes.live, dev-shm.free_space.live).
pub fn judge(s: &Space, ram: u64, page: u64, shape: &Shape) -> Room {
    let what = shape.describe();
    Room {
        inodes: inodes(s, shape.inodes(), &what),
        space: space(s, ram, shape.space(page), &what),
    }
}

const PROGRAMS: &str = "--program says which the programs make";

/// Free inodes against `need` (fail below) and `need` plus the recommended headroom (warn
/// below).
fn inodes(s: &Space, need: u64, what: &str) -> Verdict {
    if !s.inodes_limited() {
        return Verdict {
            status: ProbeStatus::Pass,
            detail: "/dev/shm has no inode limit".into(),
            remedy: None,
        };
    }
    let free = s.free_inodes;
    let used = s.inodes.saturating_sub(free);
    let detail = format!(
        "{free} of {} inodes free in /dev/shm; {what} needs {need}, and {RECOMMENDED_INODES} more are recommended (every shared-memory object and named semaphore is one, and sem_open takes one more while it links: a Lock needs 2 free, a Queue 4, a ProcessPoolExecutor 6, a Pool 7; {PROGRAMS})",
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
    if free < need + RECOMMENDED_INODES {
        let short = need + RECOMMENDED_INODES - free;
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

/// Free bytes against `need` (fail below) and `need` plus the recommended headroom (warn
/// below); never asks for more than `ram`.
fn space(s: &Space, ram: u64, need: u64, what: &str) -> Verdict {
    if s.size_bytes == 0 {
        return Verdict {
            status: ProbeStatus::Pass,
            detail: "/dev/shm has no size limit".into(),
            remedy: None,
        };
    }
    let free = s.free_bytes;
    let detail = format!(
        "{} free of {} in /dev/shm; {what} needs {}, and {} more free are recommended (a named semaphore is a page: a Lock needs 1, a Queue 3, a ProcessPoolExecutor 5, a Pool 6; {PROGRAMS})",
        exact(free),
        HumanBytes(s.size_bytes),
        exact(need),
        HumanBytes(RECOMMENDED_BYTES)
    );
    // grown by what is missing for the need AND the headroom: followed, it passes
    let missing = (need + RECOMMENDED_BYTES).saturating_sub(free);
    let to = mib_ceil(s.size_bytes + missing).max(s.size_bytes + (1 << 20));
    let grow = if ram > 0 && to > ram {
        format!(
            "growing /dev/shm to {} is more than this host's {} of RAM: free space in it, or run the job on a bigger host",
            HumanBytes(to),
            HumanBytes(ram)
        )
    } else {
        format!(
            "grow /dev/shm by {}, to at least {t} (shmguard apply --path /dev/shm --min-size {t})",
            HumanBytes(to - s.size_bytes),
            t = HumanBytes(to)
        )
    };
    let (status, remedy) = if free < need {
        (
            ProbeStatus::Fail,
            Some(format!("free space in /dev/shm or {grow}")),
        )
    } else if missing > 0 {
        (ProbeStatus::Warn, Some(grow))
    } else {
        (ProbeStatus::Pass, None)
    };
    Verdict {
        status,
        detail,
        remedy,
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

    fn shape(program: Program, bytes: Option<u64>) -> Shape {
        Shape { program, bytes }
    }

    const RAM: u64 = 8 << 30;

    /// Issue 23: with 3 free inodes a Lock works and a Pool or executor does not: the verdict
    /// follows the program, fail for the default (pool), warn for a lock.
    #[test]
    fn issue_23_inodes_fail_when_the_program_cannot_be_made() {
        let s = |free| space_of(16 << 20, 16 << 20, 20, free);
        let v = |free, p| judge(&s(free), RAM, 4096, &shape(p, None)).inodes.status;
        use ProbeStatus::*;
        assert_eq!(v(3, Program::Pool), Fail);
        assert_eq!(v(3, Program::Executor), Fail);
        assert_eq!(v(3, Program::Queue), Fail);
        assert_eq!(v(3, Program::Lock), Warn);
        assert_eq!(v(1, Program::Lock), Fail);
        assert_eq!(v(6, Program::Executor), Warn);
        assert_eq!(v(7, Program::Pool), Warn);
        assert_eq!(v(6, Program::Pool), Fail);
        assert_eq!(v(23, Program::Pool), Pass);
        assert_eq!(v(22, Program::Pool), Warn);
        let fail = judge(&s(3), RAM, 4096, &Shape::default()).inodes;
        assert_eq!(
            fail.remedy.unwrap(),
            "raise nr_inodes to at least 1048 (more size does not help) (shmguard apply --path /dev/shm --nr-inodes 1048)"
        );
        assert!(
            fail.detail.starts_with(
                "3 of 20 inodes free in /dev/shm; a multiprocessing.Pool (6 named semaphores) needs 7, and 16 more are recommended"
            ),
            "{}",
            fail.detail
        );
        let warn = judge(&s(9), RAM, 4096, &shape(Program::Lock, None)).inodes;
        assert_eq!(
            warn.remedy.unwrap(),
            "raise nr_inodes by 9, to 29 (shmguard apply --path /dev/shm --nr-inodes 29)"
        );
        // followed, the remedy passes
        assert_eq!(v(9 + 9, Program::Lock), Pass);
        // data is one object more
        let data = judge(&s(7), RAM, 4096, &shape(Program::Pool, Some(1))).inodes;
        assert_eq!(data.status, Fail, "{}", data.detail);
    }

    /// Issue 23: a 64M tmpfs and 64M - 4K of data: the data and its header page fit exactly,
    /// a Pool's or executor's semaphores beside them do not: fail, whoever asks.
    #[test]
    fn issue_23_space_fails_when_the_data_and_the_program_do_not_fit() {
        let s = space_of(64 << 20, 64 << 20, 0, 0);
        let full = Some((64 << 20) - 4096);
        let v = judge(&s, RAM, 4096, &shape(Program::Executor, full)).space;
        assert_eq!(v.status, ProbeStatus::Fail, "{}", v.detail);
        assert_eq!(
            v.remedy.unwrap(),
            "free space in /dev/shm or grow /dev/shm by 1M, to at least 65M (shmguard apply --path /dev/shm --min-size 65M)"
        );
        assert!(
            v.detail.starts_with(
                "64M free of 64M in /dev/shm; 65532K of shared data with a header page, and a ProcessPoolExecutor (5 named semaphores) beside it, needs 65556K, and 256K more free are recommended"
            ),
            "{}",
            v.detail
        );
        // 180K left after data and locks: works, below the recommended 256K: warn
        let band = Some((64 << 20) - 4096 - (200 << 10));
        let v = judge(&s, RAM, 4096, &shape(Program::Executor, band)).space;
        assert_eq!(v.status, ProbeStatus::Warn, "{}", v.detail);
        assert_eq!(
            v.remedy.unwrap(),
            "grow /dev/shm by 1M, to at least 65M (shmguard apply --path /dev/shm --min-size 65M)"
        );
        let grown = space_of(65 << 20, 65 << 20, 0, 0);
        let v = judge(&grown, RAM, 4096, &shape(Program::Executor, band)).space;
        assert_eq!(v.status, ProbeStatus::Pass, "{}", v.detail);
        // no data: a Pool needs 6 pages
        let tight = space_of(16 << 20, 5 * 4096, 0, 0);
        let v = |p| judge(&tight, RAM, 4096, &shape(p, None)).space.status;
        assert_eq!(v(Program::Pool), ProbeStatus::Fail);
        assert_eq!(v(Program::Executor), ProbeStatus::Warn);
        assert_eq!(
            judge(
                &space_of(64 << 20, 1 << 20, 0, 0),
                RAM,
                4096,
                &Shape::default()
            )
            .space
            .status,
            ProbeStatus::Pass
        );
    }

    #[test]
    fn never_more_than_the_host_has_and_unlimited_passes() {
        let s = space_of(16 << 20, 16 << 20, 0, 0);
        let v = judge(&s, 1 << 30, 4096, &shape(Program::Pool, Some(2 << 30))).space;
        assert_eq!(v.status, ProbeStatus::Fail);
        assert!(
            v.remedy
                .unwrap()
                .contains("more than this host's 1G of RAM")
        );
        let unlimited = space_of(0, 0, 0, 0);
        let r = judge(&unlimited, RAM, 4096, &Shape::default());
        assert_eq!(
            (r.inodes.status, r.space.status),
            (ProbeStatus::Pass, ProbeStatus::Pass)
        );
    }
}
