//! An enrolment and the default tasks it plans are written together; whatever random ids
//! they get, every reader folds them in the order written, so all four tasks are planned.
#![allow(clippy::unwrap_used)]

use automerge::AutoCommit;
use chrono::NaiveDate;
use ruhu_core::calendar::CountyClock;
use ruhu_core::care::document::{append_events, read_care_log};
use ruhu_core::care::{CareEvent, CarePolicy, SelfCareActivities};
use ruhu_core::household::Authorship;

#[test]
fn an_enrolment_plans_every_default_task_whatever_the_event_ids() {
    let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
    let policy = CarePolicy::default();
    let expected: Vec<String> = policy
        .default_tasks
        .iter()
        .map(|t| t.task_id.clone())
        .collect();
    for _ in 0..50 {
        let mut doc = AutoCommit::new();
        let by = Authorship {
            worker_id: "w-handler".into(),
            time_unix: 1_795_392_000, // 2026-11-23
        };
        let events = vec![
            CareEvent::Enrolled {
                person_id: "p1".into(),
                since: day(9, 24),
            },
            CareEvent::Assessed {
                person_id: "p1".into(),
                on: day(11, 23),
                activities: SelfCareActivities {
                    eating: true,
                    dressing: true,
                    getting_in_out_of_bed: true,
                    toileting: true,
                    walking_indoors: false,
                    bathing: false,
                },
            },
        ];
        let written =
            append_events(&mut doc, events, &by, &policy, CountyClock::default()).unwrap();
        let read = read_care_log(&doc, CountyClock::default()).unwrap();
        for log in [&written, &read] {
            let record = log.records.get("p1").unwrap();
            assert!(record.set_aside.is_empty(), "{:?}", record.set_aside);
            let planned: Vec<String> = record
                .task_status(&policy, day(11, 23))
                .into_iter()
                .map(|t| t.task.task_id)
                .collect();
            assert_eq!(planned, expected);
        }
    }
}
