//! A small YAML emitter for templates, written for this one tree shape.
//!
//! General YAML serializers quote by YAML 1.2 rules, so `yes`, `on` or `2012-10-17` come out bare;
//! CloudFormation, cfn-lint and checkov read templates with YAML 1.1 rules, where those are a
//! boolean or a date. Owning the emitter lets us quote every scalar either reading could
//! misinterpret, write intrinsics in short form (`!Ref`, `!GetAtt A.B`, `!Sub`), and keep
//! multi-line strings (inline code, dashboard bodies) as literal blocks that diff well.

use std::fmt::Write;

use super::template::{Output, Parameter, Resource, Template};
use super::value::{Intrinsic, Map, Value};

const STEP: usize = 2;

/// Renders the template as YAML.
pub fn emit_template(t: &Template) -> String {
    // CloudFormation takes at most 1 MB; reserving that up front means the text is never copied
    // while it grows, and the system maps only the pages actually written.
    let mut e = Emitter { out: String::with_capacity(super::validate::MAX_S3_BODY_BYTES) };
    e.entry_scalar(0, "AWSTemplateFormatVersion", &Value::str("2010-09-09"));
    if let Some(d) = &t.description {
        e.entry_scalar(0, "Description", &Value::str(d.as_str()));
    }
    if !t.metadata.is_empty() {
        e.entry(0, "Metadata", &Value::Map(t.metadata.clone()));
    }
    if !t.parameters.is_empty() {
        e.key(0, "Parameters");
        e.out.push('\n');
        for (name, p) in &t.parameters {
            e.entry(STEP, name, &parameter_value(p));
        }
    }
    if !t.conditions.is_empty() {
        e.key(0, "Conditions");
        e.out.push('\n');
        for (name, c) in &t.conditions {
            e.entry(STEP, name, c);
        }
    }
    e.key(0, "Resources");
    if t.resources.is_empty() {
        e.out.push_str(" {}\n");
    } else {
        e.out.push('\n');
        for (name, r) in &t.resources {
            e.key(STEP, name);
            e.out.push('\n');
            e.resource(2 * STEP, r);
        }
    }
    if !t.outputs.is_empty() {
        e.key(0, "Outputs");
        e.out.push('\n');
        for (name, o) in &t.outputs {
            e.entry(STEP, name, &output_value(o));
        }
    }
    e.out
}

/// Renders any value as a YAML document (used by tests and previews).
pub fn emit_value(v: &Value) -> String {
    let mut e = Emitter { out: String::new() };
    match v {
        Value::Map(m) if !m.is_empty() => e.map_body(0, m),
        Value::List(l) if !l.is_empty() => e.list_body(0, l),
        other => {
            e.inline(0, other);
            e.out.push('\n');
        }
    }
    e.out
}

fn parameter_value(p: &Parameter) -> Value {
    Map::new()
        .with("Type", p.parameter_type.as_str())
        .with_opt("Description", p.description.as_deref())
        .with_opt("Default", p.default.clone())
        .with_opt("AllowedValues", (!p.allowed_values.is_empty()).then(|| Value::List(p.allowed_values.clone())))
        .into()
}

fn output_value(o: &Output) -> Value {
    Map::new()
        .with_opt("Description", o.description.as_deref())
        .with("Value", o.value.clone())
        .with_opt("Export", o.export_name.clone().map(|n| Map::new().with("Name", n)))
        .into()
}

struct Emitter {
    out: String,
}

impl Emitter {
    /// A resource's entries in the conventional order, written from the resource itself (its
    /// properties are most of the template; copying them into a map first doubled the work).
    fn resource(&mut self, indent: usize, r: &Resource) {
        self.entry_str(indent, "Type", &r.resource_type);
        match r.depends_on.as_slice() {
            [] => {}
            [one] => self.entry_str(indent, "DependsOn", one),
            many => self.entry(indent, "DependsOn", &Value::list(many.iter().map(String::as_str))),
        }
        if let Some(c) = &r.condition {
            self.entry_str(indent, "Condition", c);
        }
        if let Some(p) = r.deletion_policy {
            self.entry_str(indent, "DeletionPolicy", p.as_str());
        }
        if let Some(p) = r.update_replace_policy {
            self.entry_str(indent, "UpdateReplacePolicy", p.as_str());
        }
        for (key, map) in [("Metadata", &r.metadata), ("Properties", &r.properties)] {
            if !map.is_empty() {
                self.key(indent, key);
                self.out.push('\n');
                self.map_body(indent + STEP, map);
            }
        }
    }

    fn entry_str(&mut self, indent: usize, key: &str, s: &str) {
        self.key(indent, key);
        self.out.push(' ');
        self.scalar_str(s, indent);
        self.out.push('\n');
    }

