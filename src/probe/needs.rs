//! What programs need, measured: the room one named semaphore and a ProcessPoolExecutor(4)
//! take in /dev/shm, the recommended headroom beyond it (the warn band), and what a message
//! queue of a given shape costs by the kernel's own accounting. Pure: no I/O.

/// A typical program's queue: the kernel's msg_default/msgsize_default and posix_ipc's
/// defaults, 10 messages of 8192 bytes.
pub const TYPICAL_MSGS: u64 = 10;
pub const TYPICAL_MSGSIZE: u64 = 8192;

/// The most a sysctl can raise msg_max and msgsize_max to (ipc/mqueue.c HARD_MSGMAX,
/// HARD_MSGSIZEMAX): a larger queue shape cannot be made to work.
pub const HARD_MSGMAX: u64 = 65536;
pub const HARD_MSGSIZEMAX: u64 = 16 << 20;

/// Free inodes one named semaphore needs (Python's multiprocessing.Lock): glibc's sem_open
/// creates a temporary file and links it to its name, and tmpfs counts the link as an inode
/// too (measured: a Lock fails with 1 free inode, works with 2). Below this no program that
/// uses /dev/shm works: a fail.
pub const ONE_LOCK_INODES: u64 = 2;
/// Free pages one named semaphore needs.
pub const ONE_LOCK_PAGES: u64 = 1;

/// The named semaphores a ProcessPoolExecutor(4) holds while it runs: its call queue (a
/// multiprocessing.Queue: two locks and a bounded semaphore) and its result queue (a
/// SimpleQueue: two locks). Each is a page; the last sem_open needs one inode more while it
/// links (measured: 6 free inodes and 5 free pages work, one less of either fails with ENOSPC).
pub const EXECUTOR_SEMAPHORES: u64 = 5;
pub const EXECUTOR_INODES: u64 = EXECUTOR_SEMAPHORES + 1;
pub const EXECUTOR_PAGES: u64 = EXECUTOR_SEMAPHORES;

/// The recommended headroom in /dev/shm, beyond any reservation: below it a check warns (the
/// programs work now, bigger pools or more objects would not). Documented in README's audit
/// section.
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
    fn issue_18_queue_bytes_follow_the_kernel_s_accounting() {
        assert_eq!(queue_bytes(10, 8192), 82880);
        // the 64 x 65536 queue needs about 4.2 MB, far above the default rlimit of 819200
        assert_eq!(queue_bytes(64, 65536), 4200448);
    }
}
