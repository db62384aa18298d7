//! Properties over generated configurations: every valid config synthesizes a template that
//! passes the checks with every reference resolved; output is deterministic; YAML and JSON
//! renderings agree after a round trip through a YAML parser; bad input is an error, not a panic.

use std::collections::BTreeMap;

use bedrock_watch::cfn::validate::validate;
use bedrock_watch::cfn::{render, Format};
use bedrock_watch::bedrock::log_schema;
use bedrock_watch::cfn::{Intrinsic, Value};
use bedrock_watch::config::{self, CloudTrailMode, Config};
use bedrock_watch::logs::log_group::RETENTION_DAYS;
use bedrock_watch::{monitoring, synth};
use proptest::prelude::*;

const REGIONS: &[&str] = &["us-east-1", "us-west-2", "eu-central-1", "eu-west-1", "ap-northeast-1", "ap-southeast-2", "ca-central-1"];

fn model_id() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("anthropic.claude-3-5-haiku-20241022-v1:0".to_owned()),
        Just("amazon.nova-pro-v1:0".to_owned()),
        Just("meta.llama3-1-70b-instruct-v1:0".to_owned()),
        "[a-z]{2,8}\\.[a-z0-9-]{1,20}(:[0-9])?",
    ]
}

fn config_strategy() -> impl Strategy<Value = Config> {
    let regions = proptest::sample::subsequence(REGIONS, 1..=3).prop_shuffle();
    let models = proptest::collection::btree_set(model_id(), 0..4);
    let retention = proptest::sample::select(RETENTION_DAYS);
    let thresholds = (1u64..10_000_000, 1u64..10_000, 1u64..1_000_000, 1u64..600_000);
    let emails = proptest::collection::vec("[a-z]{1,10}@[a-z]{1,10}\\.(com|org|io)", 0..3);
    let tags = proptest::collection::btree_map("[A-Z][a-zA-Z]{0,15}", "[a-zA-Z0-9_.-][a-zA-Z0-9 _.-]{0,29}", 0..4);
    let data = (any::<bool>(), any::<bool>(), any::<bool>(), proptest::option::of(any::<bool>()));
    let names = ("[a-z][a-z0-9-]{0,20}[a-z0-9]", "[A-Za-z][A-Za-z0-9-]{0,30}", "/[a-z]{1,10}(/[a-z0-9_.-]{1,12}){0,3}");
    let misc = (any::<bool>(), any::<bool>(), proptest::option::of("[a-z][a-z0-9-]{5,40}[a-z0-9]"), 1u32..1000, 1u32..400);
    let attribution = (
        any::<bool>(),
        any::<bool>(),
        proptest::collection::btree_set("[a-z][a-z0-9_-]{0,15}", 0..4),
        proptest::collection::btree_set("arn:aws:sts::[0-9]{12}:assumed-role/(AWSReservedSSO_[A-Za-z]{3,12}_[0-9a-f]{8}|[a-z-]{3,20})/[a-z0-9.@_-]{1,40}", 0..21),
    );
    let cost = (proptest::option::of(1.0f64..1000.0), proptest::option::of(1.0f64..10_000.0), proptest::option::of(1.0f64..100_000.0), 0usize..3, 0.0f64..50.0);
    (regions, models, retention, thresholds, emails, tags, data, names, misc, attribution, cost).prop_map(
        |(regions, models, retention, t, emails, tags, (text, image, embedding, video), (project, stack, group), (dash, adopt, bucket, expire, recent), attribution, cost)| {
            let mut c = Config::default();
            c.regions = regions.into_iter().map(str::to_owned).collect();
            c.models = models.iter().cloned().collect();
            // Alarm per model for some of them: the first half.
            c.alerts.models = models.iter().take(models.len() / 2 + models.len() % 2).cloned().collect();
            c.logging.retention_days = retention;
            c.logging.log_group_name = group;
            c.logging.data_types.text = text || !(image || embedding);
            c.logging.data_types.image = image;
            c.logging.data_types.embedding = embedding;
            c.logging.data_types.video = video;
            c.logging.adopt_existing = adopt;
            c.alerts.thresholds.tokens_per_hour = t.0;
            c.alerts.thresholds.errors_per_5_minutes = t.1;
            c.alerts.thresholds.invocations_per_hour = t.2;
            c.alerts.thresholds.average_latency_ms = t.3;
            c.alerts.emails = emails;
            c.tags = tags.into_iter().collect::<BTreeMap<_, _>>();
            c.project = project;
            c.stack_name = stack;
            c.bucket.name = bucket;
            c.bucket.expire_after_days = expire;
            c.dashboard.enabled = dash;
            c.dashboard.recent_invocations = recent;
            // Generated model ids are priced in the config, as the tool requires.
            for (i, m) in models.iter().enumerate() {
                if !c.pricing.table().knows(m) {
                    let price = bedrock_watch::bedrock::pricing::Price { input: 0.001 * (i + 1) as f64, output: 0.002, cache_read: None, cache_write: None, cache_write_1h: None, as_of: None };
                    c.pricing.models.insert(m.clone(), price);
                }
            }
            let (enabled, sessions, keys, principals) = attribution;
            c.attribution.enabled = enabled;
            c.attribution.sessions_are_people = sessions;
            c.attribution.request_metadata_keys = keys.into_iter().collect();
            c.attribution.tracked_principals = principals.into_iter().collect();
            let (hourly, daily, budget, trail_mode, discount) = cost;
            c.cost.models = models.iter().take(5).cloned().collect();
            if !c.cost.models.is_empty() {
                c.cost.hourly_limit_usd = hourly;
                c.cost.daily_limit_usd = daily;
            }
            c.cost.monthly_budget_usd = budget;
            c.alerts.emails.truncate(10);
            c.pricing.discount_percent = discount;
            c.cloudtrail.mode = [CloudTrailMode::None, CloudTrailMode::Trail, CloudTrailMode::Lake][trail_mode];
            c.cloudtrail.cloudwatch_logs = trail_mode == 1 && enabled;
            if sessions {
                c.alerts.routing.critical = vec!["pager@example.com".into()];
            }
            c.dashboards.management.enabled = dash || adopt;
            c.dashboards.security.enabled = !adopt;
            c.alerts.composite = !sessions || enabled;
            if adopt {
                c.quotas.enabled = true;
                c.quotas.mode = if dash { config::QuotaMode::Block } else { config::QuotaMode::Alert };
                c.quotas.unit = if sessions { config::QuotaUnit::Usd } else { config::QuotaUnit::Tokens };
                c.quotas.protected = c.attribution.tracked_principals.iter().take(2).cloned().collect();
                c.quotas.time_zone = ["Europe/Berlin", "America/New_York", "UTC", "Asia/Kolkata"][recent as usize % 4].to_owned();
            }
            c
        },
    )
}

