//! The AWS side of `verify`: one read-only call (or paginated series) per fact. A call that
//! fails is recorded as [`Observed::Unavailable`] with the reason, so one missing permission
//! does not hide the other checks. Only the stack lookup and the caller's identity are fatal.

use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatch::primitives::DateTime;

use super::facts::{ApiKey, CostTag, Facts, IamUser, LogRecord, LoggingConfig, Observed, StackResources, Trail, TrailEvent};
use super::{lake, VerifyError};
use crate::aws::{Aws, AwsError, Target};
use crate::config::access::Access;
use crate::config::{CloudTrailMode, Config};
use crate::iam::actions::BEDROCK_INVOKE;

/// Most log events read for the window: enough to see callers and models, bounded so a busy
/// account does not page for minutes.
pub const MAX_LOG_EVENTS: usize = 10_000;

/// The delivery-failure metrics of invocation logging (namespace `AWS/Bedrock`, no dimension).
pub const DELIVERY_FAILURE_METRICS: [&str; 3] =
    ["ModelInvocationLogsCloudWatchDeliveryFailure", "ModelInvocationLogsS3DeliveryFailure", "ModelInvocationLargeDataS3DeliveryFailure"];

fn observed<T>(r: Result<T, AwsError>) -> Observed<T> {
    match r {
        Ok(v) => Observed::Seen(v),
        Err(e) => Observed::Unavailable(super::short(&e.to_string())),
    }
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// Gathers the facts for the stack of `config` in `aws.region`.
pub async fn gather(aws: &Aws, target: &Target, config: &Config, window_minutes: u32) -> Result<Facts, VerifyError> {
    aws.check_credentials().await?;
    let identity = aws.sts().get_caller_identity().send().await.map_err(|e| aws.error("GetCallerIdentity", e))?;
    let caller_arn = identity.arn().unwrap_or("").to_owned();
    let mut stack = stack_resources(aws, config).await?;
    stack.event_data_store = event_data_store(aws, target, config, &stack).await;
    let now = now_ms();
    let start_ms = now - i64::from(window_minutes) * 60_000;
    let mut token_metric_models = Vec::new();
    for region in &config.regions {
        let regional = Aws::connect(target, region).await;
        // --region pins one region; Aws::connect honours it, so name what was really asked.
        token_metric_models.push((regional.region.clone(), observed(token_models(&regional).await)));
        if target.region.is_some() {
            break;
        }
    }
    Ok(Facts {
        region: aws.region.clone(),
        now_ms: now,
        window_minutes,
        caller_arn,
        logging: observed(logging_config(aws).await),
        delivery_failures: observed(delivery_failures(aws, start_ms, now).await),
        records: observed(records(aws, &stack.log_group, start_ms).await),
        trails: observed(trails(aws).await),
        trail_events: observed(match &stack.event_data_store {
            Some(arn) if config.cloudtrail.mode == CloudTrailMode::Lake => lake_events(aws, arn, start_ms, &lake::Waiting::default()).await,
            _ => trail_events(aws, start_ms).await,
        }),
        token_metric_models,
        cost_tags: observed(cost_tags(&cost_explorer(target).await).await),
        users: observed(users(aws).await),
        api_keys: observed(api_keys(aws, config).await),
        stack,
    })
}

async fn stack_resources(aws: &Aws, config: &Config) -> Result<StackResources, VerifyError> {
    let name = config.stack_name_for(&aws.region);
    let resp = match aws.cloudformation().describe_stack_resources().stack_name(&name).send().await {
        Ok(r) => r,
        Err(e) => {
            let err = aws.error("DescribeStackResources", e);
            return Err(if err.is_not_found() { VerifyError::StackMissing { stack: name, region: aws.region.clone() } } else { err.into() });
        }
    };
    let physical = |id: &str| {
        resp.stack_resources().iter().find(|r| r.logical_resource_id() == Some(id)).and_then(|r| r.physical_resource_id()).filter(|p| !p.is_empty()).map(str::to_owned)
    };
    Ok(StackResources {
        log_group: physical("InvocationLogGroup").unwrap_or_else(|| config.logging.log_group_name.clone()),
        bucket: physical("LogBucket"),
        role_name: physical("BedrockLoggingRole"),
        event_data_store: physical(EVENT_DATA_STORE_ID),
    })
}

/// The logical id of the CloudTrail Lake event data store in the primary region's stack.
pub const EVENT_DATA_STORE_ID: &str = "AuditEventDataStore";

/// With `cloudtrail.mode: lake`, the store's ARN: from this stack, or (verifying another region)
/// from the primary region's stack, the only one that has it. None when it cannot be found.
async fn event_data_store(aws: &Aws, target: &Target, config: &Config, stack: &StackResources) -> Option<String> {
    if config.cloudtrail.mode != CloudTrailMode::Lake {
        return None;
    }
    if stack.event_data_store.is_some() {
        return stack.event_data_store.clone();
    }
    let primary = config.primary_region();
    if aws.region == primary {
        return None;
    }
    let home = Aws::connect(&Target { region: None, profile: target.profile.clone() }, primary).await;
    let resp = home.cloudformation().describe_stack_resources().stack_name(config.stack_name_for(primary)).logical_resource_id(EVENT_DATA_STORE_ID).send().await.ok()?;
    resp.stack_resources().first().and_then(|r| r.physical_resource_id()).filter(|p| !p.is_empty()).map(str::to_owned)
}

/// Check 4 on CloudTrail Lake: the window's Bedrock events from the event data store.
pub(crate) async fn lake_events(aws: &Aws, store_arn: &str, start_ms: i64, waiting: &lake::Waiting) -> Result<Vec<TrailEvent>, AwsError> {
    let home = lake::in_store_region(aws, store_arn);
    let rows = lake::run(&home, &lake::recent_events_sql(store_arn, start_ms), waiting).await?;
    Ok(lake::trail_events(&rows))
}

pub(crate) async fn logging_config(aws: &Aws) -> Result<Option<LoggingConfig>, AwsError> {
    let client = aws_sdk_bedrock::Client::new(&aws.config);
    let resp = client.get_model_invocation_logging_configuration().send().await.map_err(|e| aws.error("GetModelInvocationLoggingConfiguration", e))?;
    let Some(c) = resp.logging_config() else { return Ok(None) };
    let cw = c.cloud_watch_config();
    if cw.is_none() && c.s3_config().is_none() {
        return Ok(None);
    }
    Ok(Some(LoggingConfig {
        log_group: cw.map(|w| w.log_group_name().to_owned()),
        role_arn: cw.map(|w| w.role_arn().to_owned()),
        bucket: c.s3_config().map(|s| s.bucket_name().to_owned()),
    }))
}

fn datetime(ms: i64) -> DateTime {
    DateTime::from_millis(ms)
}

pub(crate) async fn delivery_failures(aws: &Aws, start_ms: i64, end_ms: i64) -> Result<Option<f64>, AwsError> {
    use aws_sdk_cloudwatch::types::{Metric, MetricDataQuery, MetricStat};
    let period = (((end_ms - start_ms) / 1000).max(60) as i32 / 60) * 60;
    let mut req = aws.cloudwatch().get_metric_data().start_time(datetime(start_ms)).end_time(datetime(end_ms));
    for (i, metric) in DELIVERY_FAILURE_METRICS.iter().enumerate() {
        let m = Metric::builder().namespace("AWS/Bedrock").metric_name(*metric).build();
        let stat = MetricStat::builder().metric(m).period(period).stat("Sum").build();
        req = req.metric_data_queries(MetricDataQuery::builder().id(format!("f{i}")).metric_stat(stat).return_data(true).build());
    }
    let resp = req.send().await.map_err(|e| aws.error("GetMetricData", e))?;
    let values: Vec<f64> = resp.metric_data_results().iter().flat_map(|r| r.values().iter().copied()).collect();
    Ok(if values.is_empty() { None } else { Some(values.iter().sum()) })
}

/// Reads one invocation-log record's caller and model (other fields are not needed).
pub fn parse_record(timestamp_ms: i64, message: &str) -> Option<LogRecord> {
    let v: serde_json::Value = serde_json::from_str(message).ok()?;
    Some(LogRecord {
        timestamp_ms,
        caller: v.pointer("/identity/arn")?.as_str()?.to_owned(),
        model: v.get("modelId").and_then(|m| m.as_str()).unwrap_or("").to_owned(),
    })
}

async fn records(aws: &Aws, log_group: &str, start_ms: i64) -> Result<Vec<LogRecord>, AwsError> {
    let logs = aws.logs();
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let resp = logs
            .filter_log_events()
            .log_group_name(log_group)
            .start_time(start_ms)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| aws.error("FilterLogEvents", e))?;
        for e in resp.events() {
            if let Some(r) = e.message().and_then(|m| parse_record(e.timestamp().unwrap_or(0), m)) {
                out.push(r);
            }
        }
        token = resp.next_token().map(str::to_owned);
        if token.is_none() || out.len() >= MAX_LOG_EVENTS {
            return Ok(out);
        }
    }
}

