//! CloudTrail builders: a multi-region trail into its own bucket, or a CloudTrail Lake event data
//! store. Either records who called Bedrock (management events), the audit trail behind the
//! per-user figures.

pub mod event_data_store;
pub mod trail;

pub use event_data_store::EventDataStore;
pub use trail::Trail;
