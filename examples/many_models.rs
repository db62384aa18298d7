//! Writes a config with N models (default 300) for timing a whole `synth` process:
//! `cargo run --example many_models -- 300 > /tmp/m300.yaml` then
//! `/usr/bin/time -v target/release/bedrock-watch synth --config /tmp/m300.yaml --out /tmp/out`.
//! The models are made up, so each gets a price: a model id in the config must be priced.
fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(300);
    let id = |i: usize| format!("vendor.model-{i:03}-v1:0");
    println!("stack_name: bench-{n}-models\nmodels:");
    for i in 0..n {
        println!("  - {}", id(i));
    }
    println!("alerts:\n  models:");
    for i in 0..n.min(30) {
        println!("  - {}", id(i));
    }
    println!("pricing:\n  models:");
    for i in 0..n {
        println!("    {}: {{input: 0.001, output: 0.005}}", id(i));
    }
}
