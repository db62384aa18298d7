//! Reading and checking a configuration file.

use std::path::{Path, PathBuf};

use super::model::Config;
use super::values::{has_control, is_email, is_tag_text, key_segment, parse_arn, quoted, shorten};
use super::{regions, syntax, zone};
use crate::logs::log_group::{check_name as check_log_group_name, RETENTION_DAYS};

/// What is wrong with a configuration, with enough context to fix it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Syntax { file: String, line: Option<usize>, message: String },
    #[error("{file}{}: `{key}` is {value}; {allowed}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid { file: String, line: Option<usize>, key: String, value: String, allowed: String },
}

impl ConfigError {
    /// The key path the error is about, when it is about one.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid { key, .. } => Some(key),
            _ => None,
        }
    }
}

/// Reads and checks `path`.
pub fn load_file(path: &Path) -> Result<Config, ConfigError> {
    let bytes = std::fs::read(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
    let file = path.display().to_string();
    let text = syntax::decode(&bytes).map_err(|p| syntax_error(&file, "", p))?;
    parse(text, &file)
}

/// Parses and checks configuration text; `file` names it in errors. An empty document is the
/// default configuration.
pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
    syntax::check(text).map_err(|p| syntax_error(file, text, p))?;
    let config: Config = if text.trim().is_empty() || text.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
        Config::default()
    } else {
        serde_norway::from_str(text).map_err(|e| ConfigError::Syntax {
            file: file.to_owned(),
            line: e.location().map(|l| l.line()),
            message: syntax::humanize(&e.to_string()),
        })?
    };
    let problems = validate(&config);
    match problems.into_iter().next() {
        None => Ok(config),
        Some(p) => Err(ConfigError::Invalid { file: file.to_owned(), line: locate(text, &p.key), key: p.key, value: p.value, allowed: p.allowed }),
    }
}

fn syntax_error(file: &str, text: &str, p: syntax::SyntaxProblem) -> ConfigError {
    match p {
        syntax::SyntaxProblem::Text { line, message } => ConfigError::Syntax { file: file.to_owned(), line, message },
        syntax::SyntaxProblem::Tagged { key, tag } => ConfigError::Invalid {
            file: file.to_owned(),
            line: locate(text, &key),
            value: format!("tagged {}", shorten(&tag)),
            key,
            allowed: "YAML tags (!Ref, !Sub, !GetAtt, ...) are not supported: a config is plain data, so write the value itself".into(),
        },
    }
}

/// One invalid value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub key: String,
    pub value: String,
    pub allowed: String,
}

fn problem(key: impl Into<String>, value: impl std::fmt::Display, allowed: impl Into<String>) -> Problem {
    Problem { key: key.into(), value: value.to_string(), allowed: allowed.into() }
}

