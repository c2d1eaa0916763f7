//! Visits filled with a data form through the real sync server: the visit keeps the form
//! version it started with, unfinished drafts are accepted and sealing checks everything,
//! wrong answers are refused naming the question and write nothing, and a newer version of
//! the form published by the county never changes how an older visit is checked.
#![allow(clippy::unwrap_used)]

use ruhu_core::error::Error;
use ruhu_core::fixtures;
use ruhu_core::forms::sample::home_visit_answers;
use ruhu_core::forms::{home_visit_template, Answers, TemplateDefinition};
use ruhu_core::signing::certificate::Role;
use ruhu_core::sync::CountyData;
use ruhu_core::visit::content::TeamMember;
use ruhu_core::visit::policy::Purpose;
use ruhu_core::visit::template::minimal_template;
use ruhu_tests::*;
use serde_json::{json, Value as Json};

const FORM: &str = "home-visit";

fn team() -> Vec<TeamMember> {
    [
        (Role::TownshipLeader, "w-leader"),
        (Role::VillageCadre, "w-cadre"),
        (Role::CaseHandler, "w-h"),
    ]
    .into_iter()
    .map(|(role, id)| TeamMember {
        role,
        worker_id: id.into(),
    })
    .collect()
}

/// Version 2 of the home-visit form: version 1 with one more required question.
fn version_two() -> TemplateDefinition {
    let mut definition = home_visit_template().unwrap().definition().clone();
    definition.version = 2;
    definition.sections[0].questions.push(
        serde_json::from_value(json!({
            "id": "has_running_water",
            "label": {"zh": "是否通自来水", "en": "Running water at home"},
            "type": "yes_no",
            "required": true
        }))
        .unwrap(),
    );
    definition
}

fn codes(e: &Error) -> Vec<(String, String)> {
    match e {
        Error::Invalid(errors) => errors
            .iter()
            .map(|f| (f.field.clone(), f.code.to_owned()))
            .collect(),
        other => panic!("expected field errors, got {other}"),
    }
}

/// The error of a call that must be refused (without printing what it would have returned).
fn refusal<T>(result: Result<T, Error>) -> Error {
    match result {
        Ok(_) => panic!("accepted, expected a refusal"),
        Err(e) => e,
    }
}

fn normalized(answers: &Json) -> Json {
    Answers::from_json(answers).unwrap().to_json()
}

