//! The README's library example: a p99 latency alarm notifying an encrypted topic.
//! `cargo run --example latency_alarm`
use bedrock_watch::cfn::{render, CfnError, Format, Template};
use bedrock_watch::cloudwatch::{Alarm, Metric, MetricSource, Stat};
use bedrock_watch::kms::Key;
use bedrock_watch::sns::Topic;

fn main() -> Result<(), CfnError> {
    let mut t = Template::new("latency alarm");
    let key = Key::new("Key", "alerts").build(&mut t)?;
    let topic = Topic::new("Topic", &key).email("ops@example.com").build(&mut t)?;
    Alarm::new("P99", MetricSource::Metric(Metric::bedrock("InvocationLatency").stat(Stat::Percentile(99.0))), 5000.0)
        .unit("ms")
        .notify(&topic)
        .build(&mut t)?;
    print!("{}", render(&t, Format::Yaml));
    Ok(())
}
