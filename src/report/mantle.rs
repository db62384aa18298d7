//! Usage through the `bedrock-mantle` endpoint (OpenAI Responses and Chat Completions, Anthropic
//! Messages), which nobody can be charged with: model invocation logging does not record those
//! calls, and their metrics (`AWS/BedrockMantle`) are published per account, project and model,
//! never per principal. `report` shows them as an "unattributed (Mantle)" section, `quota
//! status` as usage counted against no principal, and the dashboards as a graph labelled
//! unattributed. Tokens are priced with the same price table as `AWS/Bedrock` usage wherever
//! the Mantle model id maps to a priced model (ids, inference profiles and ARNs resolve as for
//! the runtime metrics); other models are listed as unpriced.
//!
//! Source: docs.aws.amazon.com/bedrock/latest/userguide/monitoring-mantle-metrics.html
//! (`Inferences`, `TotalInputTokens`, `TotalOutputTokens` at the Account, Project and Model
//! levels; the model-level dimension is `Model`).

use std::collections::BTreeMap;

use super::model::{Mantle, MantleRow};
use super::ReportError;
use crate::bedrock::pricing::{PriceTable, Tokens};

pub use crate::cloudwatch::metric::{MANTLE_MODEL_DIMENSION as MODEL_DIMENSION, MANTLE_NAMESPACE as NAMESPACE};
pub const INFERENCES: &str = "Inferences";
pub const TOTAL_INPUT_TOKENS: &str = "TotalInputTokens";
pub const TOTAL_OUTPUT_TOKENS: &str = "TotalOutputTokens";
/// The metrics read per model, in query order.
pub const READ: [&str; 3] = [INFERENCES, TOTAL_INPUT_TOKENS, TOTAL_OUTPUT_TOKENS];
/// Why Mantle usage is unattributed, as every output says it.
pub const UNATTRIBUTED_BECAUSE: &str = "calls through the bedrock-mantle endpoint are not in the invocation logs, and AWS/BedrockMantle metrics are per account, project and model, never per principal";

/// Sums of one model over a period.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Figures {
    pub inferences: f64,
    pub input_tokens: f64,
    pub output_tokens: f64,
}

/// The two CloudWatch calls Mantle figures need.
#[allow(async_fn_in_trait)]
pub trait MantleApi {
    /// Every `Model` with a model-level `TotalInputTokens` series (ListMetrics, all pages).
    async fn list_models(&self) -> Result<Vec<String>, ReportError>;
    /// Sums of [`READ`] per model over `[start, end)` (epoch seconds), one datapoint per series.
    async fn sums(&self, models: &[String], start: i64, end: i64) -> Result<BTreeMap<String, Figures>, ReportError>;
}

/// The period as one datapoint: the whole range rounded up to a minute, as GetMetricData requires.
pub fn whole_period(start: i64, end: i64) -> i32 {
    i32::try_from(((end - start).max(60) + 59) / 60 * 60).unwrap_or(i32::MAX)
}

/// Mantle usage per model over `[start, end)`; empty when the region has no Mantle metrics.
pub async fn read<A: MantleApi>(api: &A, start: i64, end: i64) -> Result<BTreeMap<String, Figures>, ReportError> {
    let models = api.list_models().await?;
    if models.is_empty() {
        return Ok(BTreeMap::new());
    }
    let mut sums = api.sums(&models, start, end).await?;
    sums.retain(|_, f| f.inferences > 0.0 || f.input_tokens > 0.0 || f.output_tokens > 0.0);
    Ok(sums)
}

/// The models of the model-level series among ListMetrics' dimension sets, sorted: the project
/// and project+model series would count the same tokens twice.
pub fn model_level(dimension_sets: impl IntoIterator<Item = Vec<(String, String)>>) -> Vec<String> {
    let mut models: Vec<String> = dimension_sets
        .into_iter()
        .filter_map(|dimensions| match <[(String, String); 1]>::try_from(dimensions) {
            Ok([(name, model)]) if name == MODEL_DIMENSION => Some(model),
            _ => None,
        })
        .collect();
    models.sort();
    models.dedup();
    models
}

