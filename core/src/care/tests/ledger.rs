//! The problem ledger, agreements, assessments and leader visits as the log makes them, and
//! what the merged log sets aside.

use automerge::AutoCommit;

use super::*;
use crate::care::{
    AgreementStatus, CareAgreement, CaregiverKind, DueState, ProblemArea, ProblemChange,
    Rectification, SelfCareActivities,
};
use crate::standards::SelfCareLevel;

fn opened(problem_id: &str) -> CareEvent {
    CareEvent::ProblemOpened {
        person_id: PERSON.into(),
        problem_id: problem_id.into(),
        area: ProblemArea::Heating,
        description: "炉子坏了".into(),
        evidence: vec![photo(1)],
    }
}

fn rectified(problem_id: &str, evidence: Vec<String>, action: &str) -> CareEvent {
    CareEvent::ProblemRectified {
        person_id: PERSON.into(),
        problem_id: problem_id.into(),
        rectification: Rectification {
            rectified_by: "村委会 李强".into(),
            rectified_on: d(2025, 1, 9),
            action: action.into(),
            evidence,
        },
    }
}

fn reopened(problem_id: &str) -> CareEvent {
    CareEvent::ProblemReopened {
        person_id: PERSON.into(),
        problem_id: problem_id.into(),
        reason: "又坏了".into(),
    }
}

#[test]
fn a_problem_closes_only_with_a_complete_rectification_and_reopening_keeps_its_history() {
    let mut doc = AutoCommit::new();
    let now = local_ten(d(2025, 1, 10));
    record(&mut doc, "w1", now, vec![opened("p1")]).unwrap();
    for incomplete in [
        rectified("p1", vec![], "换了新炉子"),
        rectified("p1", vec![photo(2)], " "),
    ] {
        let e = record(&mut doc, "w1", now, vec![incomplete]).unwrap_err();
        assert_eq!(codes(&e), vec!["care.rectification_incomplete"]);
        assert!(person(&doc).problems[0].open, "still open after a refusal");
    }
    let e = record(
        &mut doc,
        "w1",
        now,
        vec![rectified("p2", vec![photo(2)], "修好")],
    )
    .unwrap_err();
    assert_eq!(codes(&e), vec!["care.unknown_problem"]);
    let e = record(&mut doc, "w1", now, vec![reopened("p1")]).unwrap_err();
    assert_eq!(codes(&e), vec!["care.problem_open"]);

    record(
        &mut doc,
        "w1",
        now,
        vec![
            CareEvent::ProblemAssigned {
                person_id: PERSON.into(),
                problem_id: "p1".into(),
                assignee: "李强".into(),
                due_on: Some(d(2025, 1, 20)),
            },
            rectified("p1", vec![photo(2)], "换了新炉子"),
        ],
    )
    .unwrap();
    assert!(!person(&doc).problems[0].open);
    let e = record(
        &mut doc,
        "w1",
        now,
        vec![rectified("p1", vec![photo(3)], "again")],
    )
    .unwrap_err();
    assert_eq!(codes(&e), vec!["care.problem_closed"]);

    record(
        &mut doc,
        "w2",
        now,
        vec![reopened("p1"), rectified("p1", vec![photo(4)], "修烟囱")],
    )
    .unwrap();
    let problem = &person(&doc).problems[0];
    assert!(!problem.open);
    let steps: Vec<&str> = problem
        .history
        .iter()
        .map(|s| match &s.change {
            ProblemChange::Opened => "opened",
            ProblemChange::Assigned { .. } => "assigned",
            ProblemChange::Rectified(_) => "rectified",
            ProblemChange::Reopened { .. } => "reopened",
        })
        .collect();
    assert_eq!(
        steps,
        vec!["opened", "assigned", "rectified", "reopened", "rectified"]
    );
    assert_eq!(problem.assignee.as_deref(), Some("李强"));
}

#[test]
fn two_tablets_rectifying_the_same_problem_offline_keep_one_and_set_the_other_aside() {
    let mut a = AutoCommit::new();
    let now = local_ten(d(2025, 1, 10));
    record(&mut a, "w1", now, vec![opened("p1")]).unwrap();
    let mut b = a.fork();
    record(
        &mut a,
        "w1",
        now,
        vec![rectified("p1", vec![photo(2)], "A 修好")],
    )
    .unwrap();
    record(
        &mut b,
        "w2",
        now,
        vec![rectified("p1", vec![photo(3)], "B 修好")],
    )
    .unwrap();
    a.merge(&mut b).unwrap();
    b.merge(&mut a).unwrap();
    let (ra, rb) = (person(&a), person(&b));
    assert_eq!(ra, rb);
    assert!(!ra.problems[0].open);
    assert_eq!(ra.set_aside.len(), 1);
    assert_eq!(ra.set_aside[0].code, "care.problem_closed");
}

