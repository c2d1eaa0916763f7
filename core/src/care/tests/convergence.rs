//! Random interleavings of logging and syncing (Automerge merges) across three replicas of a
//! household document: they always converge to the same records, with every logged entry
//! present once, and due/overdue the same everywhere.

use std::collections::BTreeMap;

use automerge::AutoCommit;
use proptest::prelude::*;

use super::*;
use crate::care::{Rectification, Schedule};

const TASKS: [&str; 4] = [
    "clean_home",
    "wash_clothes_bedding",
    "haircut",
    "buy_daily_necessities",
];

#[derive(Debug, Clone)]
enum Op {
    /// A replica logs a task done on a day (offset from 1 January 2025), at a local hour
    /// (0–23, so some entries fall on the previous UTC date).
    Log {
        replica: usize,
        task: usize,
        day: u32,
        hour: u32,
    },
    /// A replica opens the problem `p1` or rectifies it (refused locally when not allowed).
    Problem { replica: usize, rectify: bool },
    /// `to` merges what `from` has.
    Sync { from: usize, to: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..3usize, 0..4usize, 0..70u32, 0..24u32)
            .prop_map(|(replica, task, day, hour)| Op::Log { replica, task, day, hour }),
        1 => (0..3usize, any::<bool>()).prop_map(|(replica, rectify)| Op::Problem { replica, rectify }),
        3 => (0..3usize, 0..3usize).prop_map(|(from, to)| Op::Sync { from, to }),
    ]
}

fn problem_event(rectify: bool) -> CareEvent {
    if rectify {
        CareEvent::ProblemRectified {
            person_id: PERSON.into(),
            problem_id: "p1".into(),
            rectification: Rectification {
                rectified_by: "李强".into(),
                rectified_on: d(2025, 1, 1),
                action: "修好".into(),
                evidence: vec![photo(1)],
            },
        }
    } else {
        CareEvent::ProblemOpened {
            person_id: PERSON.into(),
            problem_id: "p1".into(),
            area: ProblemArea::Hygiene,
            description: "脏".into(),
            evidence: vec![],
        }
    }
}

use crate::care::ProblemArea;

/// The event ids a replica holds, read from the document's event maps (no fold).
fn event_ids(doc: &AutoCommit) -> std::collections::BTreeSet<String> {
    use automerge::ReadDoc;
    crate::care::document::event_maps(doc)
        .unwrap()
        .iter()
        .flat_map(|events| {
            doc.map_range(events, ..)
                .map(|i| i.key.to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// `to` merges what `from` has.
fn sync(replicas: &mut [AutoCommit; 3], from: usize, to: usize) {
    let (a, b) = if from < to {
        let (left, right) = replicas.split_at_mut(to);
        (&mut left[from], &mut right[0])
    } else {
        let (left, right) = replicas.split_at_mut(from);
        (&mut right[0], &mut left[to])
    };
    b.merge(a).unwrap();
}

thread_local! {
    /// The household as every case starts: the person enrolled on 1 January 2025.
    static BASE: std::cell::RefCell<AutoCommit> = std::cell::RefCell::new({
        let mut base = AutoCommit::new();
        let start = d(2025, 1, 1);
        record(&mut base, "w0", local_ten(start), vec![enrolled(start)]).unwrap();
        base
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn three_replicas_converge_with_no_entry_lost_or_doubled(ops in proptest::collection::vec(op(), 1..8)) {
        let start = d(2025, 1, 1);
        let mut replicas = BASE.with(|base| {
            let mut base = base.borrow_mut();
            [base.fork(), base.fork(), base.fork()]
        });
        // Every entry logged anywhere: event id -> (task, done_at).
        let mut logged: BTreeMap<String, (String, DateTime<Utc>)> = BTreeMap::new();
        for op in &ops {
            match *op {
                Op::Log { replica, task, day, hour } => {
                    let date = start + chrono::Duration::days(i64::from(day));
                    let at = CountyClock::default().start_of_day(date) + chrono::Duration::hours(i64::from(hour));
                    let before = event_ids(&replicas[replica]);
                    record(&mut replicas[replica], &format!("w{replica}"), at, vec![done(TASKS[task], at)]).unwrap();
                    let new: Vec<String> = event_ids(&replicas[replica]).difference(&before).cloned().collect();
                    prop_assert_eq!(new.len(), 1);
                    logged.insert(new[0].clone(), (TASKS[task].to_owned(), at));
                }
                Op::Problem { replica, rectify } => {
                    // Refused when the replica's record does not allow it: nothing to check.
                    let _ = record(&mut replicas[replica], "w9", local_ten(start), vec![problem_event(rectify)]);
                }
                Op::Sync { from, to } => {
                    if from != to {
                        let (had, kept) = (event_ids(&replicas[from]), event_ids(&replicas[to]));
                        sync(&mut replicas, from, to);
                        let now = event_ids(&replicas[to]);
                        prop_assert_eq!(now, had.union(&kept).cloned().collect(), "an entry lost or invented");
                    }
                }
            }
        }
        for (from, to) in [(0, 1), (1, 2), (2, 0), (0, 1)] {
            sync(&mut replicas, from, to);
        }
        let records: Vec<CareRecord> = replicas.iter().map(person).collect();
        prop_assert_eq!(&records[0], &records[1]);
        prop_assert_eq!(&records[1], &records[2]);
        let got: BTreeMap<String, (String, DateTime<Utc>)> = records[0]
            .log
            .iter()
            .map(|e| (e.event_id.clone(), (e.task_id.clone(), e.done_at)))
            .collect();
        prop_assert_eq!(records[0].log.len(), logged.len());
        prop_assert_eq!(&got, &logged);
        // Due and overdue agree everywhere, and with the rule applied to what was logged.
        let policy = CarePolicy::default();
        for on in [d(2025, 1, 15), d(2025, 2, 1), d(2025, 2, 16), d(2025, 3, 3), d(2025, 3, 12)] {
            let statuses: Vec<_> = records.iter().map(|r| r.task_status(&policy, on)).collect();
            prop_assert_eq!(&statuses[0], &statuses[1]);
            prop_assert_eq!(&statuses[1], &statuses[2]);
            for s in &statuses[0] {
                let last = logged
                    .values()
                    .filter(|(task, _)| *task == s.task.task_id)
                    .map(|(_, at)| CountyClock::default().local_date(*at))
                    .filter(|day| *day <= on)
                    .max();
                let expected = Schedule {
                    frequency: s.task.frequency,
                    planned_from: start,
                    due_soon_days: policy.due_soon_days,
                }
                .status_on(last, on);
                prop_assert_eq!(Some(s.status), expected);
            }
        }
    }
}
