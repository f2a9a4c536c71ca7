//! What programs need, measured: the room the multiprocessing objects a program makes (a Lock,
//! a Queue, a ProcessPoolExecutor, a Pool) take in /dev/shm, the recommended headroom beyond
//! it (the warn band), and what a message queue of a given shape costs by the kernel's own
//! accounting. Pure: no I/O.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A typical program's queue: the kernel's msg_default/msgsize_default and posix_ipc's
/// defaults, 10 messages of 8192 bytes.
pub const TYPICAL_MSGS: u64 = 10;
pub const TYPICAL_MSGSIZE: u64 = 8192;

/// The most a sysctl can raise msg_max and msgsize_max to (ipc/mqueue.c HARD_MSGMAX,
/// HARD_MSGSIZEMAX): a larger queue shape cannot be made to work.
pub const HARD_MSGMAX: u64 = 65536;
pub const HARD_MSGSIZEMAX: u64 = 16 << 20;

/// The multiprocessing objects a program makes, by the named semaphores they hold in
/// /dev/shm while they live (`--program`; default pool, the most). Each semaphore is an inode
/// and a page, and glibc's sem_open takes one inode more while it links a temporary file to its
/// name (measured as `nobody` on a fresh tmpfs: a Lock needs 2 free inodes, a Queue 4, a
/// ProcessPoolExecutor 6, a Pool 7; one less fails with ENOSPC, and so does one page less).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Program {
    /// multiprocessing.Lock: one semaphore
    Lock,
    /// multiprocessing.Queue: two locks and a bounded semaphore
    Queue,
    /// concurrent.futures.ProcessPoolExecutor: its call queue (a Queue, 3) and result queue (a
    /// SimpleQueue, 2)
    Executor,
    /// multiprocessing.Pool: three SimpleQueues (tasks, results, change notifier), 2 each
    #[default]
    Pool,
}

impl Program {
    /// The words `--program` takes, smallest first.
    pub const WORDS: [&'static str; 4] = ["lock", "queue", "executor", "pool"];

    pub fn parse(word: &str) -> Option<Program> {
        [
            Program::Lock,
            Program::Queue,
            Program::Executor,
            Program::Pool,
        ]
        .into_iter()
        .find(|p| p.word() == word)
    }

    pub fn word(self) -> &'static str {
        match self {
            Program::Lock => "lock",
            Program::Queue => "queue",
            Program::Executor => "executor",
            Program::Pool => "pool",
        }
    }

    /// Named semaphores held while it lives.
    pub fn semaphores(self) -> u64 {
        match self {
            Program::Lock => 1,
            Program::Queue => 3,
            Program::Executor => 5,
            Program::Pool => 6,
        }
    }

    /// Free inodes it needs: its semaphores, and one more while the last links.
    pub fn inodes(self) -> u64 {
        self.semaphores() + 1
    }

    /// Free pages it needs: one per semaphore.
    pub fn pages(self) -> u64 {
        self.semaphores()
    }

    /// What it is, for details: `a multiprocessing.Pool (6 named semaphores)`.
    pub fn describe(self) -> String {
        let what = match self {
            Program::Lock => "a multiprocessing.Lock",
            Program::Queue => "a multiprocessing.Queue",
            Program::Executor => "a ProcessPoolExecutor",
            Program::Pool => "a multiprocessing.Pool",
        };
        let n = self.semaphores();
        format!(
            "{what} ({n} named semaphore{})",
            if n == 1 { "" } else { "s" }
        )
    }
}

/// The recommended headroom in /dev/shm, beyond what the program needs (its objects and any
/// data it shares): below it a check warns (the program works now; more objects, more data or a
/// second program would not). Documented in README's audit section.
pub const RECOMMENDED_INODES: u64 = 16;
pub const RECOMMENDED_BYTES: u64 = 256 << 10;

/// Bytes a queue of `maxmsg` x `msgsize` counts against RLIMIT_MSGQUEUE, as ipc/mqueue.c
/// (mqueue_get_inode) accounts it: `maxmsg * sizeof(struct msg_msg) + min(maxmsg,
/// MQ_PRIO_MAX) * sizeof(struct posix_msg_tree_node) + maxmsg * msgsize`. Both structs are six
/// machine words (48 bytes on 64-bit machines; measured: 10 x 8192 opens at an rlimit of
/// 82880 and fails at 82879).
pub fn queue_bytes(maxmsg: u64, msgsize: u64) -> u64 {
    const MQ_PRIO_MAX: u64 = 32768;
    let word = std::mem::size_of::<usize>() as u64;
    let msg_msg = 6 * word;
    let tree_node = 6 * word;
    maxmsg
        .saturating_mul(msg_msg)
        .saturating_add(maxmsg.min(MQ_PRIO_MAX).saturating_mul(tree_node))
        .saturating_add(maxmsg.saturating_mul(msgsize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_23_program_needs_are_the_measured_ones() {
        let inodes: Vec<u64> = Program::WORDS
            .iter()
            .map(|w| Program::parse(w).unwrap().inodes())
            .collect();
        assert_eq!(inodes, [2, 4, 6, 7]);
        assert_eq!(Program::default(), Program::Pool);
        assert_eq!(Program::parse("Pool"), None);
        assert_eq!(
            Program::Executor.describe(),
            "a ProcessPoolExecutor (5 named semaphores)"
        );
    }

    #[test]
    fn issue_18_queue_bytes_follow_the_kernel_s_accounting() {
        assert_eq!(queue_bytes(10, 8192), 82880);
        // the 64 x 65536 queue needs about 4.2 MB, far above the default rlimit of 819200
        assert_eq!(queue_bytes(64, 65536), 4200448);
    }
}