#[test]
fn reassessments_keep_their_history_and_the_latest_sets_the_level() {
    let mut doc = AutoCommit::new();
    let now = local_ten(d(2025, 6, 1));
    let all = SelfCareActivities {
        eating: true,
        dressing: true,
        getting_in_out_of_bed: true,
        toileting: true,
        walking_indoors: true,
        bathing: true,
    };
    let assessed = |on, activities| CareEvent::Assessed {
        person_id: PERSON.into(),
        on,
        activities,
    };
    let worse = SelfCareActivities {
        bathing: false,
        walking_indoors: false,
        toileting: false,
        dressing: false,
        ..all
    };
    // Recorded out of date order: the history is by assessment date.
    record(&mut doc, "w1", now, vec![assessed(d(2025, 5, 1), worse)]).unwrap();
    record(&mut doc, "w1", now, vec![assessed(d(2024, 5, 1), all)]).unwrap();
    let record_ = person(&doc);
    let levels: Vec<(NaiveDate, SelfCareLevel)> = record_
        .assessments
        .iter()
        .map(|a| (a.on, a.level))
        .collect();
    assert_eq!(
        levels,
        vec![
            (d(2024, 5, 1), SelfCareLevel::SelfCare),
            (d(2025, 5, 1), SelfCareLevel::CompleteLoss)
        ]
    );
    assert_eq!(record_.level(), Some(SelfCareLevel::CompleteLoss));
    let e = record(&mut doc, "w1", now, vec![assessed(d(2025, 6, 2), all)]).unwrap_err();
    assert_eq!(codes(&e), vec!["care.date_order"]);
}

#[test]
fn an_agreement_is_flagged_within_the_warning_window_before_it_ends() {
    let mut doc = AutoCommit::new();
    let agreement = |from, until| CareEvent::AgreementSigned {
        person_id: PERSON.into(),
        agreement: CareAgreement {
            caregiver_kind: CaregiverKind::Relative,
            caregiver_name: "王芳".into(),
            caregiver_phone: "13800000000".into(),
            care_content: "做饭、洗衣、打扫".into(),
            care_frequency: "每日".into(),
            subsidy_monthly_fen: 15_000,
            valid_from: from,
            valid_until: until,
        },
    };
    record(
        &mut doc,
        "w1",
        local_ten(d(2025, 1, 1)),
        vec![agreement(d(2025, 1, 1), d(2025, 12, 31))],
    )
    .unwrap();
    let policy = CarePolicy::default(); // 30 days
    let r = person(&doc);
    assert_eq!(
        r.agreement_status(&policy, d(2024, 12, 31)),
        AgreementStatus::None
    );
    assert_eq!(
        r.agreement_status(&policy, d(2025, 11, 30)),
        AgreementStatus::InForce {
            valid_until: d(2025, 12, 31)
        }
    );
    assert_eq!(
        r.agreement_status(&policy, d(2025, 12, 1)),
        AgreementStatus::Expiring {
            valid_until: d(2025, 12, 31),
            days_left: 30
        }
    );
    assert_eq!(
        r.agreement_status(&policy, d(2026, 1, 1)),
        AgreementStatus::Expired {
            ended_on: d(2025, 12, 31)
        }
    );
    // A renewal signed before the end is in force after it: no warning then.
    record(
        &mut doc,
        "w1",
        local_ten(d(2025, 12, 5)),
        vec![agreement(d(2026, 1, 1), d(2026, 12, 31))],
    )
    .unwrap();
    let r = person(&doc);
    assert_eq!(
        r.agreement_status(&policy, d(2026, 1, 1)),
        AgreementStatus::InForce {
            valid_until: d(2026, 12, 31)
        }
    );
}

#[test]
fn leader_visits_are_owed_per_period_from_the_assignment_while_in_care() {
    let mut doc = AutoCommit::new();
    let now = local_ten(d(2025, 3, 20));
    record(
        &mut doc,
        "w1",
        now,
        vec![
            enrolled(d(2025, 1, 1)),
            CareEvent::LeaderAssigned {
                person_id: PERSON.into(),
                leader_id: "leader-zhang".into(),
                leader_name: "张书记".into(),
                from: d(2025, 1, 10),
            },
            CareEvent::LeaderVisited {
                person_id: PERSON.into(),
                leader_id: "leader-zhang".into(),
                visited_on: d(2025, 2, 3),
                note: "身体好".into(),
                photos: vec![],
            },
        ],
    )
    .unwrap();
    let policy = CarePolicy::default(); // monthly
    let r = person(&doc);
    // January was not owed (assigned on the 10th); February was visited.
    assert_eq!(
        r.leader_visit_status(&policy, d(2025, 2, 1)).unwrap().state,
        DueState::Due
    );
    assert_eq!(
        r.leader_visit_status(&policy, d(2025, 3, 5)).unwrap().state,
        DueState::Due
    );
    let april = r.leader_visit_status(&policy, d(2025, 4, 2)).unwrap();
    assert_eq!(
        (april.state, april.overdue_since),
        (DueState::Overdue, Some(d(2025, 4, 1)))
    );
    assert!(r.leader_visit_status(&policy, d(2025, 1, 5)).is_none());
    // Leaving care ends the plan and the leader's duty.
    record(
        &mut doc,
        "w1",
        now,
        vec![CareEvent::Left {
            person_id: PERSON.into(),
            on: d(2025, 3, 25),
            reason: "入住敬老院".into(),
        }],
    )
    .unwrap();
    let r = person(&doc);
    assert!(r.leader_visit_status(&policy, d(2025, 4, 2)).is_none());
    assert!(r.task_status(&policy, d(2025, 4, 2)).is_empty());
    assert_eq!(r.task_status(&policy, d(2025, 3, 24)).len(), 4);
}
