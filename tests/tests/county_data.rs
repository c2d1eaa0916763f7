//! The county's working data travels in the signed configuration: the server installs it,
//! tablets receive it with their sync and read form templates, standards, the calendar and
//! the county's clock from it; data that does not validate is refused by the authority
//! command, the server and the tablet alike.
#![allow(clippy::unwrap_used)]

use chrono::{NaiveDate, Utc};
use ruhu_core::calendar::CalendarData;
use ruhu_core::forms::{home_visit_template, TemplateDefinition};
use ruhu_core::signing::canonical::to_canonical_bytes_of;
use ruhu_core::signing::certificate::Role;
use ruhu_core::standards::Standards;
use ruhu_core::sync::client::Transport;
use ruhu_core::sync::county_config::CONFIG_CONTEXT;
use ruhu_core::sync::{CountyConfig, CountyData, SignedCountyConfig};
use ruhu_tests::*;

fn standards() -> Standards {
    Standards::from_json(&core_sample("standards.sample.json")).unwrap()
}

fn calendar() -> CalendarData {
    serde_json::from_str(&core_sample("calendar.sample.json")).unwrap()
}

/// The county's own revision of the home-visit form: the built-in one as version 2.
fn county_template() -> TemplateDefinition {
    let mut definition = home_visit_template().unwrap().definition().clone();
    definition.version += 1;
    definition
}

/// The county's own rubric: the SAMPLE one published under the county's id.
fn county_rubric() -> ruhu_core::scoring::RubricDefinition {
    let mut definition = ruhu_core::scoring::sample_rubric()
        .unwrap()
        .definition()
        .clone();
    definition.id = "county-620102-3plus1".into();
    definition
}

fn data() -> CountyData {
    CountyData {
        form_templates: vec![county_template()],
        rubrics: vec![county_rubric()],
        standards: Some(standards()),
        calendar: Some(calendar()),
        utc_offset_seconds: Some(8 * 3600),
        ..Default::default()
    }
}

#[test]
fn tablets_receive_templates_standards_calendar_and_clock_with_the_configuration() {
    let county = County::new();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &county);
    let mut tablet = Tablet::enroll(&county, &server.url(), "w-h", &[Role::CaseHandler], &[V1]);
    install_config(
        &server.url(),
        &county.config_json_with(vec![tablet.certificate.clone()], None, data()),
    );
    assert!(
        tablet.store.standards().unwrap().is_none(),
        "nothing before sync"
    );
    tablet.sync().unwrap();

    assert_eq!(tablet.store.standards().unwrap(), Some(standards()));
    let calendar = tablet.store.working_calendar().unwrap().unwrap();
    // 2024-10-01 is National Day (a holiday in the sample), 2024-10-12 a working Saturday.
    let national_day = NaiveDate::from_ymd_opt(2024, 10, 1).unwrap();
    assert!(!calendar.is_working_day(national_day).unwrap());
    let catalog = tablet.store.form_catalog().unwrap();
    let latest = catalog.latest(&county_template().id).unwrap();
    assert_eq!(latest.definition().version, county_template().version);
    assert_eq!(
        tablet.store.county_clock().unwrap().utc_offset_seconds(),
        8 * 3600
    );
    let rubrics = tablet.store.rubric_catalog().unwrap();
    assert!(rubrics.latest("county-620102-3plus1").is_some());
    assert!(rubrics
        .latest(&ruhu_core::scoring::sample_rubric().unwrap().reference().id)
        .is_some());
    let served = tablet.store.county_configuration().unwrap().unwrap();
    assert_eq!(served.data, data());
}

