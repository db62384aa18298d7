//! Organization rollout at scale: plan (synthesize and check the member template of 4 regions)
//! and render for 500 self-managed accounts x 4 regions (2,000 stack instances), then compute
//! the instance changes against a current state and render the 2,000-row instance table; and
//! the self-managed roles and the monitoring account's templates for the same rollout. Each
//! must stay under 2 s. Run with `cargo bench --bench org`.

use bedrock_watch::config::organization::{Organization, PermissionModel, Targets};
use bedrock_watch::config::Config;
use bedrock_watch::org::client::InstanceInfo;
use bedrock_watch::org::engine::{instance_changes, render_table, Row};
use bedrock_watch::org::plan::plan;
use criterion::{black_box, criterion_group, criterion_main, Criterion};

const REGIONS: [&str; 4] = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1"];

/// 500 accounts, 4 regions, templates staged in S3.
pub fn org_config(accounts: usize) -> Config {
    let mut c = Config::default();
    c.regions = REGIONS.iter().map(|r| (*r).to_owned()).collect();
    c.deploy.staging_bucket = Some("bw-staging".into());
    c.organization = Some(Organization {
        permission_model: PermissionModel::SelfManaged,
        targets: Targets { accounts: (0..accounts).map(|i| format!("{:012}", 100_000_000_000u64 + i as u64)).collect(), ..Targets::default() },
        ..Organization::default()
    });
    c
}

fn plan_and_render(config: &Config) -> usize {
    let rollout = plan(config).unwrap();
    let mut rows = Vec::new();
    for s in &rollout.stack_sets {
        // half the accounts already have an instance: the other half is created
        let current: Vec<InstanceInfo> = rollout.accounts().iter().step_by(2).map(|a| InstanceInfo { account: a.clone(), region: s.region.clone(), status: "CURRENT".into(), ..InstanceInfo::default() }).collect();
        let (create, delete) = instance_changes(&rollout, &s.region, &current);
        assert_eq!(create.map(|t| t.accounts.len()), Some(rollout.accounts().len() / 2));
        assert!(delete.is_empty());
        assert!(s.template.content.len() <= 1_000_000, "a StackSet template from S3 is at most 1 MB");
        rows.extend(rollout.accounts().iter().map(|a| Row { stack_set: s.name.clone(), account: a.clone(), region: s.region.clone(), status: "CURRENT".into(), reason: String::new() }));
    }
    render_table(&rows).len()
}

/// What `org roles` and `org synth` add: the two role templates (the execution role's policy
/// derived from all 4 member templates) and the monitoring account's sink templates with the
/// organization dashboard.
fn roles_and_central(config: &Config) -> usize {
    let roles = bedrock_watch::org::roles::templates(config).unwrap();
    let rollout = plan(config).unwrap();
    let central = bedrock_watch::org::central::templates(config, &rollout).unwrap();
    assert_eq!((roles.len(), central.len()), (2, 4));
    roles.iter().chain(&central).map(|(_, t)| t.len()).sum()
}

fn bench(c: &mut Criterion) {
    let config = org_config(500);
    c.bench_function("org plan and render 500 accounts x 4 regions", |b| b.iter(|| plan_and_render(black_box(&config))));
    let mut central = org_config(500);
    if let Some(o) = central.organization.as_mut() {
        o.monitoring_account = Some("999999999999".into());
    }
    c.bench_function("org roles and monitoring templates 500 accounts x 4 regions", |b| b.iter(|| roles_and_central(black_box(&central))));
}

criterion_group!(benches, bench);
criterion_main!(benches);
