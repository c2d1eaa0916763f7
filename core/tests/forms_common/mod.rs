//! Shared by the forms and scoring tests: a sealed record (format 1) carrying form answers.
#![allow(clippy::unwrap_used, dead_code)]

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use ruhu_core::signing::certificate::Role;
use ruhu_core::visit::content::{parse_content, TemplateRef};
use ruhu_core::visit::{Place, Purpose, SealedContent, TeamMember};
use serde_json::Value as Json;

/// A first revision sealed by a case handler, with these flat answers and scoring block;
/// checks that it encodes and parses back as sealed format 1.
pub fn sealed(
    template: TemplateRef,
    answers: BTreeMap<String, Json>,
    scoring: Option<Json>,
) -> SealedContent {
    let at = Utc.with_ymd_and_hms(2024, 5, 6, 2, 0, 0).unwrap();
    let content = SealedContent {
        format: 1,
        household_id: "hh-1".into(),
        visit_id: "v-1".into(),
        revision: 1,
        previous: None,
        purpose: Purpose::NewApplication,
        team: vec![TeamMember {
            role: Role::CaseHandler,
            worker_id: "w-3".into(),
        }],
        template,
        answers,
        attachments: vec![],
        scoring,
        place: Place {
            village_code: "620102001001".into(),
            address: "一组".into(),
            gps: None,
        },
        visited_at: at,
        emergency_remote: None,
        sealed_by: "w-3".into(),
        sealed_at: at,
    };
    let (bytes, _) = content.to_bytes().unwrap();
    assert_eq!(parse_content(&bytes).unwrap(), content);
    content
}