/// Every invalid value in `config`, in file order.
pub fn validate(c: &Config) -> Vec<Problem> {
    let mut p = Vec::new();
    let is_project = |s: &str| {
        (1..=28).contains(&s.len())
            && s.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
            && !s.starts_with('-')
            && !s.ends_with('-')
    };
    if !is_project(&c.project) {
        p.push(problem("project", quoted(&c.project), "allowed: 1-28 lowercase letters, digits and hyphens, not starting or ending with a hyphen"));
    }
    let stack_ok = (1..=100).contains(&c.stack_name.len())
        && c.stack_name.starts_with(|ch: char| ch.is_ascii_alphabetic())
        && c.stack_name.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-');
    if !stack_ok {
        p.push(problem("stack_name", quoted(&c.stack_name), "allowed: 1-100 letters, digits and hyphens, starting with a letter"));
    }
    if c.regions.is_empty() {
        p.push(problem("regions", "empty", "list at least one region where Bedrock is used, e.g. [us-east-1]"));
    }
    let known = regions::all().count();
    if c.regions.len() > known {
        p.push(problem("regions", format!("a list of {} regions", c.regions.len()), format!("at most {known}, the regions that exist, each once")));
    } else {
        let mut seen = std::collections::HashSet::new();
        for (i, r) in c.regions.iter().enumerate() {
            if !regions::is_known(r) {
                p.push(problem(format!("regions[{i}]"), quoted(r), regions::allowed(r)));
            } else if !seen.insert(r.as_str()) {
                p.push(problem(format!("regions[{i}]"), quoted(r), "each region may be listed once"));
            }
        }
        let partitions: std::collections::BTreeSet<_> = c.regions.iter().filter_map(|r| regions::partition_of(r)).collect();
        if partitions.len() > 1 {
            p.push(problem("regions", format!("regions of the partitions {}", partitions.into_iter().collect::<Vec<_>>().join(" and ")), "regions of one partition: one set of credentials cannot deploy to several partitions"));
        }
    }
    model_list(&mut p, "models", &c.models, MAX_DASHBOARD_MODELS, "a dashboard widget holds at most 500 metrics");
    model_list(&mut p, "alerts.models", &c.alerts.models, MAX_ALARMED_MODELS, "each adds four alarms and a stack holds at most 500 resources");
    alarmed_model_ids(c, &mut p);
    if c.tags.len() > 50 {
        p.push(problem("tags", format!("{} tags", c.tags.len()), "at most 50 tags"));
    } else {
        for (k, v) in &c.tags {
            let key = format!("tags.{}", key_segment(k));
            let key_len = k.chars().count();
            if key_len == 0 || key_len > 128 || k.to_ascii_lowercase().starts_with("aws:") || !is_tag_text(k) {
                p.push(problem(key.clone(), format!("the key {}", quoted(k)), "tag keys are 1-128 letters, digits, spaces and _ . : / = + - @, not starting with aws:"));
            }
            let value_len = v.chars().count();
            if value_len == 0 || value_len > 256 || !is_tag_text(v) {
                p.push(problem(key, quoted(v), "tag values are 1-256 letters, digits, spaces and _ . : / = + - @ (no line breaks or other control characters)"));
            }
        }
    }
    let l = &c.logging;
    if check_log_group_name(&l.log_group_name).is_err() {
        p.push(problem("logging.log_group_name", quoted(&l.log_group_name), "allowed: 1-512 characters of letters, digits and _ - / . #"));
    }
    if !RETENTION_DAYS.contains(&l.retention_days) {
        p.push(problem("logging.retention_days", l.retention_days, format!("allowed: {}", join(RETENTION_DAYS))));
    }
    let d = &l.data_types;
    if !(d.text || d.image || d.embedding || d.video == Some(true) || d.audio == Some(true)) {
        p.push(problem("logging.data_types", "all false", "enable at least one of text, image, embedding, video, audio"));
    }
    for (key, prefix) in [("logging.s3_key_prefix", &l.s3_key_prefix), ("logging.large_data_key_prefix", &l.large_data_key_prefix)] {
        let ok = !prefix.is_empty()
            && prefix.len() <= 256
            && !prefix.starts_with('/')
            && !prefix.ends_with('/')
            && !prefix.contains("//")
            && prefix.chars().all(|ch| ch.is_ascii_alphanumeric() || "!-_.'()/".contains(ch));
        if !ok {
            p.push(problem(key, quoted(prefix), "allowed: 1-256 characters of letters, digits and ! - _ . ' ( ) /, without leading, trailing or double slashes"));
        }
    }
    let b = &c.bucket;
    if let Some(name) = &b.name {
        if !is_bucket_name(name) {
            p.push(problem("bucket.name", quoted(name), "allowed: 3-63 lowercase letters, digits, hyphens and dots, starting and ending with a letter or digit"));
        }
    }
    for (key, days) in [
        ("bucket.expire_after_days", b.expire_after_days),
        ("bucket.noncurrent_expire_after_days", b.noncurrent_expire_after_days),
        ("bucket.abort_incomplete_upload_after_days", b.abort_incomplete_upload_after_days),
        ("cloudtrail.expire_after_days", c.cloudtrail.expire_after_days),
        ("cloudtrail.noncurrent_expire_after_days", c.cloudtrail.noncurrent_expire_after_days),
    ] {
        if !(1..=36_500).contains(&days) {
            p.push(problem(key, days, "allowed: 1 to 36500 days"));
        }
    }
    for (i, e) in c.alerts.emails.iter().enumerate() {
        if !is_email(e) {
            p.push(problem(format!("alerts.emails[{i}]"), quoted(e), "allowed: an e-mail address such as ops@example.com"));
        }
    }
    for (sev, list) in [("critical", &c.alerts.routing.critical), ("warning", &c.alerts.routing.warning), ("info", &c.alerts.routing.info)] {
        for (i, e) in list.iter().enumerate() {
            if !is_email(e) {
                p.push(problem(format!("alerts.routing.{sev}[{i}]"), quoted(e), "allowed: an e-mail address such as oncall@example.com"));
            }
        }
    }
    let t = &c.alerts.thresholds;
    for (key, v, range) in [
        ("alerts.thresholds.throttle_rate_percent", t.throttle_rate_percent, (0.0, 100.0)),
        ("alerts.thresholds.token_anomaly_band", t.token_anomaly_band, (0.0, 20.0)),
        ("alerts.thresholds.cost_spike_percent", t.cost_spike_percent, (100.0, 100_000.0)),
    ] {
        if !(v.is_finite() && v > range.0 && v <= range.1) {
            p.push(problem(key, v, format!("allowed: more than {} and at most {}", range.0, range.1)));
        }
    }
    for (key, v) in [
        ("alerts.thresholds.tokens_per_hour", t.tokens_per_hour),
        ("alerts.thresholds.errors_per_5_minutes", t.errors_per_5_minutes),
        ("alerts.thresholds.invocations_per_hour", t.invocations_per_hour),
        ("alerts.thresholds.average_latency_ms", t.average_latency_ms),
    ] {
        if v == 0 || v > 1_000_000_000_000 {
            p.push(problem(key, v, "allowed: a whole number from 1 to 1000000000000"));
        }
    }
    attribution_problems(c, &mut p);
    quota_problems(c, &mut p);
    deploy_problems(c, &mut p);
    p.extend(super::reports::problems(&c.reports));
    p.extend(super::billing::problems(&c.billing, &c.project, &c.regions));
    p.extend(super::access::validate(&c.access));
    if crate::cloudwatch::dashboard::check_dashboard_name(&c.dashboard.name).is_err() {
        p.push(problem("dashboard.name", quoted(&c.dashboard.name), "allowed: 1-255 letters, digits, - and _"));
    }
    let d = &c.dashboards;
    let mut names = vec![("dashboard.name", &c.dashboard.name)];
    names.extend([("dashboards.management.name", &d.management.name), ("dashboards.security.name", &d.security.name), ("dashboards.cost.name", &d.cost.name)]);
    for (i, (key, name)) in names.iter().enumerate() {
        if i > 0 && crate::cloudwatch::dashboard::check_dashboard_name(name).is_err() {
            p.push(problem(*key, quoted(name), "allowed: 1-255 letters, digits, - and _"));
        } else if names[..i].iter().any(|(_, other)| other == name) {
            p.push(problem(*key, quoted(name), "each dashboard needs its own name"));
        }
    }
    if !(d.management.sla_success_percent.is_finite() && d.management.sla_success_percent > 0.0 && d.management.sla_success_percent <= 100.0) {
        p.push(problem("dashboards.management.sla_success_percent", d.management.sla_success_percent, "allowed: more than 0 and at most 100"));
    }
    if d.management.latency_target_ms == 0 || d.management.latency_target_ms > 3_600_000 {
        p.push(problem("dashboards.management.latency_target_ms", d.management.latency_target_ms, "allowed: 1 to 3600000"));
    }
    for (i, pat) in d.security.expected_identity_patterns.iter().enumerate() {
        if pat.is_empty() || pat.len() > 256 || pat.contains(['"', '\\']) || has_control(pat) {
            p.push(problem(format!("dashboards.security.expected_identity_patterns[{i}]"), quoted(pat), "allowed: a non-empty piece of an identity ARN, e.g. assumed-role/AWSReservedSSO_ (no quotes or backslashes)"));
        }
    }
    if !(1..=10_000).contains(&c.dashboard.recent_invocations) {
        p.push(problem("dashboard.recent_invocations", c.dashboard.recent_invocations, "allowed: 1 to 10000"));
    }
    if let Some(o) = &c.organization {
        p.extend(super::organization::validate(o, &c.stack_name, &c.regions));
        if let Some(name) = &c.bucket.name {
            p.push(problem("bucket.name", quoted(name), "leave it out with `organization:`: bucket names are global, so each member account gets its own (<project>-logs-<account>-<region>)"));
        }
    }
    p
}