fn count(v: f64) -> u64 {
    v.max(0.0).round() as u64
}

/// One priced row per model (tokens × the price table's input and output prices).
pub fn row(model: &str, f: &Figures, prices: &PriceTable, region: &str) -> MantleRow {
    let tokens = Tokens { input: count(f.input_tokens), output: count(f.output_tokens), ..Tokens::default() };
    MantleRow {
        model: model.to_owned(),
        inferences: count(f.inferences),
        input_tokens: tokens.input,
        output_tokens: tokens.output,
        estimated_cost_usd: prices.price(model, region).map(|p| p.cost(&tokens)),
    }
}

/// The report's Mantle section; `None` without Mantle usage in the period.
pub fn section(by_model: &BTreeMap<String, Figures>, prices: &PriceTable, region: &str) -> Option<Mantle> {
    if by_model.is_empty() {
        return None;
    }
    let models: Vec<MantleRow> = by_model.iter().map(|(m, f)| row(m, f, prices, region)).collect();
    Some(Mantle {
        unattributed_because: UNATTRIBUTED_BECAUSE.to_owned(),
        inferences: models.iter().map(|r| r.inferences).sum(),
        input_tokens: models.iter().map(|r| r.input_tokens).sum(),
        output_tokens: models.iter().map(|r| r.output_tokens).sum(),
        estimated_cost_usd: models.iter().filter_map(|r| r.estimated_cost_usd).sum(),
        unpriced_models: models.iter().filter(|r| r.estimated_cost_usd.is_none()).map(|r| r.model.clone()).collect(),
        models,
    })
}

/// The AWS SDK's CloudWatch client.
#[cfg(feature = "aws")]
pub struct SdkMantle<'a> {
    pub aws: &'a crate::aws::Aws,
    pub client: aws_sdk_cloudwatch::Client,
}

