//! Rendering a template to YAML (short-form intrinsics, for reading in pull requests) or JSON.
//!
//! Keys come out in the conventional order (rain's `cft/format`): top level
//! AWSTemplateFormatVersion, Description, Metadata, Parameters, Mappings, Conditions, Resources,
//! Outputs; per resource Type, DependsOn, Condition, DeletionPolicy, UpdateReplacePolicy,
//! Metadata, Properties. Maps keep the order their builder wrote, so the same config always gives
//! the same bytes.

use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::Serialize;

use super::template::{Output, Parameter, Resource, Template};
use super::value::{Intrinsic, Map, RefTarget, Value};

/// Output format of a rendered template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Yaml,
    Json,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Yaml => "yaml",
            Format::Json => "json",
        }
    }
}

/// Renders the template; the result ends with a newline.
pub fn render(template: &Template, format: Format) -> String {
    let view = View { inner: template, format };
    match format {
        // Serializing our own tree cannot fail: every key is a string and every number finite
        // (non-finite floats are written as strings by `Value` serialization).
        Format::Yaml => super::yaml::emit_template(template),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&view).unwrap_or_default();
            s.push('\n');
            s
        }
    }
}

/// Renders a single value as compact JSON (the form CloudFormation stores inside strings, such as
/// a dashboard body).
pub fn value_to_json(value: &Value) -> String {
    serde_json::to_string(&View { inner: value, format: Format::Json }).unwrap_or_default()
}

struct View<'a, T: ?Sized> {
    inner: &'a T,
    format: Format,
}

impl<'a, T: ?Sized> View<'a, T> {
    fn of<U: ?Sized>(&self, inner: &'a U) -> View<'a, U> {
        View { inner, format: self.format }
    }
}

impl Serialize for View<'_, Template> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = self.inner;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("AWSTemplateFormatVersion", "2010-09-09")?;
        if let Some(d) = &t.description {
            m.serialize_entry("Description", d)?;
        }
        if !t.metadata.is_empty() {
            m.serialize_entry("Metadata", &self.of(&t.metadata))?;
        }
        if !t.parameters.is_empty() {
            m.serialize_entry("Parameters", &Pairs(self.format, &t.parameters))?;
        }
        if !t.conditions.is_empty() {
            m.serialize_entry("Conditions", &Pairs(self.format, &t.conditions))?;
        }
        m.serialize_entry("Resources", &Pairs(self.format, &t.resources))?;
        if !t.outputs.is_empty() {
            m.serialize_entry("Outputs", &Pairs(self.format, &t.outputs))?;
        }
        m.end()
    }
}

/// An ordered list of named entries rendered as a map.
struct Pairs<'a, T>(Format, &'a [(String, T)]);

impl<T> Serialize for Pairs<'_, T>
where
    for<'b> View<'b, T>: Serialize,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.1.len()))?;
        for (k, v) in self.1 {
            m.serialize_entry(k, &View { inner: v, format: self.0 })?;
        }
        m.end()
    }
}

impl Serialize for View<'_, Resource> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.inner;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("Type", &r.resource_type)?;
        match r.depends_on.as_slice() {
            [] => {}
            [one] => m.serialize_entry("DependsOn", one)?,
            many => m.serialize_entry("DependsOn", many)?,
        }
        if let Some(c) = &r.condition {
            m.serialize_entry("Condition", c)?;
        }
        if let Some(p) = r.deletion_policy {
            m.serialize_entry("DeletionPolicy", p.as_str())?;
        }
        if let Some(p) = r.update_replace_policy {
            m.serialize_entry("UpdateReplacePolicy", p.as_str())?;
        }
        if !r.metadata.is_empty() {
            m.serialize_entry("Metadata", &self.of(&r.metadata))?;
        }
        if !r.properties.is_empty() {
            m.serialize_entry("Properties", &self.of(&r.properties))?;
        }
        m.end()
    }
}

impl Serialize for View<'_, Parameter> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let p = self.inner;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("Type", &p.parameter_type)?;
        if let Some(d) = &p.description {
            m.serialize_entry("Description", d)?;
        }
        if let Some(d) = &p.default {
            m.serialize_entry("Default", &self.of(d))?;
        }
        if !p.allowed_values.is_empty() {
            m.serialize_entry("AllowedValues", &self.of(p.allowed_values.as_slice()))?;
        }
        m.end()
    }
}