/// Most principals with their own metric-filter dimension.
pub const MAX_TRACKED_PRINCIPALS: usize = 20;
/// Most models a cost alarm can price (two metrics each, ten per alarm).
pub const MAX_COST_MODELS: usize = 5;

/// One problem per price field that is negative, huge or not finite, naming the field.
fn price_problems(p: &mut Vec<Problem>, key: &str, price: &crate::bedrock::pricing::Price) {
    for (field, v) in [("input", Some(price.input)), ("output", Some(price.output)), ("cache_read", price.cache_read), ("cache_write", price.cache_write), ("cache_write_1h", price.cache_write_1h)] {
        if let Some(v) = v {
            if !(v.is_finite() && (0.0..=1000.0).contains(&v)) {
                p.push(problem(format!("{key}.{field}"), v, "allowed: USD per 1,000 tokens from 0 to 1000"));
            }
        }
    }
}

fn attribution_problems(c: &Config, p: &mut Vec<Problem>) {
    let a = &c.attribution;
    if a.request_metadata_keys.len() > 10 {
        p.push(problem("attribution.request_metadata_keys", format!("{} keys", a.request_metadata_keys.len()), "at most 10"));
    }
    for (i, k) in a.request_metadata_keys.iter().enumerate() {
        if k.is_empty() || k.len() > 64 || !k.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-') {
            p.push(problem(format!("attribution.request_metadata_keys[{i}]"), quoted(k), "allowed: 1-64 letters, digits, _ and -"));
        }
    }
    if a.tracked_principals.len() > MAX_TRACKED_PRINCIPALS {
        p.push(problem(
            "attribution.tracked_principals",
            format!("{} principals", a.tracked_principals.len()),
            format!("at most {MAX_TRACKED_PRINCIPALS}: per-caller metric filters are for a few named callers; Contributor Insights ranks everyone"),
        ));
    }
    for (i, arn) in a.tracked_principals.iter().enumerate().take(MAX_TRACKED_PRINCIPALS + 1) {
        let caller = parse_arn(arn).is_some_and(|a| matches!(a.service, "iam" | "sts") && a.region.is_empty() && !a.account.is_empty());
        if !caller || arn.len() > 256 {
            p.push(problem(format!("attribution.tracked_principals[{i}]"), quoted(arn), "allowed: a caller ARN as it appears in identity.arn, e.g. arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Dev_abc/jane@example.com"));
        }
    }
    let pr = &c.pricing;
    if !(pr.discount_percent.is_finite() && (0.0..100.0).contains(&pr.discount_percent)) {
        p.push(problem("pricing.discount_percent", pr.discount_percent, "allowed: 0 to less than 100"));
    }
    for (m, price) in &pr.models {
        price_problems(p, &format!("pricing.models.{}", key_segment(m)), price);
    }
    for (region, models) in &pr.regions {
        if !regions::is_known(region) {
            p.push(problem(format!("pricing.regions.{}", key_segment(region)), quoted(region), regions::allowed(region)));
        }
        for (m, price) in models {
            price_problems(p, &format!("pricing.regions.{}.{}", key_segment(region), key_segment(m)), price);
        }
    }
    let table = pr.table();
    for (profile, model) in &pr.inference_profiles {
        let key = format!("pricing.inference_profiles.{}", key_segment(profile));
        if !crate::bedrock::inference_profile::is_profile_key(profile) {
            p.push(problem(
                key,
                quoted(profile),
                "allowed: an application-inference-profile ARN (arn:aws:bedrock:<region>:<account>:application-inference-profile/<id>) or its id (lowercase letters and digits, e.g. a1b2c3d4e5f6)",
            ));
        } else if crate::bedrock::inference_profile::is_profile_key(model) || !table.knows(model) {
            p.push(problem(
                key,
                format!("{}, which has no price", quoted(model)),
                format!("map the profile to a priced model id (built-in or under `pricing.models`), e.g. amazon.nova-pro-v1:0"),
            ));
        }
    }
    let t = &pr.service_tiers;
    for (field, v) in [("flex", t.flex), ("priority", t.priority), ("reserved", t.reserved)] {
        if let Some(v) = v {
            if !(v.is_finite() && (0.0..=10.0).contains(&v)) {
                p.push(problem(format!("pricing.service_tiers.{field}"), v, "allowed: a multiple of the Standard price from 0 to 10 (Flex is a discount, e.g. 0.5; Priority a premium, e.g. 1.75)"));
            }
        }
    }
    for (key, list) in [("models", &c.models), ("alerts.models", &c.alerts.models), ("cost.models", &c.cost.models)] {
        if list.len() > MAX_DASHBOARD_MODELS {
            continue;
        }
        for (i, m) in list.iter().enumerate() {
            if !table.knows(m) {
                p.push(problem(
                    format!("{key}[{i}]"),
                    format!("{}, which has no price", quoted(m)),
                    format!("price it under `pricing.models.{}` with input and output (USD per 1,000 tokens), or use a model of the built-in table ({} models; see README)", quoted(m), table.model_ids().count()),
                ));
            }
        }
    }
    let cost = &c.cost;
    if cost.models.len() > MAX_COST_MODELS {
        p.push(problem("cost.models", format!("{} models", cost.models.len()), format!("at most {MAX_COST_MODELS}: a CloudWatch alarm reads at most 10 metrics, two per model")));
    }
    for (key, v) in [("cost.hourly_limit_usd", cost.hourly_limit_usd), ("cost.daily_limit_usd", cost.daily_limit_usd), ("cost.monthly_budget_usd", cost.monthly_budget_usd)] {
        if let Some(v) = v {
            if !(v.is_finite() && v > 0.0 && v <= 1e9) {
                p.push(problem(key, v, "allowed: a positive amount in USD up to 1000000000"));
            }
        }
    }
    if (cost.hourly_limit_usd.is_some() || cost.daily_limit_usd.is_some()) && cost.models.is_empty() {
        p.push(problem("cost.models", "empty", "list the models the cost alarms price (at most 5) when cost.hourly_limit_usd or cost.daily_limit_usd is set"));
    }
    if cost.monthly_budget_usd.is_some() && c.alerts.emails.len() > crate::budgets::budget::MAX_EMAIL_SUBSCRIBERS {
        p.push(problem("alerts.emails", format!("{} addresses", c.alerts.emails.len()), "at most 10 when cost.monthly_budget_usd is set (a budget notifies at most 10 e-mails)"));
    }
    let t = &c.cloudtrail;
    if let Some(b) = &t.bucket {
        if !is_bucket_name(b) {
            p.push(problem("cloudtrail.bucket", quoted(b), "allowed: an existing bucket name (S3 naming rules)"));
        }
    }
    if t.prefix.is_empty() || t.prefix.starts_with('/') || t.prefix.ends_with('/') || t.prefix.contains("AWSLogs") || has_control(&t.prefix) {
        p.push(problem("cloudtrail.prefix", quoted(&t.prefix), "allowed: a key prefix without leading or trailing slash, not containing AWSLogs"));
    }
    match t.mode {
        crate::config::CloudTrailMode::Lake if !crate::cloudtrail::event_data_store::RETENTION_RANGE.contains(&t.retention_days) => {
            p.push(problem("cloudtrail.retention_days", t.retention_days, "allowed: 7 to 3653 days for a CloudTrail Lake event data store"));
        }
        crate::config::CloudTrailMode::Trail if t.cloudwatch_logs && !RETENTION_DAYS.contains(&t.retention_days) => {
            p.push(problem("cloudtrail.retention_days", t.retention_days, format!("allowed for the trail's log group: {}", join(RETENTION_DAYS))));
        }
        crate::config::CloudTrailMode::None
            if !(crate::cloudtrail::event_data_store::RETENTION_RANGE.contains(&t.retention_days) || RETENTION_DAYS.contains(&t.retention_days)) =>
        {
            p.push(problem("cloudtrail.retention_days", t.retention_days, "allowed: 7 to 3653 days (lake) or a log-group retention (trail); checked while cloudtrail.mode is none so that turning it on cannot fail"));
        }
        _ => {}
    }
}

