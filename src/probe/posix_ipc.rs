//! The probes themselves: what real programs do with /dev/shm and /dev/mqueue — shm_open and
//! mmap, sem_open (Python's SemLock), mq_open — each cleaning up what it created, also when it
//! fails. Space is reserved with posix_fallocate, never by touching mapped pages, so a full
//! tmpfs gives ENOSPC instead of SIGBUS.

use std::ffi::CString;
use std::num::NonZeroUsize;
use std::os::fd::{AsFd, FromRawFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mqueue::{MQ_OFlag, MqAttr, mq_close, mq_open, mq_receive, mq_send, mq_unlink};
use nix::sys::mman::{MapFlags, ProtFlags, mmap, munmap, shm_open, shm_unlink};
use nix::sys::stat::Mode;

/// A failed step: which call, and its errno.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    pub call: &'static str,
    pub errno: Errno,
}

fn at(call: &'static str) -> impl Fn(Errno) -> Failure {
    move |errno| Failure { call, errno }
}

/// A shared-memory object that is unlinked when dropped.
struct ShmObject {
    name: String,
    fd: OwnedFd,
}

impl ShmObject {
    fn create(name: &str) -> Result<ShmObject, Failure> {
        let fd = shm_open(
            name,
            OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_RDWR,
            Mode::from_bits_truncate(0o600),
        )
        .map_err(at("shm_open"))?;
        Ok(ShmObject {
            name: name.to_string(),
            fd,
        })
    }

    /// Allocates `len` bytes of real pages (ENOSPC when the tmpfs cannot hold them).
    fn reserve(&self, len: u64) -> Result<(), Failure> {
        nix::fcntl::posix_fallocate(self.fd.as_fd(), 0, len as i64).map_err(at("posix_fallocate"))
    }
}

impl ShmObject {
    /// Maps the object's first page with `prot`, hands the mapping to `f`, unmaps it.
    fn with_page<R>(
        &self,
        prot: ProtFlags,
        call: &'static str,
        f: impl FnOnce(*mut u8) -> R,
    ) -> Result<R, Failure> {
        let len = NonZeroUsize::new(4096).expect("non-zero");
        // SAFETY: a fresh shared mapping of a page the object holds (fallocated before); `f`
        // only touches it through the pointer, and it is unmapped before returning.
        unsafe {
            let p = mmap(None, len, prot, MapFlags::MAP_SHARED, self.fd.as_fd(), 0)
                .map_err(at(call))?;
            let r = f(p.cast::<u8>().as_ptr());
            munmap(p, 4096).map_err(at("munmap"))?;
            Ok(r)
        }
    }
}

impl Drop for ShmObject {
    fn drop(&mut self) {
        let _ = nix::unistd::ftruncate(self.fd.as_fd(), 0);
        let _ = shm_unlink(self.name.as_str());
    }
}

/// shm_open, reserve a page, map it, write and read it back, unlink.
pub fn shared_memory(name: &str) -> Result<(), Failure> {
    let obj = ShmObject::create(name)?;
    obj.reserve(4096)?;
    // SAFETY (of the accesses): the page is mapped read-write for the closure's duration.
    let back = obj.with_page(
        ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
        "mmap",
        |bytes| unsafe {
            bytes.write_volatile(0x5a);
            bytes.read_volatile()
        },
    )?;
    if back != 0x5a {
        return Err(Failure {
            call: "read back",
            errno: Errno::EIO,
        });
    }
    Ok(())
}

/// sem_open(name, O_CREAT | O_EXCL, 0600, value): a new named semaphore (a file sem.NAME in
/// /dev/shm); the caller closes and unlinks it.
fn sem_create(c: &CString, value: u32) -> Result<*mut nix::libc::sem_t, Failure> {
    // SAFETY: libc's sem_open with a valid C string and the mode and value O_CREAT reads.
    let sem = unsafe {
        nix::libc::sem_open(
            c.as_ptr(),
            nix::libc::O_CREAT | nix::libc::O_EXCL,
            0o600 as nix::libc::c_uint,
            value as nix::libc::c_uint,
        )
    };
    if sem == nix::libc::SEM_FAILED {
        return Err(Failure {
            call: "sem_open",
            errno: Errno::last(),
        });
    }
    Ok(sem)
}

fn sem_name(name: &str) -> Result<CString, Failure> {
    CString::new(name).map_err(|_| Failure {
        call: "sem_open",
        errno: Errno::EINVAL,
    })
}

/// sem_open a named semaphore, post, wait, close, unlink: what Python's multiprocessing
/// SemLock does.
pub fn semaphore(name: &str) -> Result<(), Failure> {
    let c = sem_name(name)?;
    let sem = sem_create(&c, 0)?;
    // SAFETY: `sem` is the open handle sem_create returned; it is closed and the name
    // unlinked on every path below.
    unsafe {
        let result = if nix::libc::sem_post(sem) != 0 {
            Err(Failure {
                call: "sem_post",
                errno: Errno::last(),
            })
        } else if nix::libc::sem_trywait(sem) != 0 {
            Err(Failure {
                call: "sem_wait",
                errno: Errno::last(),
            })
        } else {
            Ok(())
        };
        nix::libc::sem_close(sem);
        nix::libc::sem_unlink(c.as_ptr());
        result
    }
}

