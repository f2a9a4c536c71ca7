//! Audit targets: policy files (one target or a list, each with the module's parameters and
//! optional `references`) and the built-in profiles. `PolicyFile` is both the parser and the
//! source of schema/policy.schema.json: its Deserialize gives the module's messages (naming the
//! target, the parameter, the value and what is accepted), its JsonSchema the schema. Parsing
//! is pure; reading files is the caller's.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, de::Error};
use serde_json::{Map, Value, json};

use crate::audit::condition::Condition;
use crate::probe::needs::{HARD_MSGMAX, HARD_MSGSIZEMAX, TYPICAL_MSGS, TYPICAL_MSGSIZE};
use crate::spec::Params;
use crate::spec::json_args;

/// One thing to audit: the desired state and the compliance references of its checks.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// where it came from: `profile cis`, `policy site.json`
    pub source: String,
    pub params: Params,
    /// check key (`nodev`, `mode`, `mounted`, ...) -> references such as `CIS RHEL9 1.1.2.2.2`
    pub references: BTreeMap<String, Vec<String>>,
    /// what programs need beyond the parameters, judged after them
    pub conditions: Vec<Condition>,
    /// the queue its programs open (a policy's `mq_maxmsg`, `mq_msgsize`; None: the audit's)
    pub mq_shape: Option<(u64, u64)>,
    /// only the conditions count, not the planner's checks (the mqueue profile: programs do
    /// not need /dev/mqueue mounted)
    pub conditions_only: bool,
}

/// One target of a policy file: the module's parameters plus references.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
pub struct PolicyTarget {
    #[serde(flatten)]
    pub params: Params,
    /// References shown with each check, by check key: mounted, fstab, mode, size, min_size,
    /// nr_inodes, a flag name (nodev, noexec, ...), queues_max, msg_max, msgsize_max.
    #[serde(default)]
    pub references: BTreeMap<String, Vec<String>>,
    /// The message queue this target's programs open: messages (as `probe --mq-maxmsg`).
    /// With it (or mq_msgsize), the audit checks that msg_max and msgsize_max allow that
    /// queue.
    #[serde(default)]
    #[schemars(range(min = 1, max = HARD_MSGMAX))]
    pub mq_maxmsg: Option<u64>,
    /// ... and bytes per message (as `probe --mq-msgsize`); defaults 10 and 8192.
    #[serde(default)]
    #[schemars(range(min = 1, max = HARD_MSGSIZEMAX))]
    pub mq_msgsize: Option<u64>,
}

/// A policy file: one target, or a non-empty list of targets.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum PolicyFile {
    One(Box<PolicyTarget>),
    Many(#[schemars(length(min = 1))] Vec<PolicyTarget>),
}

impl PolicyTarget {
    /// Reads the parameters as the module does (its type, choice and unknown-name messages),
    /// then `references`.
    fn from_map(m: &Map<String, Value>) -> Result<Self, String> {
        let extra = |k: &str| matches!(k, "references" | "mq_maxmsg" | "mq_msgsize");
        let (params, _) = json_args::parse(m, "shmguard", extra)?;
        let references = match m.get("references") {
            None | Some(Value::Null) => BTreeMap::new(),
            Some(v) => serde_json::from_value(v.clone()).map_err(|_| {
                format!("references: {v} is not accepted; expected an object mapping a check key to a list of strings")
            })?,
        };
        Ok(PolicyTarget {
            params,
            references,
            mq_maxmsg: shape_field(m, "mq_maxmsg", HARD_MSGMAX)?,
            mq_msgsize: shape_field(m, "mq_msgsize", HARD_MSGSIZEMAX)?,
        })
    }
}

impl<'de> Deserialize<'de> for PolicyTarget {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let m = Map::deserialize(d)?;
        PolicyTarget::from_map(&m).map_err(D::Error::custom)
    }
}

impl<'de> Deserialize<'de> for PolicyFile {
    /// Errors say which target (`target 2: ...`), then what the module would say.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let target = |i: usize, v: &Value| match v {
            Value::Object(m) => {
                PolicyTarget::from_map(m).map_err(|e| D::Error::custom(format!("target {i}: {e}")))
            }
            _ => Err(D::Error::custom(format!(
                "target {i}: {v} is not an object of parameters"
            ))),
        };
        match Value::deserialize(d)? {
            v @ Value::Object(_) => Ok(PolicyFile::One(Box::new(target(1, &v)?))),
            Value::Array(items) if !items.is_empty() => items
                .iter()
                .enumerate()
                .map(|(i, v)| target(i + 1, v))
                .collect::<Result<_, _>>()
                .map(PolicyFile::Many),
            _ => Err(D::Error::custom(
                "expected an object of parameters or a non-empty list of them",
            )),
        }
    }
}

