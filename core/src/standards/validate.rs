//! Validation of a standards file: every problem is a [`FieldError`] naming the field.
//!
//! Codes: `standards.format`, `standards.regions_empty`, `standards.region_code`,
//! `standards.region_name`, `standards.year`, `standards.duplicate_region`,
//! `standards.region_empty`, `standards.amount_range`.

use std::collections::BTreeSet;

use super::{Amount, RegionStandards, Standards, STANDARDS_FORMAT};
use crate::error::FieldError;

/// The largest amount accepted, in fen (1,000,000 yuan per person per period): far above
/// any real standard, low enough that household totals cannot overflow.
pub const MAX_AMOUNT_FEN: i64 = 100_000_000;

/// Years a standards file may name.
pub const YEARS: std::ops::RangeInclusive<i32> = 1990..=2100;

/// Whether `code` is a 6-digit administrative division code.
pub fn is_region_code(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

/// All problems of a standards file (empty when it is valid).
pub fn validate(standards: &Standards) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if standards.format != STANDARDS_FORMAT {
        errors.push(
            FieldError::new("format", "standards.format", "unsupported standards format")
                .with("found", standards.format)
                .with("supported", STANDARDS_FORMAT),
        );
    }
    if standards.regions.is_empty() {
        errors.push(FieldError::new(
            "regions",
            "standards.regions_empty",
            "a standards file lists at least one region",
        ));
    }
    let mut seen = BTreeSet::new();
    for (i, region) in standards.regions.iter().enumerate() {
        let prefix = format!("regions[{i}]");
        errors.extend(
            validate_region(region)
                .into_iter()
                .map(|e| e.under(&prefix)),
        );
        if !seen.insert((region.region_code.as_str(), region.year)) {
            errors.push(
                FieldError::new(
                    format!("{prefix}.region_code"),
                    "standards.duplicate_region",
                    "this region and year are listed twice",
                )
                .with("region_code", &region.region_code)
                .with("year", region.year),
            );
        }
    }
    errors
}

