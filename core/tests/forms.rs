//! Form templates as data: the default home-visit template, validation with field-level
//! errors, skip logic, the flat encoding of sealed records, and template versions.
#![allow(clippy::unwrap_used)]

mod forms_common;

use chrono::NaiveDate;
use ruhu_core::forms::sample::home_visit_answers;
use ruhu_core::forms::{home_visit_template, AnswerErrors, Answers, FormTemplate, TemplateCatalog};
use serde_json::{json, Value as Json};

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 5, 6).unwrap()
}

fn errors(t: &FormTemplate, answers: &Json) -> AnswerErrors {
    t.validate_json(answers, day()).unwrap_err()
}

fn codes_at(e: &AnswerErrors) -> Vec<(String, &'static str)> {
    e.0.iter().map(|e| (e.path(), e.code)).collect()
}

#[test]
fn the_default_template_loads_and_sample_forms_are_valid() {
    let t = home_visit_template().unwrap();
    assert_eq!(t.reference().id, "home-visit");
    assert_eq!(t.reference().version, 1);
    for seed in 0..300 {
        let answers = home_visit_answers(seed);
        if let Err(e) = t.validate_json(&answers, day()) {
            panic!("seed {seed}: {e}");
        }
    }
}

#[test]
fn the_default_template_covers_every_item_of_the_visit_record() {
    let t = home_visit_template().unwrap();
    for id in [
        "members",
        "income_wages_fen",
        "income_business_net_fen",
        "income_property_net_fen",
        "income_transfer_net_fen",
        "deposits_fen",
        "securities_fen",
        "vehicle_value_fen",
        "housing_type",
        "housing_area_m2",
        "livestock",
        "machinery_value_fen",
        "has_enterprise",
        "spending_illness_fen",
        "spending_schooling_fen",
        "living_food",
        "living_clothing",
        "living_housing",
        "living_daily_goods",
        "hardship_causes",
        "supporters",
        "conclusion",
        "reason",
        "visit_place",
        "visit_date",
        "visit_gps",
        "household_signature",
        "visit_mode",
        "emergency_reason",
    ] {
        assert!(t.has_question(id), "{id}");
    }
    let member = &t.definition().sections[1].questions[0];
    let subs: Vec<&str> = member
        .questions
        .as_ref()
        .unwrap()
        .iter()
        .map(|q| q.id.as_str())
        .collect();
    for id in [
        "name",
        "id_number",
        "relation",
        "age",
        "health",
        "disability_type",
        "disability_grade",
        "labour_ability",
        "occupation",
        "income_fen",
    ] {
        assert!(subs.contains(&id), "{id}");
    }
}

#[test]
fn errors_name_the_question_the_row_and_why_in_both_languages() {
    let t = home_visit_template().unwrap();
    let mut a = home_visit_answers(7);
    a["members"][0]["id_number"] = json!("110105194912310021");
    a["members"][0]["age"] = json!(200);
    a["income_wages_fen"] = json!(-5);
    a["living_food"] = json!("plenty");
    a.as_object_mut().unwrap().remove("reason");
    a["nonsense"] = json!(1);
    let e = errors(t, &a);
    let found = codes_at(&e);
    for expected in [
        ("members[0].id_number", "resident_id.check_digit"),
        ("members[0].age", "form.integer_range"),
        ("income_wages_fen", "form.money_range"),
        ("living_food", "form.choice_unknown"),
        ("reason", "form.required"),
        ("nonsense", "form.unknown_question"),
    ] {
        assert!(
            found.contains(&(expected.0.to_owned(), expected.1)),
            "{expected:?} in {found:?}"
        );
    }
    let id_error =
        e.0.iter()
            .find(|e| e.code == "resident_id.check_digit")
            .unwrap();
    assert_eq!(id_error.row, Some(("members".to_owned(), 0)));
    assert_eq!(id_error.params["expected"], "X");
    assert_eq!(
        id_error.message_zh,
        "第 1 行「身份证号」：身份证号校验码应为 X"
    );
    assert_eq!(
        id_error.message_en,
        "members row 1, resident ID number: the ID number's check character should be X"
    );
    let as_core: ruhu_core::Error = e.into();
    assert_eq!(as_core.code(), "validation");
    assert!(as_core
        .field_errors()
        .iter()
        .any(|f| f.field == "members[0].age"));
}

