//! Resident identity card numbers (居民身份证号码, GB 11643-1999).
//!
//! 18 characters: a 6-digit address code, an 8-digit birth date (YYYYMMDD), a 3-digit
//! sequence code (odd for men, even for women) and a check character computed with
//! ISO 7064 MOD 11-2 (`0`–`9` or `X`).

use chrono::{Datelike, NaiveDate};

use crate::error::FieldError;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// The oldest birth year accepted as plausible.
pub const OLDEST_BIRTH_YEAR: i32 = 1890;

/// A validated resident ID number (upper-case `X`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResidentId(String);

impl ResidentId {
    /// Parses and checks an ID number against `today` (birth dates in the future are refused).
    /// A lower-case `x` check character is accepted and normalised.
    pub fn parse(field: &str, raw: &str, today: NaiveDate) -> Result<Self, FieldError> {
        let value = raw.trim().to_ascii_uppercase();
        let chars: Vec<char> = value.chars().collect();
        if chars.len() != 18 {
            return Err(FieldError::new(
                field,
                "resident_id.length",
                format!(
                    "a resident ID number has 18 characters, this one has {}",
                    chars.len()
                ),
            )
            .with("length", chars.len()));
        }
        if let Some((pos, c)) = chars[..17]
            .iter()
            .enumerate()
            .find(|(_, c)| !c.is_ascii_digit())
        {
            return Err(FieldError::new(
                field,
                "resident_id.not_digit",
                format!("character {} ('{c}') must be a digit", pos + 1),
            )
            .with("position", pos + 1));
        }
        let expected = check_char(&chars[..17]);
        if chars[17] != expected {
            return Err(FieldError::new(
                field,
                "resident_id.check_digit",
                format!("check character should be {expected}, not {}", chars[17]),
            )
            .with("expected", expected));
        }
        let birth = birth_date_of(&value).ok_or_else(|| {
            FieldError::new(
                field,
                "resident_id.birth_date",
                format!(
                    "characters 7-14 ({}) are not a calendar date",
                    &value[6..14]
                ),
            )
        })?;
        if birth > today || birth.year() < OLDEST_BIRTH_YEAR {
            return Err(FieldError::new(
                field,
                "resident_id.birth_date_implausible",
                format!("birth date {birth} is not plausible"),
            )
            .with("birth_date", birth));
        }
        Ok(Self(value))
    }

    /// The normalised 18-character number.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The birth date encoded in the number.
    pub fn birth_date(&self) -> NaiveDate {
        // Checked in `parse`.
        birth_date_of(&self.0).unwrap_or_default()
    }
}

/// The ISO 7064 MOD 11-2 check character of the first 17 digits.
fn check_char(digits: &[char]) -> char {
    let sum: u32 = digits
        .iter()
        .zip(WEIGHTS)
        .map(|(c, w)| c.to_digit(10).unwrap_or(0) * w)
        .sum();
    CHECK_CHARS[(sum % 11) as usize]
}

fn birth_date_of(value: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(value.get(6..14)?, "%Y%m%d").ok()
}

/// Builds a valid ID number from 17 leading digits (for tests, fixtures and benchmarks).
pub fn with_check_char(first17: &str) -> String {
    let chars: Vec<char> = first17.chars().collect();
    format!("{first17}{}", check_char(&chars))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap_or_default()
    }

    #[test]
    fn accepts_the_published_example_number() {
        // The example from GB 11643-1999: 11010519491231002X.
        let id = ResidentId::parse("id", "11010519491231002x", today()).expect("valid");
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap_or_default()
        );
    }

    #[test]
    fn refuses_wrong_check_digit_length_letters_and_dates() {
        let e = ResidentId::parse("id", "110105194912310021", today()).unwrap_err();
        assert_eq!(
            (e.code, e.params["expected"].as_str()),
            ("resident_id.check_digit", "X")
        );
        assert_eq!(
            ResidentId::parse("id", "1101051949", today())
                .unwrap_err()
                .code,
            "resident_id.length"
        );
        assert_eq!(
            ResidentId::parse("id", "11010519A91231002X", today())
                .unwrap_err()
                .code,
            "resident_id.not_digit"
        );
        let bad_date = with_check_char("11010519490231002");
        assert_eq!(
            ResidentId::parse("id", &bad_date, today())
                .unwrap_err()
                .code,
            "resident_id.birth_date"
        );
        let future = with_check_char("11010520300101002");
        assert_eq!(
            ResidentId::parse("id", &future, today()).unwrap_err().code,
            "resident_id.birth_date_implausible"
        );
        let ancient = with_check_char("11010518000101002");
        assert_eq!(
            ResidentId::parse("id", &ancient, today()).unwrap_err().code,
            "resident_id.birth_date_implausible"
        );
    }

    #[test]
    fn every_single_digit_change_is_caught() {
        let good = with_check_char("62010219800101123");
        for pos in 0..17 {
            let mut chars: Vec<char> = good.chars().collect();
            let d = chars[pos].to_digit(10).unwrap_or(0);
            chars[pos] = char::from_digit((d + 1) % 10, 10).unwrap_or('0');
            let mutated: String = chars.into_iter().collect();
            assert!(
                ResidentId::parse("id", &mutated, today()).is_err(),
                "position {pos}"
            );
        }
    }
}
