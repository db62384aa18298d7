//! The stack's outputs after a deploy: from DescribeStacks, or, when the API returns none (the
//! emulator's change-set path does not fill them), resolved from the template's output
//! expressions and the resources' physical ids.

use serde_json::Value;

use super::client::{StackInfo, StackResource};
use super::template::TemplateFacts;

/// Output name and value, in template order; the source says where they came from.
pub fn resolve(stack: &StackInfo, facts: &TemplateFacts, resources: &[StackResource], region: &str) -> (Vec<(String, String)>, &'static str) {
    if !stack.outputs.is_empty() {
        return (stack.outputs.clone(), "stack outputs");
    }
    // arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<id>
    let parts: Vec<&str> = stack.id.split(':').collect();
    let partition = parts.get(1).copied().filter(|p| !p.is_empty()).unwrap_or("aws");
    let account = parts.get(4).copied().unwrap_or("");
    let ctx = Ctx { resources, facts: Some(facts), region, account, partition, stack: &stack.name };
    let values = facts.outputs.iter().filter_map(|(name, expr)| Some((name.clone(), ctx.eval(expr, facts)?))).collect();
    (values, "the stack's resources and template")
}

/// The name a resource gets from its template name property (`BucketName`, `LogGroupName`,
/// `TableName`) when it is a literal or a `Sub` of pseudo parameters: the physical id of a
/// named resource, known without asking CloudFormation.
pub fn template_name(stack: &StackInfo, facts: &TemplateFacts, logical_id: &str, region: &str) -> Option<String> {
    let r = facts.resource(logical_id)?;
    let prop = match r.resource_type.as_str() {
        "AWS::S3::Bucket" => "BucketName",
        "AWS::Logs::LogGroup" => "LogGroupName",
        "AWS::DynamoDB::Table" => "TableName",
        "AWS::CloudWatch::Dashboard" => "DashboardName",
        _ => return None,
    };
    let parts: Vec<&str> = stack.id.split(':').collect();
    let ctx = Ctx { resources: &[], facts: None, region, account: parts.get(4).copied().unwrap_or(""), partition: parts.get(1).copied().unwrap_or("aws"), stack: &stack.name };
    ctx.eval(r.properties.get(prop)?, facts).filter(|n| !n.is_empty())
}

struct Ctx<'a> {
    resources: &'a [StackResource],
    /// For physical ids the resource list lacks: named resources are known from the template.
    facts: Option<&'a TemplateFacts>,
    region: &'a str,
    account: &'a str,
    partition: &'a str,
    stack: &'a str,
}

impl Ctx<'_> {
    fn physical(&self, id: &str) -> Option<String> {
        let listed = self.resources.iter().find(|r| r.logical_id == id).map(|r| r.physical_id.clone()).filter(|p| !p.is_empty());
        let stack = StackInfo { name: self.stack.to_owned(), id: format!("arn:{}:cloudformation:{}:{}:stack/{}/", self.partition, self.region, self.account, self.stack), ..StackInfo::default() };
        listed.or_else(|| template_name(&stack, self.facts?, id, self.region))
    }

    fn reference(&self, name: &str) -> Option<String> {
        match name {
            "AWS::Region" => Some(self.region.to_owned()),
            "AWS::AccountId" => Some(self.account.to_owned()),
            "AWS::Partition" => Some(self.partition.to_owned()),
            "AWS::StackName" => Some(self.stack.to_owned()),
            "AWS::URLSuffix" => Some("amazonaws.com".to_owned()),
            _ => self.physical(name),
        }
    }

    /// `Arn` of the resource types whose physical id is not already an ARN.
    fn arn(&self, id: &str, facts: &TemplateFacts) -> Option<String> {
        let physical = self.physical(id)?;
        if physical.starts_with("arn:") {
            return Some(physical);
        }
        let (p, r, a) = (self.partition, self.region, self.account);
        Some(match facts.resource(id)?.resource_type.as_str() {
            "AWS::IAM::Role" => format!("arn:{p}:iam::{a}:role/{physical}"),
            "AWS::KMS::Key" => format!("arn:{p}:kms:{r}:{a}:key/{physical}"),
            "AWS::S3::Bucket" => format!("arn:{p}:s3:::{physical}"),
            "AWS::Logs::LogGroup" => format!("arn:{p}:logs:{r}:{a}:log-group:{physical}:*"),
            "AWS::Lambda::Function" => format!("arn:{p}:lambda:{r}:{a}:function:{physical}"),
            "AWS::DynamoDB::Table" => format!("arn:{p}:dynamodb:{r}:{a}:table/{physical}"),
            _ => return None,
        })
    }

    fn eval(&self, expr: &Value, facts: &TemplateFacts) -> Option<String> {
        match expr {
            Value::String(s) => Some(s.clone()),
            Value::Object(m) if m.len() == 1 => {
                let (k, v) = m.iter().next()?;
                match k.as_str() {
                    "Ref" => self.reference(v.as_str()?),
                    "Fn::GetAtt" => {
                        let (id, attr) = match v {
                            Value::Array(a) => (a.first()?.as_str()?, a.get(1)?.as_str()?),
                            Value::String(s) => s.split_once('.')?,
                            _ => return None,
                        };
                        if attr == "Arn" {
                            self.arn(id, facts)
                        } else {
                            None
                        }
                    }
                    "Fn::Sub" => self.sub(v.as_str()?),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    fn sub(&self, text: &str) -> Option<String> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('}')? + start;
            out.push_str(&self.reference(&rest[start + 2..end])?);
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_are_derived_from_physical_ids_when_the_api_returns_none() {
        let facts = TemplateFacts::parse(
            "Resources:\n  Role: {Type: AWS::IAM::Role}\n  Dash: {Type: AWS::CloudWatch::Dashboard}\n  Topic: {Type: AWS::SNS::Topic}\nOutputs:\n  RoleArn: {Value: !GetAtt Role.Arn}\n  Url: {Value: !Sub 'https://${AWS::Region}.console/#d=${Dash}'}\n  TopicArn: {Value: !Ref Topic}\n",
        )
        .unwrap();
        let stack = StackInfo { name: "s".into(), id: "arn:aws:cloudformation:eu-west-1:123456789012:stack/s/x".into(), ..StackInfo::default() };
        let res = |l: &str, p: &str| StackResource { logical_id: l.into(), physical_id: p.into(), resource_type: String::new() };
        let resources = vec![res("Role", "s-Role-ABC"), res("Dash", "Ops"), res("Topic", "arn:aws:sns:eu-west-1:123456789012:t")];
        let (values, source) = resolve(&stack, &facts, &resources, "eu-west-1");
        assert_eq!(source, "the stack's resources and template");
        assert_eq!(
            values,
            vec![
                ("RoleArn".to_owned(), "arn:aws:iam::123456789012:role/s-Role-ABC".to_owned()),
                ("Url".to_owned(), "https://eu-west-1.console/#d=Ops".to_owned()),
                ("TopicArn".to_owned(), "arn:aws:sns:eu-west-1:123456789012:t".to_owned()),
            ]
        );
        let with = StackInfo { outputs: vec![("A".into(), "b".into())], ..stack };
        assert_eq!(resolve(&with, &facts, &resources, "eu-west-1").0, vec![("A".to_owned(), "b".to_owned())]);
    }
}
