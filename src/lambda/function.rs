//! `AWS::Lambda::Function` with inline Python code, a log group of its own (retention set,
//! encrypted, named by the stack) and an execution role holding exactly the statements given.
//!
//! Inline code is no longer limited to 4 KB in CloudFormation (aws-cdk PR 20624 followed the
//! change), so the handler ships in the template and reviewers read it in the same diff.

use crate::cfn::{CfnError, Deviation, Map, Pseudo, Resource, ResourceRef, Sub, Template, Value};
use crate::deviations::{FUNCTION_LOG_RETENTION_CONFIGURED, LAMBDA_NO_RESERVED_CONCURRENCY, LAMBDA_NO_VPC_AWS_APIS_ONLY};
use crate::iam::{PolicyDocument, Role, Statement};
use crate::kms::KeyRef;
use crate::sqs::QueueRef;
use crate::logs::{LogGroup, LogGroupRef, Retention};

/// The one Python runtime of every function: the newest AWS Lambda offers (python3.14, Amazon
/// Linux 2023, deprecation planned for 2029-06-30 per the Lambda runtimes page) and cfn-lint 1.58
/// accepts. The handlers use only the standard library and the bundled boto3; their tests
/// (tests/python, tests/e2e) run on the CI machine's CPython 3.11, not on 3.14, so the handlers
/// avoid anything removed or deprecated between 3.11 and 3.14 (`datetime.utcnow`, `imp`, ...).
pub const PYTHON_RUNTIME: &str = "python3.14";

#[derive(Debug, Clone)]
pub struct Function {
    logical_id: String,
    code: Value,
    description: String,
    timeout_seconds: u32,
    memory_mb: u32,
    statements: Vec<Statement>,
    log_retention: Retention,
    log_key: Option<KeyRef>,
    dead_letter_queue: Option<QueueRef>,
    deviations: Vec<Deviation>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRef {
    pub function: ResourceRef,
    pub role: crate::iam::RoleRef,
    pub log_group: LogGroupRef,
}

impl FunctionRef {
    pub fn arn(&self) -> Value {
        self.function.get_att("Arn")
    }
}

impl Function {
    /// A Python function whose whole source is `code` (handler `index.handler`); a `Sub` value
    /// lets the code name resources of the stack.
    pub fn python(logical_id: impl Into<String>, description: impl Into<String>, code: impl Into<Value>) -> Self {
        Function {
            logical_id: logical_id.into(),
            code: code.into(),
            description: description.into(),
            timeout_seconds: 60,
            memory_mb: 128,
            statements: Vec::new(),
            log_retention: Retention::days(30).unwrap_or_else(|_| unreachable!("30 is an accepted retention")),
            log_key: None,
            dead_letter_queue: None,
            deviations: Vec::new(),
        }
    }

    /// Default 60 s; Lambda allows 1-900.
    pub fn timeout(mut self, seconds: u32) -> Self {
        self.timeout_seconds = seconds;
        self
    }

    pub fn memory(mut self, mb: u32) -> Self {
        self.memory_mb = mb;
        self
    }

    /// A permission for the function's execution role.
    pub fn permit(mut self, s: Statement) -> Self {
        self.statements.push(s);
        self
    }

    pub fn permits(mut self, s: impl IntoIterator<Item = Statement>) -> Self {
        self.statements.extend(s);
        self
    }

    pub fn log_retention(mut self, r: Retention) -> Self {
        self.log_retention = r;
        self
    }

    pub fn log_encryption_key(mut self, key: &KeyRef) -> Self {
        self.log_key = Some(key.clone());
        self
    }

    /// Where Lambda parks an asynchronous event that failed every retry (the role gets the send
    /// and key permissions). A function without one must say why with a deviation from
    /// `CKV_AWS_116` (e.g. one CloudFormation calls synchronously).
    pub fn dead_letter_queue(mut self, queue: &QueueRef) -> Self {
        self.dead_letter_queue = Some(queue.clone());
        self
    }

    /// A deliberate deviation of the function from a rule pack (see `crate::deviations`). Every
    /// function already deviates from the VPC and reserved-concurrency rules (the builder offers
    /// neither).
    pub fn deviate(mut self, d: Deviation) -> Self {
        self.deviations.push(d);
        self
    }

    /// The name of the function's log group, derived from the stack so that key policies can
    /// name it before it exists.
    pub fn log_group_name(logical_id: &str) -> Value {
        Sub::new().text("/bedrock-watch/").pseudo(Pseudo::StackName).text("/").text(logical_id).build()
    }

