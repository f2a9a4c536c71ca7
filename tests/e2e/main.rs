//! End-to-end tests: the real shmguard binary against real kernel mounts in private
//! namespaces (see sandbox.rs), and the real ansible-playbook. One module per feature.

mod counts;
mod sandbox;
mod ssh_host;
mod strace;

mod ansible;
mod ansible_aarch64;
mod ansible_core;
mod ansible_ssh;
mod ansible_trust;
mod audit;
mod bad_input;
mod boot;
mod check_mode;
mod cli;
mod clients;
mod containers;
mod concurrency;
mod crash;
mod docs_fresh;
mod faults;
mod fstab_edit;
mod fstab_libmount;
mod hostile;
mod mqueue;
mod probe;
mod reach;
mod salt;
mod salt_fleet;
mod states;
mod tmpfs;