impl Serialize for View<'_, Output> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let o = self.inner;
        let mut m = s.serialize_map(None)?;
        if let Some(d) = &o.description {
            m.serialize_entry("Description", d)?;
        }
        m.serialize_entry("Value", &self.of(&o.value))?;
        if let Some(e) = &o.export_name {
            m.serialize_entry("Export", &Single("Name", self.of(e)))?;
        }
        m.end()
    }
}

impl Serialize for View<'_, Map> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.inner.0.len()))?;
        for (k, v) in &self.inner.0 {
            m.serialize_entry(k, &self.of(v))?;
        }
        m.end()
    }
}

impl Serialize for View<'_, [Value]> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.inner.len()))?;
        for v in self.inner {
            seq.serialize_element(&self.of(v))?;
        }
        seq.end()
    }
}

impl Serialize for View<'_, Value> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.inner {
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(n) => s.serialize_i64(*n),
            Value::Float(f) if f.is_finite() => s.serialize_f64(*f),
            Value::Float(f) => s.serialize_str(&f.to_string()),
            Value::Str(v) => s.serialize_str(v),
            Value::List(items) => self.of(items.as_slice()).serialize(s),
            Value::Map(map) => self.of(map).serialize(s),
            Value::Fn(f) => self.of(f.as_ref()).serialize(s),
        }
    }
}

/// A one-entry map, the JSON long form of an intrinsic (`{"Fn::Sub": ...}`).
struct Single<'a, T>(&'a str, T);

impl<T: Serialize> Serialize for Single<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry(self.0, &self.1)?;
        m.end()
    }
}

/// Argument lists of intrinsics mix types; each element is rendered in the same format.
enum Arg<'a> {
    Str(&'a str),
    Int(i64),
    Value(&'a Value),
    Values(&'a [Value]),
    Vars(&'a [(String, Value)]),
}

struct Args<'a>(Format, Vec<Arg<'a>>);

impl Serialize for Args<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.1.len()))?;
        for a in &self.1 {
            match a {
                Arg::Str(v) => seq.serialize_element(v)?,
                Arg::Int(n) => seq.serialize_element(n)?,
                Arg::Value(v) => seq.serialize_element(&View { inner: *v, format: self.0 })?,
                Arg::Values(v) => seq.serialize_element(&View { inner: *v, format: self.0 })?,
                Arg::Vars(vars) => seq.serialize_element(&Pairs(self.0, vars))?,
            }
        }
        seq.end()
    }
}

impl Serialize for View<'_, Intrinsic> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let f = self.format;
        match self.inner {
            Intrinsic::Ref(target) => tagged(s, f, "Ref", "Ref", &target_name(target)),
            Intrinsic::GetAtt { logical_id, attribute } => match f {
                Format::Yaml => tagged(s, f, "GetAtt", "Fn::GetAtt", &format!("{logical_id}.{attribute}")),
                Format::Json => tagged(s, f, "GetAtt", "Fn::GetAtt", &[logical_id, attribute]),
            },
            Intrinsic::Sub { template, variables } if variables.is_empty() => tagged(s, f, "Sub", "Fn::Sub", template),
            Intrinsic::Sub { template, variables } => {
                tagged(s, f, "Sub", "Fn::Sub", &Args(f, vec![Arg::Str(template), Arg::Vars(variables)]))
            }
            Intrinsic::Join { delimiter, values } => {
                tagged(s, f, "Join", "Fn::Join", &Args(f, vec![Arg::Str(delimiter), Arg::Values(values)]))
            }
            Intrinsic::Select { index, list } => {
                tagged(s, f, "Select", "Fn::Select", &Args(f, vec![Arg::Int(i64::from(*index)), Arg::Value(list)]))
            }
            Intrinsic::Split { delimiter, source } => {
                tagged(s, f, "Split", "Fn::Split", &Args(f, vec![Arg::Str(delimiter), Arg::Value(source)]))
            }
            Intrinsic::If { condition, then, otherwise } => tagged(
                s,
                f,
                "If",
                "Fn::If",
                &Args(f, vec![Arg::Str(condition), Arg::Value(then), Arg::Value(otherwise)]),
            ),
            Intrinsic::ImportValue(v) => tagged(s, f, "ImportValue", "Fn::ImportValue", &View { inner: v, format: f }),
            Intrinsic::Equals(a, b) => tagged(s, f, "Equals", "Fn::Equals", &Args(f, vec![Arg::Value(a), Arg::Value(b)])),
            Intrinsic::Not(v) => tagged(s, f, "Not", "Fn::Not", &Args(f, vec![Arg::Value(v)])),
            Intrinsic::And(v) => tagged(s, f, "And", "Fn::And", &View { inner: v.as_slice(), format: f }),
            Intrinsic::Or(v) => tagged(s, f, "Or", "Fn::Or", &View { inner: v.as_slice(), format: f }),
            Intrinsic::Condition(name) => tagged(s, f, "Condition", "Condition", name),
        }
    }
}

