//! Dispersed care across tablets through a real sync server on loopback: three tablets log
//! one person's "四个一" tasks offline in different orders (the same task twice in one week on
//! two tablets, an entry made before 08:00 local that falls on the previous UTC day, a tablet
//! that syncs twice) and sync in every order. Every tablet ends with every entry exactly once,
//! the same due and overdue statuses as worked out by hand, and the same lists; a problem
//! opened on one tablet and rectified on another is closed everywhere; a close without a
//! rectification record is refused and writes nothing.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use ruhu_core::care::{
    new_id, CareEvent, DueState, ProblemArea, Rectification, SelfCareActivities, TaskStatus,
};
use ruhu_core::fixtures;
use ruhu_core::signing::certificate::Role;
use ruhu_tests::*;

const CLEAN: &str = "clean_home";
const WASH: &str = "wash_clothes_bedding";
const HAIRCUT: &str = "haircut";
const BUY: &str = "buy_daily_necessities";

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// The instant of local time `hh:mm` on local date `date` in the county (UTC+8, the default).
fn local(date: NaiveDate, hh: u32, mm: u32) -> DateTime<Utc> {
    DateTime::from_naive_utc_and_offset(
        date.and_hms_opt(hh, mm, 0).unwrap() - Duration::hours(8),
        Utc,
    )
}

/// Enrolled on Monday 2026-09-07: weekly cleaning is owed from that week; the half month,
/// the month and the half year it starts in are not owed.
fn since() -> NaiveDate {
    d(2026, 9, 7)
}

struct Care {
    _county: County,
    _data: tempfile::TempDir,
    _server: Server,
    tablets: Vec<Tablet>,
    household: String,
    person: String,
    /// Ids of every task entry written, on whichever tablet.
    written: BTreeSet<String>,
}

impl Care {
    /// A server and three tablets of village V1 (case handler, village cadre, township
    /// leader); the handler enrols a person living alone and every tablet pulls it.
    fn new() -> Self {
        let county = County::new();
        let data = tempfile::tempdir().unwrap();
        let server = Server::start(data.path(), &county);
        let url = server.url();
        let mut tablets = vec![
            Tablet::enroll(&county, &url, "w-handler", &[Role::CaseHandler], &[V1]),
            Tablet::enroll(&county, &url, "w-cadre", &[Role::VillageCadre], &[V1]),
            Tablet::enroll(&county, &url, "w-leader", &[Role::TownshipLeader], &[V1]),
        ];
        install_config(
            &url,
            &county.config_json(
                tablets.iter().map(|t| t.certificate.clone()).collect(),
                None,
            ),
        );
        let handler = &mut tablets[0];
        let h = handler
            .store
            .create_household(fixtures::household(41, V1, 1))
            .unwrap();
        let person = h.profile.head_member_id.clone();
        let p = || person.clone();
        let record = handler
            .store
            .record_care_events(
                &h.id,
                vec![
                    CareEvent::Enrolled {
                        person_id: p(),
                        since: since(),
                    },
                    CareEvent::Assessed {
                        person_id: p(),
                        on: since(),
                        activities: SelfCareActivities {
                            eating: true,
                            dressing: true,
                            getting_in_out_of_bed: true,
                            toileting: true,
                            walking_indoors: false,
                            bathing: false,
                        },
                    },
                    CareEvent::LeaderAssigned {
                        person_id: p(),
                        leader_id: "w-leader".into(),
                        leader_name: "乡镇干部".into(),
                        from: since(),
                    },
                ],
            )
            .unwrap();
        let planned: BTreeSet<&str> = record
            .plan
            .iter()
            .map(|p| p.task.task_id.as_str())
            .collect();
        assert_eq!(planned, BTreeSet::from([CLEAN, WASH, HAIRCUT, BUY]));
        for t in tablets.iter_mut() {
            sync_clean(t);
        }
        Self {
            _county: county,
            _data: data,
            _server: server,
            tablets,
            household: h.id,
            person,
            written: BTreeSet::new(),
        }
    }

    fn log_ids(&mut self, tablet: usize) -> Vec<String> {
        let record = self.tablets[tablet]
            .store
            .care_record(&self.household, &self.person)
            .unwrap();
        record.log.iter().map(|e| e.event_id.clone()).collect()
    }

