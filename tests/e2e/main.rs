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
mod boot;
mod check_mode;
mod cli;
mod clients;
mod clients_mqueue;
mod clients_room;
mod containers;
mod concurrency;
mod crash;
mod docs_fresh;
mod docs_sizes;
mod faults;
mod fleet;
mod fleet_playbook;
mod fstab_edit;
mod fstab_libmount;
mod fstab_links;
mod hostile;
mod locks;
mod messages;
mod mqueue;
mod postgres;
mod probe;
mod reach;
mod readme_try;
mod reports;
mod salt;
mod salt_fleet;
mod salt_formula;
mod salt_ssh;
mod states;
mod static_builds;
mod tmpfs;
mod verdicts;
mod vocabulary;
