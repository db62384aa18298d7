//! The two IAM roles a self-managed rollout needs (`org roles` writes them): the administration
//! role in the administrator account, which CloudFormation assumes and which may only assume
//! the execution role in the target accounts; and the execution role in every member account,
//! which trusts only that administration role and holds exactly the deploy permissions of the
//! member templates (the policy `deploy-policy` derives, for the stack names StackSets gives
//! its instances: `StackSet-<stack set>-<uuid>`).
//!
//! IAM limits (IAM User Guide, "IAM and AWS STS quotas"): a role's inline policies may hold
//! 10,240 characters together, a managed policy 6,144 (whitespace not counted), and 10 managed
//! policies attach to a role by default. The deploy policy of the default stack is about 6,500
//! characters: it goes inline while it fits, else into as many managed policies as it needs.

use crate::cfn::render::value_to_json;
use crate::cfn::{render, Format, Output, Parameter, Pseudo, Sub, Template, Value};
use crate::config::organization::{PermissionModel, DEFAULT_ADMINISTRATION_ROLE};
use crate::config::Config;
use crate::deploy::policy::{deploy_parts, DeployParts, PolicyError, StackTemplate};
use crate::iam::managed_policy::ManagedPolicy;
use crate::iam::policy::{PolicyDocument, Principal, Resources, Statement};
use crate::iam::role::Role;

use super::plan::{self, Rollout};
use super::OrgError;

/// Characters all inline policies of one role may hold together.
pub const MAX_INLINE_ROLE_POLICY_CHARS: usize = 10_240;
/// Characters one managed policy may hold.
pub const MAX_MANAGED_POLICY_CHARS: usize = 6_144;
/// Managed policies a role takes by default (20 with a quota increase).
pub const MAX_MANAGED_POLICIES_PER_ROLE: usize = 10;
/// Up to this many target accounts, the administration role may assume the execution role in
/// exactly those accounts; past it the list would not fit its inline policy and the account
/// part of the ARN becomes `*` (the role name still pins it).
pub const MAX_LISTED_ACCOUNTS: usize = 100;

/// CloudFormation calls StackSets makes in a target account under the execution role, on the
/// instance's stack, besides the change-set calls `deploy` needs.
const STACKSET_STACK_ACTIONS: [&str; 2] = ["cloudformation:CreateStack", "cloudformation:UpdateStack"];

/// Characters of a policy document as IAM counts them (JSON without whitespace).
pub fn policy_chars(doc: &PolicyDocument) -> usize {
    value_to_json(&doc.to_value()).chars().filter(|c| !c.is_whitespace()).count()
}

/// The two templates as (file name, YAML), administration role first.
pub fn templates(config: &Config) -> Result<Vec<(String, String)>, OrgError> {
    let rollout = plan::plan(config)?;
    let o = plan::section(config)?;
    if o.permission_model != PermissionModel::SelfManaged {
        return Err(OrgError::RolesNeedSelfManaged);
    }
    let base = o.stack_set_name.clone().unwrap_or_else(|| config.stack_name.clone());
    let admin = administration_template(&rollout, &o.execution_role_name).map_err(|e| OrgError::Roles(e.to_string()))?;
    let exec = execution_template(&rollout, &o.execution_role_name).map_err(|e| OrgError::Roles(e.to_string()))?;
    Ok(vec![
        (format!("{base}-stackset-administration-role.yaml"), render(&admin, Format::Yaml)),
        (format!("{base}-stackset-execution-role.yaml"), render(&exec, Format::Yaml)),
    ])
}

/// The administration role's name and path, from `organization.administration_role_arn`
/// (`arn:aws:iam::<account>:role/<path/><name>`) or CloudFormation's default name.
fn administration_role(rollout: &Rollout) -> (String, Option<String>, Option<String>) {
    match rollout.administration_role_arn.as_deref() {
        Some(arn) => {
            let account = arn.split(':').nth(4).map(str::to_owned);
            let resource = arn.split(':').nth(5).unwrap_or_default().trim_start_matches("role");
            let (path, name) = resource.rsplit_once('/').unwrap_or(("/", resource));
            let path = if path.is_empty() || path == "/" { None } else { Some(format!("{path}/")) };
            (name.to_owned(), path, account)
        }
        None => (DEFAULT_ADMINISTRATION_ROLE.to_owned(), None, None),
    }
}