#[cfg(feature = "aws")]
impl MantleApi for SdkMantle<'_> {
    async fn list_models(&self) -> Result<Vec<String>, ReportError> {
        let series = super::metrics::list_series(self.aws, &self.client, NAMESPACE, TOTAL_INPUT_TOKENS, false, None).await?;
        Ok(model_level(series.into_iter().map(|(_, dimensions)| dimensions)))
    }

    async fn sums(&self, models: &[String], start: i64, end: i64) -> Result<BTreeMap<String, Figures>, ReportError> {
        use aws_sdk_cloudwatch::primitives::DateTime;
        use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
        let queries: Vec<(String, &str, &str)> =
            models.iter().flat_map(|m| READ.iter().map(move |metric| (m.as_str(), *metric))).enumerate().map(|(i, (m, metric))| (format!("k{i}"), m, metric)).collect();
        let mut out: BTreeMap<String, Figures> = BTreeMap::new();
        for batch in queries.chunks(super::metrics::MAX_QUERIES_PER_CALL) {
            let mut token: Option<String> = None;
            loop {
                let mut req = self.client.get_metric_data().start_time(DateTime::from_secs(start)).end_time(DateTime::from_secs(end)).set_next_token(token.take());
                for (id, model, metric) in batch {
                    let m = Metric::builder().namespace(NAMESPACE).metric_name(*metric).dimensions(Dimension::builder().name(MODEL_DIMENSION).value(*model).build()).build();
                    let stat = MetricStat::builder().metric(m).period(whole_period(start, end)).stat("Sum").build();
                    req = req.metric_data_queries(MetricDataQuery::builder().id(id).metric_stat(stat).return_data(true).build());
                }
                let resp = req.send().await.map_err(|e| ReportError::Aws(self.aws.error("GetMetricData", e)))?;
                for r in resp.metric_data_results() {
                    let Some((_, model, metric)) = batch.iter().find(|(id, _, _)| Some(id.as_str()) == r.id()) else { continue };
                    let sum: f64 = r.values().iter().sum();
                    let f = out.entry((*model).to_owned()).or_default();
                    match *metric {
                        INFERENCES => f.inferences += sum,
                        TOTAL_INPUT_TOKENS => f.input_tokens += sum,
                        _ => f.output_tokens += sum,
                    }
                }
                match resp.next_token() {
                    Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                    _ => break,
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    struct Fake {
        models: Vec<String>,
        sums: BTreeMap<String, Figures>,
        asked: RefCell<Vec<(Vec<String>, i64, i64)>>,
    }

    impl MantleApi for Fake {
        async fn list_models(&self) -> Result<Vec<String>, ReportError> {
            Ok(self.models.clone())
        }
        async fn sums(&self, models: &[String], start: i64, end: i64) -> Result<BTreeMap<String, Figures>, ReportError> {
            self.asked.borrow_mut().push((models.to_vec(), start, end));
            Ok(self.sums.clone())
        }
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        crate::aws::runtime().unwrap().block_on(f)
    }

    const HAIKU: &str = "anthropic.claude-3-5-haiku-20241022-v1:0";

    #[test]
    fn rows_are_priced_where_the_model_maps_and_listed_as_unpriced_otherwise() {
        let mut by = BTreeMap::new();
        by.insert(HAIKU.to_owned(), Figures { inferences: 3.0, input_tokens: 10_000.0, output_tokens: 2_000.0 });
        by.insert(format!("us.{HAIKU}"), Figures { inferences: 1.0, input_tokens: 1_000.0, output_tokens: 0.0 });
        by.insert("openai.unknown-model".to_owned(), Figures { inferences: 2.0, input_tokens: 500.0, output_tokens: 500.0 });
        let m = section(&by, &PriceTable::built_in(), "us-east-1").unwrap();
        // Haiku 3.5: $0.0008 / 1K in, $0.004 / 1K out: 0.008 + 0.008; the profile id maps to it: 0.0008.
        let cost = |id: &str| m.models.iter().find(|r| r.model == id).unwrap().estimated_cost_usd;
        assert!((cost(HAIKU).unwrap() - 0.016).abs() < 1e-12, "{:?}", cost(HAIKU));
        assert!((cost(&format!("us.{HAIKU}")).unwrap() - 0.0008).abs() < 1e-12);
        assert_eq!(cost("openai.unknown-model"), None);
        assert_eq!(m.unpriced_models, vec!["openai.unknown-model".to_owned()]);
        assert_eq!((m.inferences, m.input_tokens, m.output_tokens), (6, 11_500, 2_500));
        assert!((m.estimated_cost_usd - 0.0168).abs() < 1e-12);
        assert!(m.unattributed_because.contains("never per principal"));
        assert!(section(&BTreeMap::new(), &PriceTable::built_in(), "us-east-1").is_none());
    }

    #[test]
    fn read_asks_for_listed_models_only_and_drops_empty_ones() {
        let mut sums = BTreeMap::new();
        sums.insert("a".to_owned(), Figures { inferences: 1.0, input_tokens: 5.0, output_tokens: 1.0 });
        sums.insert("b".to_owned(), Figures::default());
        let fake = Fake { models: vec!["a".into(), "b".into()], sums, asked: RefCell::new(vec![]) };
        let got = block_on(read(&fake, 100, 200)).unwrap();
        assert_eq!(got.keys().collect::<Vec<_>>(), vec!["a"]);
        assert_eq!(fake.asked.borrow()[0], (vec!["a".to_owned(), "b".to_owned()], 100, 200));

        let none = Fake { models: vec![], sums: BTreeMap::new(), asked: RefCell::new(vec![]) };
        assert!(block_on(read(&none, 0, 1)).unwrap().is_empty());
        assert!(none.asked.borrow().is_empty(), "no GetMetricData without Mantle models");
    }

    #[test]
    fn the_whole_range_is_one_minute_aligned_period() {
        assert_eq!(whole_period(0, 3600), 3600);
        assert_eq!(whole_period(0, 3601), 3660);
        assert_eq!(whole_period(10, 10), 60);
    }
}