impl PolicyFile {
    /// The targets, each saying it came from `source`.
    pub fn targets(self, source: &str) -> Vec<Target> {
        let all = match self {
            PolicyFile::One(t) => vec![*t],
            PolicyFile::Many(ts) => ts,
        };
        all.into_iter()
            .map(|t| {
                // A queue shape asks that msg_max and msgsize_max allow that queue.
                let mq_shape = (t.mq_maxmsg.is_some() || t.mq_msgsize.is_some()).then(|| {
                    (
                        t.mq_maxmsg.unwrap_or(TYPICAL_MSGS),
                        t.mq_msgsize.unwrap_or(TYPICAL_MSGSIZE),
                    )
                });
                Target {
                    source: source.to_string(),
                    params: t.params,
                    references: t.references,
                    conditions: if mq_shape.is_some() {
                        vec![Condition::MsgMax, Condition::MsgsizeMax]
                    } else {
                        Vec::new()
                    },
                    mq_shape,
                    conditions_only: false,
                }
            })
            .collect()
    }
}

pub const PROFILES: [&str; 4] = ["cis", "multiprocessing", "mqueue", "default"];

/// Parses a policy file's bytes; `name` is used in messages.
pub fn parse_policy(name: &str, bytes: &[u8]) -> Result<Vec<Target>, String> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("policy {name}: not JSON: {e}"))?;
    let file = PolicyFile::deserialize(value).map_err(|e| format!("policy {name} {e}"))?;
    Ok(file.targets(&format!("policy {name}")))
}

/// A policy's queue-shape field: a whole number within the kernel's hard limit.
fn shape_field(m: &Map<String, Value>, key: &str, max: u64) -> Result<Option<u64>, String> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) if (1..=max).contains(&n) => Ok(Some(n)),
            _ => Err(format!(
                "{key}: {v} is not accepted; expected a whole number from 1 to {max}"
            )),
        },
    }
}

/// What a program sharing memory through /dev/shm needs, whoever runs it: Python's
/// multiprocessing (SemLock, Pool, Queue, shared_memory), numpy through SharedArray.
const SHM_PROGRAMS: [Condition; 4] = [
    Condition::Writable,
    Condition::SharedSticky,
    Condition::FreeInodes,
    Condition::FreeSpace,
];

/// What a program using POSIX message queues needs: its queue (10 x 8192 unless the audit
/// says otherwise), and room for a few queues. Mounted or not: mq_open works without
/// /dev/mqueue.
const MQUEUE_PROGRAMS: [Condition; 5] = [
    Condition::Writable,
    Condition::SharedSticky,
    Condition::MsgMax,
    Condition::MsgsizeMax,
    Condition::MinLimit("queues_max", 16),
];

