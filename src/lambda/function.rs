//! `AWS::Lambda::Function` with inline Python code, a log group of its own (retention set,
//! encrypted, named by the stack) and an execution role holding exactly the statements given.
//!
//! Inline code is no longer limited to 4 KB in CloudFormation (aws-cdk PR 20624 followed the
//! change), so the handler ships in the template and reviewers read it in the same diff.

use crate::cfn::{CfnError, Deviation, Map, Pseudo, Resource, ResourceRef, Sub, Template, Value};
use crate::deviations::{FUNCTION_LOG_RETENTION_CONFIGURED, LAMBDA_NO_RESERVED_CONCURRENCY, LAMBDA_NO_VPC_AWS_APIS_ONLY};
use crate::iam::{PolicyDocument, Role, Statement};
use crate::kms::KeyRef;
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
        policy = policy.statements(self.statements);
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
            .with("Code", Map::new().with("ZipFile", self.code));
        let mut resource = Resource::new("AWS::Lambda::Function", props).deviate(LAMBDA_NO_VPC_AWS_APIS_ONLY).deviate(LAMBDA_NO_RESERVED_CONCURRENCY);
        for d in self.deviations {
            resource = resource.deviate(d);
        }
        let function = template.add(id, resource)?;
        Ok(FunctionRef { function, role, log_group })
    }
}