#[test]
fn data_that_does_not_validate_is_refused_by_the_authority_the_server_and_tablets() {
    let county = County::new();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &county);
    let mut tablet = Tablet::enroll(&county, &server.url(), "w-h", &[Role::CaseHandler], &[V1]);
    install_config(
        &server.url(),
        &county.config_json(vec![tablet.certificate.clone()], None),
    );
    tablet.sync().unwrap();

    let mut bad = data();
    bad.standards.as_mut().unwrap().regions[0].year = 1800;
    bad.utc_offset_seconds = Some(20 * 3600);
    // The authority command refuses to sign it.
    let config: CountyConfig = {
        let signed: SignedCountyConfig =
            serde_json::from_str(&county.config_json(vec![tablet.certificate.clone()], None))
                .unwrap();
        signed.verify(&county.authority.key.public_key()).unwrap()
    };
    let mut with_bad = config.clone();
    with_bad.serial += 10;
    with_bad.data = bad;
    let err = with_bad.sign(&county.authority.key).unwrap_err();
    assert_eq!(err.code(), "config.malformed");
    // Signed anyway (bypassing the check): the server and the tablet refuse it.
    let body_bytes = to_canonical_bytes_of(&with_bad).unwrap();
    let signature = county
        .authority
        .key
        .sign(&[CONFIG_CONTEXT, &body_bytes[..]].concat());
    let forged = SignedCountyConfig {
        body_bytes,
        signature,
    };
    let err = forged
        .verify(&county.authority.key.public_key())
        .unwrap_err();
    assert!(
        err.to_string().contains("standards.regions[0].year"),
        "{err}"
    );
    let response = ruhu_core::sync::client::HttpTransport::new(&server.url())
        .request(
            "POST",
            "/v1/config",
            &[("Content-Type", "application/json".into())],
            serde_json::to_string(&forged).unwrap().as_bytes(),
        )
        .unwrap();
    assert_eq!(
        response.status,
        400,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    assert!(String::from_utf8_lossy(&response.body).contains("config.malformed"));
    let err = tablet
        .store
        .install_county_config(&forged, Utc::now())
        .unwrap_err();
    assert!(
        err.to_string().contains("config.malformed") || err.to_string().contains("standards"),
        "{err}"
    );
    assert!(
        tablet.store.standards().unwrap().is_none(),
        "nothing installed"
    );
}

#[test]
fn cases_follow_the_county_calendar_and_policy_from_the_configuration() {
    use ruhu_core::case::{CaseEvent, CasePolicy, CaseStage};
    use ruhu_core::household::Program;

    let dir = tempfile::tempdir().unwrap();
    let (county, server, mut tablet) = case_handler(dir.path(), CountyData::default());
    let id = tablet
        .store
        .create_household(ruhu_core::fixtures::household(5, V1, 3))
        .unwrap()
        .id;
    // No calendar published yet: deadlines cannot be counted, and the tablet says so.
    let err = tablet
        .store
        .record_case_event(
            &id,
            CaseEvent::Apply {
                program: Program::RuralDibao,
            },
        )
        .unwrap_err();
    assert!(err.to_string().contains("calendar"), "{err}");

    // The county publishes its calendar (this year and next: no holidays listed) and a
    // policy giving 5 working days to start the investigation.
    let calendar = calendar_around_now();
    let policy = CasePolicy {
        investigation_start_working_days: 5,
        ..CasePolicy::default()
    };
    let data = CountyData {
        calendar: Some(calendar),
        case_policy: Some(policy),
        ..CountyData::default()
    };
    install_config(
        &server.url(),
        &county.config_json_with(vec![tablet.certificate.clone()], None, data),
    );
    tablet.sync().unwrap();
    tablet
        .store
        .record_case_event(
            &id,
            CaseEvent::Apply {
                program: Program::RuralDibao,
            },
        )
        .unwrap();
    let log = tablet
        .store
        .record_case_event(
            &id,
            CaseEvent::Accept {
                missing_materials: Vec::new(),
            },
        )
        .unwrap();
    assert_eq!(log.case.unwrap().stage, CaseStage::Accepted);
    let due = tablet.store.county_cases_due(V1, Utc::now()).unwrap();
    assert!(due.problems.is_empty(), "{:?}", due.problems);
    let item = due.items.iter().find(|i| i.household_id == id).unwrap();
    // The investigation must start within the county's 5 working days, not the national 3.
    let accepted = tablet.store.county_clock().unwrap().local_date(Utc::now());
    let five = tablet
        .store
        .working_calendar()
        .unwrap()
        .unwrap()
        .add_working_days(accepted, 5)
        .unwrap();
    assert_eq!(item.duty.due_on, five, "{item:?}");
}