/// `AWSCloudFormationStackSetAdministrationRole` (or the configured name): trusted by
/// CloudFormation, allowed only `sts:AssumeRole` on the execution role of the target accounts.
pub fn administration_template(rollout: &Rollout, execution_role: &str) -> Result<Template, crate::cfn::CfnError> {
    let (name, path, _) = administration_role(rollout);
    let mut t = Template::new("bedrock-watch: the StackSets administration role for the self-managed rollout (deploy in the administrator account)");
    let accounts = rollout.accounts();
    let targets: Vec<Value> = if accounts.len() <= MAX_LISTED_ACCOUNTS {
        accounts.iter().map(|a| Sub::new().text("arn:").pseudo(Pseudo::Partition).text(&format!(":iam::{a}:role/{execution_role}")).build()).collect()
    } else {
        vec![Sub::new().text("arn:").pseudo(Pseudo::Partition).text(&format!(":iam::*:role/{execution_role}")).build()]
    };
    let policy = PolicyDocument::new().statement(Statement::allow(&["sts:AssumeRole"], targets).sid("AssumeTheExecutionRoleInTargetAccounts"));
    let mut role = Role::new("AdministrationRole")
        .role_name(name.as_str())
        .description("CloudFormation StackSets assumes this role to reach the target accounts of the bedrock-watch rollout")
        .assumed_by_service("cloudformation.amazonaws.com", vec![])
        .inline_policy("AssumeExecutionRole", policy);
    if let Some(p) = path {
        role = role.path(p);
    }
    let r = role.build(&mut t)?;
    t.add_output("AdministrationRoleArn", Output { description: Some("organization.administration_role_arn".into()), value: r.arn(), export_name: None })?;
    Ok(t)
}

/// The execution role's deploy statements: the deploy policy of every member template, for
/// the stack names StackSets uses, with the stack calls StackSets makes.
pub fn execution_statements(rollout: &Rollout) -> Result<DeployParts, PolicyError> {
    let names: Vec<String> = rollout.stack_sets.iter().map(|s| format!("StackSet-{}", s.name)).collect();
    let stacks: Vec<StackTemplate> = rollout.stack_sets.iter().zip(&names).map(|(s, n)| StackTemplate { stack: n, region: &s.region, body: &s.template.content }).collect();
    let mut parts = deploy_parts(&stacks, None)?;
    for s in &mut parts.statements {
        if s.sid == "CloudFormationStacks" {
            s.actions.extend(STACKSET_STACK_ACTIONS);
            s.actions.sort_unstable();
            s.actions.dedup();
            // An instance's stack is `StackSet-<stack set>-<uuid>`: `.../stack/<name>/<id>`.
            for r in &mut s.resources {
                if let Some(prefix) = r.strip_suffix("/*") {
                    *r = format!("{prefix}-*/*");
                }
            }
        }
    }
    Ok(parts)
}

fn to_statements(parts: &DeployParts) -> Vec<Statement> {
    let mut out: Vec<Statement> = parts.statements.iter().map(|s| Statement::allow(&s.actions, s.resources.iter().map(|r| Value::str(r.as_str())).collect()).sid(s.sid)).collect();
    // The deploy policy's declared exceptions (deploy::policy::DEPLOY_WILDCARDS), each named in
    // its Sid: actions AWS scopes to no resource.
    for e in &parts.exceptions {
        let mut s = Statement::allow(e.actions, vec![Value::str("*")]).sid(format!("NoResourceLevel{}", e.name));
        s.resources = Resources::Scoped(vec![Value::str("*")]);
        out.push(s);
    }
    out
}

