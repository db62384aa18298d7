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
    let json = to_json_with_placeholders(value, has_refs);
    let mut text = String::new();
    write_readable_json(&json, 0, &mut text);
    if has_refs {
        Value::Fn(Box::new(Intrinsic::Sub { template: text, variables: Vec::new() }))
    } else {
        Value::Str(text)
    }
}

fn to_json_with_placeholders(value: &Value, escape: bool) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        Value::Bool(b) => J::Bool(*b),
        Value::Int(n) => J::from(*n),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Value::Str(s) if escape => J::String(s.replace("${", "${!")),
        Value::Str(s) => J::String(s.clone()),
        Value::List(items) => J::Array(items.iter().map(|v| to_json_with_placeholders(v, escape)).collect()),
        Value::Map(m) => J::Object(m.0.iter().map(|(k, v)| (k.clone(), to_json_with_placeholders(v, escape))).collect()),
        Value::Fn(f) => J::String(match f.as_ref() {
            Intrinsic::Ref(t) => format!("${{{}}}", t.name()),
            Intrinsic::GetAtt { logical_id, attribute } => format!("${{{logical_id}.{attribute}}}"),
            // A Sub without its own variables splices straight in; anything else has no
            // placeholder form and is a builder bug, caught by the validator as an unresolved name.
            Intrinsic::Sub { template, variables } if variables.is_empty() => template.clone(),
            _ => "${UnsupportedIntrinsicInEmbeddedJson}".to_owned(),
        }),
    }
}

/// Pretty JSON that stays short: objects get a line per key, but a value whose compact form
/// fits on a line (a metric row, a small object) stays on one line. Dashboard bodies count toward
/// the template size limit, and a metric per line reads better in a diff than a token per line.
fn write_readable_json(v: &serde_json::Value, indent: usize, out: &mut String) {
    out.push_str(readable(v, indent).text());
}

const INLINE_WIDTH: usize = 160;

/// One value rendered both ways. Built bottom-up, so each subtree is serialized once (a
/// dashboard body is most of the work of synth; serializing every subtree again at each
/// level cost more than building the whole stack).
struct Readable {
    /// What `serde_json::to_string` writes.
    compact: String,
    /// The multi-line form, when the value does not stay on one line.
    multi: Option<String>,
}

impl Readable {
    fn text(&self) -> &str {
        self.multi.as_deref().unwrap_or(&self.compact)
    }
}

fn readable(v: &serde_json::Value, indent: usize) -> Readable {
    use serde_json::Value as J;
    let pad = |n: usize, out: &mut String| out.extend(std::iter::repeat_n(' ', n));
    // (key, child) pairs, key already JSON-quoted for objects, None for arrays
    let (children, open, close): (Vec<(Option<String>, Readable)>, char, char) = match v {
        J::Object(m) if !m.is_empty() => {
            (m.iter().map(|(k, x)| (Some(serde_json::to_string(k).unwrap_or_default()), readable(x, indent + 2))).collect(), '{', '}')
        }
        J::Array(a) if !a.is_empty() => (a.iter().map(|x| (None, readable(x, indent + 2))).collect(), '[', ']'),
        _ => return Readable { compact: serde_json::to_string(v).unwrap_or_default(), multi: None },
    };
    let mut compact = String::with_capacity(children.iter().map(|(k, c)| c.compact.len() + k.as_ref().map_or(0, String::len) + 2).sum::<usize>() + 2);
    compact.push(open);
    for (i, (k, c)) in children.iter().enumerate() {
        if i > 0 {
            compact.push(',');
        }
        if let Some(k) = k {
            compact.push_str(k);
            compact.push(':');
        }
        compact.push_str(&c.compact);
    }
    compact.push(close);
    let nested_object = matches!(v, J::Object(m) if m.values().any(|x| x.as_object().is_some_and(|o| o.len() > 2)));
    let multi = (compact.len() + indent > INLINE_WIDTH || nested_object).then(|| {
        let mut out = String::new();
        out.push(open);
        out.push('\n');
        for (i, (k, c)) in children.iter().enumerate() {
            pad(indent + 2, &mut out);
            if let Some(k) = k {
                out.push_str(k);
                out.push_str(": ");
            }
            out.push_str(c.text());
            if i + 1 < children.len() {
                out.push(',');
            }
            out.push('\n');
        }
        pad(indent, &mut out);
        out.push(close);
        out
    });
    Readable { compact, multi }
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
}
