//! The life of a case as a pure state machine: every transition and every refusal.
#![allow(clippy::unwrap_used)]

mod cases_common;

use cases_common::*;

#[test]
fn a_case_runs_from_application_through_publicity_decision_review_and_gradual_exit_to_exit() {
    let mut r = Run::new();
    let mut c = r.open(at(2024, 9, 2));
    assert_eq!((c.stage, c.applied_on), (CaseStage::Applied, d(2024, 9, 2)));
    r.ok(
        &mut c,
        at(2024, 9, 2),
        accept(&["户口簿复印件", "收入证明"]),
    );
    assert_eq!(c.missing_materials, vec!["户口簿复印件", "收入证明"]);
    r.ok(
        &mut c,
        at(2024, 9, 3),
        CaseEvent::SupplyMaterials {
            items: vec!["收入证明".into()],
        },
    );
    assert_eq!(c.missing_materials, vec!["户口簿复印件"]);
    r.ok(&mut c, at(2024, 9, 4), CaseEvent::StartInvestigation);
    r.ok(
        &mut c,
        at(2024, 9, 5),
        CaseEvent::CompleteInvestigation {
            visit_id: Some("v1".into()),
        },
    );
    assert_eq!(c.stage, CaseStage::TownshipReview);
    r.ok(&mut c, at(2024, 9, 6), opinion(true));
    assert_eq!(
        (c.stage, c.publicity_posted_on),
        (CaseStage::Publicity, Some(d(2024, 9, 6)))
    );
    r.ok(&mut c, at(2024, 9, 14), CaseEvent::EndPublicity);
    assert_eq!(
        (c.stage, c.county_received_on),
        (CaseStage::CountyReview, Some(d(2024, 9, 14)))
    );
    r.ok(&mut c, at(2024, 9, 20), decision(true, true));
    assert_eq!(c.stage, CaseStage::Receiving);
    assert_eq!(c.benefit_start, Some(d(2024, 10, 1))); // the next month
    assert_eq!(c.next_review, Some(d(2025, 10, 1))); // stable income: 12 months
    assert_eq!(
        c.working_days_used(d(2025, 1, 1), &r.ctx()).unwrap(),
        Some(13)
    );
    r.ok(
        &mut c,
        at(2025, 9, 20),
        CaseEvent::Review {
            income_stable: false,
            benefit: None,
        },
    );
    assert_eq!(c.next_review, Some(d(2026, 3, 20))); // unstable: 6 months
    r.ok(
        &mut c,
        at(2025, 10, 9),
        CaseEvent::StartGradualExit {
            cause: ExitCause::Employment,
            months: 6,
        },
    );
    assert_eq!(c.stage, CaseStage::GradualExit);
    assert_eq!(c.gradual_exit.unwrap().ends_on, d(2026, 4, 9));
    r.ok(
        &mut c,
        at(2026, 4, 1),
        CaseEvent::Exit {
            cause: ExitCause::Employment,
        },
    );
    assert_eq!(
        (c.stage, c.exit),
        (
            CaseStage::Exited,
            Some((ExitCause::Employment, d(2026, 4, 1)))
        )
    );
    // Every transition records who and when.
    let kinds: Vec<&str> = c.history.iter().map(|t| t.kind).collect();
    assert_eq!(kinds.len(), 11);
    assert_eq!(kinds[0], "apply");
    assert!(c.history.iter().all(|t| t.by.starts_with("worker-")));
    assert_eq!(c.history[4].from, Some(CaseStage::Investigation));
    assert_eq!(c.history[4].to, CaseStage::TownshipReview);
    assert_eq!(c.history[4].at, at(2024, 9, 5));
    // A closed case takes nothing more.
    assert_eq!(
        r.apply(
            &mut c,
            at(2026, 5, 1),
            CaseEvent::Review {
                income_stable: true,
                benefit: None
            }
        ),
        not_allowed(CaseStage::Exited, "review")
    );
}

