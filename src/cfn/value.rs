//! Property values of a template: a literal or an intrinsic function, never a string with a
//! reference pasted into it.
//!
//! Following stratosphere, a value is a tree whose leaves are literals and whose inner nodes may be
//! intrinsic functions. Because a reference is a variant and not a placeholder string, the
//! validator can walk every value and prove that each one resolves, and builders can validate the
//! literal parts without guessing whether a string is "really" a token (CDK's `Token.isUnresolved`).

use std::fmt;

/// A CloudFormation pseudo parameter: a value CloudFormation supplies at deploy time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pseudo {
    AccountId,
    Region,
    Partition,
    StackName,
    StackId,
    UrlSuffix,
    NoValue,
}

impl Pseudo {
    pub const ALL: [Pseudo; 7] = [
        Pseudo::AccountId,
        Pseudo::Region,
        Pseudo::Partition,
        Pseudo::StackName,
        Pseudo::StackId,
        Pseudo::UrlSuffix,
        Pseudo::NoValue,
    ];

    /// The name as written in a template (`AWS::AccountId`).
    pub fn name(self) -> &'static str {
        match self {
            Pseudo::AccountId => "AWS::AccountId",
            Pseudo::Region => "AWS::Region",
            Pseudo::Partition => "AWS::Partition",
            Pseudo::StackName => "AWS::StackName",
            Pseudo::StackId => "AWS::StackId",
            Pseudo::UrlSuffix => "AWS::URLSuffix",
            Pseudo::NoValue => "AWS::NoValue",
        }
    }

    pub fn from_name(name: &str) -> Option<Pseudo> {
        Pseudo::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// What a `Ref` points at: a parameter or resource of the template, or a pseudo parameter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RefTarget {
    Logical(String),
    Pseudo(Pseudo),
}

impl RefTarget {
    pub fn name(&self) -> &str {
        match self {
            RefTarget::Logical(id) => id,
            RefTarget::Pseudo(p) => p.name(),
        }
    }
}

/// An intrinsic function. Only the ones this project needs, each with typed arguments.
#[derive(Debug, Clone, PartialEq)]
pub enum Intrinsic {
    Ref(RefTarget),
    GetAtt { logical_id: String, attribute: String },
    /// `Fn::Sub` with a template string and its own variables. Build it with [`Sub`] so that
    /// references inside the string are added as values and literal `${` is escaped.
    Sub { template: String, variables: Vec<(String, Value)> },
    Join { delimiter: String, values: Vec<Value> },
    Select { index: u32, list: Value },
    Split { delimiter: String, source: Value },
    If { condition: String, then: Value, otherwise: Value },
    ImportValue(Value),
    Equals(Value, Value),
    Not(Value),
    And(Vec<Value>),
    Or(Vec<Value>),
    /// `Condition` inside a condition expression: refers to another named condition.
    Condition(String),
}

/// A property value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Value>),
    Map(Map),
    Fn(Box<Intrinsic>),
}

/// A map key: nearly always a literal property name, which is then borrowed rather than
/// allocated (a template has tens of thousands of keys).
pub type Key = std::borrow::Cow<'static, str>;

/// An insertion-ordered map: builders decide the order keys appear in, so output is stable and
/// reads in the order a person would write it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Map(pub Vec<(Key, Value)>);

impl Map {
    pub fn new() -> Self {
        Map(Vec::new())
    }

    /// Sets `key`, replacing an earlier value for it in place.
    pub fn insert(&mut self, key: impl Into<Key>, value: impl Into<Value>) -> &mut Self {
        let key = key.into();
        let value = value.into();
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
        self
    }

    /// Chaining form of [`Map::insert`].
    pub fn with(mut self, key: impl Into<Key>, value: impl Into<Value>) -> Self {
        self.insert(key, value);
        self
    }

    /// Sets `key` only when `value` is present; optional builder fields use this.
    pub fn with_opt<V: Into<Value>>(mut self, key: impl Into<Key>, value: Option<V>) -> Self {
        if let Some(v) = value {
            self.insert(key, v);
        }
        self
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }
}