/// YAML parsed back, with short-form tags turned into the long form JSON uses.
fn yaml_to_json(v: &serde_norway::Value) -> serde_json::Value {
    use serde_json::Value as J;
    use serde_norway::Value as Y;
    match v {
        Y::Null => J::Null,
        Y::Bool(b) => J::Bool(*b),
        Y::Number(n) => n.as_i64().map(J::from).or_else(|| n.as_f64().map(J::from)).unwrap_or(J::Null),
        Y::String(s) => J::String(s.clone()),
        Y::Sequence(s) => J::Array(s.iter().map(yaml_to_json).collect()),
        Y::Mapping(m) => J::Object(m.iter().map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), yaml_to_json(v))).collect()),
        Y::Tagged(t) => {
            let tag = t.tag.to_string();
            let name = tag.trim_start_matches('!');
            let inner = yaml_to_json(&t.value);
            let (key, value) = match name {
                "Ref" | "Condition" => (name.to_owned(), inner),
                "GetAtt" => {
                    let s = inner.as_str().unwrap_or_default().to_owned();
                    let (a, b) = s.split_once('.').unwrap_or((&s, ""));
                    ("Fn::GetAtt".to_owned(), serde_json::json!([a, b]))
                }
                other => (format!("Fn::{other}"), inner),
            };
            J::Object([(key, value)].into_iter().collect())
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn every_valid_config_synthesizes_clean_templates(config in config_strategy()) {
        prop_assert!(config::load_problems(&config).is_empty(), "generator made an invalid config: {:?}", config::load_problems(&config));
        let rendered = synth::synthesize(&config, Format::Yaml).expect("valid config must synthesize");
        prop_assert_eq!(rendered.len(), config.regions.len());
        for r in &rendered {
            prop_assert!(r.findings.is_empty(), "{}: {:?}", r.stack_name, r.findings);
        }
        for stack in monitoring::stacks(&config).unwrap() {
            prop_assert!(validate(&stack.template).is_empty(), "{:?}", validate(&stack.template));
        }
    }

    #[test]
    fn every_rule_pack_suppression_carries_its_reason(config in config_strategy()) {
        for stack in monitoring::stacks(&config).unwrap() {
            for (id, r) in &stack.template.resources {
                let guard = r.metadata.get("guard").and_then(Value::as_map);
                let suppressed: Vec<&str> = guard.and_then(|g| g.get("SuppressedRules")).and_then(Value::as_list).unwrap_or(&[]).iter().filter_map(Value::as_str).collect();
                let reasons = guard.and_then(|g| g.get("Reasons")).and_then(Value::as_map);
                for rule in &suppressed {
                    let reason = reasons.and_then(|m| m.get(rule)).and_then(Value::as_str).unwrap_or("");
                    prop_assert!(!reason.trim().is_empty(), "{}: Guard rule {} suppressed without a reason", id, rule);
                    prop_assert!(r.deviates_from(rule), "{}: {} suppressed but no deviation answers it", id, rule);
                }
                let skips = r.metadata.get("checkov").and_then(Value::as_map).and_then(|c| c.get("skip")).and_then(Value::as_list).unwrap_or(&[]);
                for skip in skips {
                    let skip = skip.as_map().unwrap();
                    let check = skip.get("id").and_then(Value::as_str).unwrap();
                    prop_assert!(!skip.get("comment").and_then(Value::as_str).unwrap_or("").trim().is_empty(), "{}: checkov {} skipped without a reason", id, check);
                    prop_assert!(r.deviates_from(check), "{}: checkov {} skipped but no deviation answers it", id, check);
                }
                // And the other way round: every deviation is written where the tools read it.
                for d in &r.deviations {
                    for rule in d.guard_rules() {
                        prop_assert!(suppressed.contains(rule), "{}: deviation {} not in guard metadata", id, d.name());
                    }
                    for check in d.checkov_ids() {
                        prop_assert!(skips.iter().any(|s| s.as_map().and_then(|m| m.get("id")).and_then(Value::as_str) == Some(check)), "{}: deviation {} not in checkov metadata", id, d.name());
                    }
                }
            }
        }
    }

    #[test]
    fn any_number_of_priced_models_fits_cloudformation_and_logs_insights(
        n in 0usize..400,
        prices in proptest::collection::vec((0.00001f64..0.1, 0.00001f64..0.1), 1..6),
        alarmed in 0usize..6,
        keys in proptest::collection::btree_set("[a-z][a-z0-9_-]{0,15}", 0..3),
    ) {
        let mut c = Config::default();
        c.models = (0..n).map(|i| format!("vendor{}.model-{i:03}-v1:0", i % 7)).collect();
        c.alerts.models = c.models.iter().take(alarmed).cloned().collect();
        c.attribution.request_metadata_keys = keys.into_iter().collect();
        for (i, m) in c.models.iter().enumerate() {
            let (input, output) = prices[i % prices.len()];
            c.pricing.models.insert(m.clone(), bedrock_watch::bedrock::pricing::Price { input, output, cache_read: None, cache_write: None, cache_write_1h: None, as_of: None });
        }
        prop_assert!(config::load_problems(&c).is_empty(), "{:?}", config::load_problems(&c));
        let rendered = synth::synthesize(&c, Format::Yaml).expect("a long model list must synthesize");
        for r in &rendered {
            prop_assert!(r.findings.is_empty(), "{:?}", r.findings);
            prop_assert!(r.content.len() <= 1_000_000, "{} bytes", r.content.len());
        }
        let region = c.primary_region().to_owned();
        let queries = monitoring::attribution::queries(&c, &region);
        for (_, name, text) in &queries {
            prop_assert!(text.len() <= monitoring::attribution::MAX_QUERY_LENGTH, "{name}: {}", text.len());
        }
        // Up to the drawing limit the per-user query prices in Logs Insights when it fits;
        // `report` always gets a query it can run and prices the tokens itself.
        let per_user = &queries.iter().find(|(id, ..)| *id == "TokensAndCostPerUserQuery").unwrap().2;
        prop_assert!(per_user.contains("input_tokens") && per_user.contains("by principal, modelId"));
        prop_assert!(bedrock_watch::report::insights::user_query(&c, &region).is_ok());
        let dashboards = monitoring::stacks(&c).unwrap().remove(0).template;
        let ops = render(&dashboards, Format::Yaml);
        if n > monitoring::dashboard_common::MAX_MODELS_DRAWN {
            prop_assert!(ops.contains("more than the 50 the dashboards price one by one"));
        } else if n > 0 {
            prop_assert!(ops.contains(&format!("{} (USD)", c.models[n - 1])), "each listed model is priced on the cost dashboard");
        }
    }

    #[test]
    fn rendering_is_deterministic_and_round_trips(config in config_strategy()) {
        let region = config.primary_region().to_owned();
        let a = monitoring::build(&config, &region).unwrap();
        let b = monitoring::build(&config.clone(), &region).unwrap();
        let yaml = render(&a, Format::Yaml);
        prop_assert_eq!(&yaml, &render(&b, Format::Yaml));
        let json: serde_json::Value = serde_json::from_str(&render(&a, Format::Json)).unwrap();
        let reparsed: serde_norway::Value = serde_norway::from_str(&yaml).expect("rendered YAML parses");
        prop_assert_eq!(yaml_to_json(&reparsed), json);
    }

    #[test]
    fn queries_and_rules_read_only_invocation_log_fields(config in config_strategy()) {
        for stack in monitoring::stacks(&config).unwrap() {
            for (id, r) in &stack.template.resources {
                match r.resource_type.as_str() {
                    "AWS::Logs::QueryDefinition" => {
                        let q = r.properties.get("QueryString").and_then(Value::as_str).unwrap();
                        prop_assert!(q.len() <= 10_000, "{} is {} characters", id, q.len());
                        for f in log_schema::dotted_references(q) {
                            prop_assert!(log_schema::is_field(&f), "{}: `{}` is not an invocation-log field", id, f);
                        }
                    }
                    "AWS::CloudWatch::InsightRule" => {
                        let body = match r.properties.get("RuleBody").and_then(Value::as_intrinsic) {
                            Some(Intrinsic::Sub { template, .. }) => template.clone(),
                            other => panic!("rule body is {other:?}"),
                        };
                        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
                        let c = &json["Contribution"];
                        let mut paths: Vec<String> = c["Keys"].as_array().unwrap().iter().map(|k| k.as_str().unwrap().to_owned()).collect();
                        paths.extend(c["ValueOf"].as_str().map(str::to_owned));
                        for p in paths {
                            let field = p.strip_prefix("$.").unwrap();
                            prop_assert!(log_schema::is_field(field), "{}: `{}` is not an invocation-log field", id, p);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn tracked_principals_stay_within_metric_filter_limits(config in config_strategy()) {
        let stack = monitoring::build(&config, config.primary_region()).unwrap();
        let mut principals_seen = 0;
        let filters: Vec<_> = stack.resources_of_type("AWS::Logs::MetricFilter").collect();
        prop_assert!(filters.len() <= 100);
        for (id, f) in filters {
            let pattern = f.properties.get("FilterPattern").and_then(Value::as_str).unwrap();
            prop_assert!(pattern.len() <= 1024, "{} pattern is {} characters", id, pattern.len());
            let t = f.properties.get("MetricTransformations").and_then(Value::as_list).unwrap()[0].as_map().unwrap().clone();
            let dims = t.get("Dimensions").and_then(Value::as_list).map_or(0, <[Value]>::len);
            prop_assert!(dims <= 3);
            prop_assert!(!(dims > 0 && t.get("DefaultValue").is_some()), "{} combines dimensions and a default value", id);
            // Each distinct principal can only match its own literal ARN in the pattern.
            if t.get("MetricName").and_then(Value::as_str) == Some("InputTokens") {
                principals_seen += pattern.matches("$.identity.arn = ").count();
            }
        }
        let expected = if config.attribution.enabled { config.attribution.tracked_principals.len() } else { 0 };
        prop_assert_eq!(principals_seen, expected);
        prop_assert!(principals_seen <= 20);
    }

    #[test]
    fn dashboards_and_alarms_use_known_metrics_and_defined_ids(config in config_strategy()) {
        use bedrock_watch::cloudwatch::metric::{expression_ids, insights_metric_names, search_metric_names, BEDROCK_METRICS, MANTLE_METRICS, MANTLE_NAMESPACE};
        for stack in monitoring::stacks(&config).unwrap() {
            let t = &stack.template;
            // Metrics the stack defines itself, through metric filters.
            let own: Vec<(String, String)> = t
                .resources_of_type("AWS::Logs::MetricFilter")
                .map(|(_, f)| {
                    let tr = f.properties.get("MetricTransformations").and_then(Value::as_list).unwrap()[0].as_map().unwrap().clone();
                    (tr.get("MetricNamespace").and_then(Value::as_str).unwrap().to_owned(), tr.get("MetricName").and_then(Value::as_str).unwrap().to_owned())
                })
                .collect();
            // ... and the depth of its own dead-letter queues.
            let has_queue = t.resources_of_type("AWS::SQS::Queue").next().is_some();
            let known = |ns: &str, name: &str| {
                (ns == "AWS/Bedrock" && BEDROCK_METRICS.contains(&name))
                    || own.iter().any(|(n, m)| n == ns && m == name)
                    || (has_queue && (ns, name) == bedrock_watch::sqs::queue::DEPTH_METRIC)
            };
            let expression_metrics_known = |expr: &str| {
                // A SEARCH names its namespace; the bedrock-mantle graphs search only theirs.
                let known = if expr.contains(&format!("{{{MANTLE_NAMESPACE},")) { MANTLE_METRICS } else { BEDROCK_METRICS };
                search_metric_names(expr).into_iter().chain(insights_metric_names(expr)).all(|m| known.contains(&m.as_str()))
            };
            for (id, d) in t.resources_of_type("AWS::CloudWatch::Dashboard") {
                let body = match d.properties.get("DashboardBody").unwrap() {
                    Value::Str(s) => s.clone(),
                    Value::Fn(f) => match f.as_ref() { Intrinsic::Sub { template, .. } => template.clone(), other => panic!("{other:?}") },
                    other => panic!("{other:?}"),
                };
                let json: serde_json::Value = serde_json::from_str(&body).unwrap();
                let widgets = json["widgets"].as_array().unwrap();
                prop_assert!(widgets.len() <= 500);
                let mut boxes: Vec<(u64, u64, u64, u64)> = Vec::new();
                for w in widgets {
                    let n = |k: &str| w[k].as_u64().unwrap();
                    let b = (n("x"), n("y"), n("width"), n("height"));
                    prop_assert!(b.0 + b.2 <= 24, "{}: widget off the grid", id);
                    prop_assert!(!boxes.iter().any(|o| b.0 < o.0 + o.2 && o.0 < b.0 + b.2 && b.1 < o.1 + o.3 && o.1 < b.1 + b.3), "{}: widgets overlap", id);
                    boxes.push(b);
                    let rows = w["properties"]["metrics"].as_array().cloned().unwrap_or_default();
                    prop_assert!(rows.len() <= 500);
                    let ids: Vec<String> = rows.iter().filter_map(|r| r.as_array()?.last()?.get("id")?.as_str().map(str::to_owned)).collect();
                    for r in &rows {
                        let r = r.as_array().unwrap();
                        match r.last().and_then(|o| o.get("expression")).and_then(|e| e.as_str()) {
                            Some(expr) => {
                                prop_assert!(expression_metrics_known(expr), "{}: unknown metric in `{}`", id, expr);
                                for used in expression_ids(expr) {
                                    prop_assert!(ids.contains(&used), "{}: `{}` uses undefined `{}`", id, expr, used);
                                }
                            }
                            None => {
                                let (ns, name) = (r[0].as_str().unwrap(), r[1].as_str().unwrap());
                                prop_assert!(known(ns, name), "{}: metric {}/{} is neither a Bedrock metric nor defined by the stack", id, ns, name);
                            }
                        }
                    }
                }
            }
            for (id, a) in t.resources_of_type("AWS::CloudWatch::Alarm") {
                let p = &a.properties;
                prop_assert!(p.get("AlarmActions").and_then(Value::as_list).is_some_and(|l| !l.is_empty() && l.len() <= 5), "{}", id);
                if let Some(ns) = p.get("Namespace").and_then(Value::as_str) {
                    prop_assert!(known(ns, p.get("MetricName").and_then(Value::as_str).unwrap()), "{}", id);
                }
                let metrics: Vec<bedrock_watch::cfn::Map> = p.get("Metrics").and_then(Value::as_list).unwrap_or(&[]).iter().filter_map(|m| m.as_map().cloned()).collect();
                prop_assert!(metrics.iter().filter(|m| m.get("ReturnData") != Some(&Value::Bool(true))).count() <= 10, "{}", id);
                let ids: Vec<&str> = metrics.iter().filter_map(|m| m.get("Id").and_then(Value::as_str)).collect();
                for m in &metrics {
                    if let Some(expr) = m.get("Expression").and_then(Value::as_str) {
                        prop_assert!(expression_metrics_known(expr), "{}: {}", id, expr);
                        for used in expression_ids(expr) {
                            prop_assert!(ids.contains(&used.as_str()), "{}: `{}` uses undefined `{}`", id, expr, used);
                        }
                    }
                    if let Some(stat) = m.get("MetricStat").and_then(Value::as_map) {
                        let metric = stat.get("Metric").and_then(Value::as_map).unwrap();
                        prop_assert!(known(metric.get("Namespace").and_then(Value::as_str).unwrap(), metric.get("MetricName").and_then(Value::as_str).unwrap()), "{}", id);
                    }
                }
            }
        }
    }

    #[test]
    fn every_alarm_notifies_a_topic_of_the_stack_within_limits(config in config_strategy()) {
        for stack in monitoring::stacks(&config).unwrap() {
            let t = &stack.template;
            let topics: Vec<&str> = t.resources_of_type("AWS::SNS::Topic").map(|(id, _)| id).collect();
            let is_stack_topic = |v: &Value| match v.as_intrinsic() {
                Some(Intrinsic::Ref(bedrock_watch::cfn::RefTarget::Logical(id))) => topics.contains(&id.as_str()),
                Some(Intrinsic::GetAtt { logical_id, attribute }) => attribute == "TopicArn" && topics.contains(&logical_id.as_str()),
                _ => false,
            };
            let alarms = t.resources_of_type("AWS::CloudWatch::Alarm").chain(t.resources_of_type("AWS::CloudWatch::CompositeAlarm"));
            let mut seen = 0;
            for (id, a) in alarms {
                seen += 1;
                let p = &a.properties;
                let actions = p.get("AlarmActions").and_then(Value::as_list).unwrap_or(&[]);
                prop_assert!(!actions.is_empty(), "{}: no alarm actions", id);
                for key in ["AlarmActions", "OKActions", "InsufficientDataActions"] {
                    let list = p.get(key).and_then(Value::as_list).unwrap_or(&[]);
                    prop_assert!(list.len() <= 5, "{}: {} has {} actions", id, key, list.len());
                    prop_assert!(list.iter().all(is_stack_topic), "{}: {} notifies something other than a topic of the stack: {:?}", id, key, list);
                }
                let int = |v: Option<&Value>| match v { Some(Value::Int(n)) => Some(*n), _ => None };
                let period = int(p.get("Period")).or_else(|| {
                    p.get("Metrics").and_then(Value::as_list).unwrap_or(&[]).iter().filter_map(Value::as_map).find_map(|m| {
                        int(m.get("Period")).or_else(|| int(m.get("MetricStat").and_then(Value::as_map).and_then(|s| s.get("Period"))))
                    })
                });
                if let (Some(period), Some(evaluations)) = (period, int(p.get("EvaluationPeriods"))) {
                    prop_assert!(period * evaluations <= 86_400, "{}: {}s x {} evaluation periods is over a day", id, period, evaluations);
                }
            }
            prop_assert!(seen >= 4, "{}: only {} alarms", stack.name, seen);
        }
    }

    #[test]
    fn previews_draw_every_widget_in_its_own_box(config in config_strategy()) {
        use bedrock_watch::preview::{self, layout};
        for stack in monitoring::stacks(&config).unwrap() {
            let views = preview::dashboards(&stack.template).unwrap();
            prop_assert_eq!(views.len(), stack.template.resources_of_type("AWS::CloudWatch::Dashboard").count());
            for (view, file) in views.iter().zip(preview::render(&stack.name, &stack.template, preview::Format::Svg).unwrap()) {
                prop_assert_eq!(file.content.matches("<rect class=\"box\"").count(), view.widgets.len());
                let rects: Vec<layout::Rect> = view.widgets.iter().map(|w| layout::widget_rect(w.x, w.y, w.width, w.height)).collect();
                let (width, _) = layout::canvas(view.widgets.iter().map(|w| w.y + w.height));
                for (i, a) in rects.iter().enumerate() {
                    prop_assert!(a.x + a.width <= width, "{}: box {} leaves the canvas", view.name, i);
                    for b in &rects[..i] {
                        let apart = a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
                        prop_assert!(apart, "{}: boxes overlap in the picture", view.name);
                    }
                }
            }
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = config::parse(&text, "fuzz.yaml");
    }

    #[test]
    fn arbitrary_yaml_documents_are_an_error_or_a_clean_stack(doc in yaml_document()) {
        let text = serde_norway::to_string(&doc).unwrap();
        if let Ok(config) = config::parse(&text, "gen.yaml") {
            let rendered = synth::synthesize(&config, Format::Yaml).expect("an accepted config must synthesize");
            prop_assert!(rendered.iter().all(|r| r.findings.is_empty()));
        }
    }

    #[test]
    fn out_of_range_values_are_rejected_with_the_key(field in 0usize..6, bad in (0u64..4000).prop_filter("not an accepted retention", |d| !RETENTION_DAYS.contains(&(*d as u32)))) {
        let (key, text) = match field {
            0 => ("logging.retention_days", format!("logging:\n  retention_days: {bad}\n")),
            1 => ("alerts.thresholds.tokens_per_hour", "alerts:\n  thresholds:\n    tokens_per_hour: 0\n".to_owned()),
            2 => ("bucket.expire_after_days", "bucket:\n  expire_after_days: 0\n".to_owned()),
            3 => ("regions[0]", format!("regions: [moon-{bad}]\n")),
            4 => ("project", format!("project: UPPER{bad}\n")),
            _ => ("dashboard.recent_invocations", "dashboard:\n  recent_invocations: 0\n".to_owned()),
        };
        let err = config::parse(&text, "bad.yaml").expect_err("must be rejected");
        prop_assert_eq!(err.key(), Some(key), "{}", err);
        prop_assert!(err.to_string().contains("allowed") || err.to_string().contains("each"), "{}", err);
    }
}

/// Model ids as users paste them: long, punctuation only, differing only in punctuation or
/// case, ARNs.
fn odd_model_id() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9.:/_-]{1,300}",
        "[.:/_-]{1,4}",
        "[aA][.:_-]?[bB][.:_-]?[cC]",
        "arn:aws:bedrock:us-east-1:[0-9]{12}:(provisioned-model|inference-profile)/[a-z0-9.:-]{1,40}",
        "[a-z]{2,8}\\.[a-z0-9-]{1,250}",
    ]
}

/// Tag text that AWS accepts, or anything at all.
fn tag_text() -> impl Strategy<Value = String> {
    prop_oneof![3 => "[A-Za-z0-9 _.:/=+@-]{1,12}", 1 => "\\PC{0,12}"]
}

/// Regions of one partition, as a user lists them.
fn partition_regions() -> impl Strategy<Value = Vec<String>> {
    proptest::sample::select(config::regions::PARTITIONS.to_vec())
        .prop_flat_map(|(_, regions)| proptest::sample::subsequence(regions.to_vec(), 1..=regions.len().min(3)).prop_shuffle())
        .prop_map(|r| r.into_iter().map(str::to_owned).collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, .. ProptestConfig::default() })]

    /// The promise of validation: what it accepts, synthesis builds. Odd model ids, every
    /// partition's regions, long stack names and arbitrary tag text included.
    #[test]
    fn any_config_passing_validation_synthesizes(
        models in proptest::collection::vec(odd_model_id(), 0..6),
        regions in partition_regions(),
        stack in "[A-Za-z][A-Za-z0-9-]{0,99}",
        tags in proptest::collection::btree_map(tag_text(), tag_text(), 0..3),
        emails in proptest::collection::vec(prop_oneof!["[a-z]{1,6}@[a-z]{1,6}\\.com", "\\PC{0,6}@[a-z.-]{0,8}"], 0..2),
    ) {
        let mut c = Config::default();
        c.regions = regions;
        c.stack_name = stack;
        c.tags = tags;
        c.alerts.emails = emails;
        c.alerts.models = models.clone();
        c.models = models.clone();
        let price = bedrock_watch::bedrock::pricing::Price { input: 0.001, output: 0.002, cache_read: None, cache_write: None, cache_write_1h: None, as_of: None };
        c.pricing.models = models.iter().map(|m| (m.clone(), price)).collect();
        if config::load_problems(&c).is_empty() {
            let rendered = synth::synthesize(&c, Format::Yaml);
            prop_assert!(rendered.is_ok(), "accepted but does not synthesize: {:?}\nconfig: {:?}", rendered.err(), (&c.regions, &c.stack_name, &c.alerts.models, &c.tags));
        }
    }
}

/// YAML documents built from the config's own keys with random values, nested.
fn yaml_document() -> impl Strategy<Value = serde_json::Value> {
    let keys = proptest::sample::select(vec![
        "project", "stack_name", "regions", "models", "tags", "logging", "bucket", "alerts", "dashboard", "retention_days",
        "log_group_name", "data_types", "text", "video", "emails", "thresholds", "tokens_per_hour", "name", "enabled", "unknown",
    ]);
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        (-5i64..100_000).prop_map(serde_json::Value::from),
        "[a-z0-9@./ -]{0,12}".prop_map(serde_json::Value::from),
        Just(serde_json::Value::from("us-east-1")),
    ];
    leaf.prop_recursive(3, 24, 4, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            proptest::collection::btree_map(keys.clone(), inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

proptest! {
    /// Any usage split across service tiers and token kinds (both cache-write lifetimes included)
    /// is priced at no less than 0, and pricing the parts one by one gives the price of the sums.
    #[test]
    fn usage_split_across_tiers_and_cache_kinds_costs_the_sum_of_its_parts(
        model in proptest::sample::select(vec![
            "anthropic.claude-haiku-4-5-20251001-v1:0",
            "us.amazon.nova-pro-v1:0",
            "meta.llama3-1-8b-instruct-v1:0",
            "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/a1b2c3d4e5f6",
        ]),
        parts in proptest::collection::vec(((0u64..1_000_000, 0u64..1_000_000, 0u64..1_000_000, 0u64..1_000_000, 0u64..1_000_000), 0usize..4), 1..8),
        flex in 0.0f64..1.0,
        priority in 1.0f64..4.0,
    ) {
        use bedrock_watch::bedrock::pricing::{Tokens, Usage};
        use bedrock_watch::bedrock::service_tier::{ServiceTier, TierSettings};
        let mut c = Config::default();
        c.pricing.inference_profiles.insert("a1b2c3d4e5f6".into(), "anthropic.claude-sonnet-4-20250514-v1:0".into());
        c.pricing.service_tiers = TierSettings { flex: Some(flex), priority: Some(priority), ..TierSettings::default() };
        let table = c.pricing.table();
        let mut by_tier: BTreeMap<ServiceTier, Tokens> = BTreeMap::new();
        let mut sum_of_parts = 0.0;
        for ((input, output, cache_read, cache_write, cache_write_1h), tier) in &parts {
            let tier = ServiceTier::ALL[*tier];
            let tokens = Tokens { input: *input, output: *output, cache_read: *cache_read, cache_write: *cache_write, cache_write_1h: *cache_write_1h };
            let cost = table.cost(&Usage { model: model.to_owned(), tier, tokens }, "us-east-1").expect("priced");
            prop_assert!(cost >= 0.0, "{cost}");
            // Token kinds one by one add up to the part.
            let kinds = [
                Tokens { input: tokens.input, ..Tokens::default() },
                Tokens { output: tokens.output, ..Tokens::default() },
                Tokens { cache_read: tokens.cache_read, ..Tokens::default() },
                Tokens { cache_write: tokens.cache_write, ..Tokens::default() },
                Tokens { cache_write_1h: tokens.cache_write_1h, ..Tokens::default() },
            ];
            let by_kind: f64 = kinds.iter().map(|t| table.cost(&Usage { model: model.to_owned(), tier, tokens: *t }, "us-east-1").unwrap()).sum();
            prop_assert!((by_kind - cost).abs() <= 1e-9 * cost.max(1.0), "{by_kind} != {cost}");
            sum_of_parts += cost;
            let e = by_tier.entry(tier).or_default();
            e.input += tokens.input;
            e.output += tokens.output;
            e.cache_read += tokens.cache_read;
            e.cache_write += tokens.cache_write;
            e.cache_write_1h += tokens.cache_write_1h;
        }
        let whole: f64 = by_tier.iter().map(|(tier, t)| table.cost(&Usage { model: model.to_owned(), tier: *tier, tokens: *t }, "us-east-1").unwrap()).sum();
        prop_assert!(whole >= 0.0);
        prop_assert!((whole - sum_of_parts).abs() <= 1e-9 * whole.max(1.0), "{whole} != {sum_of_parts}");
    }
}
