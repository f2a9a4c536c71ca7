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
pub mod frontend;
pub mod docs;

use std::ffi::OsString;

use clap::{CommandFactory, Parser};

/// Runs shmguard with these arguments (argv[0] included); returns the exit code.
pub fn run(args: Vec<OsString>) -> i32 {
    // The collection's action plugin runs `shmguard -` with the module arguments on stdin.
    if args.len() == 2 && args[1] == "-" {
        return frontend::ansible::run_stdin();
    }
    // Ansible runs a binary module as `shmguard ARGS_FILE`.
    if args.len() == 2 {
        let arg = args[1].to_string_lossy();
        let is_command = arg.starts_with('-')
            || arg == "help"
            || frontend::cli::Cli::command()
                .find_subcommand(arg.as_ref())
                .is_some();
        if !is_command {
            let out = match std::fs::read(&args[1]) {
                Ok(bytes) => frontend::ansible::run_args(&bytes),
                Err(e) => {
                    serde_json::json!({"failed": true, "msg": format!("shmguard: cannot read the module arguments file {arg}: {e}")})
                }
            };
            println!("{out}");
            return i32::from(out["failed"] == true);
        }
    }
    let args = if args.len() <= 1 {
        vec![OsString::from("shmguard"), OsString::from("status")]
    } else {
        args
    };
    match frontend::cli::Cli::try_parse_from(args) {
        Ok(cli) => frontend::cli::run(cli),
        Err(e) => {
            let _ = e.print();
            if e.use_stderr() { 2 } else { 0 }
        }
    }
}