async fn trails(aws: &Aws) -> Result<Vec<Trail>, AwsError> {
    let ct = aws_sdk_cloudtrail::Client::new(&aws.config);
    let resp = ct.describe_trails().send().await.map_err(|e| aws.error("DescribeTrails", e))?;
    let mut out = Vec::new();
    for t in resp.trail_list() {
        let name = t.name().unwrap_or("").to_owned();
        let arn = t.trail_arn().unwrap_or(&name).to_owned();
        let logging = ct.get_trail_status().name(&arn).send().await.ok().and_then(|s| s.is_logging());
        out.push(Trail { name, multi_region: t.is_multi_region_trail().unwrap_or(false), logging });
    }
    Ok(out)
}

async fn trail_events(aws: &Aws, start_ms: i64) -> Result<Vec<TrailEvent>, AwsError> {
    use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
    let ct = aws_sdk_cloudtrail::Client::new(&aws.config);
    let attribute = LookupAttribute::builder()
        .attribute_key(LookupAttributeKey::EventSource)
        .attribute_value("bedrock.amazonaws.com")
        .build()
        .map_err(|e| AwsError::Service { operation: "LookupEvents", region: aws.region.clone(), code: "ClientError".into(), message: e.to_string() })?;
    let resp = ct.lookup_events().lookup_attributes(attribute).start_time(datetime(start_ms)).max_results(50).send().await.map_err(|e| aws.error("LookupEvents", e))?;
    Ok(resp
        .events()
        .iter()
        .map(|e| {
            let caller = e
                .cloud_trail_event()
                .and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok())
                .and_then(|v| v.pointer("/userIdentity/arn").and_then(|a| a.as_str().map(str::to_owned)))
                .unwrap_or_else(|| e.username().unwrap_or("").to_owned());
            TrailEvent { event_name: e.event_name().unwrap_or("").to_owned(), caller }
        })
        .collect())
}

