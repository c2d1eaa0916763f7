//! A hostile or buggy tablet's edit of a sealed entry, arriving through a merge, is
//! flagged "content altered" (and refused by a store's import); an honest draft edit after
//! sealing is not.
#![allow(clippy::unwrap_used)]

mod visits_common;

use automerge::ScalarValue;
use ruhu_core::signing::certificate::Role;
use ruhu_core::visit::document::{self, read_visit};
use ruhu_core::visit::policy::VisitPolicy;
use ruhu_core::visit::template::minimal_template;
use ruhu_core::visit::verify::{check_integrity, verify_visit, SignerVerdict, VisitStatus};
use ruhu_core::visit::Purpose;
use visits_common::*;

#[test]
fn hostile_edit_through_merge_is_content_altered_honest_draft_edit_is_not() {
    let c = county();
    let (mut doc, sealed) = complete_doc(&c);
    let policy = VisitPolicy::default();
    assert!(verify_visit(doc.automerge(), VISIT, &policy, &c.trust())
        .unwrap()
        .is_complete());

    // Honest: a tablet edits the draft after sealing, and the edit merges in.
    let mut honest =
        ruhu_core::household::HouseholdDocument::from_automerge(doc.automerge().fork());
    document::edit_draft(
        honest.automerge(),
        VISIT,
        &[("reason".into(), Some(serde_json::json!("补充")))],
        &minimal_template().into(),
        &by("w-cadre", t(2024, 5, 7, 9)),
    )
    .unwrap();
    doc.merge(&mut honest).unwrap();
    let v = verify_visit(doc.automerge(), VISIT, &policy, &c.trust()).unwrap();
    assert!(v.is_complete(), "{:?}", v.status);
    assert_eq!(
        read_visit(doc.automerge(), VISIT)
            .unwrap()
            .draft_differs_from,
        Some(1)
    );
    assert!(check_integrity(doc.automerge()).unwrap().is_empty());

    // Hostile: another tablet rewrites the income inside the sealed content.
    let mut hostile = doc.automerge().fork();
    let text = String::from_utf8(sealed.bytes.clone())
        .unwrap()
        .replace("1860000", "9860000");
    overwrite_entry_field(
        &mut hostile,
        VISIT,
        &sealed.content_hash.to_hex(),
        "content",
        ScalarValue::Bytes(text.into_bytes()),
    );
    let mut tampered =
        ruhu_core::household::HouseholdDocument::from_automerge(doc.automerge().fork());
    tampered
        .merge(&mut ruhu_core::household::HouseholdDocument::from_automerge(hostile))
        .unwrap();
    let v = verify_visit(tampered.automerge(), VISIT, &policy, &c.trust()).unwrap();
    assert!(matches!(v.status, VisitStatus::Invalid { .. }));
    assert!(v.revisions[0].altered.is_some());
    assert!(v
        .signers()
        .all(|s| matches!(s.verdict, SignerVerdict::ContentAltered(_))));
    assert!(!check_integrity(tampered.automerge()).unwrap().is_empty());
}

#[test]
fn concurrent_different_sealed_values_are_altered() {
    let c = county();
    let (mut doc, sealed) = complete_doc(&c);
    let key = sealed.content_hash.to_hex();
    let mut a = doc.automerge().fork();
    let mut b = doc.automerge().fork();
    replace_entry(
        &mut a,
        VISIT,
        &key,
        sealed.bytes.clone(),
        &sealed.content.sealed_by,
        sealed.content.sealed_at.timestamp(),
    );
    let mut other = sealed.bytes.clone();
    other[10] ^= 1;
    replace_entry(
        &mut b,
        VISIT,
        &key,
        other,
        &sealed.content.sealed_by,
        sealed.content.sealed_at.timestamp(),
    );
    a.merge(&mut b).unwrap();
    let v = verify_visit(&a, VISIT, &VisitPolicy::default(), &c.trust()).unwrap();
    assert!(matches!(v.status, VisitStatus::Invalid { .. }));
    // Identical content written twice concurrently is not an alteration.
    let mut x = doc.automerge().fork();
    let mut y = doc.automerge().fork();
    replace_entry(
        &mut x,
        VISIT,
        &key,
        sealed.bytes.clone(),
        &sealed.content.sealed_by,
        sealed.content.sealed_at.timestamp(),
    );
    replace_entry(
        &mut y,
        VISIT,
        &key,
        sealed.bytes.clone(),
        &sealed.content.sealed_by,
        sealed.content.sealed_at.timestamp(),
    );
    x.merge(&mut y).unwrap();
    assert!(verify_visit(&x, VISIT, &VisitPolicy::default(), &c.trust())
        .unwrap()
        .is_complete());
    let _ = doc.automerge();
}

