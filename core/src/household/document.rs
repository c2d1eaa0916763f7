//! The household's Automerge document and how the typed model maps onto it.
//!
//! Layout (one document per household; every field is one key holding one scalar, strings are
//! plain `Str` scalars rather than collaborative text so a field costs one operation):
//!
//! ```text
//! ROOT { id, profile: {…}, enrollment: {…}, members: { <member id>: {…}, … }, <unknown keys> }
//! ```
//!
//! Writes are **diffs**: the edited model is compared with the model as it was read (at the
//! heads it was read at) and only changed keys are put or deleted, so concurrent edits of
//! different fields merge and keys unknown to this version are never touched. Each commit
//! carries the author's worker id as its message and the device time as its timestamp; that
//! is how a conflict says who wrote each value and when.

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ChangeHash, ObjId, ObjType, ReadDoc, ScalarValue, Value, ROOT};
use serde_json::{Map, Value as Json};

use super::conflict::{ConflictValue, FieldConflict};
use crate::error::{Error, FieldError, Result};

/// Reads the whole document (at `heads`, or now) as a JSON tree of maps, lists and scalars.
pub(crate) fn read_tree(
    doc: &AutoCommit,
    heads: Option<&[ChangeHash]>,
) -> Result<Map<String, Json>> {
    read_map(doc, &ROOT, heads)
}

/// Reads only the given top-level keys (now) as a JSON map; absent keys are left out.
pub(crate) fn read_keys(doc: &AutoCommit, keys: &[&str]) -> Result<Map<String, Json>> {
    let mut out = Map::new();
    for key in keys {
        if let Some((value, id)) = doc.get(&ROOT, *key).map_err(document_error)? {
            out.insert((*key).to_owned(), read_value(doc, value, id, None)?);
        }
    }
    Ok(out)
}

fn read_map(
    doc: &AutoCommit,
    obj: &ObjId,
    heads: Option<&[ChangeHash]>,
) -> Result<Map<String, Json>> {
    let mut out = Map::new();
    let entries = match heads {
        Some(h) => doc
            .map_range_at(obj, .., h)
            .map(|item| {
                (
                    item.key.to_string(),
                    item.value.clone().into_value(),
                    item.id(),
                )
            })
            .collect::<Vec<_>>(),
        None => doc
            .map_range(obj, ..)
            .map(|item| {
                (
                    item.key.to_string(),
                    item.value.clone().into_value(),
                    item.id(),
                )
            })
            .collect(),
    };
    for (key, value, id) in entries {
        out.insert(key, read_value(doc, value, id, heads)?);
    }
    Ok(out)
}

fn read_value(
    doc: &AutoCommit,
    value: Value<'_>,
    id: ObjId,
    heads: Option<&[ChangeHash]>,
) -> Result<Json> {
    Ok(match value {
        Value::Object(ObjType::Map | ObjType::Table) => Json::Object(read_map(doc, &id, heads)?),
        Value::Object(ObjType::List) => {
            let len = match heads {
                Some(h) => doc.length_at(&id, h),
                None => doc.length(&id),
            };
            let mut items = Vec::with_capacity(len);
            for i in 0..len {
                let item = match heads {
                    Some(h) => doc.get_at(&id, i, h),
                    None => doc.get(&id, i),
                }
                .map_err(document_error)?;
                if let Some((v, child)) = item {
                    items.push(read_value(doc, v, child, heads)?);
                }
            }
            Json::Array(items)
        }
        Value::Object(ObjType::Text) => Json::String(
            match heads {
                Some(h) => doc.text_at(&id, h),
                None => doc.text(&id),
            }
            .map_err(document_error)?,
        ),
        Value::Scalar(s) => scalar_to_json(&s),
    })
}

/// JSON for a scalar; bytes become lower-case hex, unknown future types become null.
pub(crate) fn scalar_to_json(s: &ScalarValue) -> Json {
    match s {
        ScalarValue::Str(v) => Json::String(v.to_string()),
        ScalarValue::Int(v) | ScalarValue::Timestamp(v) => Json::from(*v),
        ScalarValue::Uint(v) => Json::from(*v),
        ScalarValue::F64(v) => serde_json::Number::from_f64(*v).map_or(Json::Null, Json::Number),
        ScalarValue::Counter(c) => Json::from(i64::from(c)),
        ScalarValue::Boolean(v) => Json::Bool(*v),
        ScalarValue::Bytes(b) => Json::String(hex::encode(b)),
        ScalarValue::Null | ScalarValue::Unknown { .. } => Json::Null,
    }
}

fn json_to_scalar(field: &str, v: &Json) -> Result<ScalarValue> {
    Ok(match v {
        Json::String(s) => ScalarValue::Str(s.as_str().into()),
        Json::Bool(b) => ScalarValue::Boolean(*b),
        Json::Null => ScalarValue::Null,
        Json::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => ScalarValue::Int(i),
            (None, Some(u), _) => ScalarValue::Uint(u),
            (None, None, Some(f)) => ScalarValue::F64(f),
            _ => {
                return Err(Error::invalid(FieldError::new(
                    field,
                    "number",
                    "unsupported number",
                )))
            }
        },
        Json::Array(_) | Json::Object(_) => {
            return Err(Error::invalid(FieldError::new(
                field,
                "not_scalar",
                "expected a single value",
            )))
        }
    })
}