#[test]
fn events_out_of_stage_are_refused_naming_the_stage_and_the_event() {
    let mut r = Run::new();
    let mut c = r.open(at(2024, 9, 2));
    let before = c.clone();
    assert_eq!(
        r.apply(&mut c, at(2024, 9, 2), CaseEvent::StartInvestigation),
        not_allowed(CaseStage::Applied, "start_investigation")
    );
    assert_eq!(
        r.apply(&mut c, at(2024, 9, 2), CaseEvent::EndPublicity),
        not_allowed(CaseStage::Applied, "end_publicity")
    );
    assert_eq!(
        r.apply(&mut c, at(2024, 9, 2), decision(true, true)),
        not_allowed(CaseStage::Applied, "county_decision")
    );
    assert_eq!(
        r.apply(
            &mut c,
            at(2024, 9, 2),
            CaseEvent::Exit {
                cause: ExitCause::Death
            }
        ),
        not_allowed(CaseStage::Applied, "exit")
    );
    assert_eq!(
        r.apply(
            &mut c,
            at(2024, 9, 2),
            CaseEvent::Apply {
                program: Program::RuralDibao
            }
        ),
        Err(CaseError::AlreadyOpen)
    );
    assert_eq!(c, before, "a refused event changes nothing");
    // As a core error: a validation error naming stage and event.
    let e: ruhu_core::Error = CaseError::NotAllowed {
        stage: CaseStage::Applied,
        event: "end_publicity",
    }
    .into();
    let f = &e.field_errors()[0];
    assert_eq!(
        (f.field.as_str(), f.code),
        ("event", "case.transition_not_allowed")
    );
    assert_eq!(
        (f.params["stage"].as_str(), f.params["event"].as_str()),
        ("applied", "end_publicity")
    );
    // Only an application opens a case.
    let start = r.rec(at(2024, 9, 2), CaseEvent::StartInvestigation);
    assert_eq!(
        Case::open(&start, &r.ctx()),
        Err(CaseError::NoCase {
            event: "start_investigation"
        })
    );
    // An event earlier than the latest one is refused.
    let mut c = r.accepted(at(2024, 9, 3));
    assert!(matches!(
        r.apply(&mut c, at(2024, 9, 2), CaseEvent::StartInvestigation),
        Err(CaseError::BeforeLatest { .. })
    ));
    // Bad payloads name the field.
    assert_eq!(
        r.apply(
            &mut c,
            at(2024, 9, 3),
            CaseEvent::SupplyMaterials {
                items: vec![" ".into()]
            }
        ),
        Err(CaseError::InvalidField {
            field: "items",
            reason: "must not be empty"
        })
    );
}

#[test]
fn an_objection_leads_to_reinvestigation_or_to_a_democratic_appraisal() {
    let mut r = Run::new();
    let mut c = r.accepted(at(2024, 9, 2));
    r.ok(&mut c, at(2024, 9, 3), CaseEvent::StartInvestigation);
    r.ok(
        &mut c,
        at(2024, 9, 3),
        CaseEvent::CompleteInvestigation { visit_id: None },
    );
    r.ok(&mut c, at(2024, 9, 4), opinion(true));
    let objection = |resolution| CaseEvent::Objection {
        note: "村民反映有车辆".into(),
        resolution,
    };
    r.ok(
        &mut c,
        at(2024, 9, 5),
        objection(ObjectionResolution::Reinvestigation),
    );
    assert_eq!(c.stage, CaseStage::Investigation);
    r.ok(
        &mut c,
        at(2024, 9, 6),
        CaseEvent::CompleteInvestigation { visit_id: None },
    );
    r.ok(&mut c, at(2024, 9, 6), opinion(true));
    r.ok(
        &mut c,
        at(2024, 9, 9),
        objection(ObjectionResolution::DemocraticAppraisal),
    );
    assert_eq!(c.stage, CaseStage::DemocraticAppraisal);
    assert_eq!(
        r.apply(&mut c, at(2024, 9, 9), CaseEvent::EndPublicity),
        not_allowed(CaseStage::DemocraticAppraisal, "end_publicity")
    );
    r.ok(
        &mut c,
        at(2024, 9, 10),
        CaseEvent::RecordAppraisal {
            note: "评议通过".into(),
        },
    );
    assert_eq!(c.stage, CaseStage::TownshipReview);
    r.ok(&mut c, at(2024, 9, 11), opinion(true));
    // A new round of publicity starts from the new posting day.
    assert_eq!(c.publicity_posted_on, Some(d(2024, 9, 11)));
    assert_eq!(
        r.apply(
            &mut c,
            at(2024, 9, 11),
            objection(ObjectionResolution::Reinvestigation).clone()
        )
        .map(|_| c.stage),
        Ok(CaseStage::Investigation)
    );
}

