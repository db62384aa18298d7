//! Synthesis speed: the default stack and stacks drawing 3, 30 and 300 models on the dashboard
//! (each with alarms for up to 30 models). Run with `cargo bench --bench synth`.

use bedrock_watch::cfn::Format;
use bedrock_watch::config::Config;
use bedrock_watch::synth::synthesize;
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};

/// A config with `n` models on the dashboard and `min(n, 30)` of them alarmed per model.
pub fn config_with_models(n: usize) -> Config {
    let mut c = Config::default();
    c.models = (0..n).map(|i| format!("vendor.model-{i:03}-v1:0")).collect();
    c.alerts.models = c.models.iter().take(30).cloned().collect();
    c
}

fn bench(c: &mut Criterion) {
    let default = Config::default();
    c.bench_function("synth default stack", |b| b.iter(|| synthesize(black_box(&default), Format::Yaml).unwrap()));
    let mut group = c.benchmark_group("synth with models");
    for n in [3usize, 30, 300] {
        let config = config_with_models(n);
        group.bench_with_input(BenchmarkId::from_parameter(n), &config, |b, config| b.iter(|| synthesize(black_box(config), Format::Yaml).unwrap()));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
