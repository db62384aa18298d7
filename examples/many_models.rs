//! Writes a config with N models (default 300) for timing a whole `synth` process:
//! `cargo run --release --example many_models -- 300 > /tmp/m300.yaml` then
//! `/usr/bin/time -v target/release/bedrock-watch synth --config /tmp/m300.yaml --out /tmp/out`.
fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(300);
    println!("stack_name: bench-{n}-models\nmodels:");
    for i in 0..n {
        println!("  - vendor.model-{i:03}-v1:0");
    }
    println!("alerts:\n  models:");
    for i in 0..n.min(30) {
        println!("  - vendor.model-{i:03}-v1:0");
    }
}