impl Value {
    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(s.into())
    }

    pub fn list<V: Into<Value>>(items: impl IntoIterator<Item = V>) -> Value {
        Value::List(items.into_iter().map(Into::into).collect())
    }

    pub fn pseudo(p: Pseudo) -> Value {
        Value::Fn(Box::new(Intrinsic::Ref(RefTarget::Pseudo(p))))
    }

    pub fn reference(logical_id: impl Into<String>) -> Value {
        Value::Fn(Box::new(Intrinsic::Ref(RefTarget::Logical(logical_id.into()))))
    }

    pub fn get_att(logical_id: impl Into<String>, attribute: impl Into<String>) -> Value {
        Value::Fn(Box::new(Intrinsic::GetAtt { logical_id: logical_id.into(), attribute: attribute.into() }))
    }

    pub fn join(delimiter: impl Into<String>, values: Vec<Value>) -> Value {
        Value::Fn(Box::new(Intrinsic::Join { delimiter: delimiter.into(), values }))
    }

    pub fn select(index: u32, list: Value) -> Value {
        Value::Fn(Box::new(Intrinsic::Select { index, list }))
    }

    pub fn split(delimiter: impl Into<String>, source: Value) -> Value {
        Value::Fn(Box::new(Intrinsic::Split { delimiter: delimiter.into(), source }))
    }

    pub fn if_(condition: impl Into<String>, then: Value, otherwise: Value) -> Value {
        Value::Fn(Box::new(Intrinsic::If { condition: condition.into(), then, otherwise }))
    }

    pub fn import_value(name: Value) -> Value {
        Value::Fn(Box::new(Intrinsic::ImportValue(name)))
    }

    pub fn equals(a: Value, b: Value) -> Value {
        Value::Fn(Box::new(Intrinsic::Equals(a, b)))
    }

    /// `AWS::NoValue`: removes the property it is assigned to.
    pub fn no_value() -> Value {
        Value::pseudo(Pseudo::NoValue)
    }

    /// The literal string, if this value is one. Checks that need a literal use this and treat
    /// anything else as "decided at deploy time".
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    pub fn as_intrinsic(&self) -> Option<&Intrinsic> {
        match self {
            Value::Fn(f) => Some(f),
            _ => None,
        }
    }

    /// Visits this value and every value nested in it, intrinsic arguments included.
    pub fn walk<'a>(&'a self, visit: &mut dyn FnMut(&'a Value)) {
        visit(self);
        match self {
            Value::List(items) => items.iter().for_each(|v| v.walk(visit)),
            Value::Map(map) => map.0.iter().for_each(|(_, v)| v.walk(visit)),
            Value::Fn(f) => match f.as_ref() {
                Intrinsic::Ref(_) | Intrinsic::GetAtt { .. } | Intrinsic::Condition(_) => {}
                Intrinsic::Sub { variables, .. } => variables.iter().for_each(|(_, v)| v.walk(visit)),
                Intrinsic::Join { values, .. } | Intrinsic::And(values) | Intrinsic::Or(values) => {
                    values.iter().for_each(|v| v.walk(visit))
                }
                Intrinsic::Select { list, .. } => list.walk(visit),
                Intrinsic::Split { source, .. } => source.walk(visit),
                Intrinsic::If { then, otherwise, .. } => {
                    then.walk(visit);
                    otherwise.walk(visit);
                }
                Intrinsic::ImportValue(v) | Intrinsic::Not(v) => v.walk(visit),
                Intrinsic::Equals(a, b) => {
                    a.walk(visit);
                    b.walk(visit);
                }
            },
            Value::Bool(_) | Value::Int(_) | Value::Float(_) | Value::Str(_) => {}
        }
    }
}