fn target_name(target: &RefTarget) -> String {
    target.name().to_owned()
}

/// The JSON long form of an intrinsic: `{"Fn::Sub": ...}`. (YAML is written by `yaml.rs`.)
fn tagged<S: Serializer, T: Serialize + ?Sized>(s: S, _format: Format, _short: &'static str, long: &str, value: &T) -> Result<S::Ok, S::Error> {
    Single(long, value).serialize(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::value::{Pseudo, Sub};

    fn one_resource(props: Map) -> Template {
        let mut t = Template::new("test");
        t.add("Thing", Resource::new("AWS::SNS::Topic", props)).unwrap();
        t
    }

    #[test]
    fn yaml_uses_short_form_tags() {
        let props = Map::new()
            .with("A", Value::reference("Other"))
            .with("B", Value::get_att("Other", "Arn"))
            .with("C", Sub::new().text("x-").pseudo(Pseudo::Region).build())
            .with("D", Value::join(",", vec![Value::str("a"), Value::pseudo(Pseudo::AccountId)]));
        let yaml = render(&one_resource(props), Format::Yaml);
        assert!(yaml.contains("A: !Ref Other"), "{yaml}");
        assert!(yaml.contains("B: !GetAtt Other.Arn"), "{yaml}");
        assert!(yaml.contains("C: !Sub x-${AWS::Region}"), "{yaml}");
        assert!(yaml.contains("D: !Join"), "{yaml}");
    }

    #[test]
    fn json_uses_long_form() {
        let props = Map::new().with("A", Value::get_att("Other", "Arn")).with("B", Value::pseudo(Pseudo::Region));
        let json = render(&one_resource(props), Format::Json);
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        let p = &parsed["Resources"]["Thing"]["Properties"];
        assert_eq!(p["A"]["Fn::GetAtt"], serde_json::json!(["Other", "Arn"]));
        assert_eq!(p["B"]["Ref"], "AWS::Region");
    }

    #[test]
    fn key_order_is_conventional() {
        let mut r = Resource::new("AWS::S3::Bucket", Map::new().with("X", 1)).retained().depends_on("A");
        r.metadata.insert("k", "v");
        let mut t = Template::new("d");
        t.add("A", Resource::new("AWS::SNS::Topic", Map::new())).unwrap();
        t.add("B", r).unwrap();
        let yaml = render(&t, Format::Yaml);
        let pos = |k: &str| yaml.find(k).unwrap_or_else(|| panic!("{k} missing in {yaml}"));
        assert!(pos("AWSTemplateFormatVersion") < pos("Description:"));
        assert!(pos("Description:") < pos("Resources:"));
        let b = pos("  B:");
        let after = |k: &str| b + yaml[b..].find(k).unwrap();
        assert!(after("Type:") < after("DependsOn:"));
        assert!(after("DependsOn:") < after("DeletionPolicy:"));
        assert!(after("DeletionPolicy:") < after("UpdateReplacePolicy:"));
        assert!(after("UpdateReplacePolicy:") < after("Metadata:"));
        assert!(after("Metadata:") < after("Properties:"));
    }

    #[test]
    fn date_like_strings_stay_strings() {
        let yaml = render(&one_resource(Map::new().with("Version", "2012-10-17")), Format::Yaml);
        let parsed: serde_norway::Value = serde_norway::from_str(&yaml).unwrap();
        assert_eq!(parsed["AWSTemplateFormatVersion"].as_str(), Some("2010-09-09"));
        assert_eq!(parsed["Resources"]["Thing"]["Properties"]["Version"].as_str(), Some("2012-10-17"));
    }
}

/// A value embedded as JSON text in a string property (a dashboard body, a state-machine
/// definition). References inside become `${...}` placeholders of an `Fn::Sub`, so the JSON can
/// point at resources of the stack; without references it is a plain string.
pub fn embedded_json(value: &Value) -> Value {
    let mut has_refs = false;
    value.walk(&mut |v| has_refs |= matches!(v, Value::Fn(_)));
    let mut text = String::with_capacity(4096);
    Readable { escape_subs: has_refs }.write(value, 0, &mut text);
    if has_refs {
        Value::Fn(Box::new(Intrinsic::Sub { template: text, variables: Vec::new() }))
    } else {
        Value::Str(text)
    }
}

const INLINE_WIDTH: usize = 160;

/// Pretty JSON that stays short: objects get a line per key, but a value whose compact form
/// fits on a line (a metric row, a small object) stays on one line. Dashboard bodies count toward
/// the template size limit, and a metric per line reads better in a diff than a token per line.
///
/// Written straight from the value tree: the compact length of a subtree is counted only up to
/// the line width, so deciding "one line or several" never builds a string (dashboard bodies are
/// most of the work of synth).
struct Readable {
    /// Inside an `Fn::Sub`: a literal `${` must be written `${!`.
    escape_subs: bool,
}

impl Readable {
    fn write(&self, v: &Value, indent: usize, out: &mut String) {
        match v {
            Value::Map(m) if !m.is_empty() && (m.0.iter().any(|(_, x)| matches!(x, Value::Map(o) if o.0.len() > 2)) || self.too_wide(v, indent)) => {
                out.push_str("{\n");
                for (i, (k, x)) in m.0.iter().enumerate() {
                    pad(indent + 2, out);
                    json_string(k, false, out);
                    out.push_str(": ");
                    self.write(x, indent + 2, out);
                    out.push_str(if i + 1 < m.0.len() { ",\n" } else { "\n" });
                }
                pad(indent, out);
                out.push('}');
            }
            Value::List(l) if !l.is_empty() && self.too_wide(v, indent) => {
                out.push_str("[\n");
                for (i, x) in l.iter().enumerate() {
                    pad(indent + 2, out);
                    self.write(x, indent + 2, out);
                    out.push_str(if i + 1 < l.len() { ",\n" } else { "\n" });
                }
                pad(indent, out);
                out.push(']');
            }
            _ => self.compact(v, out),
        }
    }

    /// Whether the compact form of `v` at `indent` passes the line width. Counting stops at the
    /// width, so a large subtree costs no more than a line's worth.
    fn too_wide(&self, v: &Value, indent: usize) -> bool {
        let budget = INLINE_WIDTH.saturating_sub(indent);
        self.compact_len(v, budget) > budget
    }

    /// Length of the compact form, or some number over `budget` once it is passed.
    fn compact_len(&self, v: &Value, budget: usize) -> usize {
        match v {
            Value::Map(m) => {
                let mut n = 1 + m.0.len().max(1);
                for (k, x) in &m.0 {
                    if n > budget {
                        break;
                    }
                    n += json_string_len(k, false) + 1 + self.compact_len(x, budget - n);
                }
                n
            }
            Value::List(l) => {
                let mut n = 1 + l.len().max(1);
                for x in l {
                    if n > budget {
                        break;
                    }
                    n += self.compact_len(x, budget - n);
                }
                n
            }
            Value::Str(s) => json_string_len(s, self.escape_subs),
            Value::Fn(f) => placeholder(f, |text| json_string_len(text, false)),
            Value::Bool(b) => if *b { 4 } else { 5 },
            Value::Int(n) => itoa::Buffer::new().format(*n).len(),
            Value::Float(f) if f.is_finite() => zmij::Buffer::new().format_finite(*f).len(),
            Value::Float(_) => 4,
        }
    }

    /// What `serde_json::to_string` writes for the same tree.
    fn compact(&self, v: &Value, out: &mut String) {
        match v {
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(n) => out.push_str(itoa::Buffer::new().format(*n)),
            Value::Float(f) if f.is_finite() => out.push_str(zmij::Buffer::new().format_finite(*f)),
            Value::Float(_) => out.push_str("null"),
            Value::Str(s) => json_string(s, self.escape_subs, out),
            Value::List(items) => {
                out.push('[');
                for (i, x) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    self.compact(x, out);
                }
                out.push(']');
            }
            Value::Map(m) => {
                out.push('{');
                for (i, (k, x)) in m.0.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    json_string(k, false, out);
                    out.push(':');
                    self.compact(x, out);
                }
                out.push('}');
            }
            Value::Fn(f) => placeholder(f, |text| json_string(text, false, out)),
        }
    }
}