/// Packs statements into documents of at most `limit` characters, splitting a statement's
/// resources when one statement alone is too big.
pub fn pack(statements: Vec<Statement>, limit: usize) -> Vec<PolicyDocument> {
    let mut docs: Vec<PolicyDocument> = Vec::new();
    let mut current = PolicyDocument::new();
    for s in statements {
        let mut pieces = vec![s];
        while let Some(piece) = pieces.pop() {
            let candidate = current.clone().statement(piece.clone());
            if policy_chars(&candidate) <= limit {
                current = candidate;
                continue;
            }
            if !current.statements.is_empty() {
                docs.push(std::mem::take(&mut current));
                pieces.push(piece);
                continue;
            }
            // Alone and still too big: halve its resources.
            let Resources::Scoped(resources) = &piece.resources else {
                current = candidate;
                continue;
            };
            if resources.len() < 2 {
                current = candidate;
                continue;
            }
            let (a, b) = resources.split_at(resources.len() / 2);
            let sid = piece.sid.clone().unwrap_or_default();
            pieces.push(Statement { resources: Resources::Scoped(b.to_vec()), sid: Some(format!("{sid}2")), ..piece.clone() });
            pieces.push(Statement { resources: Resources::Scoped(a.to_vec()), sid: Some(format!("{sid}1")), ..piece });
        }
    }
    if !current.statements.is_empty() {
        docs.push(current);
    }
    docs
}