#[test]
fn skip_logic_requires_relevant_and_reports_skipped_answers() {
    let t = home_visit_template().unwrap();
    let mut a = home_visit_answers(1);
    a["has_vehicle"] = json!(true);
    a.as_object_mut().unwrap().remove("vehicle_kind");
    a.as_object_mut().unwrap().remove("vehicle_value_fen");
    let found = codes_at(&errors(t, &a));
    assert!(
        found.contains(&("vehicle_kind".into(), "form.required")),
        "{found:?}"
    );
    assert!(found.contains(&("vehicle_value_fen".into(), "form.required")));

    let mut a = home_visit_answers(1);
    a["has_vehicle"] = json!(false);
    a["vehicle_value_fen"] = json!(100);
    a.as_object_mut().unwrap().remove("vehicle_kind");
    assert_eq!(
        codes_at(&errors(t, &a)),
        vec![("vehicle_value_fen".into(), "form.not_relevant")]
    );

    // Inside a roster row: the grade is asked only when there is a disability.
    let mut a = home_visit_answers(1);
    a["members"][0]["disability_type"] = json!("none");
    a["members"][0]["disability_grade"] = json!("grade_1");
    assert_eq!(
        codes_at(&errors(t, &a)),
        vec![("members[0].disability_grade".into(), "form.not_relevant")]
    );
    a["members"][0]["disability_type"] = json!("visual");
    assert!(t.validate_json(&a, day()).is_ok());
    a["members"][0]
        .as_object_mut()
        .unwrap()
        .remove("disability_grade");
    assert_eq!(
        codes_at(&errors(t, &a)),
        vec![("members[0].disability_grade".into(), "form.required")]
    );
}

#[test]
fn an_emergency_remote_visit_needs_a_reason_and_no_signature_image() {
    let t = home_visit_template().unwrap();
    let mut a = home_visit_answers(3);
    a["visit_mode"] = json!("video");
    for key in [
        "visit_gps",
        "household_photo",
        "member_present_name",
        "household_signature",
    ] {
        a.as_object_mut().unwrap().remove(key);
    }
    assert_eq!(
        codes_at(&errors(t, &a)),
        vec![("emergency_reason".into(), "form.required")]
    );
    a["emergency_reason"] = json!("大雪封路，视频核实");
    t.validate_json(&a, day()).unwrap();
    a["household_signature"] = json!("00".repeat(32));
    assert_eq!(
        codes_at(&errors(t, &a)),
        vec![("household_signature".into(), "form.not_relevant")]
    );
}

#[test]
fn types_dates_decimals_attachments_and_gps_are_checked() {
    let t = home_visit_template().unwrap();
    let mut a = home_visit_answers(2);
    a["visit_date"] = json!("2024-05-07");
    a["housing_area_m2"] = json!("12.55");
    a["household_signature"] = json!("ABC");
    a["visit_gps"] = json!({"lat_e7": 910_000_000, "lon_e7": 0});
    a["hardship_causes"] = json!(["illness", "illness"]);
    a["has_enterprise"] = json!("yes");
    a["deposits_fen"] = json!(1.5);
    let found = codes_at(&errors(t, &a));
    for expected in [
        ("visit_date", "form.date_after_visit"),
        ("housing_area_m2", "form.decimal_format"),
        ("household_signature", "form.attachment_hash"),
        ("visit_gps", "form.gps_range"),
        ("hardship_causes", "form.choice_repeated"),
        ("has_enterprise", "form.wrong_type"),
        ("deposits_fen", "form.wrong_type"),
    ] {
        assert!(
            found.contains(&(expected.0.to_owned(), expected.1)),
            "{expected:?} in {found:?}"
        );
    }
    let mut a = home_visit_answers(2);
    a["members"] = json!([]);
    assert_eq!(
        codes_at(&errors(t, &a)),
        vec![("members".into(), "form.rows")]
    );
    assert_eq!(
        codes_at(&errors(t, &json!([1]))),
        vec![(String::new(), "form.not_object")]
    );
}

