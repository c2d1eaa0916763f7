//! RFC 8785 (JSON Canonicalization Scheme) encoding of the documents that get signed
//! or content-addressed: sealed visit records, worker certificates, revocation lists
//! and signature payloads.
//!
//! A canonical document has exactly one byte form: object keys sorted by UTF-16 code
//! units, no whitespace, minimal string escapes, ECMAScript number formatting. This
//! profile accepts only integers within ±(2^53 − 1) as numbers: money is counted in
//! fen, and refusing floats removes the only hard part of JCS (shortest round-trip
//! float printing) and every cross-platform rounding doubt.
//!
//! [`parse_canonical`] is the gate for untrusted bytes: it refuses anything that is not
//! byte-identical to its own canonical re-encoding, so two parties that accept the same
//! document always hash the same bytes.

use std::cell::RefCell;
use std::fmt;

use ring::digest;
use serde::de::{DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::Serialize;
use serde_json::{Map, Number, Value};

pub use crate::signing::error::CanonicalError;

/// Largest magnitude of an integer in canonical JSON: `Number.MAX_SAFE_INTEGER` (2^53 − 1).
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// Deepest nesting of arrays and objects the encoder accepts.
pub const MAX_DEPTH: usize = 64;

/// SHA-256 of `bytes`: the content address of a sealed record or a certificate.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let d = digest::digest(&digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// Encodes a JSON value in RFC 8785 canonical form.
pub fn to_canonical_bytes(value: &Value) -> Result<Vec<u8>, CanonicalError> {
    let mut out = Vec::with_capacity(256);
    write_value(value, &mut out, 0)?;
    Ok(out)
}

/// Encodes any serializable document (certificate, payload, …) in canonical form.
pub fn to_canonical_bytes_of<T: Serialize>(doc: &T) -> Result<Vec<u8>, CanonicalError> {
    let value = serde_json::to_value(doc).map_err(|e| CanonicalError::Schema(e.to_string()))?;
    to_canonical_bytes(&value)
}

/// Parses untrusted bytes that must be canonical JSON of at most `max_len` bytes.
///
/// Refuses: oversize input, invalid JSON or UTF-8, duplicate keys, floats, integers
/// beyond ±(2^53 − 1), and any input whose canonical re-encoding is not byte-identical
/// ("non-canonical encoding": whitespace, unsorted keys, needless escapes, `1.0`, …).
pub fn parse_canonical(bytes: &[u8], max_len: usize) -> Result<Value, CanonicalError> {
    if bytes.len() > max_len {
        return Err(CanonicalError::TooLarge {
            len: bytes.len(),
            limit: max_len,
        });
    }
    let first_error = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = StrictSeed {
        first_error: &first_error,
    }
    .deserialize(&mut de)
    .and_then(|v| {
        de.end()?;
        Ok(v)
    });
    let value = match (parsed, first_error.into_inner()) {
        (_, Some(typed)) => return Err(typed),
        (Err(e), None) => return Err(CanonicalError::Syntax(e.to_string())),
        (Ok(v), None) => v,
    };
    if to_canonical_bytes(&value)? != bytes {
        return Err(CanonicalError::NonCanonical);
    }
    Ok(value)
}

/// Parses canonical bytes (see [`parse_canonical`]) into a typed document.
pub fn from_canonical_bytes<T: DeserializeOwned>(
    bytes: &[u8],
    max_len: usize,
) -> Result<T, CanonicalError> {
    let value = parse_canonical(bytes, max_len)?;
    serde_json::from_value(value).map_err(|e| CanonicalError::Schema(e.to_string()))
}

fn write_value(value: &Value, out: &mut Vec<u8>, depth: usize) -> Result<(), CanonicalError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(n, out)?,
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            if depth >= MAX_DEPTH {
                return Err(CanonicalError::TooDeep(MAX_DEPTH));
            }
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out, depth + 1)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            if depth >= MAX_DEPTH {
                return Err(CanonicalError::TooDeep(MAX_DEPTH));
            }
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push(b'{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(key, out);
                out.push(b':');
                write_value(item, out, depth + 1)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn write_number(n: &Number, out: &mut Vec<u8>) -> Result<(), CanonicalError> {
    let int = if let Some(i) = n.as_i64() {
        i
    } else if n.is_u64() {
        return Err(CanonicalError::IntegerOutOfRange(n.to_string()));
    } else {
        return Err(CanonicalError::FloatNotAllowed);
    };
    if !(-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&int) {
        return Err(CanonicalError::IntegerOutOfRange(int.to_string()));
    }
    // For safe integers ECMAScript's Number::toString is the plain decimal form.
    out.extend_from_slice(int.to_string().as_bytes());
    Ok(())
}

fn write_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for ch in s.chars() {
        match ch {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\u{08}' => out.extend_from_slice(b"\\b"),
            '\u{0C}' => out.extend_from_slice(b"\\f"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

/// Builds a `Value` like serde_json does, but records the first typed refusal
/// (duplicate key, float, out-of-range integer) so the caller gets a precise error.
struct StrictSeed<'a> {
    first_error: &'a RefCell<Option<CanonicalError>>,
}

impl StrictSeed<'_> {
    fn fail<E: serde::de::Error>(&self, err: CanonicalError) -> E {
        let msg = err.to_string();
        self.first_error.borrow_mut().get_or_insert(err);
        E::custom(msg)
    }
    fn child(&self) -> Self {
        StrictSeed {
            first_error: self.first_error,
        }
    }
}

impl<'de> DeserializeSeed<'de> for StrictSeed<'_> {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("canonical JSON")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Value, E> {
        if (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&v) {
            Ok(Value::from(v))
        } else {
            Err(self.fail(CanonicalError::IntegerOutOfRange(v.to_string())))
        }
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Value, E> {
        match i64::try_from(v) {
            Ok(i) => self.visit_i64(i),
            Err(_) => Err(self.fail(CanonicalError::IntegerOutOfRange(v.to_string()))),
        }
    }
    fn visit_f64<E: serde::de::Error>(self, _v: f64) -> Result<Value, E> {
        Err(self.fail(CanonicalError::FloatNotAllowed))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.child())? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(self.fail(CanonicalError::DuplicateKey(key)));
            }
            let item = access.next_value_seed(self.child())?;
            map.insert(key, item);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canon(v: &Value) -> String {
        String::from_utf8(to_canonical_bytes(v).expect("encodes")).expect("utf-8")
    }

    #[test]
    fn sorts_keys_by_utf16_and_drops_whitespace() {
        // U+1F600 (surrogates D83D DE00) sorts before U+E000 in UTF-16, after it in UTF-8.
        let v = json!({"b": 1, "a": [true, null, "x"], "\u{1F600}": 0, "\u{E000}": 0, "A": {}});
        assert_eq!(
            canon(&v),
            "{\"A\":{},\"a\":[true,null,\"x\"],\"b\":1,\"\u{1F600}\":0,\"\u{E000}\":0}"
        );
    }

    #[test]
    fn rfc8785_sort_example() {
        // RFC 8785 §3.2.3 key-sorting example (keys only; numbers replaced by integers).
        let v = json!({"\u{20ac}": 1, "\r": 2, "\u{fb33}": 3, "1": 4, "\u{1f600}": 5, "\u{80}": 6, "\u{f6}": 7});
        assert_eq!(
            canon(&v),
            "{\"\\r\":2,\"1\":4,\"\u{80}\":6,\"\u{f6}\":7,\"\u{20ac}\":1,\"\u{1f600}\":5,\"\u{fb33}\":3}"
        );
    }

    #[test]
    fn escapes_strings_minimally() {
        let v = json!("a\"b\\c\u{8}\u{c}\n\r\t\u{1}\u{1f}\u{7f}/é李\u{2028}");
        assert_eq!(
            canon(&v),
            "\"a\\\"b\\\\c\\b\\f\\n\\r\\t\\u0001\\u001f\u{7f}/é李\u{2028}\""
        );
    }

    #[test]
    fn integers_only_within_safe_range() {
        assert_eq!(canon(&json!(MAX_SAFE_INTEGER)), "9007199254740991");
        assert_eq!(canon(&json!(-MAX_SAFE_INTEGER)), "-9007199254740991");
        assert_eq!(canon(&json!(0)), "0");
        assert!(matches!(
            to_canonical_bytes(&json!(MAX_SAFE_INTEGER + 1)),
            Err(CanonicalError::IntegerOutOfRange(_))
        ));
        assert!(matches!(
            to_canonical_bytes(&json!(u64::MAX)),
            Err(CanonicalError::IntegerOutOfRange(_))
        ));
        assert_eq!(
            to_canonical_bytes(&json!(1.5)),
            Err(CanonicalError::FloatNotAllowed)
        );
        assert_eq!(
            to_canonical_bytes(&json!(1.0)),
            Err(CanonicalError::FloatNotAllowed)
        );
    }

    #[test]
    fn parse_accepts_canonical_and_round_trips() {
        let v =
            json!({"income_fen": 1234500, "name": "王秀英", "members": [{"id": "x"}], "ok": false});
        let bytes = to_canonical_bytes(&v).expect("encodes");
        assert_eq!(parse_canonical(&bytes, 1024), Ok(v));
    }

    #[test]
    fn parse_refuses_non_canonical() {
        for bad in [
            &b"{\"b\":1,\"a\":2}"[..],
            b"{\"a\": 1}",
            b" {}",
            b"{}\n",
            b"\"\\u0041\"",
            b"\"\\/\"",
            b"\"\\u00E9\"",
            b"-0",
            b"01",
            b"[1 ]",
        ] {
            let err = parse_canonical(bad, 100).expect_err("must refuse");
            assert!(
                matches!(
                    err,
                    CanonicalError::NonCanonical
                        | CanonicalError::Syntax(_)
                        | CanonicalError::FloatNotAllowed
                ),
                "{:?} -> {err:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let err = parse_canonical(b"{\"a\": 1}", 100).expect_err("whitespace");
        assert_eq!(err, CanonicalError::NonCanonical);
        assert!(err.to_string().contains("non-canonical encoding"));
    }

    #[test]
    fn parse_refuses_duplicates_floats_and_bad_input() {
        assert_eq!(
            parse_canonical(b"{\"a\":1,\"a\":1}", 100),
            Err(CanonicalError::DuplicateKey("a".into()))
        );
        assert_eq!(
            parse_canonical(b"[{\"a\":1,\"a\":2}]", 100),
            Err(CanonicalError::DuplicateKey("a".into()))
        );
        assert_eq!(
            parse_canonical(b"1.5", 100),
            Err(CanonicalError::FloatNotAllowed)
        );
        assert_eq!(
            parse_canonical(b"1e3", 100),
            Err(CanonicalError::FloatNotAllowed)
        );
        assert!(matches!(
            parse_canonical(b"9007199254740992", 100),
            Err(CanonicalError::IntegerOutOfRange(_))
        ));
        assert!(matches!(
            parse_canonical(b"\"\\ud800\"", 100),
            Err(CanonicalError::Syntax(_))
        ));
        assert!(matches!(
            parse_canonical(b"\"\xff\"", 100),
            Err(CanonicalError::Syntax(_))
        ));
        assert!(matches!(
            parse_canonical(b"{\"a\":1", 100),
            Err(CanonicalError::Syntax(_))
        ));
        assert!(matches!(
            parse_canonical(b"{} {}", 100),
            Err(CanonicalError::Syntax(_))
        ));
        assert_eq!(
            parse_canonical(b"[1,2,3]", 6),
            Err(CanonicalError::TooLarge { len: 7, limit: 6 })
        );
    }

    #[test]
    fn refuses_deep_nesting() {
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(
            parse_canonical(deep.as_bytes(), 1000),
            Err(CanonicalError::TooDeep(MAX_DEPTH))
        );
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse_canonical(ok.as_bytes(), 1000).is_ok());
    }

    #[test]
    fn sha256_known_answer() {
        assert_eq!(
            hex::encode(sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
