//! argv -> shmguard::run -> exit code.

use nix::sys::signal::{SigHandler, Signal, signal};

fn main() {
    // Like other Unix tools, end quietly when the reader of stdout goes away (`| head`);
    // Rust ignores SIGPIPE, which turns the next print into a panic.
    // SAFETY: restoring the default disposition, first thing, while single-threaded.
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };
    std::process::exit(shmguard::run(std::env::args_os().collect()));
}