    /// Logs a task done on `tablet` and keeps the new entry's id.
    fn done(&mut self, tablet: usize, task_id: &str, done_at: DateTime<Utc>) {
        let before: BTreeSet<String> = self.log_ids(tablet).into_iter().collect();
        let record = self.tablets[tablet]
            .store
            .record_care_event(
                &self.household,
                CareEvent::TaskDone {
                    person_id: self.person.clone(),
                    task_id: task_id.into(),
                    done_at,
                    note: format!("{task_id} 已完成"),
                    photos: Vec::new(),
                },
            )
            .unwrap();
        let new: Vec<&String> = record
            .log
            .iter()
            .map(|e| &e.event_id)
            .filter(|id| !before.contains(*id))
            .collect();
        assert_eq!(new.len(), 1, "one new entry per task done");
        assert!(self.written.insert(new[0].clone()));
    }

    fn statuses(&mut self, tablet: usize, on: NaiveDate) -> Vec<TaskStatus> {
        let store = &mut self.tablets[tablet].store;
        let policy = store.care_policy().unwrap();
        let record = store.care_record(&self.household, &self.person).unwrap();
        let mut statuses = record.task_status(&policy, on);
        statuses.sort_by(|a, b| a.task.task_id.cmp(&b.task.task_id));
        statuses
    }

    /// The village's list of tasks not done on `on`: (task, state, deadline).
    fn due(&self, tablet: usize, on: NaiveDate) -> Vec<(String, DueState, NaiveDate)> {
        let mut list: Vec<_> = self.tablets[tablet]
            .store
            .care_tasks_due(Some(V1), on)
            .unwrap()
            .into_iter()
            .map(|t| (t.task_id, t.status.state, t.status.deadline))
            .collect();
        list.sort();
        list
    }

    fn overdue(&self, tablet: usize, on: NaiveDate) -> Vec<(String, String)> {
        let mut list: Vec<(String, String)> = self.tablets[tablet]
            .store
            .overdue_care_tasks(Some(V1), on)
            .unwrap()
            .into_iter()
            .map(|t| (t.person_id, t.task_id))
            .collect();
        list.sort();
        list
    }
}

fn sync_clean(tablet: &mut Tablet) {
    let report = tablet.sync().unwrap();
    assert!(report.not_accepted.is_empty(), "{:?}", report.not_accepted);
}

/// Where a task stands on a date: (state, overdue since, missed periods).
type State = (DueState, Option<NaiveDate>, u32);

/// Where a planned task stands.
fn state(s: &TaskStatus) -> State {
    (
        s.status.state,
        s.status.overdue_since,
        s.status.missed_periods,
    )
}

/// The statuses worked out by hand from the entries every order ends with (local dates):
/// cleaning 09-08, 09-09, 09-15, 09-22, 09-29; washing 09-10, 09-18; haircut 09-20 and
/// 10-01 (07:30 local, 2026-09-30 in UTC); nothing bought.
fn expected(on: NaiveDate) -> Vec<(&'static str, State)> {
    use DueState::*;
    let due = (Due, None, 0);
    let done = (Done, None, 0);
    match on.to_string().as_str() {
        // Week of 09-14 done on 09-15; the half month, month and half year that hold the
        // enrolment day are not owed.
        "2026-09-16" => vec![(BUY, due), (CLEAN, done), (HAIRCUT, due), (WASH, due)],
        // Last week done (09-29); 09-16..30 washed on 09-18; October's haircut done on
        // 10-01 local (not in September, as its UTC date would say).
        "2026-10-06" => vec![(BUY, due), (CLEAN, due), (HAIRCUT, done), (WASH, due)],
        // Weeks of 10-05 and 10-12 missed: overdue since Monday 10-12; 10-01..15 not
        // washed: overdue since 10-16.
        "2026-10-20" => vec![
            (BUY, due),
            (CLEAN, (Overdue, Some(d(2026, 10, 12)), 2)),
            (HAIRCUT, done),
            (WASH, (Overdue, Some(d(2026, 10, 16)), 1)),
        ],
        // Four weeks and two half months missed; October's haircut was done, so November's
        // is only due.
        "2026-11-02" => vec![
            (BUY, due),
            (CLEAN, (Overdue, Some(d(2026, 10, 12)), 4)),
            (HAIRCUT, due),
            (WASH, (Overdue, Some(d(2026, 10, 16)), 2)),
        ],
        other => panic!("no expectation for {other}"),
    }
}

const DATES: [(i32, u32, u32); 4] = [(2026, 9, 16), (2026, 10, 6), (2026, 10, 20), (2026, 11, 2)];