async fn token_models(aws: &Aws) -> Result<Vec<String>, AwsError> {
    let cw = aws.cloudwatch();
    let mut models = BTreeSet::new();
    let mut token: Option<String> = None;
    loop {
        let resp = cw
            .list_metrics()
            .namespace("AWS/Bedrock")
            .metric_name("InputTokenCount")
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| aws.error("ListMetrics", e))?;
        for m in resp.metrics() {
            for d in m.dimensions() {
                if d.name() == Some("ModelId") {
                    if let Some(v) = d.value() {
                        models.insert(v.to_owned());
                    }
                }
            }
        }
        token = resp.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(models.into_iter().collect());
        }
    }
}

/// Cost Explorer is a global service answered in us-east-1.
async fn cost_explorer(target: &Target) -> Aws {
    Aws::connect(&Target { region: None, profile: target.profile.clone() }, "us-east-1").await
}

async fn cost_tags(aws: &Aws) -> Result<Vec<CostTag>, AwsError> {
    let ce = aws_sdk_costexplorer::Client::new(&aws.config);
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let resp = ce.list_cost_allocation_tags().set_next_token(token.take()).send().await.map_err(|e| aws.error("ListCostAllocationTags", e))?;
        out.extend(resp.cost_allocation_tags().iter().map(|t| CostTag { key: t.tag_key().to_owned(), status: t.status().as_str().to_owned() }));
        token = resp.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(out);
        }
    }
}

/// Whether an IAM policy document (JSON or URL-encoded JSON) allows a Bedrock invoke action.
pub fn allows_bedrock(document: &str) -> bool {
    let Ok(doc) = crate::quotas::admin::policy::parse_document(document) else { return false };
    let statements = match doc.get("Statement") {
        Some(serde_json::Value::Array(s)) => s.clone(),
        Some(s) => vec![s.clone()],
        None => Vec::new(),
    };
    statements.iter().any(|s| {
        s.get("Effect").and_then(|e| e.as_str()) == Some("Allow")
            && match s.get("Action") {
                Some(serde_json::Value::String(a)) => action_matches(a),
                Some(serde_json::Value::Array(list)) => list.iter().filter_map(|a| a.as_str()).any(action_matches),
                _ => false,
            }
    })
}