fn validate_region(region: &RegionStandards) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if !is_region_code(&region.region_code) {
        errors.push(
            FieldError::new(
                "region_code",
                "standards.region_code",
                "not a 6-digit administrative division code",
            )
            .with("value", &region.region_code),
        );
    }
    if region.region_name.trim().is_empty() {
        errors.push(FieldError::new(
            "region_name",
            "standards.region_name",
            "the region needs a name",
        ));
    }
    if !YEARS.contains(&region.year) {
        errors.push(
            FieldError::new("year", "standards.year", "year out of range")
                .with("value", region.year)
                .with("min", YEARS.start())
                .with("max", YEARS.end()),
        );
    }
    let mut amounts: Vec<(String, Amount)> = Vec::new();
    let mut add = |name: &str, amount: Option<Amount>| {
        if let Some(a) = amount {
            amounts.push((name.to_owned(), a));
        }
    };
    add("urban_dibao", region.urban_dibao);
    add("rural_dibao", region.rural_dibao);
    if let Some(c) = &region.rural_classes {
        add("rural_classes.class_1", Some(c.class_1));
        add("rural_classes.class_2", Some(c.class_2));
        add("rural_classes.class_3", Some(c.class_3));
        add("rural_classes.class_4", Some(c.class_4));
    }
    if let Some(e) = &region.extreme_poverty {
        add("extreme_poverty.urban", e.urban);
        add("extreme_poverty.rural", e.rural);
    }
    if let Some(c) = &region.care_subsidy {
        add("care_subsidy.self_care", Some(c.self_care));
        add("care_subsidy.partial_loss", Some(c.partial_loss));
        add("care_subsidy.complete_loss", Some(c.complete_loss));
    }
    if amounts.is_empty() {
        errors.push(FieldError::new(
            "region_code",
            "standards.region_empty",
            "the region carries no standard",
        ));
    }
    for (name, amount) in amounts {
        if amount.fen <= 0 || amount.fen > MAX_AMOUNT_FEN {
            errors.push(
                FieldError::new(
                    format!("{name}.fen"),
                    "standards.amount_range",
                    "amount out of range",
                )
                .with("value", amount.fen)
                .with("min", 1)
                .with("max", MAX_AMOUNT_FEN),
            );
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::super::*;

    fn region(json: &str) -> String {
        format!(r#"{{"format": 1, "regions": [{json}]}}"#)
    }

    fn codes(json: &str) -> Vec<(String, &'static str)> {
        Standards::from_json(json)
            .unwrap_err()
            .field_errors()
            .iter()
            .map(|e| (e.field.clone(), e.code))
            .collect()
    }

    #[test]
    fn a_negative_class_amount_is_named_by_its_field() {
        let json = region(
            r#"{"region_code": "620000", "region_name": "甘肃", "year": 2017,
                "rural_classes": {"class_1": {"fen": 350000, "per": "year"},
                  "class_2": {"fen": 330000, "per": "year"},
                  "class_3": {"fen": -1, "per": "year"},
                  "class_4": {"fen": 69600, "per": "year"}}}"#,
        );
        assert_eq!(
            codes(&json),
            vec![(
                "regions[0].rural_classes.class_3.fen".to_owned(),
                "standards.amount_range"
            )]
        );
    }

    #[test]
    fn bad_codes_years_empty_regions_and_duplicates_are_each_reported() {
        let json = r#"{"format": 1, "regions": [
            {"region_code": "62010", "region_name": " ", "year": 1800},
            {"region_code": "620100", "region_name": "兰州", "year": 2022, "urban_dibao": {"fen": 91400, "per": "month"}},
            {"region_code": "620100", "region_name": "兰州", "year": 2022, "urban_dibao": {"fen": 91400, "per": "month"}}
        ]}"#;
        let found = codes(json);
        for expected in [
            ("regions[0].region_code", "standards.region_code"),
            ("regions[0].region_name", "standards.region_name"),
            ("regions[0].year", "standards.year"),
            ("regions[0].region_code", "standards.region_empty"),
            ("regions[2].region_code", "standards.duplicate_region"),
        ] {
            assert!(
                found.contains(&(expected.0.to_owned(), expected.1)),
                "{expected:?} in {found:?}"
            );
        }
        assert_eq!(found.len(), 5);
    }

    #[test]
    fn format_unknown_keys_and_malformed_json_are_refused() {
        assert_eq!(
            codes(r#"{"format": 2, "regions": []}"#),
            vec![
                ("format".to_owned(), "standards.format"),
                ("regions".to_owned(), "standards.regions_empty")
            ]
        );
        let typo = region(
            r#"{"region_code": "620100", "region_name": "兰州", "year": 2022, "urban_dibaoo": {"fen": 1, "per": "month"}}"#,
        );
        assert_eq!(
            codes(&typo),
            vec![("standards".to_owned(), "standards.json")]
        );
        assert_eq!(codes("{"), vec![("standards".to_owned(), "standards.json")]);
        let bad_period = region(
            r#"{"region_code": "620100", "region_name": "兰州", "year": 2022, "urban_dibao": {"fen": 1, "per": "week"}}"#,
        );
        assert_eq!(
            codes(&bad_period),
            vec![("standards".to_owned(), "standards.json")]
        );
    }

    #[test]
    fn lookups_fall_back_from_county_to_city_to_province() {
        let standards = Standards::from_json(SAMPLE_STANDARDS_JSON).unwrap();
        assert_eq!(
            standards.find("620102", 2022).unwrap().region_code,
            "620100"
        );
        assert_eq!(
            standards.find("621102", 2017).unwrap().region_code,
            "620000"
        );
        assert!(matches!(
            standards.find("620102", 2030),
            Err(crate::Error::NotFound { .. })
        ));
        assert_eq!(
            standards.find("62x102", 2022).unwrap_err().field_errors()[0].code,
            "standards.region_code"
        );
    }
}