/// Writes the difference between `base` (what the editor saw) and `new` into `obj`.
///
/// Refuses (with [`Error::FieldConflicted`]) to write a key that currently holds concurrent
/// values; the caller rolls the transaction back on any error. `fresh` says `obj` was created
/// in this transaction, so none of its keys can be conflicted and the check is skipped.
pub(crate) fn write_diff(
    doc: &mut AutoCommit,
    obj: &ObjId,
    base: &Map<String, Json>,
    new: &Map<String, Json>,
    path: &str,
    fresh: bool,
) -> Result<()> {
    let check = |doc: &AutoCommit, key: &str, field: &str| {
        if fresh {
            Ok(())
        } else {
            refuse_if_conflicted(doc, obj, key, field)
        }
    };
    for (key, value) in new {
        let field = join(path, key);
        match (base.get(key), value) {
            (Some(old), _) if old == value => {}
            (Some(Json::Object(old)), Json::Object(new_map)) => {
                check(doc, key, &field)?;
                match doc.get(obj, key.as_str()).map_err(document_error)? {
                    Some((Value::Object(ObjType::Map), child)) => {
                        write_diff(doc, &child, old, new_map, &field, fresh)?
                    }
                    _ => create_map(doc, obj, key, new_map, &field)?,
                }
            }
            (_, Json::Object(new_map)) => {
                check(doc, key, &field)?;
                create_map(doc, obj, key, new_map, &field)?;
            }
            (_, Json::Array(_)) => {
                return Err(Error::invalid(FieldError::new(
                    field,
                    "read_only",
                    "lists cannot be edited here",
                )))
            }
            (_, scalar) => {
                check(doc, key, &field)?;
                doc.put(obj, key.as_str(), json_to_scalar(&field, scalar)?)
                    .map_err(document_error)?;
            }
        }
    }
    for key in base.keys().filter(|k| !new.contains_key(*k)) {
        let field = join(path, key);
        check(doc, key, &field)?;
        doc.delete(obj, key.as_str()).map_err(document_error)?;
    }
    Ok(())
}

fn create_map(
    doc: &mut AutoCommit,
    obj: &ObjId,
    key: &str,
    content: &Map<String, Json>,
    field: &str,
) -> Result<()> {
    let child = doc
        .put_object(obj, key, ObjType::Map)
        .map_err(document_error)?;
    write_diff(doc, &child, &Map::new(), content, field, true)
}

fn refuse_if_conflicted(doc: &AutoCommit, obj: &ObjId, key: &str, field: &str) -> Result<()> {
    if doc.get_all(obj, key).map_err(document_error)?.len() > 1 {
        return Err(Error::FieldConflicted {
            field: field.to_owned(),
        });
    }
    Ok(())
}

/// Every key of the document that holds concurrent values, with who wrote each and when.
pub(crate) fn conflicts(doc: &mut AutoCommit) -> Result<Vec<FieldConflict>> {
    let mut found = Vec::new();
    collect_conflicts(doc, &ROOT, "", &mut found)?;
    let mut out = Vec::with_capacity(found.len());
    for (field, values) in found {
        let mut conflict_values = Vec::new();
        for (value, id) in values {
            let meta = doc.hash_for_opid(&id).and_then(|hash| {
                doc.get_change_meta_by_hash(&hash)
                    .map(|m| (m.message.map(|s| s.to_string()), m.timestamp))
            });
            let (author, time) = meta.unwrap_or((None, 0));
            conflict_values.push(ConflictValue {
                value,
                author,
                time_unix: time,
            });
        }
        out.push(FieldConflict {
            field,
            values: conflict_values,
        });
    }
    Ok(out)
}

type Found = Vec<(String, Vec<(Json, ObjId)>)>;

fn collect_conflicts(doc: &AutoCommit, obj: &ObjId, path: &str, out: &mut Found) -> Result<()> {
    let entries: Vec<(String, bool, bool, ObjId)> = doc
        .map_range(obj, ..)
        .map(|item| {
            let is_map = matches!(item.value, automerge::ValueRef::Object(ObjType::Map));
            (item.key.to_string(), item.conflict, is_map, item.id())
        })
        .collect();
    for (key, conflict, is_map, child) in entries {
        // The care and case logs only gain events and their readers unite concurrently
        // created maps: they hold nothing for a person to resolve.
        if path.is_empty() && (key == crate::care::CARE_KEY || key == crate::case::CASE_KEY) {
            continue;
        }
        let field = join(path, &key);
        if conflict {
            let all = doc.get_all(obj, key.as_str()).map_err(document_error)?;
            let mut values = Vec::with_capacity(all.len());
            for (v, id) in all {
                values.push((read_value(doc, v, id.clone(), None)?, id));
            }
            out.push((field.clone(), values));
        }
        if is_map {
            collect_conflicts(doc, &child, &field, out)?;
        }
    }
    Ok(())
}

/// Puts `value` at the dotted `field` path, superseding every concurrent value there.
pub(crate) fn put_path(doc: &mut AutoCommit, field: &str, value: &Json) -> Result<()> {
    let parts: Vec<&str> = field.split('.').collect();
    let (last, parents) = parts
        .split_last()
        .ok_or_else(|| Error::invalid(FieldError::new(field, "path", "empty field path")))?;
    let mut obj = ROOT;
    for part in parents {
        obj = match doc.get(&obj, *part).map_err(document_error)? {
            Some((Value::Object(ObjType::Map), child)) => child,
            _ => {
                return Err(Error::invalid(FieldError::new(
                    field,
                    "path",
                    "no such field",
                )))
            }
        };
    }
    doc.put(&obj, *last, json_to_scalar(field, value)?)
        .map_err(document_error)?;
    Ok(())
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

pub(crate) fn document_error(e: automerge::AutomergeError) -> Error {
    Error::Document(e.to_string())
}
