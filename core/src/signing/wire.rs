//! How individual field values look inside signed documents.
//!
//! Signed bodies must have exactly one byte form per value, so these serde helpers
//! are strict on input: hashes and keys are lowercase hex of the exact length,
//! timestamps are RFC 3339 UTC with whole seconds (`2024-03-05T08:30:00Z`), and
//! opaque byte strings outside the signed bodies are standard padded base64.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, SubsecRound, Utc};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serializer};

/// The only accepted timestamp layout: RFC 3339, UTC, whole seconds.
pub const TIMESTAMP_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

/// Drops the sub-second part: signed timestamps have whole-second precision.
pub fn whole_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(0)
}

/// Formats a timestamp as it appears in signed documents, or `None` if it has a
/// sub-second part or a year outside 0000–9999.
pub fn format_timestamp(t: &DateTime<Utc>) -> Option<String> {
    if t.timestamp_subsec_nanos() != 0 {
        return None;
    }
    let text = t.format(TIMESTAMP_FORMAT).to_string();
    (parse_timestamp(&text) == Some(*t)).then_some(text)
}

/// Parses a timestamp written by [`format_timestamp`]; any other spelling is `None`.
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    if text.len() != 20 {
        return None;
    }
    let naive = chrono::NaiveDateTime::parse_from_str(text, TIMESTAMP_FORMAT).ok()?;
    let t = naive.and_utc();
    (t.format(TIMESTAMP_FORMAT).to_string() == text).then_some(t)
}

/// Decodes lowercase hex of exactly `N` bytes; uppercase or any other length is refused.
pub fn decode_hex_exact<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != 2 * N
        || !text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

/// Serde for timestamps in signed documents (see [`TIMESTAMP_FORMAT`]).
pub mod timestamp {
    use super::*;

    /// Writes a whole-second UTC timestamp; a sub-second part is an error, not rounded.
    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        match format_timestamp(t) {
            Some(text) => s.serialize_str(&text),
            None => Err(serde::ser::Error::custom(
                "timestamps in signed documents must be whole seconds in years 0000-9999",
            )),
        }
    }

    /// Reads a timestamp, refusing every spelling but the canonical one.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        parse_timestamp(&text).ok_or_else(|| {
            D::Error::custom(format!("timestamp {text:?} is not YYYY-MM-DDTHH:MM:SSZ"))
        })
    }
}

/// Serde for fixed-size byte arrays (hashes, keys) as lowercase hex.
pub mod hex_bytes {
    use super::*;

    /// Writes the bytes as lowercase hex.
    pub fn serialize<S: Serializer, const N: usize>(
        bytes: &[u8; N],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    /// Reads exactly `N` bytes of lowercase hex.
    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<[u8; N], D::Error> {
        let text = String::deserialize(d)?;
        decode_hex_exact::<N>(&text)
            .ok_or_else(|| D::Error::custom(format!("expected {} lowercase hex digits", 2 * N)))
    }
}

/// Serde for variable-length opaque bytes (signed bodies) as standard padded base64.
pub mod base64_bytes {
    use super::*;

    /// Writes the bytes as base64.
    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    /// Reads standard padded base64 (non-canonical trailing bits are refused).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD
            .decode(text.as_bytes())
            .map_err(|e| D::Error::custom(format!("bad base64: {e}")))
    }
}

/// Serde for Ed25519 signatures (64 bytes) as standard padded base64.
pub mod base64_signature {
    use super::*;

    /// Writes the signature as base64.
    pub fn serialize<S: Serializer>(bytes: &[u8; 64], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    /// Reads a base64 signature of exactly 64 bytes.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 64], D::Error> {
        let bytes = super::base64_bytes::deserialize(d)?;
        <[u8; 64]>::try_from(bytes.as_slice()).map_err(|_| {
            D::Error::custom(format!("signature is {} bytes, expected 64", bytes.len()))
        })
    }
}

/// Checks an identifier that goes into a signed document (worker, household, visit id):
/// 1 to 128 bytes of UTF-8 without control characters or surrounding whitespace.
pub fn check_identifier(what: &str, id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > 128 {
        return Err(format!("{what} must be 1 to 128 bytes"));
    }
    if id.chars().any(char::is_control) || id.trim() != id {
        return Err(format!(
            "{what} has control characters or surrounding spaces"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn timestamps_round_trip_and_are_strict() {
        let t = Utc.with_ymd_and_hms(2024, 3, 5, 8, 30, 0).single();
        let t = t.unwrap_or_default();
        let text = format_timestamp(&t);
        assert_eq!(text.as_deref(), Some("2024-03-05T08:30:00Z"));
        assert_eq!(parse_timestamp("2024-03-05T08:30:00Z"), Some(t));
        for bad in [
            "2024-03-05T08:30:00+00:00",
            "2024-03-05T08:30:00.000Z",
            "2024-03-05 08:30:00Z",
            "2024-3-05T08:30:00Z",
            "2024-03-05T08:30:00z",
            "2024-02-30T08:30:00Z",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
        let with_nanos = t + chrono::Duration::milliseconds(5);
        assert_eq!(format_timestamp(&with_nanos), None);
        assert_eq!(whole_seconds(with_nanos), t);
    }

    #[test]
    fn hex_is_lowercase_and_exact() {
        assert_eq!(decode_hex_exact::<2>("0aff"), Some([0x0a, 0xff]));
        assert_eq!(decode_hex_exact::<2>("0AFF"), None);
        assert_eq!(decode_hex_exact::<2>("0aff00"), None);
        assert_eq!(decode_hex_exact::<2>("0ag0"), None);
    }

    #[test]
    fn identifiers() {
        assert!(check_identifier("id", "hh-620102-0001").is_ok());
        assert!(check_identifier("id", "张三户").is_ok());
        assert!(check_identifier("id", "").is_err());
        assert!(check_identifier("id", " x").is_err());
        assert!(check_identifier("id", "a\nb").is_err());
        assert!(check_identifier("id", &"x".repeat(129)).is_err());
    }
}
