//! Parameter parser: any JSON object either becomes a checked Desired or fails with a message
//! that names a known parameter; never panics. Only parses: nothing is observed or applied.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use shmguard::frontend::json_args;
use shmguard::spec::Desired;
use shmguard::spec::params::NAMES;

fuzz_target!(|data: &[u8]| {
    let Ok(Value::Object(args)) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let args: Map<String, Value> = args;
    let Ok((params, _)) = json_args::parse(&args, "shmguard", |k| k.starts_with("_ansible_"))
    else {
        return;
    };
    match Desired::from_params(&params) {
        Ok(d) => {
            assert!(d.path.starts_with('/') && d.path != "/");
            assert!(!d.path.contains("//") && !d.path.ends_with('/'));
            if let Some(m) = d.mode {
                assert!(m.0 <= 0o7777);
            }
        }
        Err(e) => {
            assert!(
                NAMES.iter().any(|(n, _)| *n == e.param),
                "error names no parameter: {e}"
            );
            assert!(e.to_string().starts_with(&format!("{}: ", e.param)));
        }
    }
});
