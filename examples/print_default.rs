//! Prints the default stack's template: `cargo run --example print_default`.
fn main() {
    let config = bedrock_watch::config::Config::default();
    match bedrock_watch::monitoring::build(&config, config.primary_region()) {
        Ok(t) => print!("{}", bedrock_watch::cfn::render(&t, bedrock_watch::cfn::Format::Yaml)),
        Err(e) => eprintln!("error: {e}"),
    }
}
