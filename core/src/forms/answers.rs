//! Answers to a form: a JSON object keyed by question id.
//!
//! | answer JSON | [`AnswerValue`] | question types |
//! |---|---|---|
//! | `true` / `false` | `Bool` | yes/no |
//! | integer | `Integer` | integer, money in fen |
//! | string | `Text` | text, decimal (`"12.5"`), date (`"2024-05-06"`), single choice (option code), attachment (64 hex digits) |
//! | array of strings | `List` | multi choice (option codes) |
//! | array of objects | `Rows` | member roster and other repeat groups (one object a row) |
//! | `{"lat_e7": int, "lon_e7": int}` | `Gps` | GPS point in 1e-7 degrees |
//! | anything else (`null`, floats, mixed arrays, other objects) | `Unsupported` | none: reported by validation |
//!
//! Deserializing any JSON object into [`Answers`] succeeds (except duplicate keys), so a
//! wrong shape is reported by validation against the question it answers, never as an
//! anonymous parse error. Floats are never answers: decimals are strings, so the answers
//! can be sealed as canonical JSON.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

/// One roster row: sub-question id → answer.
pub type Row = BTreeMap<String, AnswerValue>;

/// A GPS point in 1e-7 degrees (integers: no floats are signed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GpsPoint {
    /// Latitude × 10^7.
    pub lat_e7: i64,
    /// Longitude × 10^7.
    pub lon_e7: i64,
}

/// The JSON shape of an answer that no question type accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `null`.
    Null,
    /// A float or an integer beyond 64 bits.
    Number,
    /// An array mixing strings and objects, or holding other values.
    Array,
    /// An object that is not a GPS point.
    Object,
}

impl Shape {
    /// Stable name used in error parameters.
    pub fn as_str(self) -> &'static str {
        match self {
            Shape::Null => "null",
            Shape::Number => "number",
            Shape::Array => "array",
            Shape::Object => "object",
        }
    }
}

/// One answer, as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerValue {
    /// Yes/no.
    Bool(bool),
    /// Integer or money in fen.
    Integer(i64),
    /// Text, decimal, date, single choice or attachment hash.
    Text(String),
    /// Multi choice (an empty array is an empty list).
    List(Vec<String>),
    /// Roster rows.
    Rows(Vec<Row>),
    /// GPS point.
    Gps(GpsPoint),
    /// A shape no question accepts (serialized as `null`).
    Unsupported(Shape),
}

impl AnswerValue {
    /// The integer, if this is one.
    pub fn as_integer(&self) -> Option<i64> {
        match self {
            AnswerValue::Integer(v) => Some(*v),
            _ => None,
        }
    }
    /// The text, if this is text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            AnswerValue::Text(v) => Some(v),
            _ => None,
        }
    }
    /// Roster rows (an empty array counts as no rows).
    pub fn as_rows(&self) -> Option<&[Row]> {
        match self {
            AnswerValue::Rows(rows) => Some(rows),
            AnswerValue::List(list) if list.is_empty() => Some(&[]),
            _ => None,
        }
    }
}

/// Answers to one form: question id → answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answers(pub BTreeMap<String, AnswerValue>);

impl Answers {
    /// The answer to a top-level question.
    pub fn get(&self, id: &str) -> Option<&AnswerValue> {
        self.0.get(id)
    }
    /// Sets an answer.
    pub fn set(&mut self, id: impl Into<String>, value: AnswerValue) {
        self.0.insert(id.into(), value);
    }
    /// Parses answers from JSON text (an object; duplicate keys are refused).
    pub fn from_json_str(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
    /// Reads answers from a JSON value (an object; any values).
    pub fn from_json(value: &serde_json::Value) -> Result<Self, serde_json::Error> {
        Self::deserialize(value)
    }
    /// The answers as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

impl Serialize for AnswerValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            AnswerValue::Bool(v) => s.serialize_bool(*v),
            AnswerValue::Integer(v) => s.serialize_i64(*v),
            AnswerValue::Text(v) => s.serialize_str(v),
            AnswerValue::List(v) => v.serialize(s),
            AnswerValue::Rows(v) => v.serialize(s),
            AnswerValue::Gps(v) => v.serialize(s),
            AnswerValue::Unsupported(_) => s.serialize_unit(),
        }
    }
}