/// The built-in profile `name`: each target's parameters (judged by the planner), its
/// references, and the conditions its programs need.
pub fn profile(name: &str) -> Result<Vec<Target>, String> {
    let cis_refs = json!({
        "mounted": ["CIS RHEL9 v2.0.0 1.1.2.2.1"],
        "fstab": ["CIS RHEL9 v2.0.0 1.1.2.2.1"],
        "nodev": ["CIS RHEL9 v2.0.0 1.1.2.2.2", "STIG RHEL-09-231110"],
        "nosuid": ["CIS RHEL9 v2.0.0 1.1.2.2.3", "STIG RHEL-09-231120"],
        "noexec": ["CIS RHEL9 v2.0.0 1.1.2.2.4", "STIG RHEL-09-231115"],
    });
    let mp_refs = json!({
        "mode": ["Python multiprocessing: SemLock (sem_open) and shared_memory create in /dev/shm as every user"],
    });
    let mode_refs = json!({
        "mode": ["1777: every user can create; sticky, so users cannot delete each other's"],
    });
    let items: Vec<(Value, &[Condition])> = match name {
        "cis" => vec![(
            json!({"path": "/dev/shm", "options": ["nodev", "nosuid", "noexec"], "references": cis_refs}),
            &[],
        )],
        // /dev/shm only: Python's multiprocessing never uses /dev/mqueue.
        "multiprocessing" => vec![(
            json!({"path": "/dev/shm", "state": "ephemeral", "references": mp_refs}),
            &SHM_PROGRAMS,
        )],
        "mqueue" => vec![(
            json!({"path": "/dev/mqueue", "state": "ephemeral"}),
            &MQUEUE_PROGRAMS,
        )],
        "default" => vec![
            (
                json!({"path": "/dev/shm", "state": "ephemeral", "mode": "1777", "options": ["nodev", "nosuid"], "references": mode_refs}),
                &[],
            ),
            (
                json!({"path": "/dev/mqueue", "state": "ephemeral", "mode": "1777", "references": mode_refs}),
                &[],
            ),
        ],
        other => {
            return Err(format!(
                "profile: {other:?} is not a profile; expected one of: {}",
                PROFILES.join(", ")
            ));
        }
    };
    items
        .into_iter()
        .map(|(v, conditions)| {
            let file: PolicyFile = serde_json::from_value(v).map_err(|e| e.to_string())?;
            Ok(file
                .targets(&format!("profile {name}"))
                .into_iter()
                .map(|t| Target {
                    conditions: conditions.to_vec(),
                    conditions_only: name == "mqueue",
                    ..t
                })
                .collect::<Vec<_>>())
        })
        .collect::<Result<Vec<_>, String>>()
        .map(|v| v.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_parses() {
        for p in PROFILES {
            assert!(!profile(p).unwrap().is_empty(), "{p}");
        }
        assert!(
            profile("nope")
                .unwrap_err()
                .contains("cis, multiprocessing, mqueue, default")
        );
    }

    #[test]
    fn a_policy_is_one_target_or_a_list() {
        assert_eq!(
            parse_policy("a", br#"{"path": "/dev/shm", "mode": "1777"}"#)
                .unwrap()
                .len(),
            1
        );
        let t = parse_policy(
            "b",
            br#"[{"path": "/dev/shm", "references": {"mode": ["X-1"]}}, {"path": "/dev/mqueue"}]"#,
        )
        .unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].references["mode"], ["X-1"]);
    }

    #[test]
    fn a_bad_policy_names_the_file_target_and_parameter() {
        let e = parse_policy("p.json", br#"[{"path": "/dev/shm"}, {"sise": "1G"}]"#).unwrap_err();
        assert!(
            e.starts_with(
                "policy p.json target 2: Unsupported parameters for (shmguard) module: sise."
            ),
            "{e}"
        );
        assert!(parse_policy("p.json", b"[]").is_err());
        assert!(
            parse_policy("p.json", b"nope")
                .unwrap_err()
                .contains("not JSON")
        );
        let e = parse_policy("p.json", br#"{"state": "gone"}"#).unwrap_err();
        assert!(e.contains("value of state must be one of"), "{e}");
    }

    #[test]
    fn each_bad_policy_says_which_target_and_why() {
        let e = parse_policy("p.json", br#"[{"path": "/dev/shm"}, 7]"#).unwrap_err();
        assert_eq!(
            e,
            "policy p.json target 2: 7 is not an object of parameters"
        );
        let e = parse_policy("p.json", br#"{"references": {"mode": "X-1"}}"#).unwrap_err();
        assert!(e.starts_with("policy p.json target 1: references: "), "{e}");
        assert!(e.contains("a list of strings"), "{e}");
        let e = parse_policy("p.json", br#"{"backup": "maybe"}"#).unwrap_err();
        assert!(e.starts_with("policy p.json target 1: backup: "), "{e}");
        let e = parse_policy("p.json", b"[]").unwrap_err();
        assert!(e.contains("non-empty list"), "{e}");
    }

    /// The schema and the parser come from one type: every property the schema lists (and
    /// every alias it names) is a key the parser takes, and a key it does not list is refused.
    #[test]
    fn the_parser_takes_exactly_the_keys_the_schema_lists() {
        let schema = crate::docs::policy_schema();
        let props = schema["$defs"]["PolicyTarget"]["properties"]
            .as_object()
            .unwrap();
        let mut keys: Vec<String> = props.keys().cloned().collect();
        for p in props.values() {
            for a in p["x-aliases"].as_array().into_iter().flatten() {
                keys.push(a.as_str().unwrap().to_string());
            }
        }
        assert!(keys.len() > 15, "{keys:?}");
        for k in &keys {
            let e = parse_policy("p", format!(r#"{{"{k}": null}}"#).as_bytes());
            assert!(e.as_ref().is_ok_and(|t| t.len() == 1), "{k}: {e:?}");
        }
        let e = parse_policy("p", br#"{"bogus": 1}"#).unwrap_err();
        assert!(e.contains("Unsupported parameters"), "{e}");
        assert_eq!(schema["anyOf"][1]["minItems"], 1, "{schema}");
    }

    #[test]
    fn issue_18_a_policy_names_the_queue_its_programs_open() {
        let t = parse_policy("q", br#"{"path": "/dev/mqueue", "mq_msgsize": 65536}"#).unwrap();
        assert_eq!(t[0].mq_shape, Some((10, 65536)));
        assert_eq!(t[0].conditions, [Condition::MsgMax, Condition::MsgsizeMax]);
        let e = parse_policy("q", br#"{"path": "/dev/mqueue", "mq_maxmsg": 0}"#).unwrap_err();
        assert_eq!(
            e,
            "policy q target 1: mq_maxmsg: 0 is not accepted; expected a whole number from 1 to 65536"
        );
    }
}
