//! Links the `bedrock-watch` binary as a position-dependent executable on Linux.
//!
//! The binary carries the AWS SDK for the deploy, report and quota commands, and with it about
//! 800 KB of pointer tables (`.data.rel.ro`). In a position-independent executable the loader
//! rewrites every one of those pointers at each start, touching some 200 pages: measured with
//! `perf stat` on the 2-core development VM, that was 1 ms of a 2 ms `--version` and a fifth of a
//! `synth` of the default stack. Linked at a fixed address they are resolved once, at link time.
//! The trade-off is address randomization of the executable image itself (libraries, heap and
//! stack stay randomized); build with `BEDROCK_WATCH_PIE=1` to keep a PIE, for example where a
//! distribution's policy requires one.
fn main() {
    println!("cargo:rerun-if-env-changed=BEDROCK_WATCH_PIE");
    let linux_gnu = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") && std::env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("gnu");
    if linux_gnu && std::env::var_os("BEDROCK_WATCH_PIE").is_none() {
        println!("cargo:rustc-link-arg-bin=bedrock-watch=-no-pie");
    }
}
