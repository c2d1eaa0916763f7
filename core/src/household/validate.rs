//! Validation of a household profile before it is written.
//!
//! Every rule returns a [`FieldError`] naming the field (e.g. `members.<id>.id_number`), a stable
//! code and parameters; all problems are collected, so the worker sees every one at once.

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate};

use super::model::{Disability, Household, Member, Program, Relation};
use crate::error::FieldError;
use crate::resident_id::ResidentId;

/// Longest accepted name, in characters.
pub const MAX_NAME_CHARS: usize = 50;
/// Longest accepted address, in characters.
pub const MAX_ADDRESS_CHARS: usize = 200;
/// Most members a household may have.
pub const MAX_MEMBERS: usize = 30;

/// Normalises (trims names, upper-cases the ID check character) and validates `household`.
/// Returns every problem found; an empty list means the household may be written.
pub fn validate_household(household: &mut Household, today: NaiveDate) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if !is_hex(&household.id, 32) {
        errors.push(FieldError::new(
            "id",
            "household.id",
            "household id must be 32 lower-case hex characters",
        ));
    }
    validate_profile(household, today, &mut errors);
    validate_enrollment(household, &mut errors);
    validate_members(household, today, &mut errors);
    errors
}

fn validate_profile(h: &mut Household, today: NaiveDate, errors: &mut Vec<FieldError>) {
    let p = &mut h.profile;
    check_digits("profile.county_code", &p.county_code, 6, errors);
    check_digits("profile.township_code", &p.township_code, 9, errors);
    check_digits("profile.village_code", &p.village_code, 12, errors);
    if !p.township_code.starts_with(&p.county_code) {
        errors.push(
            FieldError::new(
                "profile.township_code",
                "address.not_in_county",
                "township is not in the county",
            )
            .with("county_code", &p.county_code),
        );
    }
    if !p.village_code.starts_with(&p.township_code) {
        errors.push(
            FieldError::new(
                "profile.village_code",
                "address.not_in_township",
                "village is not in the township",
            )
            .with("township_code", &p.township_code),
        );
    }
    p.address = p.address.trim().to_owned();
    check_text("profile.address", &p.address, MAX_ADDRESS_CHARS, errors);
    if let Some(phone) = &mut p.phone {
        *phone = phone.trim().to_owned();
        let ok = (5..=20).contains(&phone.len())
            && phone.chars().all(|c| c.is_ascii_digit() || c == '-');
        if !ok {
            errors.push(FieldError::new(
                "profile.phone",
                "phone.format",
                "phone must be 5-20 digits or dashes",
            ));
        }
    }
    check_date("profile.status_since", p.status_since, today, errors);
}

fn validate_enrollment(h: &Household, errors: &mut Vec<FieldError>) {
    let e = &h.enrollment;
    match (e.program, e.dibao_class) {
        (Program::RuralDibao, None) => errors.push(FieldError::new(
            "enrollment.dibao_class",
            "required",
            "rural dibao needs a class 1-4",
        )),
        (Program::RuralDibao | Program::UrbanDibao, Some(c)) if !(1..=4).contains(&c) => errors
            .push(
                FieldError::new("enrollment.dibao_class", "range", "dibao class must be 1-4")
                    .with("min", 1)
                    .with("max", 4)
                    .with("value", c),
            ),
        (Program::RuralDibao | Program::UrbanDibao, _) => {}
        (program, Some(_)) => errors.push(
            FieldError::new(
                "enrollment.dibao_class",
                "dibao_class.not_applicable",
                "only dibao has a class",
            )
            .with("program", program.code()),
        ),
        (_, None) => {}
    }
    if let (Some(start), Some(end)) = (e.start_date, e.end_date) {
        if end < start {
            errors.push(
                FieldError::new(
                    "enrollment.end_date",
                    "date.before_start",
                    "end date is before the start date",
                )
                .with("start_date", start),
            );
        }
    }
}

