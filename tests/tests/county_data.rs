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

fn sample_text(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../core/samples")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

fn standards() -> Standards {
    Standards::from_json(&sample_text("standards.sample.json")).unwrap()
}

fn calendar() -> CalendarData {
    serde_json::from_str(&sample_text("calendar.sample.json")).unwrap()
}

/// The county's own revision of the home-visit form: the built-in one as version 2.
fn county_template() -> TemplateDefinition {
    let mut definition = home_visit_template().unwrap().definition().clone();
    definition.version += 1;
    definition
}

fn data() -> CountyData {
    CountyData {
        form_templates: vec![county_template()],
        standards: Some(standards()),
        calendar: Some(calendar()),
        utc_offset_seconds: Some(8 * 3600),
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
