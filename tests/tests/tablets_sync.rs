//! Tablets syncing through a real sync server on loopback: three tablets edit and sign
//! offline and converge in every order; a rejection is shown and rebased; a server restored
//! from a backup forces a resync; a revoked device erases itself; an old app is refused.
#![allow(clippy::unwrap_used)]

use chrono::{Duration, Utc};
use ruhu_core::fixtures;
use ruhu_core::signing::certificate::Role;
use ruhu_core::signing::revocation::RevocationReason;
use ruhu_core::sync::client::{sync, HttpTransport, SyncSettings};
use ruhu_core::visit::content::TeamMember;
use ruhu_core::visit::policy::Purpose;
use ruhu_core::visit::verify::VisitStatus;
use ruhu_tests::*;

fn team(tablets: &[&Tablet; 3]) -> Vec<TeamMember> {
    let roles = [Role::TownshipLeader, Role::VillageCadre, Role::CaseHandler];
    tablets
        .iter()
        .zip(roles)
        .map(|(t, role)| TeamMember {
            role,
            worker_id: t.worker_id.clone(),
        })
        .collect()
}

struct Team {
    county: County,
    _data: tempfile::TempDir,
    server: Server,
    tablets: Vec<Tablet>,
}

/// A server and the three-person team of village V1, enrolled and configured.
fn team_of_three() -> Team {
    let county = County::new();
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &county);
    let url = server.url();
    let tablets = vec![
        Tablet::enroll(&county, &url, "w-leader", &[Role::TownshipLeader], &[V1]),
        Tablet::enroll(&county, &url, "w-cadre", &[Role::VillageCadre], &[V1]),
        Tablet::enroll(&county, &url, "w-handler", &[Role::CaseHandler], &[V1]),
    ];
    install_config(
        &url,
        &county.config_json(
            tablets.iter().map(|t| t.certificate.clone()).collect(),
            None,
        ),
    );
    Team {
        county,
        _data: data,
        server,
        tablets,
    }
}

#[test]
fn three_tablets_edit_and_sign_offline_and_converge_in_every_order() {
    let orders = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    for order in orders {
        let Team {
            mut tablets,
            server: _server,
            ..
        } = team_of_three();
        let members = team(&[&tablets[0], &tablets[1], &tablets[2]]);
        // The case handler records the household and the visit, seals it, syncs.
        let handler = &mut tablets[2];
        let h = handler
            .store
            .create_household(fixtures::household(11, V1, 4))
            .unwrap();
        let visit = handler
            .store
            .start_visit(&h.id, Purpose::NewApplication, members)
            .unwrap();
        handler
            .store
            .edit_visit_draft(&h.id, &visit, &visit_answers())
            .unwrap();
        let sealed = handler
            .store
            .seal_visit(&h.id, &visit, &seal_details(V1))
            .unwrap();
        let report = handler.sync().unwrap();
        assert_eq!(
            report.round_trips, 2,
            "first sync: sync + the county configuration"
        );
        for t in tablets.iter_mut().take(2) {
            t.sync().unwrap();
            assert_eq!(t.store.household(&h.id).unwrap().household.id, h.id);
        }

        // Offline: everyone signs on their own tablet and edits a different field.
        let roles = [Role::TownshipLeader, Role::VillageCadre, Role::CaseHandler];
        for (t, role) in tablets.iter_mut().zip(roles) {
            t.sign_visit(&h.id, &visit, &sealed.content_hash, role);
        }
        tablets[0]
            .store
            .edit_household(&h.id, |h| h.profile.phone = Some("13900001111".into()))
            .unwrap();
        tablets[1]
            .store
            .edit_household(&h.id, |h| h.profile.address = "二组 5 号".into())
            .unwrap();
        tablets[2]
            .store
            .edit_household(&h.id, |h| h.enrollment.dibao_class = Some(1))
            .unwrap();

        for i in order {
            let report = tablets[i].sync().unwrap();
            assert!(report.not_accepted.is_empty(), "{:?}", report.not_accepted);
            assert_eq!(report.round_trips, 1, "an ordinary sync is one round trip");
        }
        for i in order {
            tablets[i].sync().unwrap();
        }
        let first = tablets[0].store.household(&h.id).unwrap();
        assert_eq!(
            first.household.profile.phone.as_deref(),
            Some("13900001111")
        );
        assert_eq!(first.household.profile.address, "二组 5 号");
        assert_eq!(first.household.enrollment.dibao_class, Some(1));
        for t in tablets.iter_mut() {
            let record = t.store.household(&h.id).unwrap();
            assert_eq!(record.household, first.household, "order {order:?}");
            let mut heads = record.heads.clone();
            let mut expected = first.heads.clone();
            heads.sort();
            expected.sort();
            assert_eq!(heads, expected, "identical documents, order {order:?}");
            let v = t.store.verify_visit(&h.id, &visit).unwrap();
            assert!(
                matches!(v.status, VisitStatus::Complete { .. }),
                "order {order:?}: {:?}",
                v.status
            );
            assert_eq!(t.store.unsynced_changes().unwrap().0, 0);
        }
    }
}