fn pad(n: usize, out: &mut String) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// The `${...}` placeholder an intrinsic becomes inside embedded JSON. A Sub without its own
/// variables splices straight in; anything else has no placeholder form and is a builder bug,
/// caught by the validator as an unresolved name.
fn placeholder<R>(f: &Intrinsic, with: impl FnOnce(&str) -> R) -> R {
    match f {
        Intrinsic::Ref(t) => with(&format!("${{{}}}", t.name())),
        Intrinsic::GetAtt { logical_id, attribute } => with(&format!("${{{logical_id}.{attribute}}}")),
        Intrinsic::Sub { template, variables } if variables.is_empty() => with(template),
        _ => with("${UnsupportedIntrinsicInEmbeddedJson}"),
    }
}

/// The JSON escape of one byte, as serde_json writes it; `None` for bytes written as they are.
fn json_escape(b: u8) -> Option<&'static str> {
    const HEX: [&str; 32] = [
        "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007", "\\b", "\\t", "\\n", "\\u000b", "\\f", "\\r", "\\u000e", "\\u000f",
        "\\u0010", "\\u0011", "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017", "\\u0018", "\\u0019", "\\u001a", "\\u001b", "\\u001c", "\\u001d", "\\u001e", "\\u001f",
    ];
    match b {
        b'"' => Some("\\\""),
        b'\\' => Some("\\\\"),
        0..=0x1f => Some(HEX[usize::from(b)]),
        _ => None,
    }
}