/// `AWSCloudFormationStackSetExecutionRole` (or `organization.execution_role_name`): trusted
/// only by the administration role, holding the member stacks' deploy permissions.
pub fn execution_template(rollout: &Rollout, execution_role: &str) -> Result<Template, crate::cfn::CfnError> {
    let (admin_name, admin_path, admin_account) = administration_role(rollout);
    let mut t = Template::new("bedrock-watch: the StackSets execution role of the self-managed rollout (deploy in every target account)");
    let admin_role = |account: Sub| account.text(&format!(":role/{}{admin_name}", admin_path.as_deref().unwrap_or("/").trim_start_matches('/'))).build();
    let principal = match admin_account {
        Some(a) => admin_role(Sub::new().text("arn:").pseudo(Pseudo::Partition).text(&format!(":iam::{a}"))),
        None => {
            let p = Parameter {
                parameter_type: "String".into(),
                description: Some("12-digit id of the StackSets administrator account (where the administration role is)".into()),
                default: None,
                allowed_values: Vec::new(),
            };
            t.add_parameter("AdministratorAccountId", p)?;
            admin_role(Sub::new().text("arn:").pseudo(Pseudo::Partition).text(":iam::").reference("AdministratorAccountId"))
        }
    };
    let parts = execution_statements(rollout).map_err(|e| crate::cfn::CfnError::invalid("org::roles", e.to_string()))?;
    let statements = to_statements(&parts);
    let whole = PolicyDocument::new().statements(statements.clone());
    let mut role = Role::new("ExecutionRole")
        .role_name(execution_role)
        .description("CloudFormation StackSets deploys the bedrock-watch member stack with this role; only the administration role may assume it")
        .trust(Statement::assume_role(Principal::Aws(principal)));
    let inline = policy_chars(&whole) <= MAX_INLINE_ROLE_POLICY_CHARS;
    if inline {
        role = role.inline_policy("DeployBedrockWatchMemberStack", whole);
    }
    let r = role.build(&mut t)?;
    if !inline {
        let docs = pack(statements, MAX_MANAGED_POLICY_CHARS);
        if docs.len() > MAX_MANAGED_POLICIES_PER_ROLE {
            return Err(crate::cfn::CfnError::invalid(
                "org::roles",
                format!("the deploy permissions need {} managed policies of 6,144 characters; a role takes {MAX_MANAGED_POLICIES_PER_ROLE} by default: roll out fewer regions per stack set name", docs.len()),
            ));
        }
        for (i, doc) in docs.into_iter().enumerate() {
            ManagedPolicy::new(format!("DeployPolicy{}", i + 1), format!("bedrock-watch member stack deploy permissions, part {}", i + 1), doc).attach_to_roles(vec![r.name()]).build(&mut t)?;
        }
    }
    t.add_output("ExecutionRoleArn", Output { description: Some("the role StackSets assumes in this account".into()), value: r.arn(), export_name: None })?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config;

    fn config(extra: &str) -> Config {
        config::parse(
            &format!("deploy:\n  staging_bucket: staging\nregions: [us-east-1, eu-west-1]\norganization:\n  permission_model: self_managed\n  targets:\n    accounts: ['111111111111', '222222222222']\n{extra}"),
            "org.yaml",
        )
        .unwrap()
    }

    fn json(t: &Template) -> serde_json::Value {
        serde_json::from_str(&render(t, Format::Json)).unwrap()
    }

    #[test]
    fn the_administration_role_may_only_assume_the_execution_role_of_the_targets() {
        let r = plan::plan(&config("")).unwrap();
        let t = json(&administration_template(&r, "AWSCloudFormationStackSetExecutionRole").unwrap());
        let role = &t["Resources"]["AdministrationRole"]["Properties"];
        assert_eq!(role["RoleName"], "AWSCloudFormationStackSetAdministrationRole");
        assert_eq!(role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"], "cloudformation.amazonaws.com");
        let s = &role["Policies"][0]["PolicyDocument"]["Statement"][0];
        assert_eq!(s["Action"], "sts:AssumeRole");
        let targets: Vec<&str> = s["Resource"].as_array().unwrap().iter().map(|v| v["Fn::Sub"].as_str().unwrap()).collect();
        assert_eq!(targets, ["arn:${AWS::Partition}:iam::111111111111:role/AWSCloudFormationStackSetExecutionRole", "arn:${AWS::Partition}:iam::222222222222:role/AWSCloudFormationStackSetExecutionRole"]);
    }

    #[test]
    fn past_a_hundred_accounts_the_account_is_a_wildcard_but_the_role_name_is_not() {
        let mut r = plan::plan(&config("")).unwrap();
        r.targets.accounts = (0..101).map(|i| format!("{:012}", i)).collect();
        let t = json(&administration_template(&r, "Exec").unwrap());
        let s = &t["Resources"]["AdministrationRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0];
        assert_eq!(s["Resource"]["Fn::Sub"], "arn:${AWS::Partition}:iam::*:role/Exec");
    }

    #[test]
    fn the_execution_role_trusts_only_the_administration_role_and_holds_the_deploy_policy() {
        let c = config("  administration_role_arn: arn:aws:iam::999999999999:role/ops/StackSetAdmin\n  execution_role_name: BwExec\n");
        let r = plan::plan(&c).unwrap();
        let t = json(&execution_template(&r, "BwExec").unwrap());
        let role = &t["Resources"]["ExecutionRole"]["Properties"];
        assert_eq!(role["RoleName"], "BwExec");
        assert_eq!(role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["AWS"]["Fn::Sub"], "arn:${AWS::Partition}:iam::999999999999:role/ops/StackSetAdmin");
        assert!(t.get("Parameters").is_none(), "the admin account is known: no parameter");
        let text = t.to_string();
        for needle in [
            "arn:aws:cloudformation:us-east-1:*:stack/StackSet-bedrock-watch-us-east-1-*/*",
            "arn:aws:cloudformation:eu-west-1:*:stack/StackSet-bedrock-watch-eu-west-1-*/*",
            "cloudformation:CreateStack",
            "arn:aws:iam::*:role/StackSet-bedrock-watch-us-east-1-*",
            "arn:aws:logs:eu-west-1:*:log-group:/aws/bedrock/modelinvocations",
        ] {
            assert!(text.contains(needle), "{needle} missing");
        }
        assert!(!text.contains("\"Action\":\"*\"") && !text.contains("cloudformation:*"), "no wildcard action");
    }

    #[test]
    fn without_the_administration_arn_the_account_is_a_parameter() {
        let r = plan::plan(&config("")).unwrap();
        let t = json(&execution_template(&r, "AWSCloudFormationStackSetExecutionRole").unwrap());
        assert_eq!(t["Parameters"]["AdministratorAccountId"]["Type"], "String");
        let p = &t["Resources"]["ExecutionRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["AWS"]["Fn::Sub"];
        assert_eq!(p, "arn:${AWS::Partition}:iam::${AdministratorAccountId}:role/AWSCloudFormationStackSetAdministrationRole");
    }

    #[test]
    fn a_policy_over_the_inline_limit_is_split_into_managed_policies_under_theirs() {
        // Two regions of the default stack: over 10,240 characters together.
        let r = plan::plan(&config("")).unwrap();
        let whole = PolicyDocument::new().statements(to_statements(&execution_statements(&r).unwrap()));
        let chars = policy_chars(&whole);
        let t = execution_template(&r, "X").unwrap();
        let managed: Vec<_> = t.resources.iter().filter(|(_, r)| r.resource_type == "AWS::IAM::ManagedPolicy").collect();
        if chars <= MAX_INLINE_ROLE_POLICY_CHARS {
            assert!(managed.is_empty());
        } else {
            assert!(!managed.is_empty(), "{chars} characters must be split");
            for (id, m) in &managed {
                let doc = value_to_json(m.properties.get("PolicyDocument").unwrap());
                let n = doc.chars().filter(|c| !c.is_whitespace()).count();
                assert!(n <= MAX_MANAGED_POLICY_CHARS, "{id}: {n}");
            }
        }
        // Every statement of the whole policy is in some part (by Sid prefix).
        let all = render(&t, Format::Json);
        for s in &whole.statements {
            assert!(all.contains(s.sid.as_deref().unwrap()), "{:?}", s.sid);
        }
    }

    #[test]
    fn packing_splits_a_statement_too_big_for_one_document() {
        let big = Statement::allow(&["s3:GetObject"], (0..400).map(|i| Value::str(format!("arn:aws:s3:::bucket-number-{i:04}/*"))).collect()).sid("Big");
        let docs = pack(vec![big, Statement::allow(&["sns:Publish"], vec![Value::str("arn:aws:sns:us-east-1:1:t")]).sid("Small")], MAX_MANAGED_POLICY_CHARS);
        assert!(docs.len() >= 2);
        let mut resources = 0;
        for d in &docs {
            assert!(policy_chars(d) <= MAX_MANAGED_POLICY_CHARS);
            for s in &d.statements {
                if let Resources::Scoped(r) = &s.resources {
                    if s.actions == ["s3:GetObject"] {
                        resources += r.len();
                    }
                }
            }
        }
        assert_eq!(resources, 400, "no resource lost or duplicated");
    }

    #[test]
    fn service_managed_rollouts_need_no_roles() {
        let c = config::parse("organization:\n  targets:\n    organizational_units: [r-ab12]\n", "o.yaml").unwrap();
        assert!(matches!(templates(&c), Err(OrgError::RolesNeedSelfManaged)));
    }

    /// examples/org-self-managed.yaml's roles and monitoring template are committed under
    /// templates/ (linted with the others): they must be what this version renders.
    #[test]
    fn the_committed_example_renderings_are_current() {
        let root = env!("CARGO_MANIFEST_DIR");
        let c = config::load_file(std::path::Path::new(&format!("{root}/examples/org-self-managed.yaml"))).unwrap();
        let mut files = templates(&c).unwrap();
        let r = plan::plan(&c).unwrap();
        files.extend(super::super::central::templates(&c, &r).unwrap());
        assert_eq!(files.len(), 3);
        for (name, content) in files {
            let path = format!("{root}/templates/{name}");
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                committed == content,
                "templates/{name} is stale or missing: run `bedrock-watch org roles --config examples/org-self-managed.yaml --out templates` and `bedrock-watch org synth --config examples/org-self-managed.yaml --out /tmp/org && cp /tmp/org/bedrock-org-monitoring-sink-us-east-1.yaml templates/`"
            );
        }
    }
}