#[test]
fn a_rejected_household_is_shown_with_its_reason_and_rebases_cleanly() {
    let Team {
        mut tablets,
        server: _server,
        ..
    } = team_of_three();
    let h = tablets[2]
        .store
        .create_household(fixtures::household(12, V1, 3))
        .unwrap();
    tablets[2].sync().unwrap();
    tablets[0].sync().unwrap();

    // Offline, the household is moved to a village outside the worker's certificate.
    tablets[2]
        .store
        .edit_household(&h.id, |h| h.profile.village_code = V2.into())
        .unwrap();
    let report = tablets[2].sync().unwrap();
    assert_eq!(
        report.not_accepted,
        vec![(
            h.id.clone(),
            "rejected".to_owned(),
            "sync.out_of_scope".to_owned()
        )]
    );
    let statuses = tablets[2].store.household_sync_statuses().unwrap();
    assert_eq!(statuses.len(), 1);
    assert_eq!(
        (statuses[0].kind.as_str(), statuses[0].code.as_str()),
        ("rejected", "sync.out_of_scope")
    );
    assert!(!statuses[0].detail.is_empty());
    // The tablet keeps its data.
    assert_eq!(
        tablets[2]
            .store
            .household(&h.id)
            .unwrap()
            .household
            .profile
            .village_code,
        V2
    );

    // More local work, then the correction; the household waits for a rebase.
    tablets[2]
        .store
        .edit_household(&h.id, |h| h.profile.address = "三组 1 号".into())
        .unwrap();
    tablets[2]
        .store
        .edit_household(&h.id, |h| h.profile.village_code = V1.into())
        .unwrap();
    tablets[2].sync().unwrap();
    assert_eq!(
        tablets[2].store.household_sync_statuses().unwrap().len(),
        1,
        "still waiting for a rebase"
    );

    let outcome = tablets[2].store.rebase_household(&h.id).unwrap();
    assert!(outcome.replayed);
    assert_eq!(outcome.archived_changes, 3);
    let report = tablets[2].sync().unwrap();
    assert!(report.not_accepted.is_empty(), "{:?}", report.not_accepted);
    assert!(tablets[2]
        .store
        .household_sync_statuses()
        .unwrap()
        .is_empty());
    assert_eq!(tablets[2].store.unsynced_changes().unwrap().0, 0);

    tablets[0].sync().unwrap();
    let seen = tablets[0].store.household(&h.id).unwrap().household;
    assert_eq!(seen.profile.address, "三组 1 号");
    assert_eq!(seen.profile.village_code, V1);
    assert_eq!(seen, tablets[2].store.household(&h.id).unwrap().household);
}

