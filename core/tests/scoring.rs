//! The "3+1" scoring sheet as data: the sample rubric, veto flags, thresholds and classes,
//! decision records that re-run exactly, and rubric versions that never change a past
//! decision.
#![allow(clippy::unwrap_used)]

mod forms_common;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use ruhu_core::forms::condition::Scalar;
use ruhu_core::forms::sample::home_visit_answers;
use ruhu_core::forms::{home_visit_template, Answers};
use ruhu_core::scoring::{sample_rubric, Decision, Outcome, Rubric, RubricCatalog};
use serde_json::{json, Value as Json};

/// Lanzhou 2022 rural dibao standard: 5268 yuan per person per year (domain.md §2), in fen.
const LANZHOU_RURAL_2022_FEN: i64 = 526_800;

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 5, 6).unwrap()
}

fn params(appraisal: &str) -> BTreeMap<String, Scalar> {
    [
        (
            "standard_fen".to_owned(),
            Scalar::Integer(LANZHOU_RURAL_2022_FEN),
        ),
        ("appraisal".to_owned(), Scalar::Text(appraisal.into())),
    ]
    .into_iter()
    .collect()
}

fn member(name: &str, relation: &str, labour: &str, health: &str) -> Json {
    json!({"name": name, "id_number": ruhu_core::resident_id::with_check_char("62010219800101123"),
           "relation": relation, "age": 44, "health": health, "disability_type": "none",
           "labour_ability": labour, "public_payroll": false})
}

/// A household of three worked through by hand in `worked_example_scores_as_computed_by_hand`.
fn worked_household() -> Json {
    let mut a = home_visit_answers(0);
    let o = a.as_object_mut().unwrap();
    for key in [
        "vehicle_kind",
        "vehicle_value_fen",
        "enterprise_name",
        "supporters",
    ] {
        o.remove(key);
    }
    for (k, v) in [
        (
            "members",
            json!([
                member("张三", "head", "full", "healthy"),
                member("李四", "spouse", "none", "serious_illness"),
                member("张小", "child", "partial", "healthy")
            ]),
        ),
        ("income_wages_fen", json!(600_000)),
        ("income_business_net_fen", json!(300_000)),
        ("income_property_net_fen", json!(0)),
        ("income_transfer_net_fen", json!(180_000)),
        ("deposits_fen", json!(200_000)),
        ("securities_fen", json!(0)),
        ("has_vehicle", json!(false)),
        ("housing_type", json!("dilapidated")),
        ("owns_commercial_housing", json!(false)),
        ("livestock_value_fen", json!(300_000)),
        ("machinery_value_fen", json!(100_000)),
        ("has_enterprise", json!(false)),
        ("has_supporters", json!(false)),
        ("spending_illness_fen", json!(400_000)),
        ("spending_schooling_fen", json!(100_000)),
    ] {
        o.insert(k.into(), v);
    }
    a
}

fn score(answers: &Json, appraisal: &str) -> Decision {
    let answers = home_visit_template()
        .unwrap()
        .validate_json(answers, day())
        .unwrap();
    sample_rubric()
        .unwrap()
        .score(&answers, &params(appraisal))
        .unwrap()
}

fn points(d: &Decision) -> Vec<(&str, i64)> {
    d.parts
        .iter()
        .flat_map(|p| p.items.iter().map(|i| (i.id.as_str(), i.points)))
        .collect()
}

#[test]
fn the_sample_rubric_is_labelled_a_sample_and_fits_the_template() {
    let r = sample_rubric().unwrap();
    let d = r.definition();
    assert!(d.sample);
    assert!(d.notice.as_ref().unwrap().en.starts_with("SAMPLE"));
    assert!(d.title.zh.contains("示例"));
    let parts: Vec<&str> = d.parts.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        parts,
        ["income", "property", "labour_health_spending", "appraisal"]
    );
    let vetoes: Vec<&str> = d.vetoes.iter().map(|v| v.id.as_str()).collect();
    assert_eq!(
        vetoes,
        [
            "consumer_vehicle",
            "commercial_housing",
            "enterprise",
            "public_payroll",
            "savings"
        ]
    );
    r.check_template(home_visit_template().unwrap()).unwrap();
}