/// A name a value points at: what CloudFormation resolves at deploy time. The validator checks
/// these resolve and the graph draws them; both get them from [`Value::visit_references`] so the
/// two can never disagree on what counts as a reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reference<'a> {
    /// `Ref` to a logical id (resource or parameter); pseudo parameters are not reported.
    Ref(&'a str),
    GetAtt { logical_id: &'a str, attribute: &'a str },
    /// `${Name}` or `${Name.Attribute}` in a Sub template that is not one of the Sub's own
    /// variables; may be a pseudo parameter (`AWS::Region`).
    Sub(&'a str),
}

impl<'a> Reference<'a> {
    /// The logical id (or pseudo parameter name) referred to, without an attribute.
    pub fn target(&self) -> &'a str {
        match self {
            Reference::Ref(name) => name,
            Reference::GetAtt { logical_id, .. } => logical_id,
            Reference::Sub(name) => name.split_once('.').map_or(name, |(base, _)| base),
        }
    }
}

impl Value {
    /// Visits every `Ref`, `GetAtt` and Sub-template reference in this value, nested ones
    /// included, in document order.
    pub fn visit_references<'a>(&'a self, visit: &mut dyn FnMut(Reference<'a>)) {
        self.walk(&mut |v| {
            let Value::Fn(f) = v else { return };
            match f.as_ref() {
                Intrinsic::Ref(RefTarget::Logical(name)) => visit(Reference::Ref(name)),
                Intrinsic::GetAtt { logical_id, attribute } => visit(Reference::GetAtt { logical_id, attribute }),
                Intrinsic::Sub { template, variables } => {
                    for name in sub_references(template) {
                        if !variables.iter().any(|(n, _)| n == name) {
                            visit(Reference::Sub(name));
                        }
                    }
                }
                _ => {}
            }
        });
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}
impl From<&String> for Value {
    fn from(s: &String) -> Self {
        Value::Str(s.clone())
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Int(n)
    }
}
impl From<u32> for Value {
    fn from(n: u32) -> Self {
        Value::Int(i64::from(n))
    }
}
impl From<i32> for Value {
    fn from(n: i32) -> Self {
        Value::Int(i64::from(n))
    }
}
impl From<u64> for Value {
    fn from(n: u64) -> Self {
        // Template numbers beyond i64 would be a bug in a builder, not user input.
        Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
}
impl From<f64> for Value {
    fn from(n: f64) -> Self {
        if n.fract() == 0.0 && n.abs() < 9.0e15 {
            Value::Int(n as i64)
        } else {
            Value::Float(n)
        }
    }
}
impl From<Map> for Value {
    fn from(m: Map) -> Self {
        Value::Map(m)
    }
}
impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::List(v)
    }
}
impl From<Intrinsic> for Value {
    fn from(f: Intrinsic) -> Self {
        Value::Fn(Box::new(f))
    }
}

/// Builds an `Fn::Sub` from literal text and references, so that a reference is never typed
/// into a string by hand: `Sub::new().text("arn:").pseudo(Pseudo::Partition).text(":s3:::").reference(&bucket)`.
#[derive(Debug, Clone, Default)]
pub struct Sub {
    template: String,
    variables: Vec<(String, Value)>,
}

impl Sub {
    pub fn new() -> Self {
        Sub::default()
    }

    /// Literal text; a literal `${` is escaped as `${!` so CloudFormation leaves it alone.
    pub fn text(mut self, text: &str) -> Self {
        self.template.push_str(&text.replace("${", "${!"));
        self
    }

    pub fn pseudo(mut self, p: Pseudo) -> Self {
        self.template.push_str("${");
        self.template.push_str(p.name());
        self.template.push('}');
        self
    }

    /// `${LogicalId}`: the resource's or parameter's `Ref` value.
    pub fn reference(mut self, logical_id: &str) -> Self {
        self.template.push_str("${");
        self.template.push_str(logical_id);
        self.template.push('}');
        self
    }

    /// `${LogicalId.Attribute}`.
    pub fn get_att(mut self, logical_id: &str, attribute: &str) -> Self {
        self.template.push_str("${");
        self.template.push_str(logical_id);
        self.template.push('.');
        self.template.push_str(attribute);
        self.template.push('}');
        self
    }

