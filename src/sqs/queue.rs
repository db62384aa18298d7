//! `AWS::SQS::Queue` as a Lambda dead-letter queue, with the alarm that makes it seen.
//!
//! Lambda retries an asynchronous invocation twice and then drops the event unless the function
//! has a dead-letter queue. The events of the functions fed by CloudWatch Logs and EventBridge
//! Scheduler (quota accounting, resets, the scheduled report) are worth keeping: a dropped
//! accounting batch means uncounted tokens. The queue keeps failed events for 14 days (SQS's
//! maximum), encrypted with the stack's key; an alarm on its depth notifies the given topic, so
//! a failure is looked at, not discovered. The queue is deleted with the stack: its messages are
//! copies of events whose source (the invocation log group) is retained.

use crate::cfn::{CfnError, Map, Resource, ResourceRef, Template, Value};
use crate::cloudwatch::{Alarm, Comparison, Metric, MetricSource, Stat};
use crate::iam::actions::{KMS_USE_KEY, SQS_SEND_MESSAGE};
use crate::iam::Statement;
use crate::kms::KeyRef;
use crate::sns::TopicRef;

/// The metric the queue's alarm watches: messages waiting (SQS publishes it per queue name).
pub const DEPTH_METRIC: (&str, &str) = ("AWS/SQS", "ApproximateNumberOfMessagesVisible");
/// SQS's longest message retention: 14 days.
pub const MAX_RETENTION_SECONDS: u32 = 1_209_600;
/// Queue names: 1-80 characters of letters, digits, `-` and `_`.
const MAX_NAME_LEN: usize = 80;

#[derive(Debug, Clone)]
pub struct DeadLetterQueue {
    logical_id: String,
    name: String,
    key: KeyRef,
    alarm_name: String,
    topic: TopicRef,
}

/// A queue in the template, with its literal name (the alarm's dimension needs it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRef {
    pub handle: ResourceRef,
    pub name: String,
    pub key: KeyRef,
}

impl QueueRef {
    pub fn arn(&self) -> Value {
        self.handle.get_att("Arn")
    }

    /// What a function's execution role needs for Lambda to deliver failed events here: send to
    /// this queue, and use its key (SQS encrypts with the sender's permissions).
    pub fn grant_send(&self) -> Vec<Statement> {
        vec![Statement::allow(SQS_SEND_MESSAGE, vec![self.arn()]), Statement::allow(KMS_USE_KEY, vec![self.key.arn()])]
    }
}

impl DeadLetterQueue {
    /// Queue `name` (checked against SQS's naming rules), encrypted with `key`; `alarm_name`
    /// alarms on `topic` when a message is waiting.
    pub fn new(logical_id: impl Into<String>, name: impl Into<String>, key: &KeyRef, alarm_name: impl Into<String>, topic: &TopicRef) -> Self {
        DeadLetterQueue { logical_id: logical_id.into(), name: name.into(), key: key.clone(), alarm_name: alarm_name.into(), topic: topic.clone() }
    }

    pub fn build(self, template: &mut Template) -> Result<QueueRef, CfnError> {
        let ok = (1..=MAX_NAME_LEN).contains(&self.name.len()) && self.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !ok {
            return Err(CfnError::invalid(
                "sqs::Queue",
                format!("queue name `{}` must be 1-{MAX_NAME_LEN} characters of letters, digits, - and _ (it derives from stack_name: shorten it)", self.name),
            ));
        }
        let props = Map::new()
            .with("QueueName", self.name.as_str())
            .with("MessageRetentionPeriod", MAX_RETENTION_SECONDS)
            .with("KmsMasterKeyId", self.key.arn());
        let handle = template.add(&self.logical_id, Resource::new("AWS::SQS::Queue", props).deviate(crate::deviations::DEAD_LETTER_QUEUE_IS_LAST))?;
        let depth = Metric::new(DEPTH_METRIC.0, DEPTH_METRIC.1).dimension("QueueName", &self.name).stat(Stat::Maximum).period(300);
        Alarm::new(format!("{}Alarm", self.logical_id), MetricSource::Metric(depth), 0.0)
            .comparison(Comparison::GreaterThanThreshold)
            .alarm_name(self.alarm_name)
            .unit("messages")
            .runbook(format!(
                "A function failed on an event three times and Lambda parked it in SQS queue {}. Read the function's log group for the error, fix it, then re-drive or delete the messages (they expire after 14 days).",
                self.name
            ))
            .notify(&self.topic)
            .build(template)?;
        Ok(QueueRef { handle, name: self.name, key: self.key })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_and_topic(t: &mut Template) -> (KeyRef, TopicRef) {
        let key = crate::kms::Key::new("Key", "k").build(t).unwrap();
        let topic = crate::sns::Topic::new("Topic", &key).build(t).unwrap();
        (key, topic)
    }

    #[test]
    fn an_encrypted_queue_with_an_alarm_on_its_depth() {
        let mut t = Template::new("t");
        let (key, topic) = key_and_topic(&mut t);
        let q = DeadLetterQueue::new("Dlq", "stack-us-east-1-dlq", &key, "stack-us-east-1-dlq-not-empty", &topic).build(&mut t).unwrap();
        let r = t.resource("Dlq").unwrap();
        assert_eq!(r.properties.get("KmsMasterKeyId"), Some(&key.arn()));
        assert_eq!(r.properties.get("MessageRetentionPeriod"), Some(&Value::Int(1_209_600)));
        let yaml = crate::cfn::render(&t, crate::cfn::Format::Yaml);
        assert!(yaml.contains("MetricName: ApproximateNumberOfMessagesVisible") && yaml.contains("Value: stack-us-east-1-dlq"), "{yaml}");
        assert_eq!(q.grant_send()[0].actions, vec!["sqs:SendMessage"]);
    }

    #[test]
    fn bad_names_are_errors_naming_stack_name() {
        let mut t = Template::new("t");
        let (key, topic) = key_and_topic(&mut t);
        let err = DeadLetterQueue::new("Dlq", "x".repeat(81), &key, "a", &topic).build(&mut t).unwrap_err().to_string();
        assert!(err.contains("stack_name"), "{err}");
        assert!(DeadLetterQueue::new("Dlq", "a.b", &key, "a", &topic).build(&mut t).is_err());
    }
}