#[test]
fn worked_example_scores_as_computed_by_hand() {
    // Income: (6000 + 3000 + 0 + 1800 yuan) / 3 = 3600 yuan a head = 68 % of 5268 → 24.
    // Property: savings 2000 / 3 = 666 yuan a head = 12 % → 10; dilapidated house 8;
    //   no vehicle 4; livestock and machinery 4000 yuan → 3.
    // Labour, health, spending: 1 of 3 able to work = 33 % → 7; one seriously ill → 5;
    //   rigid spending 5000 / 10800 = 46 % → 5.   +1: appraisal passed → 10.
    let d = score(&worked_household(), "passed");
    assert_eq!(
        points(&d),
        vec![
            ("per_capita_income", 24),
            ("per_capita_savings", 10),
            ("housing", 8),
            ("vehicle", 4),
            ("productive_assets", 3),
            ("able_to_work_share", 7),
            ("serious_illness_or_disability", 5),
            ("rigid_spending_share", 5),
            ("appraisal_result", 10)
        ]
    );
    let part_points: Vec<i64> = d.parts.iter().map(|p| p.points).collect();
    assert_eq!(part_points, [24, 25, 17, 10]);
    assert_eq!(d.parts[0].items[0].value, Some(Scalar::Integer(68)));
    assert_eq!(
        (d.total, d.outcome, d.class),
        (76, Outcome::Eligible, Some(2))
    );
    assert!(!d.needs_verification && d.flags.is_empty());
    // Before the village review: 66 → still eligible, class 4.
    let d = score(&worked_household(), "not_held");
    assert_eq!(
        (d.total, d.outcome, d.class),
        (66, Outcome::Eligible, Some(4))
    );
}

#[test]
fn thresholds_map_the_total_to_outcome_and_class() {
    let mut a = worked_household();
    a["income_wages_fen"] = json!(1_000_000); // 4400 yuan a head = 83 % → 14 points
    let d = score(&a, "not_held");
    assert_eq!(
        (d.total, d.outcome, d.class),
        (56, Outcome::NeedsDemocraticAppraisal, None)
    );
    // 18267 yuan a head → 0; a self-built house → 2 (property 19); rigid spending is now
    // 9 % of income → 0 (part 3: 12); objection → 0.
    a["income_wages_fen"] = json!(5_000_000);
    a["housing_type"] = json!("self_built");
    let d = score(&a, "objection");
    assert_eq!(
        (d.total, d.outcome, d.class),
        (31, Outcome::NotEligible, None)
    );
    let mut a = worked_household();
    // 1600 yuan a head = 30 % → 40; rigid spending is now 104 % of income → 7.
    a["income_wages_fen"] = json!(0);
    let d = score(&a, "passed");
    assert_eq!(
        (d.total, d.outcome, d.class),
        (94, Outcome::Eligible, Some(1))
    );
}

#[test]
fn veto_items_raise_a_verification_flag_and_do_not_exclude() {
    let mut a = worked_household();
    a["has_vehicle"] = json!(true);
    a["vehicle_kind"] = json!("consumer");
    a["vehicle_value_fen"] = json!(3_500_000);
    a["owns_commercial_housing"] = json!(true);
    a["members"][2]["public_payroll"] = json!(true);
    a["deposits_fen"] = json!(3_000_001);
    let d = score(&a, "passed");
    assert_eq!(
        d.flags,
        [
            "consumer_vehicle",
            "commercial_housing",
            "public_payroll",
            "savings"
        ]
    );
    assert!(d.needs_verification);
    // Scored on the economics alone: still eligible, flagged for verification.
    assert_eq!(d.outcome, Outcome::Eligible);
    // At exactly 30,000 yuan neither the car nor the savings raise a flag.
    a["vehicle_value_fen"] = json!(3_000_000);
    a["deposits_fen"] = json!(3_000_000);
    assert_eq!(
        score(&a, "passed").flags,
        ["commercial_housing", "public_payroll"]
    );
    a["has_enterprise"] = json!(true);
    a["enterprise_name"] = json!("合作社");
    assert!(score(&a, "passed").flags.contains(&"enterprise".to_owned()));
}