    pub fn build(self, template: &mut Template) -> Result<FunctionRef, CfnError> {
        if !(1..=900).contains(&self.timeout_seconds) {
            return Err(CfnError::invalid("lambda::Function", format!("timeout {}s must be 1-900", self.timeout_seconds)));
        }
        if !(128..=10_240).contains(&self.memory_mb) {
            return Err(CfnError::invalid("lambda::Function", format!("memory {} MB must be 128-10240", self.memory_mb)));
        }
        let id = &self.logical_id;
        if self.dead_letter_queue.is_none() && !self.deviations.iter().any(|d| d.answers("CKV_AWS_116")) {
            return Err(CfnError::invalid(
                "lambda::Function",
                format!("function {id} has no dead-letter queue and no deviation from CKV_AWS_116 says why"),
            ));
        }
        // Retained like every log group (log data is deleted only when the user asks:
        // `destroy --purge`).
        let mut log_group = LogGroup::new(format!("{id}LogGroup"), self.log_retention).name(Function::log_group_name(id));
        if let Some(key) = &self.log_key {
            log_group = log_group.encryption_key(key);
        }
        if self.log_retention.get() < 365 {
            log_group = log_group.deviate(FUNCTION_LOG_RETENTION_CONFIGURED);
        }
        let log_group = log_group.build(template)?;

        let mut policy = PolicyDocument::new().statement(
            Statement::allow(crate::iam::actions::LOGS_FUNCTION_LOGGING, vec![log_group.arn()]),
        );
        let mut statements = self.statements;
        if let Some(q) = &self.dead_letter_queue {
            statements.extend(q.grant_send());
        }
        // The same grant twice (a key the function also uses for its own work) is written once.
        let mut unique: Vec<Statement> = Vec::with_capacity(statements.len());
        for s in statements {
            if !unique.contains(&s) {
                unique.push(s);
            }
        }
        policy = policy.statements(unique);
        let role = Role::new(format!("{id}Role"))
            .description(format!("Execution role of {id}"))
            // No confused-deputy condition: Lambda assumes execution roles without aws:SourceAccount
            // context, and a condition on an absent key would make the role unusable.
            .assumed_by_service("lambda.amazonaws.com", vec![])
            .inline_policy("Permissions", policy)
            .build(template)?;

        let props = Map::new()
            .with("Description", self.description)
            .with("Runtime", PYTHON_RUNTIME)
            .with("Handler", "index.handler")
            .with("Role", role.arn())
            .with("Timeout", self.timeout_seconds)
            .with("MemorySize", self.memory_mb)
            .with("LoggingConfig", Map::new().with("LogGroup", log_group.name()))
            .with_opt("DeadLetterConfig", self.dead_letter_queue.as_ref().map(|q| Map::new().with("TargetArn", q.arn())))
            .with("Code", Map::new().with("ZipFile", self.code));
        let mut resource = Resource::new("AWS::Lambda::Function", props).deviate(LAMBDA_NO_VPC_AWS_APIS_ONLY).deviate(LAMBDA_NO_RESERVED_CONCURRENCY);
        for d in self.deviations {
            resource = resource.deviate(d);
        }
        let function = template.add(id, resource)?;
        Ok(FunctionRef { function, role, log_group })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deviations::CUSTOM_RESOURCE_NO_DLQ;

    fn dlq(t: &mut Template) -> QueueRef {
        let key = crate::kms::Key::new("Key", "k").build(t).unwrap();
        let topic = crate::sns::Topic::new("Topic", &key).build(t).unwrap();
        crate::sqs::DeadLetterQueue::new("Dlq", "s-dlq", &key, "s-dlq-not-empty", &topic).build(t).unwrap()
    }

    #[test]
    fn a_function_needs_a_dead_letter_queue_or_a_deviation_saying_why() {
        let mut t = Template::new("t");
        let err = Function::python("F", "d", "code").build(&mut t).unwrap_err().to_string();
        assert!(err.contains("dead-letter queue") && err.contains("CKV_AWS_116"), "{err}");
        Function::python("G", "d", "code").deviate(CUSTOM_RESOURCE_NO_DLQ).build(&mut t).unwrap();
        assert!(t.resource("G").unwrap().deviates_from("CKV_AWS_116"));
    }

    #[test]
    fn the_dead_letter_queue_is_wired_and_granted_once() {
        let mut t = Template::new("t");
        let q = dlq(&mut t);
        let f = Function::python("F", "d", "code").permit(Statement::allow(crate::iam::actions::KMS_USE_KEY, vec![q.key.arn()])).dead_letter_queue(&q).build(&mut t).unwrap();
        let r = t.resource("F").unwrap();
        assert_eq!(r.properties.get("DeadLetterConfig"), Some(&Value::Map(Map::new().with("TargetArn", q.arn()))));
        assert!(!r.deviates_from("CKV_AWS_116"));
        let yaml = crate::cfn::render(&t, crate::cfn::Format::Yaml);
        assert!(yaml.contains("Action: sqs:SendMessage"), "{yaml}");
        let role = t.resource(f.role.logical_id()).unwrap();
        let policy = crate::cfn::render::value_to_json(role.properties.get("Policies").unwrap());
        assert_eq!(policy.matches("kms:GenerateDataKey").count(), 1, "{policy}");
        // log groups of functions are retained
        assert!(t.resource(f.log_group.logical_id()).unwrap().is_retained());
    }
}