    fn indent(&mut self, n: usize) {
        const SPACES: &str = "                                                                ";
        let mut n = n;
        while n > 0 {
            let k = n.min(SPACES.len());
            self.out.push_str(&SPACES[..k]);
            n -= k;
        }
    }

    fn key(&mut self, indent: usize, key: &str) {
        self.indent(indent);
        self.scalar_str(key, indent);
        self.out.push(':');
    }

    fn entry_scalar(&mut self, indent: usize, key: &str, v: &Value) {
        self.key(indent, key);
        self.out.push(' ');
        self.inline(indent, v);
        self.out.push('\n');
    }

    /// `key: value` at `indent`, with block values on the following lines.
    fn entry(&mut self, indent: usize, key: &str, v: &Value) {
        self.key(indent, key);
        self.after_key(indent, v);
    }

    /// Writes what follows `key:` or `- `: a scalar on the same line, or a block below.
    fn after_key(&mut self, indent: usize, v: &Value) {
        match v {
            Value::Map(m) if !m.is_empty() => {
                self.out.push('\n');
                self.map_body(indent + STEP, m);
            }
            Value::List(l) if !l.is_empty() => {
                self.out.push('\n');
                self.list_body(indent + STEP, l);
            }
            Value::Fn(f) => {
                self.out.push(' ');
                self.intrinsic(indent, f);
            }
            other => {
                self.out.push(' ');
                self.inline(indent, other);
                self.out.push('\n');
            }
        }
    }

    fn map_body(&mut self, indent: usize, m: &Map) {
        for (k, v) in &m.0 {
            self.entry(indent, k, v);
        }
    }

    fn list_body(&mut self, indent: usize, items: &[Value]) {
        self.list_items(indent, items, false);
    }

    /// List items; with `on_dash_line` the first item continues a line that already holds a
    /// dash (`- - a`), the compact form for a list inside a list.
    fn list_items(&mut self, indent: usize, items: &[Value], on_dash_line: bool) {
        for (i, item) in items.iter().enumerate() {
            if !(on_dash_line && i == 0) {
                self.indent(indent);
            }
            self.out.push('-');
            match item {
                // A map inside a list starts on the dash line: `- Key: value`.
                Value::Map(m) if !m.is_empty() => {
                    self.out.push(' ');
                    let (first_key, first_value) = &m.0[0];
                    self.scalar_str(first_key, indent + STEP);
                    self.out.push(':');
                    self.after_key(indent + STEP, first_value);
                    for (k, v) in &m.0[1..] {
                        self.entry(indent + STEP, k, v);
                    }
                }
                Value::List(l) if !l.is_empty() => {
                    self.out.push(' ');
                    self.list_items(indent + STEP, l, true);
                }
                Value::Fn(f) => {
                    self.out.push(' ');
                    self.intrinsic(indent, f);
                }
                other => {
                    self.out.push(' ');
                    self.inline(indent, other);
                    self.out.push('\n');
                }
            }
        }
    }

    /// A tagged intrinsic; the line's key or dash is already written. Ends with a newline.
    fn intrinsic(&mut self, indent: usize, f: &Intrinsic) {
        let (tag, args): (&str, Vec<Value>) = match f {
            Intrinsic::Ref(t) => return self.tagged_scalar("!Ref", t.name(), indent),
            Intrinsic::GetAtt { logical_id, attribute } => {
                return self.tagged_scalar("!GetAtt", &format!("{logical_id}.{attribute}"), indent)
            }
            Intrinsic::Sub { template, variables } if variables.is_empty() => {
                return self.tagged_scalar("!Sub", template, indent)
            }
            Intrinsic::Condition(name) => return self.tagged_scalar("!Condition", name, indent),
            Intrinsic::Sub { template, variables } => {
                ("!Sub", vec![Value::str(template.as_str()), Value::Map(Map(variables.iter().map(|(k, v)| (k.clone().into(), v.clone())).collect()))])
            }
            Intrinsic::Join { delimiter, values } => ("!Join", vec![Value::str(delimiter.as_str()), Value::List(values.clone())]),
            Intrinsic::Select { index, list } => ("!Select", vec![Value::Int(i64::from(*index)), list.clone()]),
            Intrinsic::Split { delimiter, source } => ("!Split", vec![Value::str(delimiter.as_str()), source.clone()]),
            Intrinsic::If { condition, then, otherwise } => {
                ("!If", vec![Value::str(condition.as_str()), then.clone(), otherwise.clone()])
            }
            Intrinsic::ImportValue(v) => {
                self.out.push_str("!ImportValue");
                return self.after_key(indent, v);
            }
            Intrinsic::Equals(a, b) => ("!Equals", vec![a.clone(), b.clone()]),
            Intrinsic::Not(v) => ("!Not", vec![v.clone()]),
            Intrinsic::And(v) => ("!And", v.clone()),
            Intrinsic::Or(v) => ("!Or", v.clone()),
        };
        self.out.push_str(tag);
        if args.is_empty() {
            self.out.push_str(" []\n");
            return;
        }
        self.out.push('\n');
        self.list_body(indent + STEP, &args);
    }

