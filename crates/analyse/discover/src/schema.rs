//! Schemas inferred from samples and merged across them: scalar types and formats of text
//! values (query, headers, forms), and JSON documents (nested objects, arrays, nullability).
//! Every table here is capped ([`Limits`]); what did not fit is counted, never stored.

use crate::classify::{scalar_type, string_format, Format, ScalarType};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Caps that bound schema inference (copied from [`crate::DiscoverConfig`]).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most distinct values remembered per string field (enum detection).
    pub enum_max_values: usize,
    /// Fewest samples before a low-cardinality field is called an enum.
    pub enum_min_samples: u64,
    /// Most properties kept per JSON object.
    pub max_properties: usize,
    /// Deepest JSON nesting followed.
    pub max_depth: usize,
    /// Most elements of one JSON array looked at.
    pub max_array_items: usize,
}

/// Longest value kept as an enum candidate or example.
const MAX_VALUE_LEN: usize = 64;

/// What the string values of one field looked like.
#[derive(Debug, Clone, Default)]
pub struct StringStats {
    /// String values seen.
    pub count: u64,
    /// How many of them had each format.
    pub formats: BTreeMap<Format, u64>,
    /// Distinct values, until there are more than the enum cap (then `overflow`).
    pub distinct: Vec<String>,
    /// True once more distinct values were seen than remembered.
    pub overflow: bool,
}

impl StringStats {
    fn observe(&mut self, s: &str, lim: &Limits) {
        self.count += 1;
        if let Some(f) = string_format(s) {
            *self.formats.entry(f).or_insert(0) += 1;
        }
        if !self.overflow && !self.distinct.iter().any(|d| d == s) {
            if s.len() > MAX_VALUE_LEN || self.distinct.len() >= lim.enum_max_values {
                self.overflow = true;
                self.distinct = Vec::new();
            } else {
                self.distinct.push(s.to_string());
            }
        }
    }

    fn merge(&mut self, o: &StringStats, lim: &Limits) {
        self.count += o.count;
        for (f, n) in &o.formats {
            *self.formats.entry(*f).or_insert(0) += n;
        }
        if o.overflow {
            self.overflow = true;
            self.distinct = Vec::new();
        }
        for d in &o.distinct {
            if self.overflow {
                break;
            }
            if !self.distinct.contains(d) {
                if self.distinct.len() >= lim.enum_max_values {
                    self.overflow = true;
                    self.distinct = Vec::new();
                } else {
                    self.distinct.push(d.clone());
                }
            }
        }
    }

    /// The format shared by every value, if any.
    pub fn format(&self) -> Option<Format> {
        self.formats
            .iter()
            .find(|(_, n)| **n == self.count)
            .map(|(f, _)| *f)
    }

    /// Enum values when the field has few distinct values over enough samples.
    pub fn enum_values(&self, lim: &Limits) -> Option<Vec<String>> {
        let few = !self.overflow
            && !self.distinct.is_empty()
            && (self.distinct.len() as u64) * 3 <= self.count;
        (few && self.count >= lim.enum_min_samples && self.format().is_none()).then(|| {
            let mut v = self.distinct.clone();
            v.sort();
            v
        })
    }
}

/// A JSON-Schema-like summary of every value seen at one place.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    /// Samples.
    pub seen: u64,
    /// `null` samples.
    pub null: u64,
    /// Boolean samples.
    pub boolean: u64,
    /// Integer samples.
    pub integer: u64,
    /// Non-integer number samples.
    pub number: u64,
    /// String samples.
    pub string: Option<Box<StringStats>>,
    /// Object samples.
    pub object: Option<Box<ObjectSchema>>,
    /// Array samples.
    pub array: Option<Box<ArraySchema>>,
    /// Uploaded files (multipart parts with a file name).
    pub binary: u64,
}

/// A field of a form or multipart body.
#[derive(Debug, Clone, Copy)]
pub enum FieldValue<'a> {
    /// A text value.
    Text(&'a str),
    /// An uploaded file.
    File,
}

/// Properties of the objects seen at one place.
#[derive(Debug, Clone, Default)]
pub struct ObjectSchema {
    /// Objects seen.
    pub seen: u64,
    /// Per property, its schema (whose `seen` says how often it was present).
    pub props: BTreeMap<String, Schema>,
    /// Properties not kept because of the cap.
    pub dropped: u64,
}

/// Elements of the arrays seen at one place.
#[derive(Debug, Clone, Default)]
pub struct ArraySchema {
    /// Arrays seen.
    pub seen: u64,
    /// Merged schema of their elements.
    pub items: Schema,
}

impl Schema {
    /// Records a value written as text (query, header, cookie, form field, path segment).
    pub fn observe_text(&mut self, s: &str, lim: &Limits) {
        self.seen += 1;
        match scalar_type(s) {
            ScalarType::Integer => self.integer += 1,
            ScalarType::Number => self.number += 1,
            ScalarType::Boolean => self.boolean += 1,
            ScalarType::String => self
                .string
                .get_or_insert_with(Default::default)
                .observe(s, lim),
        }
    }

