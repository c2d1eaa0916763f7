//! Parsing of answer values written as text: decimals, dates, attachment hashes, ids.

use chrono::NaiveDate;

use crate::signing::canonical::MAX_SAFE_INTEGER;

/// Largest accepted decimal scale (digits after the point).
pub const MAX_SCALE: u8 = 6;

/// Parses a decimal such as `-12.5` into an integer scaled by 10^`scale`
/// (`"12.5"` at scale 2 → 1250). At most `scale` digits after the point; no `+`, no
/// exponent, no leading point. `None` when malformed or beyond ±(2^53 − 1) once scaled.
pub fn parse_decimal(text: &str, scale: u8) -> Option<i64> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = match body.split_once('.') {
        Some((w, f)) => (w, f),
        None => (body, ""),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || (body.contains('.') && !digits(fraction)) || whole.len() > 16 {
        return None;
    }
    if fraction.len() > usize::from(scale) {
        return None;
    }
    let mut value: i64 = whole.parse().ok()?;
    for i in 0..scale {
        let digit = fraction
            .as_bytes()
            .get(usize::from(i))
            .map_or(0, |b| i64::from(b - b'0'));
        value = value.checked_mul(10)?.checked_add(digit)?;
    }
    if value > MAX_SAFE_INTEGER {
        return None;
    }
    Some(if negative { -value } else { value })
}

/// Parses a date written exactly `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    if text.len() != 10 {
        return None;
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    (date.format("%Y-%m-%d").to_string() == text).then_some(date)
}

/// A SHA-256 written as 64 lower-case hex digits.
pub fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A code: a lower-case ASCII letter, then letters, digits and `_`; 1–64 characters.
/// Question ids, section ids and option codes are codes.
pub fn is_code(text: &str) -> bool {
    let mut bytes = text.bytes();
    text.len() <= 64
        && bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// A template or rubric id: like a code, and `-` is allowed too.
pub fn is_document_id(text: &str) -> bool {
    is_code(&text.replace('-', "_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals() {
        assert_eq!(parse_decimal("12.5", 2), Some(1250));
        assert_eq!(parse_decimal("-0.05", 2), Some(-5));
        assert_eq!(parse_decimal("7", 1), Some(70));
        for bad in [
            "",
            "-",
            ".5",
            "5.",
            "1.234",
            "+1",
            "1e3",
            "1.2.3",
            " 1",
            "99999999999999999",
        ] {
            assert_eq!(parse_decimal(bad, 2), None, "{bad}");
        }
    }

    #[test]
    fn dates_hashes_codes() {
        assert!(parse_date("2024-02-29").is_some());
        assert!(parse_date("2023-02-29").is_none());
        assert!(parse_date("2024-2-09").is_none());
        assert!(is_sha256_hex(&"ab".repeat(32)));
        assert!(!is_sha256_hex(&"AB".repeat(32)));
        assert!(is_code("income_wages_fen") && !is_code("Income") && !is_code("1a"));
        assert!(is_document_id("home-visit") && !is_document_id("-x"));
    }
}
