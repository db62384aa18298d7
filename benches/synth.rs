//! Synthesis speed: the default stack and stacks listing 3, 30 and 300 priced models (each with
//! alarms for up to 30 models), the configs `examples/many_models.rs` writes for whole-process
//! timing. Run with `cargo bench --bench synth`.

use bedrock_watch::bedrock::pricing::Price;
use bedrock_watch::cfn::Format;
use bedrock_watch::config::Config;
use bedrock_watch::synth::synthesize;
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};

/// A config with `n` made-up models, each priced (a listed model must have a price), and
/// `min(n, 30)` of them alarmed per model.
pub fn config_with_models(n: usize) -> Config {
    let mut c = Config::default();
    c.models = (0..n).map(|i| format!("vendor.model-{i:03}-v1:0")).collect();
    c.alerts.models = c.models.iter().take(30).cloned().collect();
    for m in &c.models {
        c.pricing.models.insert(m.clone(), Price { input: 0.001, output: 0.005, cache_read: None, cache_write: None, cache_write_1h: None, as_of: None });
    }
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