    fn tagged_scalar(&mut self, tag: &str, s: &str, indent: usize) {
        self.out.push_str(tag);
        self.out.push(' ');
        self.scalar_str(s, indent);
        self.out.push('\n');
    }

    /// A scalar, or an empty collection, on the current line (no newline).
    fn inline(&mut self, indent: usize, v: &Value) {
        match v {
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Int(n) => {
                let _ = write!(self.out, "{n}");
            }
            Value::Float(f) if f.is_finite() => {
                let _ = write!(self.out, "{f:?}");
            }
            Value::Float(f) => self.scalar_str(&f.to_string(), indent),
            Value::Str(s) => self.scalar_str(s, indent),
            Value::List(_) => self.out.push_str("[]"),
            Value::Map(_) => self.out.push_str("{}"),
            // Intrinsics are always written through `intrinsic`; reaching here would mean an
            // intrinsic as a map key, which the model cannot express.
            Value::Fn(_) => self.out.push_str("null"),
        }
    }

    /// A string scalar: plain when no YAML 1.1 or 1.2 reader could take it for anything else,
    /// a literal block for multi-line text, otherwise quoted.
    fn scalar_str(&mut self, s: &str, indent: usize) {
        if is_plain_safe(s) {
            self.out.push_str(s);
        } else if self.literal_block(s, indent) {
        } else if s.chars().all(|c| !c.is_control()) {
            self.out.push('\'');
            self.out.push_str(&s.replace('\'', "''"));
            self.out.push('\'');
        } else {
            // Double-quoted with every control character escaped: C1 controls too, since YAML
            // reads U+0085 inside quotes as a line break (JSON escaping leaves it raw).
            self.out.push('"');
            for c in s.chars() {
                match c {
                    '"' => self.out.push_str("\\\""),
                    '\\' => self.out.push_str("\\\\"),
                    '\n' => self.out.push_str("\\n"),
                    '\t' => self.out.push_str("\\t"),
                    '\r' => self.out.push_str("\\r"),
                    c if c.is_control() => {
                        let _ = write!(self.out, "\\u{:04x}", u32::from(c));
                    }
                    c => self.out.push(c),
                }
            }
            self.out.push('"');
        }
    }

    /// Writes `s` as a literal block (`|` or `|-`) when it reads back as the same bytes;
    /// otherwise writes nothing and returns false. The lines are checked as they are written, so
    /// a long text (a dashboard body, inline code) is scanned once.
    fn literal_block(&mut self, s: &str, indent: usize) -> bool {
        if !could_be_literal_block(s) {
            return false;
        }
        let mark = self.out.len();
        let body = match s.strip_suffix('\n') {
            Some(body) => {
                self.out.push('|');
                body
            }
            None => {
                self.out.push_str("|-");
                s
            }
        };
        for line in body.split('\n') {
            // Trailing spaces on a line survive a literal block, but editors strip them; quote
            // instead so the bytes are unambiguous.
            if line.ends_with(' ') || line.ends_with('\t') {
                self.out.truncate(mark);
                return false;
            }
            self.out.push('\n');
            if !line.is_empty() {
                self.indent(indent + STEP);
                self.out.push_str(line);
            }
        }
        true
    }
}

/// Words YAML 1.1 reads as booleans or null (any case).
const AMBIGUOUS_WORDS: &[&str] = &["y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"];

fn is_plain_safe(s: &str) -> bool {
    let (Some(first), Some(last)) = (s.chars().next(), s.chars().next_back()) else { return false };
    if first.is_whitespace() || last.is_whitespace() {
        return false;
    }
    // Indicators that start something other than a plain scalar, and `.`, digits, `+`, `-` which
    // start numbers, dates, times and `.inf`.
    if "-?:,[]{}#&*!|>'\"%@`.+0123456789 ".contains(first) {
        return false;
    }
    let bytes = s.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let next = bytes.get(i + 1).copied();
        if is_control_at(b, next) || (b == b':' && matches!(next, Some(b' ') | None)) || (b == b' ' && next == Some(b'#')) {
            return false;
        }
    }
    !AMBIGUOUS_WORDS.iter().any(|w| s.eq_ignore_ascii_case(w))
}

