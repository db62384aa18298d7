//! The access policies (issue 12) for any model list: a snapshot of what `examples/access.yaml`
//! grants, and properties that hold for every model list and region set. The permission sets
//! and tool users may only invoke (plus, for tools, use their API keys), only on Bedrock model
//! and inference-profile ARNs, never on `*`, and the direct grants only in the stack's regions.

use std::collections::BTreeSet;
use std::path::Path;

use bedrock_watch::cfn::{render, Format};
use bedrock_watch::config::{self, Config};
use bedrock_watch::{monitoring, synth};
use proptest::prelude::*;
use serde_norway::Value as Y;

const INVOKE: &[&str] = &["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"];
const BEARER: &str = "bedrock:CallWithBearerToken";
const REGIONS: &[&str] = &["us-east-1", "us-west-2", "eu-central-1", "ap-northeast-1"];
const MODELS: &[&str] = &["anthropic.claude-3-5-haiku-20241022-v1:0", "amazon.nova-micro-v1:0", "meta.llama3-1-70b-instruct-v1:0", "anthropic.claude-3-5-sonnet-20241022-v2:0"];

fn example() -> Config {
    config::load_file(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/access.yaml"))).expect("examples/access.yaml is valid")
}

/// The primary stack's template, parsed back from the YAML that `synth` writes.
fn primary_resources(config: &Config) -> Vec<(String, Y)> {
    let stacks = monitoring::stacks(config).expect("valid config builds");
    let yaml = render(&stacks[0].template, Format::Yaml);
    let doc: Y = serde_norway::from_str(&yaml).expect("rendered YAML parses");
    doc["Resources"].as_mapping().expect("Resources").iter().map(|(k, v)| (k.as_str().unwrap().to_owned(), v.clone())).collect()
}

/// A scalar or an intrinsic's text (`!Sub 'arn:...'` -> `arn:...`).
fn text(v: &Y) -> String {
    match v {
        Y::String(s) => s.clone(),
        Y::Tagged(t) => text(&t.value),
        other => serde_norway::to_string(other).unwrap_or_default(),
    }
}

fn list(v: &Y) -> Vec<Y> {
    match v {
        Y::Sequence(s) => s.clone(),
        Y::Null => Vec::new(),
        one => vec![one.clone()],
    }
}

/// Every statement of the permission sets' inline policies and the tool users' policies, with
/// the resource's logical id and type.
fn statements(resources: &[(String, Y)]) -> Vec<(String, String, Y)> {
    let mut out = Vec::new();
    for (id, r) in resources {
        let ty = text(&r["Type"]);
        let docs: Vec<Y> = match ty.as_str() {
            "AWS::SSO::PermissionSet" => vec![r["Properties"]["InlinePolicy"].clone()],
            "AWS::IAM::User" => list(&r["Properties"]["Policies"]).iter().map(|p| p["PolicyDocument"].clone()).collect(),
            _ => continue,
        };
        for d in docs {
            for s in list(&d["Statement"]) {
                out.push((id.clone(), ty.clone(), s));
            }
        }
    }
    out
}

fn access_policy_yaml(resources: &[(String, Y)]) -> String {
    let mut m = serde_norway::Mapping::new();
    for (id, r) in resources {
        if matches!(text(&r["Type"]).as_str(), "AWS::SSO::PermissionSet" | "AWS::SSO::Assignment" | "AWS::IAM::User") {
            m.insert(Y::String(id.clone()), r.clone());
        }
    }
    serde_norway::to_string(&Y::Mapping(m)).unwrap()
}

#[test]
fn access_example_policies_snapshot() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    let yaml = access_policy_yaml(&primary_resources(&example()));
    settings.bind(|| insta::assert_snapshot!("access_example_policies", yaml));
}

#[test]
fn a_user_assignment_is_refused_naming_the_key() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/access.yaml")).unwrap();
    let bad = text.replace("    - group: dev-bedrock-pilot\n      permission_set: BedrockDeveloper\n", "    - user: jane@example.com\n      permission_set: BedrockDeveloper\n");
    assert_ne!(bad, text, "the example's first assignment changed shape; update this test");
    let err = config::parse(&bad, "access.yaml").unwrap_err().to_string();
    assert!(err.contains("access.assignments[0]"), "{err}");
}