#[test]
fn answers_flatten_for_the_sealed_record_and_back() {
    let t = home_visit_template().unwrap();
    for seed in 0..50 {
        let answers = Answers::from_json(&home_visit_answers(seed)).unwrap();
        let flat = t.flatten(&answers).unwrap();
        assert!(flat
            .values()
            .all(|v| v.is_string() || v.is_i64() || v.is_boolean()));
        assert!(flat.contains_key("members.rows") && flat.contains_key("members.0.id_number"));
        assert!(flat.contains_key("visit_gps.lat_e7"));
        assert_eq!(t.unflatten(&flat).unwrap(), answers);
    }
    let mut flat = t
        .flatten(&Answers::from_json(&home_visit_answers(1)).unwrap())
        .unwrap();
    flat.insert("members.99.name".into(), json!("x"));
    flat.insert("nope".into(), json!(1));
    let e = t.unflatten(&flat).unwrap_err();
    assert_eq!(e.0.len(), 2);
    assert!(e.0.iter().all(|e| e.code == "form.flat_key"));
}

/// Version 2 of the home-visit template: a new required question and a tighter bound.
fn version_2() -> FormTemplate {
    let mut definition = home_visit_template().unwrap().definition().clone();
    definition.version = 2;
    let mut extra = definition.sections[2].questions[0].clone();
    extra.id = "income_other_fen".into();
    extra.label.zh = "其他收入".into();
    extra.label.en = "other income".into();
    definition.sections[2].questions.push(extra);
    FormTemplate::from_definition(definition).unwrap()
}

#[test]
fn a_new_template_version_leaves_an_old_visit_valid() {
    let v1 = home_visit_template().unwrap();
    let v2 = version_2();
    assert_ne!(v1.reference().hash, v2.reference().hash);
    let old = home_visit_answers(5);
    // The old answers do not satisfy the new version...
    let e = v2.validate_json(&old, day()).unwrap_err();
    assert_eq!(
        codes_at(&e),
        vec![("income_other_fen".into(), "form.required")]
    );
    // ...but a visit is checked with the version it names, which the catalog keeps.
    let mut catalog = TemplateCatalog::with_built_ins().unwrap();
    catalog.publish(v2.clone()).unwrap();
    assert_eq!(catalog.latest("home-visit").unwrap().reference().version, 2);
    let content = sealed_with(v1, &old);
    catalog.check_sealed(&content, day()).unwrap();
    // Publishing another definition as version 2 is refused; the same one is a no-op.
    catalog.publish(v2).unwrap();
    let mut other = version_2().definition().clone();
    other.title.en = "changed".into();
    let err = catalog
        .publish(FormTemplate::from_definition(other).unwrap())
        .unwrap_err();
    assert_eq!(err.field_errors()[0].code, "form.version_taken");
    // A reference whose hash does not match is refused.
    let mut forged = content.clone();
    forged.template.hash = version_2().reference().hash;
    forged.template.version = 1;
    assert_eq!(
        catalog
            .check_sealed(&forged, day())
            .unwrap_err()
            .field_errors()[0]
            .code,
        "form.template_hash"
    );
}

#[test]
fn visits_under_the_minimal_template_still_check() {
    let catalog = TemplateCatalog::with_built_ins().unwrap();
    let minimal = ruhu_core::visit::template::minimal_template();
    let mut content = sealed_with(home_visit_template().unwrap(), &home_visit_answers(1));
    content.template = minimal.reference.clone();
    content.answers = [
        ("conclusion".to_owned(), json!("eligible")),
        ("reason".to_owned(), json!("低于标准")),
        ("income_wages_fen".to_owned(), json!(120_000)),
    ]
    .into_iter()
    .collect();
    catalog.check_sealed(&content, day()).unwrap();
    content.answers.remove("reason");
    assert_eq!(
        catalog
            .check_sealed(&content, day())
            .unwrap_err()
            .field_errors()[0]
            .field,
        "draft.reason"
    );
}