#[test]
fn a_store_refuses_to_import_an_altered_sealed_entry() {
    let c = county();
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_store(dir.path(), "handler", &c.handler.id, &c);
    let h = store
        .create_household(ruhu_core::fixtures::household(11, VILLAGE, 4))
        .unwrap();
    let visit = store
        .start_visit(&h.id, Purpose::NewApplication, c.team())
        .unwrap();
    store.edit_visit_draft(&h.id, &visit, &answers()).unwrap();
    let sealed = store.seal_visit(&h.id, &visit, &details(None)).unwrap();
    store
        .sign_visit(
            &h.id,
            &visit,
            &sealed.content_hash,
            Role::CaseHandler,
            &c.handler.keys,
            "tablet",
        )
        .unwrap();
    let heads = store.household(&h.id).unwrap().heads;

    // A hostile tablet holding a copy changes the sealed entry's author.
    let mut hostile = automerge::AutoCommit::new();
    let all = store.changes_since(&h.id, &[]).unwrap();
    hostile
        .apply_changes(
            all.iter()
                .map(|b| automerge::Change::from_bytes(b.clone()).unwrap()),
        )
        .unwrap();
    overwrite_entry_field(
        &mut hostile,
        &visit,
        &sealed.content_hash.to_hex(),
        "sealed_by",
        ScalarValue::Str("w-cadre".into()),
    );
    let bad: Vec<Vec<u8>> = hostile
        .get_changes(&heads)
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    let err = store.import_changes(&h.id, &bad).unwrap_err();
    assert_eq!(err.code(), "visit.import_refused");
    // Nothing was kept.
    assert_eq!(store.household(&h.id).unwrap().heads, heads);
    store.clear_cache();
    assert_eq!(store.household(&h.id).unwrap().heads, heads);

    // A malformed signature entry is refused too.
    let mut hostile = automerge::AutoCommit::new();
    hostile
        .apply_changes(
            all.iter()
                .map(|b| automerge::Change::from_bytes(b.clone()).unwrap()),
        )
        .unwrap();
    inject_signature(
        &mut hostile,
        &visit,
        &format!("{}/w-cadre/village_cadre", sealed.content_hash),
        b"not a signature".to_vec(),
    );
    let bad: Vec<Vec<u8>> = hostile
        .get_changes(&heads)
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    assert_eq!(
        store.import_changes(&h.id, &bad).unwrap_err().code(),
        "visit.import_refused"
    );
    assert!(matches!(
        store.verify_visit(&h.id, &visit).unwrap().status,
        VisitStatus::Incomplete { .. }
    ));
}

#[test]
fn a_visit_is_never_checked_with_another_form_than_the_one_it_names() {
    use ruhu_core::forms::{home_visit_template, TemplateEntry};
    use ruhu_core::visit::form::VisitForm;
    let c = county();
    let (mut doc, _) = sealed_doc(&c);
    let heads = doc.automerge().get_heads();
    let other = VisitForm::new(
        TemplateEntry::Form(home_visit_template().unwrap()),
        8 * 3600,
    );
    let err = document::edit_draft(
        doc.automerge(),
        VISIT,
        &[("visit_place".into(), Some(serde_json::json!("一组")))],
        &other,
        &by("w-cadre", t(2024, 5, 7, 9)),
    )
    .unwrap_err();
    assert_eq!(err.field_errors()[0].code, "visit.template_mismatch");
    let err = document::seal(
        doc.automerge(),
        VISIT,
        &details(None),
        &other,
        &by("w-cadre", t(2024, 5, 7, 9)),
    )
    .unwrap_err();
    assert_eq!(err.field_errors()[0].code, "visit.template_mismatch");
    assert_eq!(doc.automerge().get_heads(), heads, "nothing written");
}