    /// Records a text value that is a string whatever it looks like (path segments learned
    /// by cardinality, XML text).
    pub fn observe_string(&mut self, s: &str, lim: &Limits) {
        self.seen += 1;
        self.string
            .get_or_insert_with(Default::default)
            .observe(s, lim);
    }

    /// Records an object whose fields were written as text (a form body, simple XML).
    pub fn observe_fields<'a>(
        &mut self,
        fields: impl IntoIterator<Item = (&'a str, FieldValue<'a>)>,
        lim: &Limits,
    ) {
        self.seen += 1;
        let o = self.object.get_or_insert_with(Default::default);
        o.seen += 1;
        for (k, v) in fields {
            if !o.props.contains_key(k) && o.props.len() >= lim.max_properties {
                o.dropped += 1;
                continue;
            }
            let p = o.props.entry(k.to_string()).or_default();
            // A field repeated in one body is counted once for presence.
            if p.seen >= o.seen {
                continue;
            }
            match v {
                FieldValue::Text(t) => p.observe_text(t, lim),
                FieldValue::File => {
                    p.seen += 1;
                    p.binary += 1;
                }
            }
        }
    }

    /// Records a JSON value.
    pub fn observe_json(&mut self, v: &Value, lim: &Limits) {
        self.observe_json_at(v, lim, 0);
    }

    fn observe_json_at(&mut self, v: &Value, lim: &Limits, depth: usize) {
        self.seen += 1;
        match v {
            Value::Null => self.null += 1,
            Value::Bool(_) => self.boolean += 1,
            Value::Number(n) => {
                if n.is_i64() || n.is_u64() {
                    self.integer += 1
                } else {
                    self.number += 1
                }
            }
            Value::String(s) => self
                .string
                .get_or_insert_with(Default::default)
                .observe(s, lim),
            Value::Array(items) => {
                let a = self.array.get_or_insert_with(Default::default);
                a.seen += 1;
                if depth < lim.max_depth {
                    for item in items.iter().take(lim.max_array_items) {
                        a.items.observe_json_at(item, lim, depth + 1);
                    }
                }
            }
            Value::Object(map) => {
                let o = self.object.get_or_insert_with(Default::default);
                o.seen += 1;
                if depth < lim.max_depth {
                    for (k, v) in map {
                        if let Some(p) = o.props.get_mut(k.as_str()) {
                            p.observe_json_at(v, lim, depth + 1);
                        } else if o.props.len() < lim.max_properties {
                            let mut p = Schema::default();
                            p.observe_json_at(v, lim, depth + 1);
                            o.props.insert(k.clone(), p);
                        } else {
                            o.dropped += 1;
                        }
                    }
                }
            }
        }
    }

    /// Adds the samples of `o` to `self`.
    pub fn merge(&mut self, o: &Schema, lim: &Limits) {
        self.seen += o.seen;
        self.null += o.null;
        self.boolean += o.boolean;
        self.integer += o.integer;
        self.number += o.number;
        self.binary += o.binary;
        if let Some(s) = &o.string {
            self.string
                .get_or_insert_with(Default::default)
                .merge(s, lim);
        }
        if let Some(a) = &o.array {
            let mine = self.array.get_or_insert_with(Default::default);
            mine.seen += a.seen;
            mine.items.merge(&a.items, lim);
        }
        if let Some(obj) = &o.object {
            let mine = self.object.get_or_insert_with(Default::default);
            mine.seen += obj.seen;
            mine.dropped += obj.dropped;
            for (k, p) in &obj.props {
                if let Some(mp) = mine.props.get_mut(k) {
                    mp.merge(p, lim);
                } else if mine.props.len() < lim.max_properties {
                    mine.props.insert(k.clone(), p.clone());
                } else {
                    mine.dropped += 1;
                }
            }
        }
    }

    /// The non-null JSON-Schema types seen, most frequent first (`integer` folds into
    /// `number` when both were seen).
    pub fn types(&self) -> Vec<&'static str> {
        let mut t: Vec<(&'static str, u64)> = Vec::new();
        let numeric = self.integer + self.number;
        if self.number > 0 {
            t.push(("number", numeric));
        } else if self.integer > 0 {
            t.push(("integer", self.integer));
        }
        if self.boolean > 0 {
            t.push(("boolean", self.boolean));
        }
        if let Some(s) = &self.string {
            t.push(("string", s.count));
        }
        if self.binary > 0 {
            t.push(("string", self.binary));
        }
        if let Some(o) = &self.object {
            t.push(("object", o.seen));
        }
        if let Some(a) = &self.array {
            t.push(("array", a.seen));
        }
        t.sort_by_key(|x| std::cmp::Reverse(x.1));
        let mut names: Vec<&'static str> = Vec::with_capacity(t.len());
        for (n, _) in t {
            if !names.contains(&n) {
                names.push(n);
            }
        }
        names
    }

    /// One word for the type: the most frequent non-null type, `null` if only nulls were seen.
    pub fn type_name(&self) -> &'static str {
        self.types().first().copied().unwrap_or("null")
    }

    /// The string format, when every string value had it.
    pub fn format(&self) -> Option<Format> {
        self.string.as_ref().and_then(|s| s.format())
    }

    /// JSON Schema (2020-12, as OpenAPI 3.1 uses it).
    pub fn to_json_schema(&self, lim: &Limits) -> Value {
        let mut types: Vec<Value> = self.types().into_iter().map(Value::from).collect();
        if self.null > 0 {
            types.push(Value::from("null"));
        }
        let mut out = Map::new();
        match types.len() {
            0 => {}
            1 => {
                out.insert("type".into(), types.swap_remove(0));
            }
            _ => {
                out.insert("type".into(), Value::Array(types));
            }
        }
        if self.binary > 0 && self.string.is_none() {
            out.insert("contentMediaType".into(), json!("application/octet-stream"));
        }
        if let Some(s) = &self.string {
            if let Some(f) = s.format() {
                out.insert("format".into(), json!(f.as_str()));
            } else if let Some(e) = s.enum_values(lim) {
                let mut vals: Vec<Value> = e.into_iter().map(Value::from).collect();
                if self.null > 0 {
                    vals.push(Value::Null);
                }
                // An enum restricts every type; only emit it when strings are all there is.
                if self.integer + self.number + self.boolean == 0
                    && self.object.is_none()
                    && self.array.is_none()
                {
                    out.insert("enum".into(), Value::Array(vals));
                }
            }
        }
        if let Some(o) = &self.object {
            let mut props = Map::new();
            let mut required = Vec::new();
            for (k, p) in &o.props {
                props.insert(k.clone(), p.to_json_schema(lim));
                if p.seen >= o.seen {
                    required.push(Value::from(k.clone()));
                }
            }
            out.insert("properties".into(), Value::Object(props));
            if !required.is_empty() {
                out.insert("required".into(), Value::Array(required));
            }
        }
        if let Some(a) = &self.array {
            out.insert("items".into(), a.items.to_json_schema(lim));
        }
        Value::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const LIM: Limits = Limits {
        enum_max_values: 4,
        enum_min_samples: 6,
        max_properties: 3,
        max_depth: 3,
        max_array_items: 5,
    };

    #[test]
    fn merges_objects_and_nullability() {
        let mut s = Schema::default();
        s.observe_json(&json!({"id": 1, "name": "a", "tags": ["x"]}), &LIM);
        s.observe_json(&json!({"id": 2, "name": null, "tags": []}), &LIM);
        let js = s.to_json_schema(&LIM);
        assert_eq!(js["type"], "object");
        assert_eq!(js["properties"]["id"]["type"], "integer");
        assert_eq!(js["properties"]["name"]["type"], json!(["string", "null"]));
        assert_eq!(js["properties"]["tags"]["items"]["type"], "string");
        assert_eq!(js["required"], json!(["id", "name", "tags"]));
    }

    #[test]
    fn caps_properties_depth_and_enums() {
        let mut s = Schema::default();
        s.observe_json(
            &json!({"a":1,"b":2,"c":3,"d":4,"e":{"f":{"g":{"h":{"i":1}}}}}),
            &LIM,
        );
        let o = s.object.as_ref().map(|o| (o.props.len(), o.dropped));
        assert_eq!(o, Some((3, 2)));
        let mut deep = Schema::default();
        deep.observe_json(&json!({"f":{"g":{"h":{"i":{"j":1}}}}}), &LIM);
        let js = deep.to_json_schema(&LIM);
        assert_eq!(
            js["properties"]["f"]["properties"]["g"]["properties"]["h"],
            json!({"type":"object","properties":{}})
        );
        let mut e = Schema::default();
        for v in ["asc", "desc", "asc", "asc", "desc", "desc"] {
            e.observe_text(v, &LIM);
        }
        assert_eq!(e.to_json_schema(&LIM)["enum"], json!(["asc", "desc"]));
        let mut many = Schema::default();
        for i in 0..20 {
            many.observe_text(&format!("v{i}"), &LIM);
        }
        assert!(many.to_json_schema(&LIM).get("enum").is_none());
    }

    #[test]
    fn text_scalars() {
        let mut s = Schema::default();
        for v in ["1", "2", "3.5"] {
            s.observe_text(v, &LIM);
        }
        assert_eq!(s.type_name(), "number");
        let mut u = Schema::default();
        u.observe_text("9f3e2a1c-1b2c-4d5e-8f90-123456789abc", &LIM);
        assert_eq!(
            u.to_json_schema(&LIM),
            json!({"type":"string","format":"uuid"})
        );
    }
}