#[test]
fn a_decision_records_rubric_inputs_and_every_intermediate_score() {
    let d = score(&worked_household(), "passed");
    let r = sample_rubric().unwrap();
    assert_eq!(&d.rubric, r.reference());
    // Only what the rubric reads is stored; roster rows keep only the columns it reads.
    assert!(d.inputs.answers.get("reason").is_none());
    assert!(d.inputs.answers.get("income_wages_fen").is_some());
    let rows = d.inputs.answers.get("members").unwrap().as_rows().unwrap();
    assert_eq!(rows.len(), 3);
    let columns: Vec<&str> = rows[0].keys().map(String::as_str).collect();
    assert_eq!(columns, ["health", "labour_ability", "public_payroll"]);
    assert!(!rows[0].contains_key("name") && !rows[0].contains_key("id_number"));
    assert_eq!(d.inputs.params, params("passed"));
    assert_eq!(d.parts.iter().map(|p| p.items.len()).sum::<usize>(), 9);
}

#[test]
fn re_running_a_decision_on_its_stored_inputs_reproduces_it_exactly() {
    let r = sample_rubric().unwrap();
    let t = home_visit_template().unwrap();
    for seed in 0..300 {
        let answers = t.validate_json(&home_visit_answers(seed), day()).unwrap();
        let appraisal = ["passed", "objection", "not_held"][seed as usize % 3];
        let d = r.score(&answers, &params(appraisal)).unwrap();
        // Through the sealed scoring block and back.
        let block = d.to_scoring_block().unwrap();
        let stored = Decision::from_scoring_block(&block).unwrap();
        assert_eq!(stored, d);
        assert_eq!(r.rescore(&stored).unwrap(), d, "seed {seed}");
        r.verify(&stored).unwrap();
    }
    let mut tampered = score(&worked_household(), "passed");
    tampered.total += 1;
    assert_eq!(
        r.verify(&tampered).unwrap_err().field_errors()[0].code,
        "scoring.not_reproducible"
    );
    let mut tampered = score(&worked_household(), "passed");
    tampered.inputs.answers.set(
        "income_wages_fen",
        ruhu_core::forms::AnswerValue::Integer(0),
    );
    assert!(r.verify(&tampered).is_err());
}

/// Version 2 of the sample: a stricter income band and a higher eligibility line.
fn version_2() -> Rubric {
    let mut def = sample_rubric().unwrap().definition().clone();
    def.version = 2;
    def.parts[0].items[0].bands.as_mut().unwrap()[2].points = 20;
    def.outcomes[0].at_least = 70;
    Rubric::from_definition(def).unwrap()
}

#[test]
fn publishing_a_new_rubric_version_never_changes_a_past_decision() {
    let v1 = sample_rubric().unwrap();
    let past = score(&worked_household(), "not_held");
    let block = past.to_scoring_block().unwrap();
    let mut catalog = RubricCatalog::default();
    catalog.publish(v1.clone()).unwrap();
    catalog.publish(version_2()).unwrap();
    assert_eq!(
        catalog.latest("sample-3plus1").unwrap().reference().version,
        2
    );
    // The same household scored today under v2 comes out differently...
    let answers = Answers::from_json(&worked_household()).unwrap();
    let today = catalog
        .latest("sample-3plus1")
        .unwrap()
        .score(&answers, &params("not_held"))
        .unwrap();
    assert_eq!(
        (today.total, today.outcome),
        (62, Outcome::NeedsDemocraticAppraisal)
    );
    // ...while the past decision re-runs with the version it names, unchanged.
    let stored = Decision::from_scoring_block(&block).unwrap();
    assert_eq!(catalog.rescore(&stored).unwrap(), past);
    catalog.verify(&stored).unwrap();
    assert_eq!(
        (past.total, past.outcome, past.class),
        (66, Outcome::Eligible, Some(4))
    );
    // v2 refuses to re-run a v1 decision; a forged hash is refused; republishing v1 as is
    // is a no-op, and another definition as v1 is refused.
    assert_eq!(
        version_2().rescore(&stored).unwrap_err().field_errors()[0].code,
        "scoring.rubric_mismatch"
    );
    let mut forged = stored.clone();
    forged.rubric.hash = version_2().reference().hash;
    assert_eq!(
        catalog.verify(&forged).unwrap_err().field_errors()[0].code,
        "scoring.rubric_hash"
    );
    catalog.publish(v1.clone()).unwrap();
    let mut other = v1.definition().clone();
    other.title.en = "changed".into();
    let err = catalog
        .publish(Rubric::from_definition(other).unwrap())
        .unwrap_err();
    assert_eq!(err.field_errors()[0].code, "scoring.version_taken");
}

