//! The watch loop's decisions, pure: a `Watcher` turns the previous verdicts plus a new audit
//! into events (one per CHANGE of a target's verdict) and, with `--apply`, repairs — counting
//! them per target so that a target repaired too often within a window (another tool fighting
//! shmguard) is reported as flapping and left alone. Time is injected (`now`, a monotonic
//! offset), so every decision is unit-tested. No I/O.

use std::time::Duration;

use crate::watch::event::{Event, Kind, TargetView, Verdict};

/// What the shell does next.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// print this line (and rewrite the Prometheus file)
    Emit(Event),
    /// run the remedy of target `index` (through the engine), then call `Watcher::repaired`
    Repair(usize),
}

/// How `--apply` repairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repairs {
    /// repair drift at all
    pub enabled: bool,
    /// at most this many repairs of one target within `window`; one more drift is flapping
    pub limit: usize,
    pub window: Duration,
}

impl Default for Repairs {
    fn default() -> Self {
        Repairs {
            enabled: false,
            limit: 3,
            window: Duration::from_secs(60),
        }
    }
}

/// The previous verdicts and repairs of each target.
#[derive(Debug, Clone, Default)]
pub struct Watcher {
    repairs: Repairs,
    previous: Vec<Option<Verdict>>,
    /// when each target was repaired (monotonic offsets), within the window
    repaired_at: Vec<Vec<Duration>>,
    flapping: Vec<bool>,
}

impl Watcher {
    pub fn new(repairs: Repairs) -> Watcher {
        Watcher {
            repairs,
            ..Watcher::default()
        }
    }