fn validate_members(h: &mut Household, today: NaiveDate, errors: &mut Vec<FieldError>) {
    if h.members.is_empty() {
        errors.push(FieldError::new(
            "members",
            "required",
            "a household has at least one member",
        ));
    }
    if h.members.len() > MAX_MEMBERS {
        errors.push(
            FieldError::new("members", "too_many", "too many members").with("max", MAX_MEMBERS),
        );
    }
    let heads: Vec<&String> = h
        .members
        .iter()
        .filter(|(_, m)| m.relation == Relation::Head)
        .map(|(id, _)| id)
        .collect();
    match heads.as_slice() {
        [only] if **only == h.profile.head_member_id => {}
        [_] => errors.push(FieldError::new(
            "profile.head_member_id",
            "household.head_mismatch",
            "head_member_id must point at the member whose relation is head",
        )),
        [] if !h.members.is_empty() => errors.push(FieldError::new(
            "members",
            "household.no_head",
            "exactly one member must be the head of household",
        )),
        [] => {}
        _ => errors.push(
            FieldError::new(
                "members",
                "household.several_heads",
                "only one member can be the head",
            )
            .with("count", heads.len()),
        ),
    }
    let mut seen_ids = HashSet::new();
    for (member_id, member) in &mut h.members {
        let prefix = format!("members.{member_id}");
        if !is_hex(member_id, 16) {
            errors.push(FieldError::new(
                &prefix,
                "member.id",
                "member id must be 16 lower-case hex characters",
            ));
        }
        validate_member(member, today, &prefix, errors);
        if !seen_ids.insert(member.id_number.clone()) {
            errors.push(FieldError::new(
                format!("{prefix}.id_number"),
                "member.duplicate_id_number",
                "two members of this household have the same ID number",
            ));
        }
    }
}

fn validate_member(m: &mut Member, today: NaiveDate, prefix: &str, errors: &mut Vec<FieldError>) {
    m.name = m.name.trim().to_owned();
    check_text(&format!("{prefix}.name"), &m.name, MAX_NAME_CHARS, errors);
    match ResidentId::parse(&format!("{prefix}.id_number"), &m.id_number, today) {
        Ok(id) => {
            m.id_number = id.as_str().to_owned();
            if id.birth_date() != m.birth_date {
                errors.push(
                    FieldError::new(
                        format!("{prefix}.birth_date"),
                        "member.birth_date_mismatch",
                        "birth date differs from the one in the ID number",
                    )
                    .with("id_birth_date", id.birth_date()),
                );
            }
        }
        Err(e) => errors.push(e),
    }
    check_date(&format!("{prefix}.birth_date"), m.birth_date, today, errors);
    match (m.disability, m.disability_grade) {
        (Disability::None, None) => {}
        (Disability::None, Some(_)) => errors.push(FieldError::new(
            format!("{prefix}.disability_grade"),
            "disability_grade.not_applicable",
            "a grade needs a disability category",
        )),
        (_, None) => errors.push(FieldError::new(
            format!("{prefix}.disability_grade"),
            "required",
            "a disability needs its grade 1-4",
        )),
        (_, Some(g)) if !(1..=4).contains(&g) => errors.push(
            FieldError::new(
                format!("{prefix}.disability_grade"),
                "range",
                "disability grade must be 1-4",
            )
            .with("min", 1)
            .with("max", 4)
            .with("value", g),
        ),
        _ => {}
    }
}

fn check_digits(field: &str, value: &str, len: usize, errors: &mut Vec<FieldError>) {
    if value.len() != len || !value.bytes().all(|b| b.is_ascii_digit()) {
        errors.push(
            FieldError::new(field, "code.format", format!("must be {len} digits"))
                .with("length", len),
        );
    }
}

fn check_text(field: &str, value: &str, max_chars: usize, errors: &mut Vec<FieldError>) {
    let chars = value.chars().count();
    if chars == 0 {
        errors.push(FieldError::new(field, "required", "must not be empty"));
    } else if chars > max_chars {
        errors.push(FieldError::new(field, "too_long", "too long").with("max", max_chars));
    } else if value.chars().any(char::is_control) {
        errors.push(FieldError::new(
            field,
            "text.control_character",
            "must not contain control characters",
        ));
    }
}

fn check_date(field: &str, date: NaiveDate, today: NaiveDate, errors: &mut Vec<FieldError>) {
    if date > today || date.year() < crate::resident_id::OLDEST_BIRTH_YEAR {
        errors.push(
            FieldError::new(
                field,
                "date.implausible",
                "date is in the future or implausibly old",
            )
            .with("date", date),
        );
    }
}

fn is_hex(value: &str, len: usize) -> bool {
    value.len() == len
        && value
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