fn deploy_problems(c: &Config, p: &mut Vec<Problem>) {
    if let Some(b) = &c.deploy.staging_bucket {
        if !is_bucket_name(b) {
            p.push(problem("deploy.staging_bucket", quoted(b), "allowed: an existing bucket name (S3 naming rules)"));
        }
    }
    let prefix = &c.deploy.staging_prefix;
    if prefix.is_empty() || prefix.starts_with('/') || prefix.ends_with('/') || prefix.len() > 512 || has_control(prefix) {
        p.push(problem("deploy.staging_prefix", quoted(prefix), "allowed: a key prefix such as bedrock-watch/templates (no leading or trailing /)"));
    }
}

/// Checked whether or not `quotas.enabled` is set: turning a section on must not be the moment
/// its old values start failing.
fn quota_problems(c: &Config, p: &mut Vec<Problem>) {
    let q = &c.quotas;
    let tokens = q.unit == crate::config::QuotaUnit::Tokens;
    let allowed = if tokens { "allowed: a positive whole number of tokens (quotas.unit is tokens)" } else { "allowed: a positive amount in USD (quotas.unit is usd)" };
    let limit_ok = |v: Option<f64>| v.is_none_or(|v| v.is_finite() && v > 0.0 && v <= 1e15 && (!tokens || v.fract() == 0.0));
    let mut limits = |key: String, daily: Option<f64>, monthly: Option<f64>| {
        for (field, v) in [("daily_limit", daily), ("monthly_limit", monthly)] {
            if let Some(v) = v.filter(|_| !limit_ok(v)) {
                p.push(problem(format!("{key}{field}"), v, allowed));
            }
        }
        if let (Some(d), Some(m)) = (daily, monthly) {
            if limit_ok(daily) && limit_ok(monthly) && m < d {
                p.push(problem(format!("{key}monthly_limit"), m, format!("at least {key}daily_limit ({d}): a month holds every day of it")));
            }
        }
    };
    limits("quotas.".into(), q.daily_limit, q.monthly_limit);
    for (who, o) in &q.overrides {
        limits(format!("quotas.overrides.{}.", key_segment(who)), o.daily_limit, o.monthly_limit);
    }
    if q.enabled && q.daily_limit.is_none() && q.monthly_limit.is_none() && q.overrides.is_empty() && q.teams.is_empty() {
        p.push(problem("quotas", "enabled without any limit", "set quotas.daily_limit, quotas.monthly_limit, an override or a team limit"));
    }
    if !(q.warning_percent.is_finite() && q.warning_percent > 0.0 && q.warning_percent < 100.0) {
        p.push(problem("quotas.warning_percent", q.warning_percent, "allowed: more than 0 and less than 100"));
    }
    let principals = q.protected.iter().enumerate().map(|(i, w)| (format!("quotas.protected[{i}]"), w));
    let members = q.teams.iter().flat_map(|(team, t)| t.members.iter().enumerate().map(move |(i, w)| (format!("quotas.teams.{}.members[{i}]", key_segment(team)), w)));
    for (key, who) in principals.chain(members) {
        if who.trim().is_empty() || who.len() > 512 || has_control(who) {
            p.push(problem(key, quoted(who), "allowed: a principal as the identity rule names it (e.g. jane@example.com or role/session), without control characters"));
        }
    }
    for (team, t) in &q.teams {
        let team = key_segment(team);
        if t.members.is_empty() {
            p.push(problem(format!("quotas.teams.{team}.members"), "empty", "list the principals in the team"));
        }
        if !limit_ok(t.monthly_limit) || t.monthly_limit.is_none() {
            p.push(problem(format!("quotas.teams.{team}.monthly_limit"), t.monthly_limit.map_or("unset".to_owned(), |v| v.to_string()), allowed));
        }
    }
    for (who, email) in &q.emails {
        if !is_email(email) {
            p.push(problem(format!("quotas.emails.{}", key_segment(who)), quoted(email), "allowed: an e-mail address such as jane@example.com"));
        }
    }
    if let Err(why) = zone::lookup(&q.time_zone) {
        p.push(problem("quotas.time_zone", quoted(&q.time_zone), format!("{why}; allowed: an IANA time zone such as Europe/Berlin, America/New_York or UTC")));
    }
    let path_ok = q.managed_path.starts_with('/') && q.managed_path.ends_with('/') && q.managed_path.len() <= 512 && q.managed_path.chars().all(|ch| ch.is_ascii_alphanumeric() || "/_+=,.@-".contains(ch));
    if !path_ok {
        p.push(problem("quotas.managed_path", quoted(&q.managed_path), "allowed: an IAM path such as / or /bedrock-users/ (starts and ends with /)"));
    }
    let tag_ok = q.managed_tag.split_once('=').is_some_and(|(k, v)| {
        !k.is_empty() && k.chars().count() <= 128 && !v.is_empty() && v.chars().count() <= 256 && !k.starts_with("aws:") && is_tag_text(k) && is_tag_text(v) && !v.contains('=')
    });
    if !tag_ok {
        p.push(problem("quotas.managed_tag", quoted(&q.managed_tag), "allowed: key=value of tag text (letters, digits, spaces, _ . : / + - @), e.g. bedrock-watch-quota=managed"));
    }
    if let Some(ic) = &q.identity_center {
        let names = if c.access.enabled { c.access.permission_set_names() } else { Vec::new() };
        for (i, name) in ic.permission_sets.iter().enumerate() {
            if !names.contains(&name.as_str()) {
                let allowed = if names.is_empty() { "enable `access` to name its permission sets here, or list ARNs under permission_set_arns".to_owned() } else { format!("allowed: {}", names.join(", ")) };
                p.push(problem(format!("quotas.identity_center.permission_sets[{i}]"), quoted(name), allowed));
            }
        }
        if !ic.permission_sets.is_empty() && c.regions.len() > 1 {
            p.push(problem("quotas.identity_center.permission_sets", "set with several regions", "permission sets live in the primary region's stack only; with several regions list their ARNs under quotas.identity_center.permission_set_arns"));
        }
        let instance_from_access = !ic.permission_sets.is_empty() && ic.instance_arn.is_empty() && c.access.identity_center_instance_arn.is_some();
        let instance = parse_arn(&ic.instance_arn);
        let instance_id = instance.filter(|a| a.service == "sso" && a.region.is_empty() && a.account.is_empty()).and_then(|a| a.resource.strip_prefix("instance/"));
        if !instance_from_access && !instance_id.is_some_and(is_sso_id("ssoins-")) {
            p.push(problem("quotas.identity_center.instance_arn", quoted(&ic.instance_arn), "allowed: arn:aws:sso:::instance/ssoins-<16 characters>"));
        }
        for (name, arn) in &ic.permission_set_arns {
            let ps = parse_arn(arn).filter(|a| a.service == "sso" && a.region.is_empty() && a.account.is_empty()).and_then(|a| a.resource.strip_prefix("permissionSet/"));
            let ok = ps.and_then(|r| r.split_once('/')).is_some_and(|(ins, ps)| is_sso_id("ssoins-")(ins) && is_sso_id("ps-")(ps));
            if !ok || has_control(name) {
                p.push(problem(format!("quotas.identity_center.permission_set_arns.{}", key_segment(name)), quoted(arn), "allowed: arn:aws:sso:::permissionSet/ssoins-<16 characters>/ps-<16 characters>"));
            }
        }
    }
}