impl Serialize for Answers {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for AnswerValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

impl<'de> Deserialize<'de> for Answers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(MapVisitor).map(Answers)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = AnswerValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an answer")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<AnswerValue, E> {
        Ok(AnswerValue::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<AnswerValue, E> {
        Ok(AnswerValue::Integer(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<AnswerValue, E> {
        Ok(i64::try_from(v).map_or(
            AnswerValue::Unsupported(Shape::Number),
            AnswerValue::Integer,
        ))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<AnswerValue, E> {
        Ok(AnswerValue::Unsupported(Shape::Number))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<AnswerValue, E> {
        Ok(AnswerValue::Text(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<AnswerValue, E> {
        Ok(AnswerValue::Text(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<AnswerValue, E> {
        Ok(AnswerValue::Unsupported(Shape::Null))
    }
    fn visit_none<E: de::Error>(self) -> Result<AnswerValue, E> {
        Ok(AnswerValue::Unsupported(Shape::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<AnswerValue, A::Error> {
        let mut texts = Vec::new();
        let mut rows = Vec::new();
        let mut other = false;
        while let Some(element) = seq.next_element_seed(ElementSeed)? {
            match element {
                Element::Text(t) => texts.push(t),
                Element::Row(r) => rows.push(r),
                Element::Other => other = true,
            }
        }
        Ok(match (other, texts.is_empty(), rows.is_empty()) {
            (false, _, true) => AnswerValue::List(texts),
            (false, true, false) => AnswerValue::Rows(rows),
            _ => AnswerValue::Unsupported(Shape::Array),
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AnswerValue, A::Error> {
        let (mut lat, mut lon, mut other) = (None, None, false);
        while let Some(key) = map.next_key::<String>()? {
            let value: AnswerValue = map.next_value()?;
            match (key.as_str(), value) {
                ("lat_e7", AnswerValue::Integer(v)) if lat.is_none() => lat = Some(v),
                ("lon_e7", AnswerValue::Integer(v)) if lon.is_none() => lon = Some(v),
                _ => other = true,
            }
        }
        Ok(match (lat, lon, other) {
            (Some(lat_e7), Some(lon_e7), false) => AnswerValue::Gps(GpsPoint { lat_e7, lon_e7 }),
            _ => AnswerValue::Unsupported(Shape::Object),
        })
    }
}

struct MapVisitor;

impl<'de> Visitor<'de> for MapVisitor {
    type Value = BTreeMap<String, AnswerValue>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of answers keyed by question id")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            let value: AnswerValue = map.next_value()?;
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!("answer {key} is given twice")));
            }
            out.insert(key, value);
        }
        Ok(out)
    }
}

enum Element {
    Text(String),
    Row(Row),
    Other,
}

struct ElementSeed;

impl<'de> DeserializeSeed<'de> for ElementSeed {
    type Value = Element;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Element, D::Error> {
        d.deserialize_any(ElementVisitor)
    }
}

struct ElementVisitor;

impl<'de> Visitor<'de> for ElementVisitor {
    type Value = Element;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an option code or a roster row")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Element, E> {
        Ok(Element::Text(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Element, E> {
        Ok(Element::Text(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Element, A::Error> {
        MapVisitor.visit_map(map).map(Element::Row)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Element, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Element::Other)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Element, E> {
        Ok(Element::Other)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Element, E> {
        Ok(Element::Other)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Element, E> {
        Ok(Element::Other)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Element, E> {
        Ok(Element::Other)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Element, E> {
        Ok(Element::Other)
    }
    fn visit_none<E: de::Error>(self) -> Result<Element, E> {
        Ok(Element::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shapes_map_to_answer_values() {
        let a = Answers::from_json(&json!({
            "b": true, "i": 5, "t": "x", "l": ["a", "b"], "r": [{"n": "x"}],
            "g": {"lat_e7": 1, "lon_e7": 2}, "f": 1.5, "n": null, "m": ["a", {"n": 1}],
            "o": {"lat_e7": 1}, "e": []
        }))
        .unwrap();
        assert_eq!(a.get("b"), Some(&AnswerValue::Bool(true)));
        assert_eq!(a.get("i"), Some(&AnswerValue::Integer(5)));
        assert_eq!(
            a.get("l"),
            Some(&AnswerValue::List(vec!["a".into(), "b".into()]))
        );
        assert!(matches!(a.get("r"), Some(AnswerValue::Rows(r)) if r.len() == 1));
        assert!(matches!(a.get("g"), Some(AnswerValue::Gps(_))));
        assert_eq!(a.get("f"), Some(&AnswerValue::Unsupported(Shape::Number)));
        assert_eq!(a.get("n"), Some(&AnswerValue::Unsupported(Shape::Null)));
        assert_eq!(a.get("m"), Some(&AnswerValue::Unsupported(Shape::Array)));
        assert_eq!(a.get("o"), Some(&AnswerValue::Unsupported(Shape::Object)));
        assert_eq!(a.get("e").and_then(AnswerValue::as_rows), Some(&[][..]));
        let text = serde_json::to_string(&a).unwrap();
        assert!(Answers::from_json_str(&text).is_ok());
        assert!(Answers::from_json_str(r#"{"a":1,"a":2}"#).is_err());
        assert!(Answers::from_json(&json!([1])).is_err());
    }
}
