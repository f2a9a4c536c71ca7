//! shmguard: declare the state of /dev/shm and /dev/mqueue and make the system match it.
//!
//! The modules below are in data-flow order: `spec` (desired state from parameters) →
//! `observe` (what the system holds) → `plan` (pure: what to change) → `apply` (the only side
//! effects) → `report` (what changed). `engine` runs that flow once for every front end.

pub mod spec;
pub mod observe;
pub mod plan;
pub mod apply;
pub mod report;
pub mod engine;
pub mod audit;
pub mod probe;
pub mod render;
pub mod frontend;
pub mod docs;

use std::ffi::OsString;

use clap::{CommandFactory, Parser};

/// Runs shmguard with these arguments (argv[0] included); returns the exit code: 0 done or
/// compliant, 2 drift found (audit and probe only), 1 every error, usage errors included.
pub fn run(args: Vec<OsString>) -> i32 {
    // The collection's action plugin runs `shmguard -` with the module arguments on stdin.
    if args.len() == 2 && args[1] == "-" {
        return frontend::ansible::run_stdin();
    }
    // Ansible runs a binary module as `shmguard ARGS_FILE`. Only a word that names an existing
    // file is read as one: any other word is a command, and a mistyped one gets clap's error
    // (with its suggestion) instead of "cannot read the module arguments file".
    if args.len() == 2 && is_args_file(&args[1]) {
        let out = match std::fs::read(&args[1]) {
            Ok(bytes) => frontend::ansible::run_args(&bytes),
            Err(e) => serde_json::json!({
                "failed": true,
                "msg": format!(
                    "shmguard: cannot read the module arguments file {}: {e}",
                    args[1].to_string_lossy()
                ),
            }),
        };
        println!("{out}");
        return i32::from(out["failed"] == true);
    }
    let args = if args.len() <= 1 {
        vec![OsString::from("shmguard"), OsString::from("status")]
    } else {
        args
    };
    match frontend::cli::Cli::try_parse_from(args) {
        Ok(cli) => frontend::cli::run(cli),
        // --help and --version print to stdout and succeed; a usage error prints to stderr and
        // exits 1 (clap's own code, 2, is shmguard's "drift found").
        Err(e) => {
            let _ = e.print();
            i32::from(e.use_stderr())
        }
    }
}

/// Whether the one argument is the Ansible module's arguments file: not a flag, not a command,
/// and an existing path or one with a `/` (Ansible passes an absolute path; a missing one then
/// gets the module's JSON failure, not a usage error).
fn is_args_file(arg: &std::ffi::OsStr) -> bool {
    let word = arg.to_string_lossy();
    let is_command = word.starts_with('-')
        || word == "help"
        || frontend::cli::Cli::command()
            .find_subcommand(word.as_ref())
            .is_some();
    !is_command && (word.contains('/') || std::path::Path::new(arg).exists())
}
