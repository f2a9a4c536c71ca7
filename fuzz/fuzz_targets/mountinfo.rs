//! mountinfo parser: never panics on any bytes; every parsed mount point survives an
//! escape/unescape round trip, and the lookup finds the last entry listed at a path.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shmguard::observe::mountinfo::{escape, find, parse, unescape};

fuzz_target!(|data: &[u8]| {
    let (entries, bad) = parse(data);
    let lines = data.split(|b| *b == b'\n').count();
    assert!(entries.len() + bad.len() <= lines);
    for e in &entries {
        assert_eq!(unescape(&escape(&e.mount_point)), e.mount_point);
        let found = find(&entries, &e.mount_point).expect("an entry is found at its own path");
        assert_eq!(found.mount_point, e.mount_point);
        let _ = e.super_option("size");
    }
});
