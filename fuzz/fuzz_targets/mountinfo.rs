//! mountinfo parser: never panics on any bytes; every parsed mount point survives an
//! escape/unescape round trip, and the lookup finds the last entry listed at a path — the
//! same one whether it scans the bytes (find_in) or the parsed table (find).
#![no_main]

use libfuzzer_sys::fuzz_target;
use shmguard::observe::mountinfo::{escape, find, find_in, parse, unescape};

fuzz_target!(|data: &[u8]| {
    let (entries, bad) = parse(data);
    let lines = data.split(|b| *b == b'\n').count();
    assert!(entries.len() + bad.len() <= lines);
    for e in &entries {
        assert_eq!(unescape(&escape(&e.mount_point)), e.mount_point);
        let found = find(&entries, &e.mount_point).expect("an entry is found at its own path");
        assert_eq!(found.mount_point, e.mount_point);
        assert_eq!(find_in(data, &e.mount_point).as_ref(), Some(found), "the byte scan and the parsed table disagree");
        let _ = e.super_option("size");
    }
});
