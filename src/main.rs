//! argv -> shmguard::run -> exit code.

fn main() {
    std::process::exit(shmguard::run(std::env::args_os().collect()));
}
