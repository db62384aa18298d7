//! The quota commands against the deployed stack: they read and write the tables and apply or
//! lift blocks with the same items, locks and IAM documents as quota_core.py
//! (`block_principal`, `unblock_principal`, `protect_principal`, `apply_mechanism`,
//! `with_lock`), and record the operator's ARN (STS GetCallerIdentity) as the actor.
//!
//! Unlike the functions, the operator's credentials may reach beyond the principals the stack
//! manages, so the scope the functions' IAM permissions enforce (path and tag) is checked here
//! before anything is changed, and a protected principal is refused rather than blocked.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::AttributeValue;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde_json::{json, Value};

use super::items::{self, from_item, principal_key, to_item, AuditEntry, Block, Item};
use super::policy::{self, block_target, deny_statement, merge_statement, Caller, Target};
use super::status::{self, PrincipalRow, StatusView, TeamRow};
use super::time::{self as qtime, iso, iso_ms};
use super::*;
use crate::aws::Aws;
use crate::config::Config;

/// A connection to one deployed quota stack, as one operator.
pub struct Session {
    pub aws: Aws,
    pub config: Config,
    pub usage_table: String,
    pub audit_table: String,
    /// The alert topic the functions notify; the CLI notifies it too (None: not in the stack).
    pub topic_arn: Option<String>,
    /// The stack, named in notification subjects as the functions name it.
    pub stack: String,
    /// The stack's deny policies a block attaches ([`BLOCK_POLICY_ID`], [`SESSION_BLOCK_POLICY_ID`]).
    pub block_policy_arn: String,
    pub session_block_policy_arn: String,
    /// The operator's ARN, recorded as `actor` / `blocked_by` / `protected_by`.
    pub actor: String,
    pub tz: TimeZone,
}