/// IAM action patterns are case-insensitive globs (`*`, `?`).
fn action_matches(pattern: &str) -> bool {
    BEDROCK_INVOKE.iter().any(|a| glob(&pattern.to_ascii_lowercase(), &a.to_ascii_lowercase()))
}

fn glob(p: &str, s: &str) -> bool {
    match p.split_once('*') {
        None => p.len() == s.len() && p.chars().zip(s.chars()).all(|(a, b)| a == '?' || a == b),
        Some((head, tail)) => {
            s.len() >= head.len() && glob(head, &s[..head.len()]) && (0..=s.len() - head.len()).any(|i| glob(tail, &s[head.len() + i..]))
        }
    }
}

/// AWS-managed policies are not fetched (there are over a thousand); these grant Bedrock invoke.
fn aws_managed_allows_bedrock(arn: &str) -> bool {
    let name = arn.rsplit('/').next().unwrap_or(arn);
    name.contains("Bedrock") || name == "AdministratorAccess" || name == "PowerUserAccess"
}

async fn users(aws: &Aws) -> Result<Vec<IamUser>, AwsError> {
    use aws_sdk_iam::types::EntityType;
    let iam = aws.iam();
    let (mut users, mut groups, mut policies) = (Vec::new(), Vec::new(), Vec::new());
    let mut marker: Option<String> = None;
    loop {
        let resp = iam
            .get_account_authorization_details()
            .filter(EntityType::User)
            .filter(EntityType::Group)
            .filter(EntityType::LocalManagedPolicy)
            .set_marker(marker.take())
            .send()
            .await
            .map_err(|e| aws.error("GetAccountAuthorizationDetails", e))?;
        users.extend(resp.user_detail_list().iter().cloned());
        groups.extend(resp.group_detail_list().iter().cloned());
        policies.extend(resp.policies().iter().cloned());
        marker = resp.marker().map(str::to_owned);
        if !resp.is_truncated() || marker.is_none() {
            break;
        }
    }
    let managed_allows = |arn: &str| {
        if arn.contains(":aws:policy/") {
            return aws_managed_allows_bedrock(arn);
        }
        policies
            .iter()
            .find(|p| p.arn() == Some(arn))
            .and_then(|p| p.policy_version_list().iter().find(|v| v.is_default_version()))
            .and_then(|v| v.document())
            .is_some_and(allows_bedrock)
    };
    let group_allows = |name: &str| {
        groups.iter().filter(|g| g.group_name() == Some(name)).any(|g| {
            g.group_policy_list().iter().filter_map(|p| p.policy_document()).any(allows_bedrock)
                || g.attached_managed_policies().iter().filter_map(|p| p.policy_arn()).any(managed_allows)
        })
    };
    let mut out = Vec::new();
    for u in &users {
        let name = u.user_name().unwrap_or("").to_owned();
        let bedrock_allowed = u.user_policy_list().iter().filter_map(|p| p.policy_document()).any(allows_bedrock)
            || u.attached_managed_policies().iter().filter_map(|p| p.policy_arn()).any(managed_allows)
            || u.group_list().iter().any(|g| group_allows(g));
        let active_access_keys = if bedrock_allowed {
            let keys = iam.list_access_keys().user_name(&name).send().await.map_err(|e| aws.error("ListAccessKeys", e))?;
            keys.access_key_metadata().iter().filter(|k| k.status().map(|s| s.as_str()) == Some("Active")).count() as u32
        } else {
            0
        };
        out.push(IamUser { arn: u.arn().unwrap_or("").to_owned(), name, active_access_keys, bedrock_allowed });
    }
    Ok(out)
}

async fn api_keys(aws: &Aws, config: &Config) -> Result<Vec<ApiKey>, AwsError> {
    if !config.access.enabled {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for tool in config.access.tools.keys() {
        out.extend(crate::access::list_keys(aws, &Access::tool_user_name(tool)).await?);
    }
    Ok(out)
}

/// Formats an SDK time as RFC 3339.
pub fn rfc3339(t: &DateTime) -> String {
    t.fmt(aws_sdk_cloudwatch::primitives::DateTimeFormat::DateTime).unwrap_or_default()
}

#[cfg(test)]
#[path = "recorded_tests.rs"]
mod recorded_tests;