#[test]
fn care_logs_merge_once_and_statuses_agree_on_every_tablet_in_every_sync_order() {
    let orders = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    for order in orders {
        let mut care = Care::new();
        // Offline, each tablet logs in its own order. The week of 09-07 is cleaned twice,
        // on two tablets (09-08 and 09-09).
        care.done(1, HAIRCUT, local(d(2026, 9, 20), 15, 0));
        care.done(0, CLEAN, local(d(2026, 9, 8), 9, 0));
        care.done(2, WASH, local(d(2026, 9, 18), 11, 0));
        care.done(1, CLEAN, local(d(2026, 9, 9), 16, 30));
        care.done(0, WASH, local(d(2026, 9, 10), 10, 0));
        care.done(2, CLEAN, local(d(2026, 9, 22), 8, 15));
        care.done(0, CLEAN, local(d(2026, 9, 15), 10, 0));
        // 07:30 local on 10-01 is 23:30 UTC on 09-30.
        care.done(1, HAIRCUT, local(d(2026, 10, 1), 7, 30));
        care.tablets[2]
            .store
            .record_care_event(
                &care.household,
                CareEvent::LeaderVisited {
                    person_id: care.person.clone(),
                    leader_id: "w-leader".into(),
                    visited_on: d(2026, 9, 25),
                    note: "走访慰问".into(),
                    photos: Vec::new(),
                },
            )
            .unwrap();

        // Two tablets sync; the handler logs one more entry; the third syncs; the handler
        // syncs (a second time unless it was third); then everyone pulls.
        sync_clean(&mut care.tablets[order[0]]);
        sync_clean(&mut care.tablets[order[1]]);
        care.done(0, CLEAN, local(d(2026, 9, 29), 10, 0));
        sync_clean(&mut care.tablets[order[2]]);
        sync_clean(&mut care.tablets[0]);
        for i in order {
            sync_clean(&mut care.tablets[i]);
        }

        assert_eq!(care.written.len(), 9);
        for i in 0..3 {
            let ids = care.log_ids(i);
            let unique: BTreeSet<String> = ids.iter().cloned().collect();
            assert_eq!(
                ids.len(),
                unique.len(),
                "order {order:?}, tablet {i}: twice"
            );
            assert_eq!(unique, care.written, "order {order:?}, tablet {i}");
            let record = care.tablets[i]
                .store
                .care_record(&care.household, &care.person)
                .unwrap();
            assert!(record.set_aside.is_empty(), "{:?}", record.set_aside);
            let cleaned_in_first_week = record
                .log
                .iter()
                .filter(|e| e.task_id == CLEAN && e.done_on < d(2026, 9, 14))
                .count();
            assert_eq!(cleaned_in_first_week, 2, "both entries of one week kept");
            assert_eq!(care.tablets[i].store.unsynced_changes().unwrap().0, 0);
        }
        for (y, m, day) in DATES {
            let on = d(y, m, day);
            let first = care.statuses(0, on);
            let got: Vec<_> = first
                .iter()
                .map(|s| (s.task.task_id.as_str(), state(s)))
                .collect();
            assert_eq!(got, expected(on), "order {order:?}, on {on}");
            let overdue_by_hand: Vec<(String, String)> = expected(on)
                .into_iter()
                .filter(|(_, (state, _, _))| *state == DueState::Overdue)
                .map(|(task, _)| (care.person.clone(), task.to_owned()))
                .collect();
            let due_first = care.due(0, on);
            assert_eq!(
                due_first.len(),
                first
                    .iter()
                    .filter(|s| s.status.state != DueState::Done)
                    .count(),
                "order {order:?}, on {on}"
            );
            for i in 0..3 {
                assert_eq!(care.statuses(i, on), first, "order {order:?}, tablet {i}");
                assert_eq!(care.due(i, on), due_first, "order {order:?}, tablet {i}");
                let mut by_hand = overdue_by_hand.clone();
                by_hand.sort();
                assert_eq!(
                    care.overdue(i, on),
                    by_hand,
                    "order {order:?}, tablet {i}, on {on}"
                );
            }
        }
        // The leader visited in September (not owed: assigned on 09-07): October's visit is
        // due on 10-20 and overdue on 11-02, on every tablet.
        for t in &care.tablets {
            assert!(t
                .store
                .overdue_leader_visits(Some(V1), d(2026, 10, 20))
                .unwrap()
                .is_empty());
            let late = t
                .store
                .overdue_leader_visits(Some(V1), d(2026, 11, 2))
                .unwrap();
            assert_eq!(late.len(), 1, "{late:?}");
            assert_eq!(
                (late[0].person_id.as_str(), late[0].status.overdue_since),
                (care.person.as_str(), Some(d(2026, 11, 1)))
            );
        }
    }
}