#[test]
fn publicity_lasts_seven_days_after_posting_and_cannot_end_early() {
    let mut r = Run::new();
    let mut c = r.accepted(at(2024, 9, 2));
    r.ok(&mut c, at(2024, 9, 3), CaseEvent::StartInvestigation);
    r.ok(
        &mut c,
        at(2024, 9, 3),
        CaseEvent::CompleteInvestigation { visit_id: None },
    );
    r.ok(&mut c, at(2024, 9, 30), opinion(true)); // posted Monday 30 September
    assert_eq!(
        c.publicity_last_day(&r.ctx()).unwrap(),
        Some(d(2024, 10, 7))
    );
    let last_minute = Utc.with_ymd_and_hms(2024, 10, 7, 15, 59, 59).unwrap(); // 23:59:59 local
    assert_eq!(
        r.apply(&mut c, last_minute, CaseEvent::EndPublicity),
        Err(CaseError::PublicityNotOver {
            last_day: d(2024, 10, 7)
        })
    );
    let midnight = Utc.with_ymd_and_hms(2024, 10, 7, 16, 0, 0).unwrap(); // 00:00 on 8 October
    r.ok(&mut c, midnight, CaseEvent::EndPublicity);
    assert_eq!(c.county_received_on, Some(d(2024, 10, 8)));
}

#[test]
fn publicity_counted_in_working_days_skips_the_national_day_week() {
    let mut r = Run::with(CasePolicy {
        publicity_in_working_days: true,
        ..CasePolicy::default()
    });
    let mut c = r.accepted(at(2024, 9, 2));
    r.ok(&mut c, at(2024, 9, 3), CaseEvent::StartInvestigation);
    r.ok(
        &mut c,
        at(2024, 9, 3),
        CaseEvent::CompleteInvestigation { visit_id: None },
    );
    r.ok(&mut c, at(2024, 9, 30), opinion(true));
    // 8, 9, 10, 11, 12 (调休 Saturday), 14, 15 October.
    assert_eq!(
        c.publicity_last_day(&r.ctx()).unwrap(),
        Some(d(2024, 10, 15))
    );
}

#[test]
fn a_township_opinion_of_not_eligible_goes_to_the_county_which_may_reject() {
    let mut r = Run::new();
    let mut c = r.at_county(at(2024, 9, 2));
    assert_eq!(
        (c.stage, c.publicity_posted_on),
        (CaseStage::CountyReview, None)
    );
    r.ok(&mut c, at(2024, 9, 3), decision(false, true));
    assert_eq!(
        (c.stage, c.decided_on, c.benefit.clone()),
        (CaseStage::Rejected, Some(d(2024, 9, 3)), None)
    );
    assert!(c.duties(&r.ctx()).unwrap().is_empty());
    // An approval needs the benefit; a refusal needs a reason.
    let mut c = r.at_county(at(2024, 9, 2));
    let no_benefit = CaseEvent::CountyDecision {
        approved: true,
        benefit: None,
        income_stable: true,
        reason: String::new(),
    };
    assert_eq!(
        r.apply(&mut c, at(2024, 9, 3), no_benefit),
        Err(CaseError::InvalidField {
            field: "benefit",
            reason: "required"
        })
    );
    let no_reason = CaseEvent::CountyDecision {
        approved: false,
        benefit: None,
        income_stable: true,
        reason: " ".into(),
    };
    assert_eq!(
        r.apply(&mut c, at(2024, 9, 3), no_reason),
        Err(CaseError::InvalidField {
            field: "reason",
            reason: "must not be empty"
        })
    );
}