    /// Any other value, bound to a local variable of the Sub.
    pub fn value(mut self, name: &str, value: Value) -> Self {
        self.template.push_str("${");
        self.template.push_str(name);
        self.template.push('}');
        if !self.variables.iter().any(|(n, _)| n == name) {
            self.variables.push((name.to_owned(), value));
        }
        self
    }

    /// A value spliced in: literals are inlined as text, references become `${...}`, and anything
    /// else is bound to a generated local variable.
    pub fn splice(self, value: &Value) -> Self {
        match value {
            Value::Str(s) => self.text(s),
            Value::Int(n) => self.text(&n.to_string()),
            Value::Fn(f) => match f.as_ref() {
                Intrinsic::Ref(RefTarget::Logical(id)) => self.reference(id),
                Intrinsic::Ref(RefTarget::Pseudo(p)) => self.pseudo(*p),
                Intrinsic::GetAtt { logical_id, attribute } => self.get_att(logical_id, attribute),
                Intrinsic::Sub { template, variables } => {
                    let mut me = self;
                    me.template.push_str(template);
                    for (n, v) in variables {
                        if !me.variables.iter().any(|(m, _)| m == n) {
                            me.variables.push((n.clone(), v.clone()));
                        }
                    }
                    me
                }
                _ => {
                    let name = format!("v{}", self.variables.len());
                    self.value(&name, value.clone())
                }
            },
            other => {
                let name = format!("v{}", self.variables.len());
                self.value(&name, other.clone())
            }
        }
    }

    /// The finished value; a Sub with no references at all collapses to a plain string.
    pub fn build(self) -> Value {
        if self.variables.is_empty() && !self.template.contains("${") {
            return Value::Str(self.template);
        }
        if self.variables.is_empty() && !has_unescaped_reference(&self.template) {
            return Value::Str(self.template.replace("${!", "${"));
        }
        Value::Fn(Box::new(Intrinsic::Sub { template: self.template, variables: self.variables }))
    }
}

/// The names referenced by `${Name}` in a Sub template; escaped `${!Literal}` is skipped.
pub fn sub_references(template: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = template;
    // Looking for `$` (a memchr) then checking for `{` is several times quicker than searching
    // for the two-byte pattern, and dashboard bodies make Sub templates long.
    while let Some(dollar) = rest.find('$') {
        if rest.as_bytes().get(dollar + 1) != Some(&b'{') {
            rest = &rest[dollar + 1..];
            continue;
        }
        let after = &rest[dollar + 2..];
        match after.find('}') {
            Some(end) => {
                let name = &after[..end];
                if !name.starts_with('!') {
                    out.push(name.trim());
                }
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out
}

fn has_unescaped_reference(template: &str) -> bool {
    !sub_references(template).is_empty()
}

impl fmt::Display for Pseudo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_escapes_literal_dollar_brace_and_collects_references() {
        let v = Sub::new().text("x-${not}-").pseudo(Pseudo::Region).text("-").reference("Bucket").build();
        match v {
            Value::Fn(f) => match *f {
                Intrinsic::Sub { template, variables } => {
                    assert_eq!(template, "x-${!not}-${AWS::Region}-${Bucket}");
                    assert!(variables.is_empty());
                    assert_eq!(sub_references(&template), vec!["AWS::Region", "Bucket"]);
                }
                other => panic!("expected Sub, got {other:?}"),
            },
            other => panic!("expected Sub, got {other:?}"),
        }
    }

    #[test]
    fn sub_without_references_is_a_plain_string() {
        assert_eq!(Sub::new().text("plain ${x}").build(), Value::str("plain ${x}"));
    }

    #[test]
    fn map_insert_replaces_in_place() {
        let m = Map::new().with("a", 1).with("b", 2).with("a", 3);
        assert_eq!(m.0.len(), 2);
        assert_eq!(m.get("a"), Some(&Value::Int(3)));
        assert_eq!(m.0[0].0, "a");
    }
}