/// Copies a folder (the server's database files and its attachments) recursively.
fn copy_folder(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_folder(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

#[test]
fn a_server_restored_from_a_backup_forces_a_resync_and_loses_nothing() {
    let county = County::new();
    let data = tempfile::tempdir().unwrap();
    let mut server = Server::start(data.path(), &county);
    let url = server.url();
    let port = server.addr.port();
    let mut a = Tablet::enroll(&county, &url, "w-a", &[Role::CaseHandler], &[V1]);
    let mut b = Tablet::enroll(&county, &url, "w-b", &[Role::VillageCadre], &[V1]);
    install_config(
        &url,
        &county.config_json(vec![a.certificate.clone(), b.certificate.clone()], None),
    );
    let first = a
        .store
        .create_household(fixtures::household(21, V1, 2))
        .unwrap();
    a.sync().unwrap();
    b.sync().unwrap();

    // Back up the stopped server, keep working, then restore the backup.
    server.stop();
    let backup = tempfile::tempdir().unwrap();
    copy_folder(data.path(), backup.path());
    server = Server::start_on(data.path(), &county, port);
    let second = a
        .store
        .create_household(fixtures::household(22, V1, 2))
        .unwrap();
    a.store
        .edit_household(&first.id, |h| h.profile.address = "after the backup".into())
        .unwrap();
    a.sync().unwrap();
    b.sync().unwrap();
    let before_restore = server_feed(data.path()).0;
    server.stop();
    std::fs::remove_dir_all(data.path()).unwrap();
    copy_folder(backup.path(), data.path());
    server = Server::start_on(data.path(), &county, port);
    assert!(
        server_feed(data.path()).0.len() < before_restore.len(),
        "the backup lacks the later changes"
    );

    let report = b.sync().unwrap();
    assert!(
        report.reset,
        "the restored server cannot continue b's cursor"
    );
    // a's cursor is continued only if b's re-push rebuilt the feed up to it exactly as a saw it
    // (same changes, same order: the cursor's chain hash matches); otherwise a resets too.
    a.sync().unwrap();
    b.sync().unwrap();
    let (feed, rows) = server_feed(data.path());
    assert_eq!(rows, feed.len(), "one feed entry per change hash");
    assert!(
        before_restore.is_subset(&feed),
        "nothing lost: the tablets pushed everything again"
    );
    assert_eq!(tablet_changes(&mut a.store), tablet_changes(&mut b.store));
    assert_eq!(
        b.store.household(&second.id).unwrap().household,
        a.store.household(&second.id).unwrap().household
    );
    assert_eq!(
        b.store
            .household(&first.id)
            .unwrap()
            .household
            .profile
            .address,
        "after the backup"
    );
    server.stop();
}

#[test]
fn a_revoked_device_is_refused_and_erases_itself_and_an_old_app_is_refused() {
    let Team {
        county,
        server,
        mut tablets,
        ..
    } = team_of_three();
    let h = tablets[1]
        .store
        .create_household(fixtures::household(31, V1, 2))
        .unwrap();
    tablets[1].sync().unwrap();

    let too_old = SyncSettings {
        app_version: "0.0.9".into(),
        ..SyncSettings::default()
    };
    let err = sync(
        &mut tablets[0].store,
        &HttpTransport::new(&server.url()),
        &too_old,
    )
    .unwrap_err();
    assert_eq!(err.code(), "sync.app_too_old");

    // Reported lost after it synced (times are whole seconds).
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let revocations = county
        .authority
        .revoke(
            &tablets[1].certificate,
            RevocationReason::DeviceLost,
            Utc::now() - Duration::seconds(1),
            None,
            Utc::now(),
        )
        .unwrap();
    install_config(
        &server.url(),
        &county.config_json(
            tablets.iter().map(|t| t.certificate.clone()).collect(),
            Some(revocations),
        ),
    );
    let err = tablets[1].sync().unwrap_err();
    assert_eq!(err.code(), "auth.device_revoked");
    assert!(
        tablets[1].store.household(&h.id).is_err(),
        "the lost device erased its data"
    );
    assert_eq!(
        tablets[1]
            .store
            .list_village(V1, &Default::default())
            .unwrap()
            .len(),
        0
    );
    // The others carry on; what the lost device synced before its revocation stays valid.
    let report = tablets[0].sync().unwrap();
    assert_eq!(report.refused_pulled, 0, "{report:?}");
    assert!(tablets[0].store.household(&h.id).is_ok());
}

#[test]
fn a_worker_who_left_the_post_gets_a_final_push_then_the_tablet_erases_itself() {
    let Team {
        county,
        server,
        mut tablets,
        ..
    } = team_of_three();
    let h = tablets[2]
        .store
        .create_household(fixtures::household(41, V1, 2))
        .unwrap();
    tablets[2].sync().unwrap();
    // Unsynced work, then the transfer is recorded (effective in an hour).
    tablets[2]
        .store
        .edit_household(&h.id, |h| h.profile.address = "final work".into())
        .unwrap();
    let revocations = county
        .authority
        .revoke(
            &tablets[2].certificate,
            RevocationReason::LeftPost,
            Utc::now() + Duration::hours(1),
            None,
            Utc::now(),
        )
        .unwrap();
    install_config(
        &server.url(),
        &county.config_json(
            tablets.iter().map(|t| t.certificate.clone()).collect(),
            Some(revocations),
        ),
    );
    let report = tablets[2].sync().unwrap();
    assert!(report.erased, "{report:?}");
    assert!(report.not_accepted.is_empty());
    assert!(
        tablets[2].store.household(&h.id).is_err(),
        "erased after the final push"
    );
    tablets[0].sync().unwrap();
    assert_eq!(
        tablets[0]
            .store
            .household(&h.id)
            .unwrap()
            .household
            .profile
            .address,
        "final work"
    );
}