/// Writes `s` as a JSON string; with `escape_subs`, a literal `${` becomes `${!` first.
fn json_string(s: &str, escape_subs: bool, out: &mut String) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape = match json_escape(b) {
            Some(e) => e,
            None if escape_subs && b == b'{' && i > 0 && bytes[i - 1] == b'$' => "{!",
            None => continue,
        };
        out.push_str(&s[start..i]);
        out.push_str(escape);
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

fn json_string_len(s: &str, escape_subs: bool) -> usize {
    let bytes = s.as_bytes();
    2 + bytes
        .iter()
        .enumerate()
        .map(|(i, &b)| match json_escape(b) {
            Some(e) => e.len(),
            None if escape_subs && b == b'{' && i > 0 && bytes[i - 1] == b'$' => 2,
            None => 1,
        })
        .sum::<usize>()
}

#[cfg(test)]
mod embedded_json_tests {
    use super::*;
    use crate::cfn::value::Map;

    #[test]
    fn embedded_json_round_trips_and_keeps_short_values_inline() {
        let v = Value::Map(
            Map::new()
                .with("widgets", Value::list([Value::Map(Map::new().with("type", "metric").with("metrics", Value::list([Value::list(["AWS/Bedrock", "Invocations"])])).with("text", "a ${literal}"))]))
                .with("region", Value::pseudo(crate::cfn::Pseudo::Region)),
        );
        let Value::Fn(f) = embedded_json(&v) else { panic!("expected a Sub") };
        let Intrinsic::Sub { template, .. } = *f else { panic!("expected a Sub") };
        assert!(template.contains("[[\"AWS/Bedrock\",\"Invocations\"]]"), "{template}");
        assert!(template.contains("a ${!literal}"), "{template}");
        let parsed: serde_json::Value = serde_json::from_str(&template).unwrap();
        assert_eq!(parsed["region"], "${AWS::Region}");
    }

    #[test]
    fn escapes_and_numbers_match_serde_json() {
        let tricky = ["quote \" and backslash \\", "tab\tnew\nline\r\u{1}\u{1f}\u{7f}", "ünïcödé → ✓", "$ {not} ${literal}", ""];
        for s in tricky {
            let Value::Str(text) = embedded_json(&Value::str(s)) else { panic!("no refs, so a plain string") };
            assert_eq!(text, serde_json::to_string(s).unwrap(), "{s:?}");
            assert_eq!(json_string_len(s, false), text.len(), "{s:?}");
        }
        for f in [0.1, 1e-7, 12345.5, 1e21, -0.0, 10000.0] {
            let Value::Str(text) = embedded_json(&Value::list([Value::Float(f)])) else { panic!() };
            assert_eq!(text, serde_json::to_string(&[f]).unwrap());
        }
        let Value::Str(text) = embedded_json(&Value::list([Value::Float(f64::NAN), Value::Int(-3), Value::Bool(false)])) else { panic!() };
        assert_eq!(text, "[null,-3,false]");
    }

    #[test]
    fn long_values_span_lines_and_short_ones_stay_inline() {
        let row = Value::list(["AWS/Bedrock", "Invocations", "ModelId", "m"]);
        let long = Value::list((0..40).map(|i| Value::str(format!("item-{i}"))));
        let v = Value::Map(Map::new().with("short", row).with("long", long));
        let Value::Str(text) = embedded_json(&v) else { panic!() };
        assert!(text.contains("\"short\": [\"AWS/Bedrock\",\"Invocations\",\"ModelId\",\"m\"]"), "{text}");
        assert!(text.contains("\"long\": [\n    \"item-0\",\n"), "{text}");
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["long"][39], "item-39");
    }
}