#[test]
fn the_scoring_block_is_sealed_and_signed_with_the_visit() {
    use ruhu_core::visit::content::parse_content;
    let t = home_visit_template().unwrap();
    let answers = Answers::from_json(&worked_household()).unwrap();
    let d = score(&worked_household(), "passed");
    let flat = t.flatten(&answers).unwrap();
    let content = forms_common::sealed(
        t.reference().clone(),
        flat,
        Some(d.to_scoring_block().unwrap()),
    );
    let (bytes, hash) = content.to_bytes().unwrap();
    let parsed = parse_content(&bytes).unwrap();
    let stored = Decision::from_scoring_block(parsed.scoring.as_ref().unwrap()).unwrap();
    sample_rubric().unwrap().verify(&stored).unwrap();
    // The decision is inside the signed bytes: changing it changes the content hash.
    let mut changed = content.clone();
    let mut other = d.clone();
    other.class = Some(1);
    changed.scoring = Some(other.to_scoring_block().unwrap());
    assert_ne!(changed.to_bytes().unwrap().1, hash);
    // The stored inputs agree with the sealed answers they were taken from.
    let sealed_answers = t.unflatten(&parsed.answers).unwrap();
    assert_eq!(
        sealed_answers.get("income_wages_fen"),
        stored.inputs.answers.get("income_wages_fen")
    );
    assert!(Decision::from_scoring_block(&json!({"format": 2})).is_err());
}

#[test]
fn parameters_are_checked() {
    let r = sample_rubric().unwrap();
    let answers = Answers::from_json(&worked_household()).unwrap();
    let mut p = params("passed");
    p.remove("standard_fen");
    p.insert("bonus".into(), Scalar::Integer(1));
    p.insert("appraisal".into(), Scalar::Text("maybe".into()));
    let err = r.score(&answers, &p).unwrap_err();
    let found: Vec<(&str, &str)> = err
        .field_errors()
        .iter()
        .map(|e| (e.field.as_str(), e.code))
        .collect();
    assert_eq!(
        found,
        [
            ("params.standard_fen", "scoring.param_missing"),
            ("params.appraisal", "scoring.param_type"),
            ("params.bonus", "scoring.param_unknown")
        ]
    );
    let mut p = params("passed");
    p.insert("standard_fen".into(), Scalar::Integer(0));
    assert_eq!(
        r.score(&answers, &p).unwrap_err().field_errors()[0].code,
        "scoring.param_range"
    );
    // An answer of the wrong type where a number is read is named.
    let mut bad = answers.clone();
    bad.set(
        "income_wages_fen",
        ruhu_core::forms::AnswerValue::Text("many".into()),
    );
    let e = r.score(&bad, &params("passed")).unwrap_err();
    assert_eq!(e.field_errors()[0].code, "scoring.not_a_number");
    assert_eq!(e.field_errors()[0].params["question"], "income_wages_fen");
}

#[test]
fn malformed_rubrics_are_refused_with_the_place_named() {
    let base: Json =
        serde_json::from_str(ruhu_core::scoring::builtin::SAMPLE_RUBRIC_V1_JSON).unwrap();
    // (JSON pointer, new value or None to remove, the code expected)
    let cases = [
        (
            "/parts/0/items/0/bands/1/at_most",
            Some(json!(10)),
            "scoring.bands",
        ),
        (
            "/outcomes/1/at_least",
            Some(json!(99)),
            "scoring.thresholds",
        ),
        ("/classes/1/class", Some(json!(1)), "scoring.classes"),
        ("/notice", None, "scoring.sample_notice"),
        (
            "/parts/3/items/0/choice",
            Some(json!({"param": "nope"})),
            "scoring.unknown_parameter",
        ),
        (
            "/parts/1/items/1/id",
            Some(json!("per_capita_savings")),
            "scoring.id",
        ),
        (
            "/parts/0/items/0/otherwise",
            Some(json!("x")),
            "scoring.rubric_schema",
        ),
        (
            "/parts/0/items/0/value",
            Some(json!({"sum": []})),
            "scoring.rubric_schema",
        ),
    ];
    for (pointer, value, code) in cases {
        let mut r = base.clone();
        match value {
            Some(v) => *r.pointer_mut(pointer).unwrap() = v,
            None => {
                r.as_object_mut().unwrap().remove(&pointer[1..]);
            }
        }
        let err = Rubric::from_json_bytes(r.to_string().as_bytes()).unwrap_err();
        assert!(
            err.field_errors().iter().any(|e| e.code == code),
            "{code}: {err}"
        );
    }
}