#[test]
fn a_visit_keeps_its_form_version_and_a_newer_version_leaves_it_valid() {
    let dir = tempfile::tempdir().unwrap();
    let (county, server, mut tablet) = case_handler(dir.path(), CountyData::default());
    let h = tablet
        .store
        .create_household(fixtures::household(7, V1, 3))
        .unwrap();
    let old = tablet
        .store
        .start_visit_with_form(&h.id, Purpose::NewApplication, team(), FORM)
        .unwrap();
    let v1 = home_visit_template().unwrap().reference().clone();
    assert_eq!(tablet.store.visit(&h.id, &old).unwrap().template, v1);

    // An unfinished draft is accepted; sealing it names what is missing.
    let mut answers = home_visit_answers(5);
    let full = answers.clone();
    answers.as_object_mut().unwrap().remove("conclusion");
    tablet
        .store
        .set_visit_answers(&h.id, &old, &answers)
        .unwrap();
    let refused = refusal(tablet.store.seal_visit(&h.id, &old, &seal_details(V1)));
    assert!(
        codes(&refused).contains(&("draft.conclusion".into(), "form.required".into())),
        "{refused}"
    );
    assert!(tablet
        .store
        .visit(&h.id, &old)
        .unwrap()
        .revisions
        .is_empty());

    // A wrong resident ID number is refused naming the roster row; the draft is unchanged.
    let mut wrong = full.clone();
    let id = wrong["members"][0]["id_number"]
        .as_str()
        .unwrap()
        .to_owned();
    let last = if id.ends_with('0') { "1" } else { "0" };
    wrong["members"][0]["id_number"] = json!(format!("{}{last}", &id[..17]));
    let refused = refusal(tablet.store.set_visit_answers(&h.id, &old, &wrong));
    assert!(
        codes(&refused)
            .iter()
            .any(|(field, _)| field == "draft.members[0].id_number"),
        "{refused}"
    );
    assert_eq!(
        tablet.store.visit_answers(&h.id, &old).unwrap(),
        normalized(&answers)
    );

    // The county publishes version 2; the open visit is still checked with version 1.
    install_config(
        &server.url(),
        &county.config_json_with(
            vec![tablet.certificate.clone()],
            None,
            CountyData {
                form_templates: vec![version_two()],
                ..Default::default()
            },
        ),
    );
    tablet.sync().unwrap();
    let refused = refusal(tablet.store.edit_visit_draft(
        &h.id,
        &old,
        &[("has_running_water".into(), Some(json!(true)))],
    ));
    assert_eq!(
        codes(&refused),
        vec![("draft.has_running_water".into(), "form.flat_key".into())]
    );
    tablet.store.set_visit_answers(&h.id, &old, &full).unwrap();
    assert_eq!(
        tablet.store.visit_answers(&h.id, &old).unwrap(),
        normalized(&full)
    );
    let sealed = tablet
        .store
        .seal_visit(&h.id, &old, &seal_details(V1))
        .unwrap();
    assert_eq!(sealed.content.template, v1);

    // A new visit takes version 2 and needs its new question.
    let new = tablet
        .store
        .start_visit_with_form(&h.id, Purpose::PeriodicReview, team(), FORM)
        .unwrap();
    let v2 = tablet.store.visit(&h.id, &new).unwrap().template;
    assert_eq!((v2.id.as_str(), v2.version), (FORM, 2));
    assert_ne!(v2.hash, v1.hash);
    tablet.store.set_visit_answers(&h.id, &new, &full).unwrap();
    let refused = refusal(tablet.store.seal_visit(&h.id, &new, &seal_details(V1)));
    assert_eq!(
        codes(&refused),
        vec![("draft.has_running_water".into(), "form.required".into())]
    );
    let mut with_water = full.clone();
    with_water["has_running_water"] = json!(true);
    tablet
        .store
        .set_visit_answers(&h.id, &new, &with_water)
        .unwrap();
    let sealed_new = tablet
        .store
        .seal_visit(&h.id, &new, &seal_details(V1))
        .unwrap();
    assert_eq!(sealed_new.content.template, v2);

    // The server accepts both; the first visit still reads as version 1 on its record.
    let report = tablet.sync().unwrap();
    assert!(report.not_accepted.is_empty(), "{:?}", report.not_accepted);
    assert_eq!(tablet.store.visit(&h.id, &old).unwrap().template, v1);
    let catalog = tablet.store.form_catalog().unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(2026, 5, 28).unwrap();
    catalog.check_sealed(&sealed.content, day).unwrap();
    catalog.check_sealed(&sealed_new.content, day).unwrap();
}

#[test]
fn visits_of_the_minimal_template_and_unknown_forms_keep_their_rules() {
    let county = County::new();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &county);
    let mut tablet = Tablet::enroll(&county, &server.url(), "w-h", &[Role::CaseHandler], &[V1]);
    let h = tablet
        .store
        .create_household(fixtures::household(8, V1, 2))
        .unwrap();
    let refused = refusal(tablet.store.start_visit_with_form(
        &h.id,
        Purpose::NewApplication,
        team(),
        "no-such-form",
    ));
    assert!(matches!(refused, Error::NotFound { .. }), "{refused}");

    let visit = tablet
        .store
        .start_visit(&h.id, Purpose::NewApplication, team())
        .unwrap();
    assert_eq!(
        tablet.store.visit(&h.id, &visit).unwrap().template,
        minimal_template().reference
    );
    // Structured answers need a data form.
    let refused = refusal(
        tablet
            .store
            .set_visit_answers(&h.id, &visit, &home_visit_answers(1)),
    );
    assert_eq!(
        codes(&refused),
        vec![("template".into(), "visit.flat_form".into())]
    );
    tablet
        .store
        .edit_visit_draft(&h.id, &visit, &visit_answers())
        .unwrap();
    let sealed = tablet
        .store
        .seal_visit(&h.id, &visit, &seal_details(V1))
        .unwrap();
    assert_eq!(sealed.content.template, minimal_template().reference);
}
