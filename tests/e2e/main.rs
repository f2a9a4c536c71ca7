//! End-to-end tests: the real shmguard binary against real kernel mounts in private
//! namespaces (see sandbox.rs), and the real ansible-playbook. One module per feature.

mod counts;
mod sandbox;
mod ssh_host;
mod strace;

mod ansible;
mod ansible_aarch64;
mod ansible_ssh;
mod audit;
mod bad_input;
mod check_mode;
mod concurrency;
mod crash;
mod docs_fresh;
mod faults;
mod fstab_edit;
mod hostile;
mod mqueue;
mod probe;
mod salt;
mod states;
mod tmpfs;