#[test]
fn an_applicant_may_withdraw_before_the_decision_only() {
    let mut r = Run::new();
    let mut c = r.accepted(at(2024, 9, 2));
    r.ok(
        &mut c,
        at(2024, 9, 3),
        CaseEvent::Withdraw {
            reason: "外出务工".into(),
        },
    );
    assert_eq!(c.stage, CaseStage::Withdrawn);
    let mut c = r.receiving(at(2024, 9, 2), true);
    assert_eq!(
        r.apply(
            &mut c,
            at(2024, 9, 3),
            CaseEvent::Withdraw {
                reason: String::new()
            }
        ),
        not_allowed(CaseStage::Receiving, "withdraw")
    );
    assert_eq!(
        r.apply(
            &mut c,
            at(2024, 9, 3),
            CaseEvent::MarkSpecial { reason: "x".into() }
        ),
        not_allowed(CaseStage::Receiving, "mark_special")
    );
}

#[test]
fn gradual_exit_lengths_follow_the_policy_and_death_voluntary_exit_and_concealment_get_none() {
    let mut r = Run::new();
    let mut c = r.receiving(at(2024, 9, 2), true);
    let start = |cause, months| CaseEvent::StartGradualExit { cause, months };
    assert_eq!(
        r.apply(&mut c, at(2024, 12, 2), start(ExitCause::Employment, 7)),
        Err(CaseError::GradualExitLength {
            cause: ExitCause::Employment,
            months: 7,
            min: 1,
            max: 6
        })
    );
    assert_eq!(
        r.apply(
            &mut c,
            at(2024, 12, 2),
            start(ExitCause::IndustrySupport, 5)
        ),
        Err(CaseError::GradualExitLength {
            cause: ExitCause::IndustrySupport,
            months: 5,
            min: 6,
            max: 12
        })
    );
    for cause in [
        ExitCause::Death,
        ExitCause::Voluntary,
        ExitCause::Concealment,
        ExitCause::NoLongerEligible,
    ] {
        assert_eq!(
            r.apply(&mut c, at(2024, 12, 2), start(cause, 3)),
            Err(CaseError::NoGradualExit { cause })
        );
    }
    assert_eq!(c.stage, CaseStage::Receiving);
    r.ok(
        &mut c,
        at(2024, 12, 2),
        start(ExitCause::IndustrySupport, 12),
    );
    assert_eq!(c.gradual_exit.unwrap().ends_on, d(2025, 12, 2));
    // A review in the last month may find the household still in need.
    r.ok(
        &mut c,
        at(2025, 11, 10),
        CaseEvent::Review {
            income_stable: false,
            benefit: None,
        },
    );
    assert_eq!((c.stage, c.gradual_exit), (CaseStage::Receiving, None));
    // Concealment ends the benefit at once, also during a gradual exit.
    r.ok(&mut c, at(2025, 11, 11), start(ExitCause::Employment, 6));
    r.ok(
        &mut c,
        at(2025, 11, 12),
        CaseEvent::Exit {
            cause: ExitCause::Concealment,
        },
    );
    assert_eq!(c.exit, Some((ExitCause::Concealment, d(2025, 11, 12))));
    // A county that allows 9 months after employment is configuration, not code.
    let mut r = Run::with(CasePolicy {
        gradual_exit_employment_max_months: 9,
        ..CasePolicy::default()
    });
    let mut c = r.receiving(at(2024, 9, 2), true);
    r.ok(&mut c, at(2024, 12, 2), start(ExitCause::Employment, 9));
}