/// Whether the byte starts a control character (`char::is_control`: U+0000-U+001F,
/// U+007F-U+009F, the latter encoded as 0xC2 0x80-0x9F).
fn is_control_at(b: u8, next: Option<u8>) -> bool {
    b < 0x20 || b == 0x7f || (b == 0xc2 && matches!(next, Some(0x80..=0x9f)))
}

/// What rules out a literal block before its lines are looked at: no newline, a leading space
/// or newline, more than one trailing newline (needs `|+`, whose exact blank lines editors eat),
/// or a control character other than newline and tab (`\r` included, which a literal block
/// cannot hold).
fn could_be_literal_block(s: &str) -> bool {
    if !s.contains('\n') || s.starts_with(' ') || s.starts_with('\n') || s.ends_with("\n\n") {
        return false;
    }
    // Branch-free over byte pairs (0xC2 starts U+0080-U+009F only when the next byte is 0x80-0x9F,
    // and also starts harmless letters such as `·`), so long texts are one cheap pass.
    let control = |b: u8, next: u8| (u8::from(b < 0x20) & u8::from(b != b'\n') & u8::from(b != b'\t')) | u8::from(b == 0x7f) | (u8::from(b == 0xc2) & u8::from((0x80..=0x9f).contains(&next)));
    let bytes = s.as_bytes();
    let last = bytes.last().map_or(0, |&b| control(b, 0));
    bytes.windows(2).fold(last, |acc, w| acc | control(w[0], w[1])) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(s: &str) -> serde_norway::Value {
        let v = Value::Map(Map::new().with("k", s));
        serde_norway::from_str::<serde_norway::Value>(&emit_value(&v)).unwrap()["k"].clone()
    }

    #[test]
    fn quotes_what_yaml_1_1_would_misread() {
        for s in ["yes", "No", "on", "OFF", "y", "null", "~", "2012-10-17", "0123", "1e3", ".inf", "-", "*", "a: b", "a #b", "", " lead", "trail ", "@x", "12:30"] {
            let out = emit_value(&Value::Map(Map::new().with("k", s)));
            assert!(out.starts_with("k: '") || out.starts_with("k: \""), "{s:?} emitted bare: {out}");
            assert_eq!(roundtrip(s).as_str(), Some(s), "{s:?}");
        }
    }

    #[test]
    fn leaves_ordinary_words_plain() {
        for s in ["AWS::S3::Bucket", "arn:aws:s3:::bucket/*", "bedrock.amazonaws.com", "/aws/bedrock/modelinvocations", "Sum"] {
            assert_eq!(emit_value(&Value::Map(Map::new().with("k", s))), format!("k: {s}\n"));
        }
    }

    #[test]
    fn multiline_text_is_a_literal_block_that_round_trips() {
        for s in ["a\nb", "a\nb\n", "a\n\nb\n", "def f():\n    return 1\n"] {
            let out = emit_value(&Value::Map(Map::new().with("k", s)));
            assert!(out.starts_with("k: |"), "{out}");
            assert_eq!(roundtrip(s).as_str(), Some(s), "{s:?} → {out}");
        }
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(roundtrip("a\tb\u{1}").as_str(), Some("a\tb\u{1}"));
        assert_eq!(roundtrip("a\r\nb").as_str(), Some("a\r\nb"));
    }

    #[test]
    fn c1_controls_are_escaped_but_latin_letters_keep_the_literal_block() {
        // U+0085 (NEL) is a YAML line break: never inside a literal block.
        let nel = "one\u{85}two\nthree";
        assert!(!emit_value(&Value::str(nel)).contains('|'));
        assert_eq!(roundtrip(nel).as_str(), Some(nel));
        // `·` is encoded 0xC2 0xB7, like the C1 controls, but is text.
        let dot = "a · b\nc";
        assert!(emit_value(&Value::str(dot)).starts_with("|-"), "{}", emit_value(&Value::str(dot)));
        assert_eq!(roundtrip(dot).as_str(), Some(dot));
    }

    #[test]
    fn intrinsics_nest_in_lists_and_maps() {
        let v = Value::Map(Map::new().with(
            "R",
            Value::list([
                Value::join("", vec![Value::str("a"), Value::reference("X")]),
                Value::Map(Map::new().with("K", Value::get_att("Y", "Arn")).with("L", 1)),
            ]),
        ));
        let out = emit_value(&v);
        assert_eq!(out, "R:\n  - !Join\n    - ''\n    - - a\n      - !Ref X\n  - K: !GetAtt Y.Arn\n    L: 1\n");
    }
}
