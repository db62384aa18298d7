//! Structural checks of a template before it is written: every reference resolves, every id is
//! valid, and CloudFormation's hard limits hold. These are errors CloudFormation would raise
//! minutes into a deploy; we raise them at synth time with the name of what is wrong.

use std::collections::HashSet;

use super::template::{
    check_logical_id, Template, MAX_DESCRIPTION_BYTES, MAX_INLINE_BODY_BYTES, MAX_OUTPUTS, MAX_PARAMETERS,
    MAX_RESOURCES,
};
use super::value::{Intrinsic, Pseudo, Reference, Value};
use super::CfnError;

/// Every problem found in the template (empty when it is sound).
pub fn validate(template: &Template) -> Vec<CfnError> {
    let mut problems = Vec::new();
    limits(template, &mut problems);

    let resources: HashSet<&str> = template.resources.iter().map(|(id, _)| id.as_str()).collect();
    let parameters: HashSet<&str> = template.parameters.iter().map(|(id, _)| id.as_str()).collect();
    let conditions: HashSet<&str> = template.conditions.iter().map(|(id, _)| id.as_str()).collect();
    let scope = Scope { resources: &resources, parameters: &parameters, conditions: &conditions };

    for (id, resource) in &template.resources {
        if let Err(e) = check_logical_id(id) {
            problems.push(e);
        }
        for dep in &resource.depends_on {
            if !resources.contains(dep.as_str()) {
                problems.push(CfnError::UnresolvedReference { location: format!("{id}.DependsOn"), name: dep.clone() });
            }
        }
        if let Some(c) = &resource.condition {
            if !conditions.contains(c.as_str()) {
                problems.push(CfnError::UnknownCondition { location: id.clone(), name: c.clone() });
            }
        }
        scope.check(&Value::Map(resource.properties.clone()), &format!("{id}.Properties"), &mut problems);
    }
    for (name, output) in &template.outputs {
        scope.check(&output.value, &format!("Outputs.{name}"), &mut problems);
    }
    for (name, expression) in &template.conditions {
        scope.check(expression, &format!("Conditions.{name}"), &mut problems);
    }
    problems
}

/// A warning that does not stop synth: the template is too large to pass inline.
pub fn size_warning(rendered: &str) -> Option<String> {
    (rendered.len() > MAX_INLINE_BODY_BYTES).then(|| {
        format!(
            "template is {} bytes, over the {} bytes CloudFormation accepts inline; it must be passed by S3 URL (TemplateURL), which takes up to 1 MB",
            rendered.len(),
            MAX_INLINE_BODY_BYTES
        )
    })
}

/// Largest template CloudFormation accepts at all (from S3).
pub const MAX_S3_BODY_BYTES: usize = 1_000_000;

/// An error when the rendered template is too large even for S3.
pub fn size_error(rendered: &str) -> Option<CfnError> {
    (rendered.len() > MAX_S3_BODY_BYTES).then(|| CfnError::LimitExceeded { what: "bytes", count: rendered.len(), max: MAX_S3_BODY_BYTES })
}

fn limits(t: &Template, problems: &mut Vec<CfnError>) {
    let checks = [
        ("resources", t.resources.len(), MAX_RESOURCES),
        ("outputs", t.outputs.len(), MAX_OUTPUTS),
        ("parameters", t.parameters.len(), MAX_PARAMETERS),
        ("description bytes", t.description.as_deref().map_or(0, str::len), MAX_DESCRIPTION_BYTES),
    ];
    for (what, count, max) in checks {
        if count > max {
            problems.push(CfnError::LimitExceeded { what, count, max });
        }
    }
}

struct Scope<'a> {
    resources: &'a HashSet<&'a str>,
    parameters: &'a HashSet<&'a str>,
    conditions: &'a HashSet<&'a str>,
}

impl Scope<'_> {
    fn check(&self, value: &Value, location: &str, problems: &mut Vec<CfnError>) {
        value.visit_references(&mut |r| {
            let known = match r {
                Reference::Ref(name) => self.resources.contains(name) || self.parameters.contains(name),
                Reference::GetAtt { logical_id, .. } => self.resources.contains(logical_id),
                Reference::Sub(name) => Pseudo::from_name(name).is_some() || self.parameters.contains(name) || self.resources.contains(r.target()),
            };
            if !known {
                let name = if let Reference::Sub(name) = r { name } else { r.target() };
                problems.push(unresolved(location, name));
            }
        });
        value.walk(&mut |v| {
            let Value::Fn(f) = v else { return };
            if let Intrinsic::If { condition, .. } | Intrinsic::Condition(condition) = f.as_ref() {
                if !self.conditions.contains(condition.as_str()) {
                    problems.push(CfnError::UnknownCondition { location: location.to_owned(), name: condition.clone() });
                }
            }
        });
    }
}

fn unresolved(location: &str, name: &str) -> CfnError {
    CfnError::UnresolvedReference { location: location.to_owned(), name: name.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::template::Resource;
    use crate::cfn::value::{Map, Sub};

    #[test]
    fn finds_unresolved_references_everywhere() {
        let mut t = Template::new("t");
        t.add("A", Resource::new("AWS::SNS::Topic", Map::new())).unwrap();
        let props = Map::new()
            .with("Ok", Value::reference("A"))
            .with("BadRef", Value::reference("Missing1"))
            .with("BadAtt", Value::get_att("Missing2", "Arn"))
            .with("BadSub", Sub::new().reference("Missing3").get_att("A", "TopicName").build())
            .with("BadIf", Value::if_("NoSuchCondition", Value::str("a"), Value::str("b")));
        t.add("B", Resource::new("AWS::SNS::Topic", props).depends_on("Missing4")).unwrap();
        let names: Vec<String> = validate(&t).iter().map(ToString::to_string).collect();
        for missing in ["Missing1", "Missing2", "Missing3", "Missing4", "NoSuchCondition"] {
            assert!(names.iter().any(|n| n.contains(missing)), "{missing} not reported in {names:?}");
        }
        assert_eq!(names.len(), 5, "{names:?}");
    }

    #[test]
    fn enforces_resource_limit() {
        let mut t = Template::new("t");
        for i in 0..=MAX_RESOURCES {
            t.add(&format!("R{i}"), Resource::new("AWS::SNS::Topic", Map::new())).unwrap();
        }
        let problems = validate(&t);
        assert!(matches!(problems.as_slice(), [CfnError::LimitExceeded { what: "resources", count: 501, max: 500 }]));
    }

    #[test]
    fn size_warning_names_the_size() {
        assert!(size_warning("small").is_none());
        let big = "x".repeat(MAX_INLINE_BODY_BYTES + 1);
        assert!(size_warning(&big).unwrap().contains("51201 bytes"));
    }
}