fn model_list() -> impl Strategy<Value = Vec<String>> {
    let one = prop_oneof![
        proptest::sample::select(MODELS).prop_map(str::to_owned),
        proptest::sample::select(MODELS).prop_map(|m| format!("us.{m}")),
        proptest::sample::select(MODELS).prop_map(|m| format!("eu.{m}")),
    ];
    proptest::collection::btree_set(one, 0..5).prop_map(|s| s.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn access_policies_grant_only_invoke_on_model_arns(
        regions in proptest::sample::subsequence(REGIONS, 1..=3),
        models in model_list(),
    ) {
        let mut c = example();
        c.regions = regions.iter().map(|r| r.to_string()).collect();
        c.models = models.clone();
        c.alerts.models.clear();
        // Named permission sets in quotas are refused with several regions (they live in the
        // primary stack only); quotas are not what this property is about.
        c.quotas = Default::default();
        let problems = config::load_problems(&c);
        prop_assert!(problems.is_empty(), "{problems:?}");
        for r in synth::synthesize(&c, Format::Yaml).expect("synthesizes") {
            prop_assert!(r.findings.is_empty(), "{}: {:?}", r.stack_name, r.findings);
        }

        let resources = primary_resources(&c);
        let stmts = statements(&resources);
        prop_assert!(stmts.iter().any(|(id, _, _)| id == "BedrockDeveloperPermissionSet"));
        let region_set: BTreeSet<String> = c.regions.iter().cloned().collect();
        let mut developer_resources = Vec::new();
        for (id, ty, s) in &stmts {
            prop_assert_eq!(text(&s["Effect"]), "Allow", "{}: only Allow statements", id);
            let actions: Vec<String> = list(&s["Action"]).iter().map(text).collect();
            let resources: Vec<String> = list(&s["Resource"]).iter().map(text).collect();
            let invoke_only = actions.iter().all(|a| INVOKE.contains(&a.as_str()));
            if id == "BedrockDeveloperPermissionSet" {
                prop_assert!(invoke_only, "developer may only invoke: {:?}", actions);
                developer_resources.extend(resources.iter().cloned());
            }
            if ty == "AWS::IAM::User" {
                prop_assert!(actions.iter().all(|a| INVOKE.contains(&a.as_str()) || a == BEARER), "tool user {}: {:?}", id, actions);
            }
            for a in &actions {
                prop_assert!(!a.contains('*'), "{}: wildcard action {}", id, a);
            }
            if invoke_only {
                for r in &resources {
                    prop_assert!(r != "*", "{}: invoke on *", id);
                    prop_assert!(r.contains(":bedrock:") && (r.contains(":foundation-model/") || r.contains(":inference-profile/")), "{}: {}", id, r);
                }
                let requested: Vec<String> = list(&s["Condition"]["StringEquals"]["aws:RequestedRegion"]).iter().map(text).collect();
                let through_profile = !list(&s["Condition"]["StringLike"]["bedrock:InferenceProfileArn"]).is_empty();
                prop_assert!(through_profile || requested.iter().cloned().collect::<BTreeSet<_>>() == region_set, "{}: direct grant limited to {:?}, got {:?}", id, region_set, requested);
            }
        }
        // Every configured model is reachable in every region, and nothing else is named.
        for region in &c.regions {
            if models.is_empty() {
                prop_assert!(developer_resources.iter().any(|r| r.ends_with(&format!(":bedrock:{region}::foundation-model/*"))), "{region}: {developer_resources:?}");
            }
            for m in &models {
                let want = if m.starts_with("us.") || m.starts_with("eu.") { format!(":bedrock:{region}:${{AWS::AccountId}}:inference-profile/{m}") } else { format!(":bedrock:{region}::foundation-model/{m}") };
                prop_assert!(developer_resources.iter().any(|r| r.ends_with(&want)), "{m} in {region}: {developer_resources:?}");
            }
        }
        if !models.is_empty() {
            prop_assert!(!developer_resources.iter().any(|r| r.contains(":bedrock:") && r.ends_with("foundation-model/*")), "models listed, yet all foundation models granted: {developer_resources:?}");
        }
        // Identity Center and IAM are global: only the primary stack carries them.
        for stack in monitoring::stacks(&c).unwrap().iter().skip(1) {
            let yaml = render(&stack.template, Format::Yaml);
            prop_assert!(!yaml.contains("AWS::SSO::PermissionSet") && !yaml.contains("AWS::IAM::User"), "{}", stack.name);
        }
    }
}

/// `report --reconcile` is one of the commands the admin permission set may run: with
/// `billing.cur_export` in the us-east-1 (primary) stack it may read the export's objects, and
/// nothing else of the bucket; without the export, or with another primary region (the bucket is
/// then in another stack), there is no such statement.
#[test]
fn the_admin_permission_set_reads_only_the_billing_exports_objects() {
    let grants = |c: &Config| -> Vec<(String, String)> {
        statements(&primary_resources(c))
            .into_iter()
            .filter(|(_, _, s)| text(&s["Sid"]) == "ReadBillingExport")
            .map(|(id, _, s)| (id, format!("{} {}", text(&s["Action"]), list(&s["Resource"]).iter().map(text).collect::<Vec<_>>().join(" "))))
            .collect()
    };
    let mut c = example();
    assert!(grants(&c).is_empty());
    c.billing.cur_export.enabled = true;
    c.billing.cur_export.export_name = Some("genai-cur2".into());
    assert_eq!(grants(&c), vec![("BedrockAdminPermissionSet".to_owned(), "s3:GetObject ${CurExportBucket.Arn}/cur2/genai-cur2/*".to_owned())]);
    c.regions = vec!["eu-west-1".into(), "us-east-1".into()];
    assert!(grants(&c).is_empty());
}