    /// A new audit of the targets at `now`: an event per target whose verdict changed, and
    /// with `--apply` a repair of each failing target that is not flapping.
    pub fn step(
        &mut self,
        now: Duration,
        views: &[TargetView],
        time: &str,
        host: &str,
    ) -> Vec<Action> {
        let n = views.len();
        self.previous.resize(n, None);
        self.repaired_at.resize(n, Vec::new());
        self.flapping.resize(n, false);
        let mut out = Vec::new();
        for (i, v) in views.iter().enumerate() {
            let before = self.previous[i].replace(v.verdict.clone());
            let kind = match (&before, &v.verdict) {
                (_, Verdict::Error(_)) if before.as_ref() != Some(&v.verdict) => Some(Kind::Error),
                (None, _) => Some(Kind::Initial),
                (Some(b), now_) if b == now_ => None,
                (Some(_), Verdict::Compliant) => Some(Kind::Compliant),
                (Some(_), Verdict::Failing(_)) => Some(Kind::Drift),
                (Some(_), Verdict::Error(_)) => None,
            };
            if let Some(k) = kind {
                out.push(Action::Emit(Event::about(k, v, time, host)));
            }
            match &v.verdict {
                Verdict::Compliant => self.flapping[i] = false,
                Verdict::Failing(_) if self.repairs.enabled && !self.flapping[i] => {
                    let window = self.repairs.window;
                    self.repaired_at[i].retain(|t| now.saturating_sub(*t) < window);
                    if self.repaired_at[i].len() >= self.repairs.limit {
                        self.flapping[i] = true;
                        let mut e = Event::about(Kind::Flapping, v, time, host);
                        e.error = Some(format!(
                            "repaired {} times within {} s: something else keeps changing it; left alone until it is compliant again",
                            self.repaired_at[i].len(),
                            window.as_secs()
                        ));
                        out.push(Action::Emit(e));
                    } else if v.remedy_params.is_some() {
                        out.push(Action::Repair(i));
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// Target `index` was repaired at `now`.
    pub fn repaired(&mut self, index: usize, now: Duration) {
        if let Some(r) = self.repaired_at.get_mut(index) {
            r.push(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Params;

    fn view(verdict: Verdict) -> TargetView {
        TargetView {
            path: "/dev/shm".into(),
            verdict,
            remedy: Some("shmguard apply --path /dev/shm --mode 1777".into()),
            remedy_params: Some(Params::default()),
        }
    }

    fn failing(ids: &[&str]) -> Verdict {
        Verdict::Failing(ids.iter().map(|s| s.to_string()).collect())
    }

    fn kinds(actions: &[Action]) -> Vec<String> {
        actions
            .iter()
            .map(|a| match a {
                Action::Emit(e) => e.event.word().to_string(),
                Action::Repair(i) => format!("repair {i}"),
            })
            .collect()
    }

    fn at(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn one_event_per_change_of_verdict() {
        let mut w = Watcher::new(Repairs::default());
        let step = |w: &mut Watcher, v: Verdict| kinds(&w.step(at(0), &[view(v)], "t", "h"));
        assert_eq!(step(&mut w, Verdict::Compliant), ["initial"]);
        assert_eq!(step(&mut w, Verdict::Compliant), Vec::<String>::new());
        assert_eq!(step(&mut w, failing(&["dev-shm.mode.live"])), ["drift"]);
        assert_eq!(
            step(&mut w, failing(&["dev-shm.mode.live"])),
            Vec::<String>::new()
        );
        assert_eq!(
            step(
                &mut w,
                failing(&["dev-shm.mode.live", "dev-shm.nodev.live"])
            ),
            ["drift"]
        );
        assert_eq!(step(&mut w, Verdict::Compliant), ["compliant"]);
        assert_eq!(step(&mut w, Verdict::Error("gone".into())), ["error"]);
        assert_eq!(
            step(&mut w, Verdict::Error("gone".into())),
            Vec::<String>::new()
        );
        assert_eq!(step(&mut w, Verdict::Error("other".into())), ["error"]);
        assert_eq!(step(&mut w, Verdict::Compliant), ["compliant"]);
    }

    #[test]
    fn an_event_names_the_failing_checks_and_the_remedy() {
        let mut w = Watcher::new(Repairs::default());
        let a = w.step(
            at(0),
            &[view(failing(&["dev-shm.mode.live"]))],
            "2026-01-01T00:00:00Z",
            "h1",
        );
        let Action::Emit(e) = &a[0] else {
            panic!("{a:?}")
        };
        let v: serde_json::Value = serde_json::from_str(&e.json()).unwrap();
        assert_eq!(v["event"], "initial");
        assert_eq!(v["host"], "h1");
        assert_eq!(v["time"], "2026-01-01T00:00:00Z");
        assert_eq!(v["path"], "/dev/shm");
        assert_eq!(v["compliant"], false);
        assert_eq!(v["failing"], serde_json::json!(["dev-shm.mode.live"]));
        assert_eq!(v["remedy"], "shmguard apply --path /dev/shm --mode 1777");
        assert!(
            e.text()
                .contains("initial: dev-shm.mode.live — fix: shmguard apply"),
            "{}",
            e.text()
        );
        let a = w.step(at(1), &[view(Verdict::Compliant)], "t", "h1");
        let Action::Emit(e) = &a[0] else {
            panic!("{a:?}")
        };
        assert_eq!(e.remedy, None, "a compliant target needs no remedy");
    }

    #[test]
    fn targets_are_judged_apart() {
        let mut w = Watcher::new(Repairs::default());
        let mut mq = view(Verdict::Compliant);
        mq.path = "/dev/mqueue".into();
        w.step(at(0), &[view(Verdict::Compliant), mq.clone()], "t", "h");
        let a = w.step(
            at(1),
            &[
                view(Verdict::Compliant),
                TargetView {
                    verdict: failing(&["x"]),
                    ..mq
                },
            ],
            "t",
            "h",
        );
        assert_eq!(kinds(&a), ["drift"]);
        let Action::Emit(e) = &a[0] else { panic!() };
        assert_eq!(e.path, "/dev/mqueue");
    }

    #[test]
    fn apply_repairs_drift_until_it_flaps_then_leaves_it_alone() {
        let mut w = Watcher::new(Repairs {
            enabled: true,
            ..Repairs::default()
        });
        let bad = || [view(failing(&["dev-shm.mode.live"]))];
        let good = [view(Verdict::Compliant)];
        assert_eq!(kinds(&w.step(at(0), &good, "t", "h")), ["initial"]);
        for s in 1..=3 {
            assert_eq!(
                kinds(&w.step(at(s), &bad(), "t", "h")),
                ["drift", "repair 0"]
            );
            w.repaired(0, at(s));
            assert_eq!(kinds(&w.step(at(s), &good, "t", "h")), ["compliant"]);
        }
        // a fourth drift within the minute: flapping, no repair
        assert_eq!(
            kinds(&w.step(at(10), &bad(), "t", "h")),
            ["drift", "flapping"]
        );
        assert_eq!(
            kinds(&w.step(at(11), &bad(), "t", "h")),
            Vec::<String>::new()
        );
        // compliant again (someone fixed it), then drift much later: repaired again
        assert_eq!(kinds(&w.step(at(100), &good, "t", "h")), ["compliant"]);
        assert_eq!(
            kinds(&w.step(at(101), &bad(), "t", "h")),
            ["drift", "repair 0"]
        );
    }

    #[test]
    fn a_flapping_target_is_flagged_again_while_the_window_is_full() {
        let mut w = Watcher::new(Repairs {
            enabled: true,
            limit: 1,
            window: Duration::from_secs(60),
        });
        let bad = [view(failing(&["a"]))];
        let good = [view(Verdict::Compliant)];
        assert_eq!(
            kinds(&w.step(at(0), &bad, "t", "h")),
            ["initial", "repair 0"]
        );
        w.repaired(0, at(0));
        assert_eq!(kinds(&w.step(at(1), &bad, "t", "h")), ["flapping"]);
        assert_eq!(kinds(&w.step(at(2), &good, "t", "h")), ["compliant"]);
        assert_eq!(kinds(&w.step(at(3), &bad, "t", "h")), ["drift", "flapping"]);
        // a failing target without a remedy is never repaired
        let mut w = Watcher::new(Repairs {
            enabled: true,
            ..Repairs::default()
        });
        let mut v = view(failing(&["a"]));
        v.remedy_params = None;
        assert_eq!(kinds(&w.step(at(0), &[v], "t", "h")), ["initial"]);
    }
}