/// What `quota block` did.
#[derive(Debug, Clone, PartialEq)]
pub enum BlockOutcome {
    Blocked { until: String, mechanism: &'static str },
    /// A block lasting at least as long was in force; it is kept (and re-applied).
    KeptLonger { until: String, mechanism: &'static str },
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn is_code<E: ProvideErrorMetadata>(e: &E, code: &str) -> bool {
    e.code() == Some(code)
}

/// Permission sets the quota config names (`quotas.identity_center.permission_sets`) are
/// created by this stack: their ARNs are the stack's physical ids (CloudFormation may report
/// them as `<instance ARN>|<permission set ARN>`; the part with `:permissionSet/` is the ARN).
pub fn resolve_named_permission_sets(config: &mut Config, physical: impl Fn(&str) -> Option<String>) {
    let instance = config.access.identity_center_instance_arn.clone();
    let Some(ic) = config.quotas.identity_center.as_mut() else { return };
    if ic.instance_arn.is_empty() {
        ic.instance_arn = instance.unwrap_or_default();
    }
    for name in ic.permission_sets.clone() {
        if ic.permission_set_arns.contains_key(&name) {
            continue;
        }
        let id = crate::monitoring::access::permission_set_logical_id(&name);
        if let Some(arn) = physical(&id).and_then(|p| p.split('|').find(|part| part.contains(":permissionSet/")).map(str::to_owned)) {
            ic.permission_set_arns.insert(name, arn);
        }
    }
}

impl Session {
    /// Finds the stack's tables and the operator's identity.
    pub async fn open(aws: Aws, config: Config) -> Result<Session, AdminError> {
        if !config.quotas.enabled {
            return Err(AdminError::Disabled);
        }
        let tz = qtime::zone(&config.quotas.time_zone)?;
        aws.check_credentials().await?;
        let stack = config.stack_name_for(&aws.region);
        let resources = match aws.cloudformation().describe_stack_resources().stack_name(&stack).send().await {
            Ok(r) => r,
            Err(e) => {
                let err = aws.error("DescribeStackResources", e);
                return Err(if err.is_not_found() { AdminError::StackMissing { stack, region: aws.region.clone() } } else { err.into() });
            }
        };
        let physical = |id: &str| {
            resources.stack_resources().iter().find(|r| r.logical_resource_id() == Some(id)).and_then(|r| r.physical_resource_id()).filter(|p| !p.is_empty()).map(str::to_owned)
        };
        let (Some(usage_table), Some(audit_table)) = (physical(USAGE_TABLE_ID), physical(AUDIT_TABLE_ID)) else {
            return Err(AdminError::QuotasNotDeployed { stack, region: aws.region.clone() });
        };
        let identity = aws.sts().get_caller_identity().send().await.map_err(|e| aws.error("GetCallerIdentity", e))?;
        let actor = identity.arn().unwrap_or("unknown").to_owned();
        let topic_arn = physical(ALERT_TOPIC_ID);
        let (Some(block_policy_arn), Some(session_block_policy_arn)) = (physical(BLOCK_POLICY_ID), physical(SESSION_BLOCK_POLICY_ID)) else {
            return Err(AdminError::QuotasNotDeployed { stack, region: aws.region.clone() });
        };
        let mut config = config;
        resolve_named_permission_sets(&mut config, |id| physical(id));
        Ok(Session { aws, config, usage_table, audit_table, topic_arn, stack, block_policy_arn, session_block_policy_arn, actor, tz })
    }

    fn now(&self) -> Timestamp {
        Timestamp::now()
    }

    fn bad_item(&self, table: &'static str, key: &Value, detail: impl Into<String>) -> AdminError {
        AdminError::BadItem { table, key: key.to_string(), detail: detail.into() }
    }

    // --- DynamoDB -----------------------------------------------------------------------

    async fn get(&self, key: &Value) -> Result<Option<Value>, AdminError> {
        let r = self.aws.dynamodb().get_item().table_name(&self.usage_table).set_key(Some(to_item(key))).consistent_read(true).send().await;
        let r = r.map_err(|e| self.aws.error("GetItem", e))?;
        Ok(r.item().map(from_item))
    }

    async fn put(&self, item: &Value) -> Result<(), AdminError> {
        let r = self.aws.dynamodb().put_item().table_name(&self.usage_table).set_item(Some(to_item(item))).send().await;
        r.map(|_| ()).map_err(|e| self.aws.error("PutItem", e).into())
    }

    async fn delete(&self, key: &Value) -> Result<(), AdminError> {
        let r = self.aws.dynamodb().delete_item().table_name(&self.usage_table).set_key(Some(to_item(key))).send().await;
        r.map(|_| ()).map_err(|e| self.aws.error("DeleteItem", e).into())
    }

    /// Appends to the audit trail (quota_core `audit`).
    pub(super) async fn audit(&self, action: &str, principal: &str, reason: &str, until: Option<&str>, details: Value, result: &str) -> Result<(), AdminError> {
        let at = self.now();
        let entry = AuditEntry {
            month: qtime::month_key(at, &self.tz),
            at: iso_ms(at),
            id: items::random_id(),
            action: action.into(),
            principal: principal.into(),
            actor: self.actor.clone(),
            reason: reason.into(),
            result: result.into(),
            until: until.map(str::to_owned),
            details,
        };
        let r = self.aws.dynamodb().put_item().table_name(&self.audit_table).set_item(Some(to_item(&entry.to_json()))).send().await;
        r.map(|_| ()).map_err(|e| self.aws.error("PutItem (audit)", e).into())
    }

    /// Runs `edit` holding the lock item `LOCK#<name>` (quota_core `with_lock`).
    async fn locked<F, Fut>(&self, name: &str, edit: F) -> Result<(), AdminError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<(), AdminError>>,
    {
        let token = items::random_id();
        let key = json!({"pk": format!("{LOCK_PREFIX}{name}"), "sk": SK_LOCK});
        let mut acquired = false;
        for _ in 0..LOCK_ATTEMPTS {
            let t = self.now().as_second();
            let mut item = to_item(&key);
            item.insert("owner".into(), s(&token));
            item.insert("expires".into(), AttributeValue::N((t + LOCK_SECONDS).to_string()));
            item.insert("ttl".into(), AttributeValue::N((t + 3600).to_string()));
            let r = self
                .aws
                .dynamodb()
                .put_item()
                .table_name(&self.usage_table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk) OR #e < :now")
                .expression_attribute_names("#e", "expires")
                .expression_attribute_values(":now", AttributeValue::N(t.to_string()))
                .send()
                .await;
            match r {
                Ok(_) => {
                    acquired = true;
                    break;
                }
                Err(e) if is_code(&e, "ConditionalCheckFailedException") => tokio::time::sleep(std::time::Duration::from_millis(250 + fastrand::u64(0..250))).await,
                Err(e) => return Err(self.aws.error("PutItem (lock)", e).into()),
            }
        }
        if !acquired {
            return Err(AdminError::Locked(name.to_owned()));
        }
        let result = edit().await;
        let release = self
            .aws
            .dynamodb()
            .delete_item()
            .table_name(&self.usage_table)
            .set_key(Some(to_item(&key)))
            .condition_expression("#o = :t")
            .expression_attribute_names("#o", "owner")
            .expression_attribute_values(":t", s(&token))
            .send()
            .await;
        if let Err(e) = release {
            eprintln!("warning: lock {name} not released ({}); it expires in {LOCK_SECONDS} s", self.aws.error("DeleteItem (lock)", e));
        }
        result
    }

    // --- principals ---------------------------------------------------------------------

    /// The caller ARN last counted for a principal (quota_core `known_arn`).
    async fn known_arn(&self, principal: &str) -> Result<Option<String>, AdminError> {
        let r = self
            .aws
            .dynamodb()
            .query()
            .table_name(&self.usage_table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :m)")
            .expression_attribute_values(":pk", s(&format!("{PRINCIPAL_PREFIX}{principal}")))
            .expression_attribute_values(":m", s(SK_MONTH_PREFIX))
            .scan_index_forward(false)
            .limit(3)
            .send()
            .await
            .map_err(|e| self.aws.error("Query", e))?;
        Ok(r.items().iter().find_map(|i| match i.get("arn") {
            Some(AttributeValue::S(a)) if !a.is_empty() => Some(a.clone()),
            _ => None,
        }))
    }

    async fn iam_user(&self, name: &str) -> Result<Option<aws_sdk_iam::types::User>, AdminError> {
        match self.aws.iam().get_user().user_name(name).send().await {
            Ok(r) => Ok(r.user().cloned()),
            Err(e) if is_code(&e, "NoSuchEntity") => Ok(None),
            Err(e) => Err(self.aws.error("GetUser", e).into()),
        }
    }

    async fn iam_role(&self, name: &str) -> Result<Option<aws_sdk_iam::types::Role>, AdminError> {
        match self.aws.iam().get_role().role_name(name).send().await {
            Ok(r) => Ok(r.role().cloned()),
            Err(e) if is_code(&e, "NoSuchEntity") => Ok(None),
            Err(e) => Err(self.aws.error("GetRole", e).into()),
        }
    }

    /// Refuses principals outside what the stack's functions may edit (path and tag).
    fn check_scope(&self, what: &str, name: &str, path: &str, tags: &[(String, String)]) -> Result<(), AdminError> {
        let q = &self.config.quotas;
        let (key, value) = super::untracked::managed_tag(q);
        let scope = super::untracked::scope(q, path, tags);
        if scope.managed() {
            return Ok(());
        }
        let why = if scope.tag { format!("its path {path} is not under {}", q.managed_path) } else { format!("it does not carry the tag {key}={value}") };
        Err(AdminError::Refused(format!(
            "{what} {name} is out of the quota scope: {why}. The quota functions may only edit users and roles under {} tagged {key}={value}; tag it to enforce quotas on it",
            q.managed_path
        )))
    }

    async fn check_role_scope(&self, role: &str, principal: &str) -> Result<(), AdminError> {
        let Some(r) = self.iam_role(role).await? else {
            return Err(AdminError::UnknownPrincipal { principal: principal.into(), detail: format!("role {role} does not exist") });
        };
        let tags: Vec<(String, String)> = r.tags().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect();
        self.check_scope("role", role, r.path(), &tags)
    }

    async fn check_user_scope(&self, user: &aws_sdk_iam::types::User) -> Result<(), AdminError> {
        let tags: Vec<(String, String)> = user.tags().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect();
        self.check_scope("IAM user", user.user_name(), user.path(), &tags)
    }

    /// How to block `principal`: from the caller ARN last counted, else from IAM by name.
    async fn resolve(&self, principal: &str) -> Result<(Caller, String), AdminError> {
        let people = self.config.attribution.sessions_are_people;
        if let Some(arn) = self.known_arn(principal).await? {
            let caller = Caller::from_arn(&arn, people).ok_or_else(|| AdminError::Refused(format!("{arn} is not an IAM user, role or IAM Identity Center user")))?;
            if caller.principal() != principal {
                return Err(AdminError::Refused(format!("the ARN {arn} belongs to {}, not {principal}", caller.principal())));
            }
            match &caller {
                Caller::IamUser { name } => match self.iam_user(name).await? {
                    Some(u) => self.check_user_scope(&u).await?,
                    None => return Err(AdminError::UnknownPrincipal { principal: principal.into(), detail: format!("IAM user {name} no longer exists") }),
                },
                Caller::Role { role } | Caller::RoleSession { role, .. } => self.check_role_scope(role, principal).await?,
                Caller::SsoUser { .. } => {}
            }
            return Ok((caller, arn));
        }
        if let Some((role, session)) = principal.split_once('/').filter(|_| people) {
            self.check_role_scope(role, principal).await?;
            let caller = Caller::RoleSession { role: role.into(), session: session.into() };
            let arn = self.iam_role(role).await?.map(|r| r.arn().to_owned()).unwrap_or_default();
            return Ok((caller, arn));
        }
        if let Some(user) = self.iam_user(principal).await? {
            self.check_user_scope(&user).await?;
            return Ok((Caller::IamUser { name: principal.into() }, user.arn().to_owned()));
        }
        if let Some(role) = self.iam_role(principal).await? {
            if people {
                return Err(AdminError::UnknownPrincipal {
                    principal: principal.into(),
                    detail: "it is a role, and attribution.sessions_are_people is true: name one session as ROLE/SESSION".into(),
                });
            }
            self.check_role_scope(principal, principal).await?;
            return Ok((Caller::Role { role: principal.into() }, role.arn().to_owned()));
        }
        Err(AdminError::UnknownPrincipal {
            principal: principal.into(),
            detail: "no call of it has been counted and no IAM user or role has that name (IAM Identity Center users can be blocked once a call of theirs is counted)".into(),
        })
    }

    /// The protection of a principal, if any: "config" or who protected it.
    async fn protection(&self, principal: &str) -> Result<Option<String>, AdminError> {
        if self.config.quotas.protected.iter().any(|p| p == principal) {
            return Ok(Some("config".into()));
        }
        Ok(self.get(&principal_key(principal, SK_PROTECTED)).await?.map(|i| i.get("protected_by").and_then(Value::as_str).unwrap_or("an operator").to_owned()))
    }

    // --- mechanisms ---------------------------------------------------------------------

    /// Attaches or detaches one of the stack's block policies (quota_core `_attachment`);
    /// detaching what is not attached is not an error.
    async fn attachment(&self, role: bool, name: &str, policy_arn: &str, attach: bool) -> Result<(), AdminError> {
        let iam = self.aws.iam();
        match (role, attach) {
            (false, true) => self.settle("AttachUserPolicy", attach, iam.attach_user_policy().user_name(name).policy_arn(policy_arn).send().await),
            (false, false) => self.settle("DetachUserPolicy", attach, iam.detach_user_policy().user_name(name).policy_arn(policy_arn).send().await),
            (true, true) => self.settle("AttachRolePolicy", attach, iam.attach_role_policy().role_name(name).policy_arn(policy_arn).send().await),
            (true, false) => self.settle("DetachRolePolicy", attach, iam.detach_role_policy().role_name(name).policy_arn(policy_arn).send().await),
        }
    }

    fn settle<T, E, R>(&self, op: &'static str, attach: bool, r: Result<T, aws_sdk_iam::error::SdkError<E, R>>) -> Result<(), AdminError>
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug,
    {
        match r {
            Ok(_) => Ok(()),
            Err(e) if !attach && is_code(&e, "NoSuchEntity") => Ok(()),
            Err(e) => Err(self.aws.error(op, e).into()),
        }
    }

    /// Names `session` in a slot tag of `role` and attaches the session policy, or removes it
    /// and detaches the policy once no slot is in use (quota_core `_edit_session_block`).
    async fn edit_session_block(&self, role: &str, session: &str, block: bool) -> Result<Option<String>, AdminError> {
        let r = self.iam_role(role).await?.ok_or_else(|| AdminError::UnknownPrincipal { principal: role.into(), detail: "the role does not exist".into() })?;
        let tags: Vec<(String, String)> = r.tags().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect();
        let (mut held, free) = policy::session_slots(&tags, session);
        let iam = self.aws.iam();
        if block {
            if held.is_empty() {
                if !policy::fits_tag_value(session) {
                    return Err(AdminError::Refused(format!("the session name {session:?} holds a character IAM tag values do not allow")));
                }
                let Some(slot) = free.first() else {
                    return Err(AdminError::Refused(format!("{SESSION_SLOTS} sessions of role {role} are blocked already; no session slot is free")));
                };
                let tag = aws_sdk_iam::types::Tag::builder().key(slot).value(session).build().map_err(|e| AdminError::Refused(e.to_string()))?;
                iam.tag_role().role_name(role).tags(tag).send().await.map_err(|e| self.aws.error("TagRole", e))?;
                held = vec![slot.clone()];
            }
            self.attachment(true, role, &self.session_block_policy_arn, true).await?;
            return Ok(held.first().cloned());
        }
        if !held.is_empty() {
            iam.untag_role().role_name(role).set_tag_keys(Some(held.clone())).send().await.map_err(|e| self.aws.error("UntagRole", e))?;
        }
        let others_in_use = session_tag_keys().iter().any(|k| !held.contains(k) && tags.iter().any(|(tk, _)| tk == k));
        if !others_in_use {
            self.attachment(true, role, &self.session_block_policy_arn, false).await?;
        }
        Ok(None)
    }

    fn sso(&self, region: &str) -> aws_sdk_ssoadmin::Client {
        if region.is_empty() || region == self.aws.region {
            return self.aws.sso_admin();
        }
        let conf = aws_sdk_ssoadmin::config::Builder::from(&self.aws.config).region(aws_config::Region::new(region.to_owned())).build();
        aws_sdk_ssoadmin::Client::from_conf(conf)
    }

    async fn edit_permission_set(&self, sso: &aws_sdk_ssoadmin::Client, instance: &str, ps_arn: &str, sid: &str, statement: Option<Value>) -> Result<(), AdminError> {
        let r = sso.get_inline_policy_for_permission_set().instance_arn(instance).permission_set_arn(ps_arn).send().await;
        let current = r.map_err(|e| self.aws.error("GetInlinePolicyForPermissionSet", e))?.inline_policy().filter(|p| !p.trim().is_empty()).map(str::to_owned);
        let bad = |detail| AdminError::BadPolicy { what: format!("permission set {ps_arn}"), detail };
        let current = current.as_deref().map(policy::parse_document).transpose().map_err(bad)?;
        let merged = merge_statement(current.as_ref(), sid, statement).map_err(|detail| AdminError::BadPolicy { what: format!("permission set {ps_arn}"), detail })?;
        match merged {
            None if current.is_some() => sso
                .delete_inline_policy_from_permission_set()
                .instance_arn(instance)
                .permission_set_arn(ps_arn)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| self.aws.error("DeleteInlinePolicyFromPermissionSet", e).into()),
            None => Ok(()),
            Some(doc) => sso
                .put_inline_policy_to_permission_set()
                .instance_arn(instance)
                .permission_set_arn(ps_arn)
                .inline_policy(doc.to_string())
                .send()
                .await
                .map(|_| ())
                .map_err(|e| self.aws.error("PutInlinePolicyToPermissionSet", e).into()),
        }
    }

    /// Provisions a permission set to all its accounts and waits (bounded) for the result.
    async fn provision(&self, sso: &aws_sdk_ssoadmin::Client, instance: &str, ps_arn: &str) -> Result<String, AdminError> {
        use aws_sdk_ssoadmin::types::{ProvisionTargetType, StatusValues};
        let r = sso.provision_permission_set().instance_arn(instance).permission_set_arn(ps_arn).target_type(ProvisionTargetType::AllProvisionedAccounts).send().await;
        let mut status = r.map_err(|e| self.aws.error("ProvisionPermissionSet", e))?.permission_set_provisioning_status().cloned();
        for _ in 0..PROVISIONING_POLLS {
            let Some(st) = &status else { break };
            if st.status() != Some(&StatusValues::InProgress) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            let request = st.request_id().unwrap_or_default().to_owned();
            let r = sso.describe_permission_set_provisioning_status().instance_arn(instance).provision_permission_set_request_id(request).send().await;
            status = r.map_err(|e| self.aws.error("DescribePermissionSetProvisioningStatus", e))?.permission_set_provisioning_status().cloned();
        }
        let st = status.as_ref().and_then(|s| s.status());
        if st == Some(&StatusValues::Failed) {
            let reason = status.as_ref().and_then(|s| s.failure_reason()).unwrap_or("no reason given").to_owned();
            return Err(AdminError::Provisioning { arn: ps_arn.into(), reason });
        }
        Ok(st.map_or("UNKNOWN".to_owned(), |s| s.as_str().to_owned()))
    }

    /// Applies (`block`) or removes a block; idempotent (quota_core `apply_mechanism`).
    async fn apply(&self, target: &Target, block: bool) -> Result<Value, AdminError> {
        match target {
            Target::UserPolicy { user_name } => {
                self.attachment(false, user_name, &self.block_policy_arn, block).await?;
                Ok(json!({"user": user_name, "policy": self.block_policy_arn}))
            }
            Target::RoleStatement { role_name, session, .. } if session.is_empty() => {
                self.attachment(true, role_name, &self.block_policy_arn, block).await?;
                Ok(json!({"role": role_name, "policy": self.block_policy_arn}))
            }
            Target::RoleStatement { role_name, session, .. } => {
                let mut slot = None;
                self.locked(&format!("ROLE#{role_name}"), || async {
                    slot = self.edit_session_block(role_name, session, block).await?;
                    Ok(())
                })
                .await?;
                Ok(json!({"role": role_name, "policy": self.session_block_policy_arn, "session": session, "slot": slot}))
            }
            Target::PermissionSet { instance_arn, region, permission_sets, sid, user } => {
                let statement = block.then(|| deny_statement(sid, Some(&format!("*:{user}"))));
                let sso = self.sso(region);
                let mut provisioned = serde_json::Map::new();
                for (name, arn) in permission_sets {
                    let st = statement.clone();
                    self.locked(&format!("PERMISSIONSET#{arn}"), || self.edit_permission_set(&sso, instance_arn, arn, sid, st)).await?;
                    provisioned.insert(name.clone(), Value::from(self.provision(&sso, instance_arn, arn).await?));
                }
                Ok(json!({"permission_sets": provisioned, "sid": sid}))
            }
        }
    }

    async fn read_block(&self, principal: &str) -> Result<Option<Block>, AdminError> {
        let key = principal_key(principal, SK_BLOCK);
        match self.get(&key).await? {
            None => Ok(None),
            Some(v) => Block::from_json(&v).map(Some).map_err(|d| self.bad_item("usage", &key, d)),
        }
    }

    /// Publishes to the alert topic as quota_core `notify` does (same subject prefix and
    /// message attributes, so subscription filters see CLI and function blocks alike). A failed
    /// notification is a warning: the block itself is done and audited.
    async fn notify(&self, event: &str, subject: &str, mut lines: Vec<String>, principal: &str) {
        use aws_sdk_sns::types::MessageAttributeValue;
        let Some(topic) = &self.topic_arn else {
            eprintln!("warning: the stack has no {ALERT_TOPIC_ID}; nobody was notified of the {event}");
            return;
        };
        let attr = |v: &str| MessageAttributeValue::builder().data_type("String").string_value(v).build();
        let mut req = self.aws.sns().publish().topic_arn(topic);
        for (name, value) in [("event", Some(event)), ("principal", Some(principal)), ("email", self.config.quotas.emails.get(principal).map(String::as_str))] {
            let Some(value) = value else { continue };
            match attr(value) {
                Ok(a) => req = req.message_attributes(name, a),
                Err(e) => eprintln!("warning: notification attribute {name}: {e}"),
            }
        }
        if let Some(email) = self.config.quotas.emails.get(principal) {
            lines.push(format!("E-mail of {principal}: {email}"));
        }
        let subject: String = format!("[{}] {subject}", self.stack).chars().map(|c| if (' '..='~').contains(&c) { c } else { '?' }).take(100).collect();
        if let Err(e) = req.subject(subject).message(lines.join("\n")).send().await {
            eprintln!("warning: the {event} of {principal} is done, but notifying {topic} failed: {}", self.aws.error("Publish", e));
        }
    }

    // --- commands -----------------------------------------------------------------------

    /// `quota block`: what quota_core `block_principal` does, after the operator-side checks.
    pub async fn block(&self, principal: &str, until: Timestamp, reason: &str) -> Result<BlockOutcome, AdminError> {
        refuse_protected(principal, self.protection(principal).await?)?;
        let until_s = iso(until);
        let (caller, arn) = self.resolve(principal).await?;
        let target = block_target(&caller, self.config.quotas.identity_center.as_ref()).map_err(AdminError::Refused)?;
        let key = principal_key(principal, SK_BLOCK);
        let existing = self.read_block(principal).await?;
        let (item, kept) = match &existing {
            Some(b) if b.until >= until_s => (b.clone(), true),
            _ => {
                let b = Block { principal: principal.into(), arn: arn.clone(), until: until_s.clone(), reason: reason.into(), blocked_by: self.actor.clone(), blocked_at: iso(self.now()), target };
                self.put(&b.to_json()).await?;
                (b, false)
            }
        };
        let mut details = match self.apply(&item.target, true).await {
            Ok(d) => d,
            Err(e) => {
                // Undo a new block (it may be half applied); an extended one gets its old item.
                let rollback = match &existing {
                    Some(old) if !kept => self.put(&old.to_json()).await,
                    Some(_) => Ok(()),
                    None => match self.apply(&item.target, false).await {
                        Ok(_) => self.delete(&key).await,
                        Err(e) => Err(e),
                    },
                };
                if let Err(r) = rollback {
                    eprintln!("warning: could not roll back the failed block of {principal}: {r}; the reset function lifts it when it expires");
                }
                let _ = self.audit("block", principal, reason, Some(&until_s), json!({"error": e.to_string(), "arn": arn}), "failed").await;
                return Err(e);
            }
        };
        details["mechanism"] = Value::from(item.target.mechanism());
        details["arn"] = Value::from(item.arn.as_str());
        self.audit("block", principal, reason, Some(&item.until), details.clone(), "ok").await?;
        let mechanism = item.target.mechanism();
        let lines = vec![
            format!("{principal} is blocked from Bedrock (invoke and converse) until {}.", item.until),
            format!("Reason: {}", item.reason),
            format!("Blocked by: {}", self.actor),
            format!("Mechanism: {mechanism} ({details})"),
            "Callers see AccessDenied (explicit deny). Lift it early with `bedrock-watch quota unblock`.".to_owned(),
        ];
        self.notify("block", &format!("{principal} blocked until {}", item.until), lines, principal).await;
        Ok(if kept { BlockOutcome::KeptLonger { until: item.until, mechanism } } else { BlockOutcome::Blocked { until: item.until, mechanism } })
    }

    /// `quota unblock`: quota_core `unblock_principal`. None when nothing was blocked.
    pub async fn unblock(&self, principal: &str, reason: &str) -> Result<Option<Block>, AdminError> {
        let key = principal_key(principal, SK_BLOCK);
        let Some(block) = self.read_block(principal).await? else { return Ok(None) };
        let mut details = match self.apply(&block.target, false).await {
            Ok(d) => d,
            Err(e) => {
                let _ = self.audit("unblock", principal, reason, None, json!({"error": e.to_string()}), "failed").await;
                return Err(e);
            }
        };
        let r = self
            .aws
            .dynamodb()
            .delete_item()
            .table_name(&self.usage_table)
            .set_key(Some(to_item(&key)))
            .condition_expression("#u = :u")
            .expression_attribute_names("#u", "until")
            .expression_attribute_values(":u", s(&block.until))
            .send()
            .await;
        match r {
            Ok(_) => {}
            Err(e) if is_code(&e, "ConditionalCheckFailedException") => {
                // Extended while we were lifting it: put the block back as the new item says.
                if let Some(newer) = self.read_block(principal).await? {
                    self.apply(&newer.target, true).await?;
                    return Err(AdminError::Refused(format!("{principal} was blocked again meanwhile (until {}); that block stays", newer.until)));
                }
            }
            Err(e) => return Err(self.aws.error("DeleteItem", e).into()),
        }
        details["mechanism"] = Value::from(block.target.mechanism());
        self.audit("unblock", principal, reason, Some(&block.until), details, "ok").await?;
        let lines = vec![
            format!("{principal} may use Bedrock again."),
            format!("Reason: {reason}"),
            format!("Unblocked by: {}", self.actor),
            format!("The block was: {} (until {}, by {}).", block.reason, block.until, block.blocked_by),
        ];
        self.notify("unblock", &format!("{principal} unblocked"), lines, principal).await;
        Ok(Some(block))
    }

    /// `quota protect` (quota_core `protect_principal`).
    pub async fn protect(&self, principal: &str, reason: &str) -> Result<(), AdminError> {
        self.put(&items::protected_item(principal, &self.actor, &iso(self.now()), reason)).await?;
        self.audit("protect", principal, reason, None, json!({}), "ok").await
    }

    /// `quota unprotect` (quota_core `unprotect_principal`); false when it was not protected.
    pub async fn unprotect(&self, principal: &str, reason: &str) -> Result<bool, AdminError> {
        let key = principal_key(principal, SK_PROTECTED);
        let was = self.get(&key).await?.is_some();
        self.delete(&key).await?;
        self.audit("unprotect", principal, reason, None, json!({}), "ok").await?;
        Ok(was)
    }

    /// Every item of the usage table whose key matches `keep` (a scan: status without a filter).
    async fn scan_usage(&self, day_sk: &str, month_sk: &str) -> Result<Vec<Value>, AdminError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let r = self
                .aws
                .dynamodb()
                .scan()
                .table_name(&self.usage_table)
                .filter_expression("sk IN (:d, :m, :b, :p)")
                .expression_attribute_values(":d", s(day_sk))
                .expression_attribute_values(":m", s(month_sk))
                .expression_attribute_values(":b", s(SK_BLOCK))
                .expression_attribute_values(":p", s(SK_PROTECTED))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| self.aws.error("Scan", e))?;
            out.extend(r.items().iter().map(from_item));
            match r.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => break,
            }
        }
        Ok(out)
    }

    /// `quota status`: usage against limits, blocks and protections, now.
    pub async fn status(&self, user: Option<&str>, team: Option<&str>) -> Result<StatusView, AdminError> {
        let q = &self.config.quotas;
        let now = self.now();
        let day = qtime::day_key(now, &self.tz);
        let month = qtime::month_key(now, &self.tz);
        let (day_sk, month_sk) = (format!("{SK_DAY_PREFIX}{day}"), format!("{SK_MONTH_PREFIX}{month}"));
        if let Some(t) = team {
            if !q.teams.contains_key(t) {
                return Err(AdminError::UnknownTeam(t.to_owned()));
            }
        }
        let mut wanted: Option<Vec<String>> = None;
        if let Some(u) = user {
            wanted = Some(vec![u.to_owned()]);
        }
        if let Some(t) = team {
            let members = q.teams[t].members.clone();
            wanted = Some(match wanted {
                Some(w) => w.into_iter().filter(|u| members.contains(u)).collect(),
                None => members,
            });
        }
        let mut found: Vec<Value> = Vec::new();
        match &wanted {
            Some(names) => {
                for n in names {
                    for sk in [&day_sk, &month_sk, &SK_BLOCK.to_owned(), &SK_PROTECTED.to_owned()] {
                        if let Some(v) = self.get(&principal_key(n, sk)).await? {
                            found.push(v);
                        }
                    }
                }
            }
            None => found = self.scan_usage(&day_sk, &month_sk).await?,
        }
        let mut rows: std::collections::BTreeMap<String, PrincipalRow> = std::collections::BTreeMap::new();
        let mut team_items: std::collections::BTreeMap<String, Value> = std::collections::BTreeMap::new();
        if let Some(names) = &wanted {
            for n in names {
                rows.entry(n.clone()).or_insert_with(|| empty_row(q, n));
            }
        }
        for item in &found {
            let pk = item.get("pk").and_then(Value::as_str).unwrap_or("");
            let sk = item.get("sk").and_then(Value::as_str).unwrap_or("");
            if let Some(t) = pk.strip_prefix(TEAM_PREFIX) {
                if sk == month_sk {
                    team_items.insert(t.to_owned(), item.clone());
                }
                continue;
            }
            let Some(name) = pk.strip_prefix(PRINCIPAL_PREFIX) else { continue };
            let row = rows.entry(name.to_owned()).or_insert_with(|| empty_row(q, name));
            let usage = |it: &Value| status::usage_of(Some(it), q.unit).map_err(|d| self.bad_item("usage", &json!({"pk": pk, "sk": sk}), d));
            match sk {
                _ if sk == day_sk => row.day = usage(item)?,
                _ if sk == month_sk => row.month = usage(item)?,
                SK_BLOCK => row.block = Some(Block::from_json(item).map_err(|d| self.bad_item("usage", &json!({"pk": pk, "sk": sk}), d))?),
                SK_PROTECTED => row.protected = Some(item.get("protected_by").and_then(Value::as_str).unwrap_or("an operator").to_owned()),
                _ => {}
            }
        }
        for row in rows.values_mut() {
            if q.protected.contains(&row.name) {
                row.protected = Some("config".into());
            }
        }
        let mut teams = Vec::new();
        for (name, spec) in &q.teams {
            if team.is_some_and(|t| t != name) || (team.is_none() && user.is_some()) {
                continue;
            }
            let item = match team_items.get(name) {
                Some(i) => Some(i.clone()),
                None if wanted.is_some() => self.get(&json!({"pk": format!("{TEAM_PREFIX}{name}"), "sk": month_sk})).await?,
                None => None,
            };
            let month_used = status::usage_of(item.as_ref(), q.unit).map_err(|d| self.bad_item("usage", &json!({"pk": format!("{TEAM_PREFIX}{name}")}), d))?;
            teams.push(TeamRow { name: name.clone(), month: month_used, limit: spec.monthly_limit, members: spec.members.clone() });
        }
        // The unattributed (bedrock-mantle) figures are added by `quota status` itself
        // ([`Session::unattributed`]): the console's pages do not show them and skip the calls.
        Ok(StatusView { unit: q.unit, time_zone: q.time_zone.clone(), day, month, principals: rows.into_values().collect(), teams, unattributed: None })
    }

    /// bedrock-mantle usage of the stack's region today and this month (local periods of
    /// `quotas.time_zone`). A failure to read it is shown, not fatal: the counters stand alone.
    pub async fn unattributed(&self) -> status::Unattributed {
        let now = self.now();
        use crate::report::mantle::{MantleApi, SdkMantle};
        let api = SdkMantle { aws: &self.aws, client: self.aws.cloudwatch() };
        let read = async {
            let start = |t: Result<Timestamp, qtime::TimeError>| t.map(|t| t.as_second()).map_err(|e| e.to_string());
            let (day, month) = (start(qtime::day_start(now, &self.tz))?, start(qtime::month_start(now, &self.tz))?);
            let models = api.list_models().await.map_err(|e| e.to_string())?;
            if models.is_empty() {
                return Ok(Vec::new());
            }
            let today = api.sums(&models, day, now.as_second()).await.map_err(|e| e.to_string())?;
            let month = api.sums(&models, month, now.as_second()).await.map_err(|e| e.to_string())?;
            let mut rows = status::unattributed_rows(&today, &month, &self.config.pricing.table(), &self.aws.region);
            rows.retain(|r| r.month_tokens > 0.0 || r.today_tokens > 0.0);
            Ok::<_, String>(rows)
        };
        match read.await {
            Ok(rows) => status::Unattributed { rows, error: None },
            Err(e) => status::Unattributed { rows: Vec::new(), error: Some(e) },
        }
    }

    /// `quota audit`: the trail since `since` (everything without it), oldest first.
    pub async fn audit_trail(&self, since: Option<Timestamp>) -> Result<Vec<AuditEntry>, AdminError> {
        let ddb = self.aws.dynamodb();
        let mut entries = Vec::new();
        match since {
            Some(since) => {
                let from = iso_ms(since);
                for month in qtime::months_between(since, self.now(), &self.tz) {
                    let mut start: Option<Item> = None;
                    loop {
                        let r = ddb
                            .query()
                            .table_name(&self.audit_table)
                            .key_condition_expression("pk = :pk AND sk >= :from")
                            .expression_attribute_values(":pk", s(&format!("{AUDIT_PREFIX}{month}")))
                            .expression_attribute_values(":from", s(&from))
                            .set_exclusive_start_key(start.take())
                            .send()
                            .await
                            .map_err(|e| self.aws.error("Query (audit)", e))?;
                        entries.extend(r.items().iter().map(|i| AuditEntry::from_json(&from_item(i))));
                        match r.last_evaluated_key() {
                            Some(k) if !k.is_empty() => start = Some(k.clone()),
                            _ => break,
                        }
                    }
                }
            }
            None => {
                let mut start: Option<Item> = None;
                loop {
                    let r = ddb.scan().table_name(&self.audit_table).set_exclusive_start_key(start.take()).send().await.map_err(|e| self.aws.error("Scan (audit)", e))?;
                    entries.extend(r.items().iter().map(|i| AuditEntry::from_json(&from_item(i))));
                    match r.last_evaluated_key() {
                        Some(k) if !k.is_empty() => start = Some(k.clone()),
                        _ => break,
                    }
                }
            }
        }
        entries.sort_by(|a, b| (&a.at, &a.id).cmp(&(&b.at, &b.id)));
        Ok(entries)
    }
}

fn empty_row(q: &crate::config::Quotas, name: &str) -> PrincipalRow {
    let (day_limit, month_limit) = status::limits_for(q, name);
    PrincipalRow { name: name.to_owned(), day: 0.0, month: 0.0, day_limit, month_limit, block: None, protected: None }
}