/// A rectification of the problem by the village committee.
fn rectified(
    person: &str,
    problem_id: &str,
    on: NaiveDate,
    action: &str,
    evidence: Vec<String>,
) -> CareEvent {
    CareEvent::ProblemRectified {
        person_id: person.to_owned(),
        problem_id: problem_id.to_owned(),
        rectification: Rectification {
            rectified_by: "村委会".into(),
            rectified_on: on,
            action: action.to_owned(),
            evidence,
        },
    }
}

#[test]
fn a_problem_opened_on_one_tablet_and_rectified_on_another_is_closed_everywhere() {
    let mut care = Care::new();
    let problem_id = new_id().unwrap();
    let today = Utc::now().date_naive() - Duration::days(1);
    care.tablets[0]
        .store
        .record_care_events(
            &care.household,
            vec![
                CareEvent::ProblemOpened {
                    person_id: care.person.clone(),
                    problem_id: problem_id.clone(),
                    area: ProblemArea::Heating,
                    description: "取暖煤不足".into(),
                    evidence: Vec::new(),
                },
                CareEvent::ProblemAssigned {
                    person_id: care.person.clone(),
                    problem_id: problem_id.clone(),
                    assignee: "村委会".into(),
                    due_on: Some(today + Duration::days(7)),
                },
            ],
        )
        .unwrap();
    sync_clean(&mut care.tablets[0]);
    for i in [1, 2] {
        sync_clean(&mut care.tablets[i]);
        let open = care.tablets[i].store.open_care_problems(Some(V1)).unwrap();
        assert_eq!(open.len(), 1, "tablet {i}: {open:?}");
        assert_eq!(open[0].problem_id, problem_id);
        assert_eq!(open[0].assignee.as_deref(), Some("村委会"));
    }

    // A close without a rectification record (no action, no evidence) is refused on the
    // leader's tablet, naming the fields, and writes nothing.
    let leader = &mut care.tablets[2];
    let heads_before = leader.store.household(&care.household).unwrap().heads;
    let unsynced_before = leader.store.unsynced_changes().unwrap().0;
    let err = leader
        .store
        .record_care_event(
            &care.household,
            rectified(&care.person, &problem_id, today, " ", Vec::new()),
        )
        .unwrap_err();
    match &err {
        ruhu_core::Error::Invalid(fields) => {
            let named: BTreeSet<(&str, &str)> =
                fields.iter().map(|f| (f.field.as_str(), f.code)).collect();
            assert!(
                named.contains(&(
                    "[0].rectification.evidence",
                    "care.rectification_incomplete"
                )),
                "{named:?}"
            );
            assert!(
                named.contains(&("[0].rectification.action", "care.rectification_incomplete")),
                "{named:?}"
            );
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
    assert_eq!(
        leader.store.household(&care.household).unwrap().heads,
        heads_before
    );
    assert_eq!(leader.store.unsynced_changes().unwrap().0, unsynced_before);
    assert_eq!(leader.store.open_care_problems(Some(V1)).unwrap().len(), 1);

    // The cadre rectifies it with a record and a photo (an attachment stored on the tablet);
    // after sync it is closed on every tablet.
    let photo = care.tablets[1]
        .store
        .add_attachment(&care.household, b"JPEG stand-in: the coal delivered")
        .unwrap();
    care.tablets[1]
        .store
        .record_care_event(
            &care.household,
            rectified(
                &care.person,
                &problem_id,
                today,
                "已送煤 500 公斤",
                vec![photo.to_hex()],
            ),
        )
        .unwrap();
    assert!(care.tablets[1]
        .store
        .open_care_problems(Some(V1))
        .unwrap()
        .is_empty());
    for i in [1, 0, 2] {
        sync_clean(&mut care.tablets[i]);
    }
    for (i, t) in care.tablets.iter_mut().enumerate() {
        assert!(
            t.store.open_care_problems(Some(V1)).unwrap().is_empty(),
            "tablet {i}"
        );
        let record = t.store.care_record(&care.household, &care.person).unwrap();
        let problem = record
            .problems
            .iter()
            .find(|p| p.problem_id == problem_id)
            .unwrap();
        assert!(!problem.open, "tablet {i}");
        assert!(
            t.store.has_attachment(&photo).unwrap(),
            "tablet {i}: the evidence photo travels with the rectification"
        );
        assert_eq!(problem.history.len(), 3, "opened, assigned, rectified");
        assert!(record.set_aside.is_empty(), "{:?}", record.set_aside);
    }
}