fn sealed_with(t: &FormTemplate, answers: &Json) -> ruhu_core::visit::SealedContent {
    // The flat answers fit sealed format 1 as it is (`sealed` checks the round trip).
    let flat = t.flatten(&Answers::from_json(answers).unwrap()).unwrap();
    forms_common::sealed(t.reference().clone(), flat, None)
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn any_json() -> impl Strategy<Value = Json> {
        let leaf = prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::from),
            any::<i64>().prop_map(Json::from),
            any::<u64>().prop_map(Json::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Json::from),
            ".{0,12}".prop_map(Json::from),
            "[a-z_]{1,12}".prop_map(Json::from),
            "[0-9a-f]{64}".prop_map(Json::from),
            "[0-9]{4}-[0-9]{2}-[0-9]{2}".prop_map(Json::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Json::from),
                prop::collection::btree_map("[a-z_]{1,10}", inner, 0..6)
                    .prop_map(|m| Json::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Values no question type accepts.
    fn unsupported_json() -> impl Strategy<Value = Json> {
        prop_oneof![
            Just(Json::Null),
            (-1e9f64..1e9).prop_map(|f| json!(f + 0.5)),
            Just(json!([1, "a"])),
            Just(json!([[1]])),
            Just(json!({"x": 1})),
            Just(json!({"lat_e7": 1.5, "lon_e7": 2})),
        ]
    }

    /// (path as reported, pointer into the answers) of every question of a sample form.
    fn places(answers: &Json) -> Vec<(String, Vec<String>)> {
        let t = home_visit_template().unwrap();
        let mut out = Vec::new();
        for section in &t.definition().sections {
            for q in &section.questions {
                out.push((q.id.clone(), vec![q.id.clone()]));
                if let (Some(subs), Some(rows)) = (&q.questions, answers[&q.id].as_array()) {
                    for (i, _) in rows.iter().enumerate() {
                        for s in subs {
                            out.push((
                                format!("{}[{i}].{}", q.id, s.id),
                                vec![q.id.clone(), i.to_string(), s.id.clone()],
                            ));
                        }
                    }
                }
            }
        }
        out
    }

    fn set(answers: &mut Json, pointer: &[String], value: Json) {
        let mut at = answers;
        for (i, part) in pointer.iter().enumerate() {
            let last = i + 1 == pointer.len();
            at = match at {
                Json::Array(rows) => &mut rows[part.parse::<usize>().unwrap()],
                Json::Object(map) if last => {
                    map.insert(part.clone(), value);
                    return;
                }
                Json::Object(map) => map.get_mut(part).unwrap(),
                _ => unreachable!(),
            };
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

        #[test]
        fn validation_never_panics_on_arbitrary_documents(doc in any_json()) {
            let t = home_visit_template().unwrap();
            if let Err(e) = t.validate_json(&doc, day()) {
                prop_assert!(!e.0.is_empty());
                prop_assert!(e.0.iter().all(|e| !e.message_zh.is_empty() && !e.message_en.is_empty()));
            }
        }

        #[test]
        fn validation_never_panics_when_any_answer_is_arbitrary(
            seed in 0u64..1000, pick in any::<prop::sample::Index>(), value in any_json()
        ) {
            let t = home_visit_template().unwrap();
            let mut a = home_visit_answers(seed);
            let places = places(&a);
            let (path, pointer) = pick.get(&places).clone();
            set(&mut a, &pointer, value);
            if let Err(e) = t.validate_json(&a, day()) {
                // Every error names a question of the form: the mutated one, one whose
                // relevance depends on it, or a question in a row of the roster the value
                // replaced (an arbitrary array brings rows of its own).
                let known: Vec<&String> = places.iter().map(|(p, _)| p).collect();
                for error in &e.0 {
                    let in_replaced_roster = error
                        .row
                        .as_ref()
                        .is_some_and(|(roster, _)| path == *roster || path.starts_with(&format!("{roster}[")));
                    prop_assert!(error.path() == path || known.contains(&&error.path())
                        || in_replaced_roster
                        || error.code == "form.unknown_question", "{error:?}");
                }
            }
        }

        #[test]
        fn every_invalid_answer_yields_an_error_naming_its_question(
            seed in 0u64..1000, pick in any::<prop::sample::Index>(), value in unsupported_json()
        ) {
            let t = home_visit_template().unwrap();
            let mut a = home_visit_answers(seed);
            let places = places(&a);
            let (path, pointer) = pick.get(&places).clone();
            set(&mut a, &pointer, value);
            let e = t.validate_json(&a, day()).unwrap_err();
            prop_assert!(e.0.iter().any(|e| e.path() == path), "{path}: {e}");
        }

        #[test]
        fn an_unknown_key_is_named(seed in 0u64..1000, key in "[a-z]{1,8}_x", value in any_json()) {
            let t = home_visit_template().unwrap();
            let mut a = home_visit_answers(seed);
            a[&key] = value;
            let e = t.validate_json(&a, day()).unwrap_err();
            prop_assert!(e.0.iter().any(|e| e.path() == key && e.code == "form.unknown_question"));
        }
    }
}