/// mq_open a queue of `attr` (messages, bytes each; None: the kernel's defaults), send and
/// receive one message, close, unlink.
pub fn message_queue(name: &str, attr: Option<(i64, i64)>) -> Result<(), Failure> {
    let flags = MQ_OFlag::O_CREAT | MQ_OFlag::O_EXCL | MQ_OFlag::O_RDWR;
    let mq = match attr {
        Some((msgs, size)) => mq_open(
            name,
            flags,
            Mode::from_bits_truncate(0o600),
            Some(&MqAttr::new(0, msgs, size, 0)),
        )
        .map_err(at("mq_open"))?,
        None => default_queue(name, flags)?,
    };
    let result = nix::mqueue::mq_getattr(&mq)
        .map_err(at("mq_getattr"))
        .and_then(|a| {
            let mut buf = vec![0u8; a.msgsize().max(8) as usize];
            let mut prio = 0;
            mq_send(&mq, b"shmguard", 0).map_err(at("mq_send"))?;
            let n = mq_receive(&mq, &mut buf, &mut prio).map_err(at("mq_receive"))?;
            if &buf[..n] == b"shmguard" {
                Ok(())
            } else {
                Err(Failure {
                    call: "mq_receive",
                    errno: Errno::EIO,
                })
            }
        });
    let _ = mq_close(mq);
    let _ = mq_unlink(name);
    result
}

/// mq_open with a NULL attribute pointer: the queue gets msg_default x msgsize_default. (nix's
/// `mq_open(.., None)` leaves out the mode and attr arguments, which O_CREAT makes glibc read.)
fn default_queue(name: &str, flags: MQ_OFlag) -> Result<nix::mqueue::MqdT, Failure> {
    let c = CString::new(name).map_err(|_| Failure {
        call: "mq_open",
        errno: Errno::EINVAL,
    })?;
    // SAFETY: a valid C string, a mode and a NULL attr, as mq_open(3) documents for O_CREAT;
    // the descriptor is owned by the MqdT returned (closed by mq_close).
    let fd = unsafe {
        nix::libc::mq_open(
            c.as_ptr(),
            flags.bits(),
            0o600 as nix::libc::mode_t,
            std::ptr::null_mut::<nix::libc::mq_attr>(),
        )
    };
    if fd < 0 {
        return Err(Failure {
            call: "mq_open",
            errno: Errno::last(),
        });
    }
    // SAFETY: fd is a message-queue descriptor this function just opened and owns.
    Ok(unsafe { nix::mqueue::MqdT::from_raw_fd(fd) })
}

/// A named semaphore opened and unlinked at once, as multiprocessing's SemLock does: its file
/// keeps an inode and a page in /dev/shm until it is closed (on drop).
struct HeldSemaphore(*mut nix::libc::sem_t);

impl HeldSemaphore {
    fn open(name: &str) -> Result<HeldSemaphore, Failure> {
        let c = sem_name(name)?;
        let sem = sem_create(&c, 1)?;
        // SAFETY: unlinking the name of the semaphore just created; the handle stays open.
        unsafe {
            nix::libc::sem_unlink(c.as_ptr());
        }
        Ok(HeldSemaphore(sem))
    }
}

impl Drop for HeldSemaphore {
    fn drop(&mut self) {
        // SAFETY: a handle sem_open returned, closed once.
        unsafe {
            nix::libc::sem_close(self.0);
        }
    }
}

/// Reserves `bytes` of real pages in /dev/shm (Err when they do not fit) and, beside them,
/// `locks` named semaphores (what multiprocessing's objects take; the first failure among
/// them is returned), holds all of it at once, as the program does, and frees everything.
pub fn reserve(name: &str, bytes: u64, locks: u64) -> Result<Option<Failure>, Failure> {
    let obj = ShmObject::create(name)?;
    obj.reserve(bytes)?;
    let held = (0..locks)
        .map(|i| HeldSemaphore::open(&format!("{name}-lock{i}")))
        .collect::<Result<Vec<_>, _>>();
    Ok(held.err())
}

/// Whether a mapping of a /dev/shm object may be executable (EPERM under noexec). A failure
/// before the mmap (`shm_open`, `posix_fallocate`) means the question was not asked.
pub fn exec_mapping(name: &str) -> Result<(), Failure> {
    let obj = ShmObject::create(name)?;
    obj.reserve(4096)?;
    obj.with_page(
        ProtFlags::PROT_READ | ProtFlags::PROT_EXEC,
        "mmap PROT_EXEC",
        |_| (),
    )
}