/// `ssoins-1234567890abcdef`, `ps-1234567890abcdef`: IAM Identity Center ids are a prefix and
/// 16 characters of letters, digits, `-` and `.` (the SSO Admin API's ARN patterns).
fn is_sso_id(prefix: &'static str) -> impl Fn(&str) -> bool {
    move |id: &str| {
        let id = if prefix == "ssoins-" { id.strip_prefix("sso").unwrap_or(id).strip_prefix("ins-") } else { id.strip_prefix(prefix) };
        id.is_some_and(|rest| rest.len() == 16 && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.'))
    }
}

/// Most models drawn on the dashboard: one widget holds at most 500 metrics.
pub const MAX_DASHBOARD_MODELS: usize = 500;
/// Most models with their own alarms: 4 alarms each, within the 500-resource template limit.
pub const MAX_ALARMED_MODELS: usize = 100;

/// The count is checked first: a list over the limit is reported as one problem without
/// looking at its items (a pasted list of a million ids must not cost a million checks).
fn model_list(p: &mut Vec<Problem>, key: &str, models: &[String], max: usize, why: &str) {
    if models.len() > max {
        p.push(problem(key, format!("a list of {} models", models.len()), format!("at most {max}: {why}")));
        return;
    }
    let mut seen = std::collections::HashSet::with_capacity(models.len());
    for (i, m) in models.iter().enumerate() {
        if !is_model_id(m) {
            p.push(problem(format!("{key}[{i}]"), quoted(m), "allowed: a Bedrock model id or ARN such as anthropic.claude-3-5-haiku-20241022-v1:0 (letters, digits and . : / _ -, at most 2048)"));
        } else if !seen.insert(m.as_str()) {
            p.push(problem(format!("{key}[{i}]"), quoted(m), "each model may be listed once"));
        }
    }
}

fn is_model_id(m: &str) -> bool {
    !m.is_empty() && m.len() <= 2048 && m.chars().all(|ch| ch.is_ascii_alphanumeric() || ".:/_-".contains(ch))
}

/// Each model in `alerts.models` gets alarms whose logical ids end in the model id's letters and
/// digits and whose names end in the id itself. The limits follow from CloudFormation's logical-id
/// rules (alphanumeric, at most 255, unique) and CloudWatch's 255-character alarm names, so that
/// a config passing validation always synthesizes.
fn alarmed_model_ids(c: &Config, p: &mut Vec<Problem>) {
    use crate::cfn::template::MAX_LOGICAL_ID_LEN;
    use crate::monitoring::alerts::{MODEL_ALARM_ID_LEN, MODEL_ALARM_SLUG_LEN};
    let models = &c.alerts.models;
    if models.len() > MAX_ALARMED_MODELS {
        return;
    }
    let longest_prefix = c.regions.iter().map(|r| c.stack_name_for(r).len()).max().unwrap_or(0);
    let max_name = MAX_ALARM_NAME_LEN.saturating_sub(longest_prefix + MODEL_ALARM_SLUG_LEN + 2);
    let max_fragment = MAX_LOGICAL_ID_LEN - MODEL_ALARM_ID_LEN;
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::with_capacity(models.len());
    for (i, m) in models.iter().enumerate() {
        if !is_model_id(m) {
            continue;
        }
        let fragment = crate::cfn::logical_id_fragment(m);
        let key = format!("alerts.models[{i}]");
        if fragment.is_empty() {
            p.push(problem(key, quoted(m), "a model id with letters or digits: its alarms' logical ids are made of them"));
        } else if fragment.len() > max_fragment {
            p.push(problem(key, quoted(m), format!("at most {max_fragment} letters and digits: its alarms' logical ids (e.g. InvocationSpikeAlarm<letters and digits of the id>) are at most {MAX_LOGICAL_ID_LEN} characters")));
        } else if m.len() > max_name {
            p.push(problem(key, quoted(m), format!("at most {max_name} characters with this stack_name: alarm names `<stack_name>-<region>-<alarm>-<model id>` are at most {MAX_ALARM_NAME_LEN} characters")));
        } else if let Some(&j) = seen.get(&fragment) {
            if models[j] != *m {
                p.push(problem(key, quoted(m), format!("allowed: an id that differs from alerts.models[{j}] ({}) in more than punctuation or case (both would give the alarms the logical-id suffix {})", quoted(&models[j]), shorten(&fragment))));
            }
        } else {
            seen.insert(fragment, i);
        }
    }
}

/// CloudWatch alarm names are 1-255 characters.
pub const MAX_ALARM_NAME_LEN: usize = 255;

fn join(values: &[u32]) -> String {
    values.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
}

/// S3 general-purpose bucket naming rules.
pub fn is_bucket_name(n: &str) -> bool {
    (3..=63).contains(&n.len())
        && n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && n.starts_with(|c: char| c.is_ascii_alphanumeric())
        && n.ends_with(|c: char| c.is_ascii_alphanumeric())
        && !n.contains("..")
        && !n.starts_with("xn--")
        && !n.ends_with("-s3alias")
        && n.split('.').count() != 4
}

/// The segments of a key path, `pricing.models."amazon.nova-pro-v1:0".input` →
/// `pricing`, `models`, `amazon.nova-pro-v1:0`, `input`, each with its list index.
fn segments(key_path: &str) -> Vec<(String, Option<usize>)> {
    let mut out = Vec::new();
    let mut chars = key_path.chars().peekable();
    while chars.peek().is_some() {
        let mut name = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            let mut escaped = false;
            for c in chars.by_ref() {
                match c {
                    _ if escaped => {
                        name.push(match c {
                            'n' => '\n',
                            't' => '\t',
                            other => other,
                        });
                        escaped = false;
                    }
                    '\\' => escaped = true,
                    '"' => break,
                    c => name.push(c),
                }
            }
        }
        while let Some(&c) = chars.peek() {
            if c == '.' || c == '[' {
                break;
            }
            name.push(c);
            chars.next();
        }
        let mut index = None;
        if chars.peek() == Some(&'[') {
            chars.next();
            let digits: String = chars.by_ref().take_while(|&c| c != ']').collect();
            index = digits.parse().ok();
        }
        if chars.peek() == Some(&'.') {
            chars.next();
        }
        out.push((name, index));
    }
    out
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// Whether the (trimmed) line starts with the key `name`, plain or quoted.
fn starts_with_key(t: &str, name: &str) -> bool {
    let t = t.strip_prefix("- ").unwrap_or(t);
    [format!("{name}:"), format!("\"{name}\":"), format!("'{name}':")].iter().any(|k| t.starts_with(k.as_str()))
}

fn is_content(line: &str) -> bool {
    let t = line.trim_start();
    !t.is_empty() && !t.starts_with('#')
}

/// The line (1-based) of `key_path` (`alerts.thresholds.tokens_per_hour`, `regions[1]`) in the
/// YAML text, found by following the keys' indentation; `None` when it cannot be found (e.g. the
/// key was not written and the default is at fault). Keys inside a flow mapping
/// (`{input: -1, output: 1}`) are located at the mapping's line.
pub fn locate(text: &str, key_path: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let mut from = 0usize;
    let mut min_indent = 0usize;
    let mut found: Option<usize> = None;
    for (name, index) in segments(key_path) {
        let hit = (from..lines.len())
            .take_while(|&i| found.is_none() || !is_content(lines[i]) || indent(lines[i]) >= min_indent)
            .find(|&i| indent(lines[i]) >= min_indent && starts_with_key(lines[i].trim_start(), &name));
        let Some(hit) = hit else {
            // `models: {a.b: {input: -1}}`: the rest of the path is on the line already found.
            let line = lines[found? - 1];
            if line.contains('{') && line.contains(&format!("{name}:")) {
                continue;
            }
            return None;
        };
        found = Some(hit + 1);
        min_indent = indent(lines[hit]) + 1;
        from = hit + 1;
        if let Some(index) = index {
            let items: Vec<usize> = (from..lines.len())
                .take_while(|&i| {
                    let l = lines[i];
                    l.trim().is_empty() || indent(l) >= min_indent || l.trim_start().starts_with('-')
                })
                .filter(|&i| lines[i].trim_start().starts_with('-'))
                .collect();
            if let Some(&item) = items.get(index) {
                found = Some(item + 1);
            } else if lines[hit].contains('[') {
                found = Some(hit + 1);
            }
        }
    }
    found
}

/// Every line (1-based) where `key` is written directly under the mapping at `parent` (the
/// top level when empty): for a duplicate key, the second entry is the one to report.
pub fn line_of_key(text: &str, parent: &str, key: &str) -> Vec<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let (start, parent_indent) = if parent.is_empty() {
        (0, None)
    } else {
        match locate(text, parent) {
            Some(l) => (l, Some(indent(lines[l - 1]))),
            None => return Vec::new(),
        }
    };
    let mut child_indent = None;
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate().skip(start) {
        if !is_content(line) || line.trim_start() == "---" {
            continue;
        }
        let ind = indent(line);
        if parent_indent.is_some_and(|p| ind <= p) {
            break;
        }
        if ind == *child_indent.get_or_insert(ind) && starts_with_key(line.trim_start(), key) {
            out.push(i + 1);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_is_the_default() {
        assert_eq!(parse("", "c.yaml").unwrap(), Config::default());
        assert_eq!(parse("# only a comment\n", "c.yaml").unwrap(), Config::default());
    }

    #[test]
    fn unknown_keys_are_errors_with_a_line() {
        let err = parse("project: x\nlogging:\n  retention: 30\n", "c.yaml").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("c.yaml:3"), "{msg}");
        assert!(msg.contains("unknown field `retention`"), "{msg}");
        assert!(msg.contains("retention_days"), "{msg}");
    }

    #[test]
    fn invalid_values_name_key_value_allowed_and_line() {
        let err = parse("regions: [us-east-1]\nlogging:\n  retention_days: 31\n", "c.yaml").unwrap_err();
        match &err {
            ConfigError::Invalid { key, value, allowed, line, .. } => {
                assert_eq!(key, "logging.retention_days");
                assert_eq!(value, "31");
                assert!(allowed.contains("30, 60"), "{allowed}");
                assert_eq!(*line, Some(3));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn list_items_are_located() {
        let text = "regions:\n  - us-east-1\n  - mars-1\n";
        let err = parse(text, "c.yaml").unwrap_err();
        assert_eq!(err.key(), Some("regions[1]"));
        assert!(err.to_string().starts_with("c.yaml:3:"), "{err}");
    }

    #[test]
    fn type_errors_are_reported_not_panicked() {
        for bad in ["regions: 5", "alerts:\n  thresholds:\n    tokens_per_hour: -1", "logging: [1, 2]", "- a\n- b", "project: [", "tags: {a: {b: c}}"] {
            assert!(parse(bad, "c.yaml").is_err(), "{bad}");
        }
    }

    #[test]
    fn regions_and_buckets() {
        for ok in ["us-east-1", "eu-central-2", "us-gov-west-1", "ap-southeast-3"] {
            assert!(regions::is_known(ok), "{ok}");
        }
        for bad in ["us-east", "useast1", "US-EAST-1", "us--1", "mars-1"] {
            assert!(!regions::is_known(bad), "{bad}");
        }
        assert!(is_bucket_name("my-logs.example"));
        assert!(!is_bucket_name("My_Logs"));
        assert!(!is_bucket_name("192.168.1.1"));
    }
}
