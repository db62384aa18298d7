//! The `AWS/Bedrock` metrics of a period, read with GetMetricData: every query the report
//! needs goes into as few calls as possible (at most [`MAX_QUERIES_PER_CALL`] each, following
//! NextToken when the datapoints of a call exceed one page), never one call per metric.
//!
//! The API sits behind [`MetricsApi`] so batching and pagination are tested with a fake: the
//! CloudWatch emulator the end-to-end tests use implements neither the 500-query limit nor
//! pagination.

use std::collections::BTreeMap;

use super::period::Period;
use super::ReportError;

/// GetMetricData accepts at most 500 queries per call.
pub const MAX_QUERIES_PER_CALL: usize = 500;
/// Counts are read hourly and summed per day and period in the report.
pub const HOURLY: i32 = 3600;

/// What one query measures, per model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Measure {
    Invocations,
    InputTokens,
    OutputTokens,
    CacheReadTokens,
    CacheWriteTokens,
    ClientErrors,
    ServerErrors,
    Throttles,
    /// Sum and count of latency give the exact invocation-weighted average across hours and models.
    LatencySum,
    LatencyCount,
    /// Read over the whole period in one datapoint: hourly percentiles cannot be combined.
    LatencyP99,
}

impl Measure {
    pub const ALL: [Measure; 11] = [
        Measure::Invocations,
        Measure::InputTokens,
        Measure::OutputTokens,
        Measure::CacheReadTokens,
        Measure::CacheWriteTokens,
        Measure::ClientErrors,
        Measure::ServerErrors,
        Measure::Throttles,
        Measure::LatencySum,
        Measure::LatencyCount,
        Measure::LatencyP99,
    ];

    pub fn metric(self) -> &'static str {
        match self {
            Measure::Invocations => "Invocations",
            Measure::InputTokens => "InputTokenCount",
            Measure::OutputTokens => "OutputTokenCount",
            Measure::CacheReadTokens => "CacheReadInputTokens",
            Measure::CacheWriteTokens => "CacheWriteInputTokens",
            Measure::ClientErrors => "InvocationClientErrors",
            Measure::ServerErrors => "InvocationServerErrors",
            Measure::Throttles => "InvocationThrottles",
            Measure::LatencySum | Measure::LatencyCount | Measure::LatencyP99 => "InvocationLatency",
        }
    }

    pub fn stat(self) -> &'static str {
        match self {
            Measure::LatencyCount => "SampleCount",
            Measure::LatencyP99 => "p99",
            _ => "Sum",
        }
    }
}

/// One GetMetricData query: a metric of one model with a statistic and period.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricQuery {
    /// `q<index>`: GetMetricData ids must start with a lowercase letter.
    pub id: String,
    pub model_id: String,
    pub measure: Measure,
    pub period_seconds: i32,
    /// The linked account to read it from (GetMetricData `AccountId`, in a monitoring
    /// account); `None`: the caller's own account.
    pub account: Option<String>,
}

/// Datapoints of one query: (epoch second, value).
pub type Points = Vec<(i64, f64)>;

/// One GetMetricData response page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    pub series: Vec<(String, Points)>,
    pub next_token: Option<String>,
    /// Messages CloudWatch attaches (e.g. partial data); shown as notes.
    pub messages: Vec<String>,
}

/// The two CloudWatch calls the report makes.
#[allow(async_fn_in_trait)]
pub trait MetricsApi {
    /// Every `ModelId` that has `Invocations` datapoints in the region (ListMetrics, all pages).
    async fn list_model_ids(&self) -> Result<Vec<String>, ReportError>;
    /// (account, model) for every `ModelId` with `Invocations` in this monitoring account and
    /// its linked accounts (ListMetrics `IncludeLinkedAccounts`, `OwningAccount` = `only`).
    /// Metrics without an owning account (CloudWatch names none outside a monitoring account)
    /// are the caller's: `own`.
    async fn list_model_accounts(&self, only: Option<&str>, own: &str) -> Result<Vec<(String, String)>, ReportError>;
    /// One call of at most [`MAX_QUERIES_PER_CALL`] queries.
    async fn get_metric_data(&self, queries: &[MetricQuery], period: &Period, next_token: Option<String>) -> Result<Page, ReportError>;
}

/// Every query for `models`: hourly counts and latency sums, and one whole-period p99.
pub fn queries_for(models: &[String], period: &Period) -> Vec<MetricQuery> {
    let pairs: Vec<(Option<String>, String)> = models.iter().map(|m| (None, m.clone())).collect();
    queries_for_accounts(&pairs, period)
}

/// Every query for each (account, model): as [`queries_for`], each read from its account.
pub fn queries_for_accounts(pairs: &[(Option<String>, String)], period: &Period) -> Vec<MetricQuery> {
    // The p99 period is the whole report rounded up to a minute multiple, as the API requires.
    let whole = i32::try_from(((period.seconds() + 59) / 60) * 60).unwrap_or(i32::MAX);
    let mut out = Vec::with_capacity(pairs.len() * Measure::ALL.len());
    for (account, model) in pairs {
        for measure in Measure::ALL {
            let period_seconds = if measure == Measure::LatencyP99 { whole } else { HOURLY };
            out.push(MetricQuery { id: format!("q{}", out.len()), model_id: model.clone(), measure, period_seconds, account: account.clone() });
        }
    }
    out
}

/// Datapoints per query id, and CloudWatch's messages.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fetched {
    pub points: BTreeMap<String, Points>,
    pub messages: Vec<String>,
    /// GetMetricData calls made (for tests and the progress line).
    pub calls: usize,
}

/// Runs `queries` in batches of at most 500, following NextToken within each batch.
pub async fn fetch<A: MetricsApi>(api: &A, queries: &[MetricQuery], period: &Period, mut progress: impl FnMut(usize, usize)) -> Result<Fetched, ReportError> {
    let mut out = Fetched::default();
    let batches = queries.len().div_ceil(MAX_QUERIES_PER_CALL);
    for (i, batch) in queries.chunks(MAX_QUERIES_PER_CALL).enumerate() {
        progress(i + 1, batches);
        let mut token = None;
        loop {
            let page = api.get_metric_data(batch, period, token.take()).await?;
            out.calls += 1;
            for (id, points) in page.series {
                out.points.entry(id).or_default().extend(points);
            }
            out.messages.extend(page.messages);
            match page.next_token {
                Some(t) if !t.is_empty() => token = Some(t),
                _ => break,
            }
        }
    }
    Ok(out)
}

/// Figures of one model, summed over the period and per UTC day.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelFigures {
    pub totals: BTreeMap<Measure, f64>,
    /// date → measure → sum, for the counted measures.
    pub days: BTreeMap<String, BTreeMap<Measure, f64>>,
    pub p99: Option<f64>,
}

impl ModelFigures {
    pub fn total(&self, m: Measure) -> f64 {
        self.totals.get(&m).copied().unwrap_or(0.0)
    }
}

/// Groups fetched datapoints by model.
pub fn by_model(queries: &[MetricQuery], fetched: &Fetched) -> BTreeMap<String, ModelFigures> {
    let mut out: BTreeMap<String, ModelFigures> = BTreeMap::new();
    for q in queries {
        let Some(points) = fetched.points.get(&q.id) else { continue };
        if points.is_empty() {
            continue;
        }
        let fig = out.entry(q.model_id.clone()).or_default();
        if q.measure == Measure::LatencyP99 {
            // Several accounts' p99 of one model: the highest, an upper bound as across models.
            fig.p99 = points.iter().map(|(_, v)| *v).filter(|v| v.is_finite()).fold(fig.p99, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
            continue;
        }
        for (ts, v) in points {
            *fig.totals.entry(q.measure).or_default() += v;
            *fig.days.entry(super::period::utc_date(*ts)).or_default().entry(q.measure).or_default() += v;
        }
    }
    out
}

/// The AWS SDK's CloudWatch client.
#[cfg(feature = "aws")]
pub struct SdkMetrics<'a> {
    pub aws: &'a crate::aws::Aws,
    pub client: aws_sdk_cloudwatch::Client,
}

/// One metric series ListMetrics names: its owning account (`None` where CloudWatch names none,
/// outside a monitoring account) and its dimensions as (name, value).
#[cfg(feature = "aws")]
pub(crate) type Series = (Option<String>, Vec<(String, String)>);

/// Every series of `namespace`/`metric_name`, all pages: the one ListMetrics pager of `report`
/// (the `AWS/Bedrock` models and the `AWS/BedrockMantle` ones). With `linked`, the linked
/// accounts' series too (a monitoring account), narrowed to `only`.
#[cfg(feature = "aws")]
pub(crate) async fn list_series(
    aws: &crate::aws::Aws,
    client: &aws_sdk_cloudwatch::Client,
    namespace: &str,
    metric_name: &str,
    linked: bool,
    only: Option<&str>,
) -> Result<Vec<Series>, ReportError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let resp = client
            .list_metrics()
            .namespace(namespace)
            .metric_name(metric_name)
            .set_include_linked_accounts(linked.then_some(true))
            .set_owning_account(only.map(str::to_owned))
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| ReportError::Aws(aws.error("ListMetrics", e)))?;
        let owners = resp.owning_accounts();
        for (i, m) in resp.metrics().iter().enumerate() {
            let dimensions = m.dimensions().iter().filter_map(|d| Some((d.name()?.to_owned(), d.value()?.to_owned()))).collect();
            out.push((owners.get(i).cloned(), dimensions));
        }
        match resp.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => break,
        }
    }
    Ok(out)
}

#[cfg(feature = "aws")]
impl SdkMetrics<'_> {
    /// (owning account, model) of every `AWS/Bedrock` `Invocations` metric, all pages. With
    /// `linked`, the linked accounts' too (a monitoring account), narrowed to `only`; the owner
    /// is `None` where CloudWatch names none (outside a monitoring account).
    async fn invocation_metrics(&self, linked: bool, only: Option<&str>) -> Result<Vec<(Option<String>, String)>, ReportError> {
        let series = list_series(self.aws, &self.client, "AWS/Bedrock", "Invocations", linked, only).await?;
        Ok(series
            .into_iter()
            .flat_map(|(owner, dimensions)| dimensions.into_iter().filter(|(name, _)| name == "ModelId").map(move |(_, model)| (owner.clone(), model)))
            .collect())
    }
}

#[cfg(feature = "aws")]
impl MetricsApi for SdkMetrics<'_> {
    async fn list_model_ids(&self) -> Result<Vec<String>, ReportError> {
        let mut ids: Vec<String> = self.invocation_metrics(false, None).await?.into_iter().map(|(_, m)| m).collect();
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    async fn list_model_accounts(&self, only: Option<&str>, own: &str) -> Result<Vec<(String, String)>, ReportError> {
        let found = self.invocation_metrics(true, only).await?;
        let pairs = found.into_iter().map(|(a, m)| (a.unwrap_or_else(|| own.to_owned()), m)).collect();
        Ok(super::accounts::pairs_in_scope(pairs, only))
    }

    async fn get_metric_data(&self, queries: &[MetricQuery], period: &Period, next_token: Option<String>) -> Result<Page, ReportError> {
        use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy};
        use aws_sdk_cloudwatch::primitives::DateTime;
        let mut req = self
            .client
            .get_metric_data()
            .start_time(DateTime::from_secs(period.start))
            .end_time(DateTime::from_secs(period.end))
            .scan_by(ScanBy::TimestampAscending)
            .set_next_token(next_token);
        for q in queries {
            let metric = Metric::builder()
                .namespace("AWS/Bedrock")
                .metric_name(q.measure.metric())
                .dimensions(Dimension::builder().name("ModelId").value(&q.model_id).build())
                .build();
            let stat = MetricStat::builder().metric(metric).period(q.period_seconds).stat(q.measure.stat()).build();
            req = req.metric_data_queries(MetricDataQuery::builder().id(&q.id).metric_stat(stat).return_data(true).set_account_id(q.account.clone()).build());
        }
        let resp = req.send().await.map_err(|e| ReportError::Aws(self.aws.error("GetMetricData", e)))?;
        let mut page = Page { next_token: resp.next_token().map(str::to_owned), ..Page::default() };
        for r in resp.metric_data_results() {
            let id = r.id().unwrap_or_default().to_owned();
            let points = r.timestamps().iter().zip(r.values()).map(|(t, v)| (t.secs(), *v)).collect();
            page.series.push((id, points));
            for m in r.messages() {
                page.messages.push(format!("{}: {}", m.code().unwrap_or("message"), m.value().unwrap_or_default()));
            }
        }
        for m in resp.messages() {
            page.messages.push(format!("{}: {}", m.code().unwrap_or("message"), m.value().unwrap_or_default()));
        }
        Ok(page)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::cell::RefCell;

    /// A CloudWatch stand-in: each query returns one datapoint per hour of value 1 and pages
    /// every `page_size` series, recording the size of every call.
    pub struct Fake {
        pub page_size: usize,
        pub calls: RefCell<Vec<(usize, Option<String>)>>,
    }

    impl MetricsApi for Fake {
        async fn list_model_ids(&self) -> Result<Vec<String>, ReportError> {
            Ok(vec![])
        }
        async fn list_model_accounts(&self, _: Option<&str>, _: &str) -> Result<Vec<(String, String)>, ReportError> {
            Ok(vec![])
        }
        async fn get_metric_data(&self, queries: &[MetricQuery], period: &Period, next_token: Option<String>) -> Result<Page, ReportError> {
            assert!(queries.len() <= MAX_QUERIES_PER_CALL, "{} queries in one call", queries.len());
            self.calls.borrow_mut().push((queries.len(), next_token.clone()));
            let from: usize = next_token.as_deref().map_or(0, |t| t.parse().unwrap());
            let to = (from + self.page_size).min(queries.len());
            let series = queries[from..to].iter().map(|q| (q.id.clone(), vec![(period.start, 1.0), (period.start + 3600, 2.0)])).collect();
            Ok(Page { series, next_token: (to < queries.len()).then(|| to.to_string()), messages: vec![] })
        }
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
    }

    fn period() -> Period {
        Period { start: 1_795_000_000 - 1_795_000_000 % 86_400, end: 1_795_000_000 - 1_795_000_000 % 86_400 + 86_400 }
    }

    fn queries(n: usize) -> Vec<MetricQuery> {
        (0..n).map(|i| MetricQuery { id: format!("q{i}"), model_id: "m".into(), measure: Measure::Invocations, period_seconds: HOURLY, account: None }).collect()
    }

    #[test]
    fn batches_of_at_most_500() {
        let fake = Fake { page_size: usize::MAX, calls: RefCell::new(vec![]) };
        let fetched = block_on(fetch(&fake, &queries(1201), &period(), |_, _| {})).unwrap();
        assert_eq!(fake.calls.borrow().iter().map(|c| c.0).collect::<Vec<_>>(), vec![500, 500, 201]);
        assert_eq!(fetched.calls, 3);
        assert_eq!(fetched.points.len(), 1201);
        assert_eq!(fetched.points["q1200"], vec![(period().start, 1.0), (period().start + 3600, 2.0)]);
    }

    #[test]
    fn follows_next_token_within_a_batch() {
        let fake = Fake { page_size: 200, calls: RefCell::new(vec![]) };
        let fetched = block_on(fetch(&fake, &queries(600), &period(), |_, _| {})).unwrap();
        let calls = fake.calls.borrow();
        // Batch 1 (500 queries): pages at 0, 200, 400; batch 2 (100 queries): one page.
        let tokens: Vec<Option<&str>> = calls.iter().map(|c| c.1.as_deref()).collect();
        assert_eq!(tokens, vec![None, Some("200"), Some("400"), None]);
        assert_eq!(calls.iter().map(|c| c.0).collect::<Vec<_>>(), vec![500, 500, 500, 100]);
        assert_eq!(fetched.points.len(), 600);
    }

    #[test]
    fn queries_cover_every_measure_with_unique_ids() {
        let models = vec!["a".to_owned(), "b".to_owned()];
        let p = Period { start: 0, end: 36 * 3600 + 30 };
        let q = queries_for(&models, &p);
        assert_eq!(q.len(), 22);
        let ids: std::collections::BTreeSet<_> = q.iter().map(|q| &q.id).collect();
        assert_eq!(ids.len(), 22);
        let p99 = q.iter().find(|q| q.measure == Measure::LatencyP99).unwrap();
        assert_eq!((p99.period_seconds, p99.measure.stat()), (36 * 3600 + 60, "p99"));
        assert!(q.iter().filter(|q| q.measure != Measure::LatencyP99).all(|q| q.period_seconds == 3600));
        assert_eq!(Measure::LatencyCount.stat(), "SampleCount");
    }

    #[test]
    fn sums_per_model_and_day() {
        let q = queries_for(&["m".to_owned()], &period());
        let mut fetched = Fetched::default();
        let day2 = period().start + 86_400;
        fetched.points.insert("q0".into(), vec![(period().start, 3.0), (period().start + 3600, 4.0), (day2, 5.0)]);
        fetched.points.insert("q10".into(), vec![(period().start, 812.5)]);
        let figs = by_model(&q, &fetched);
        let m = &figs["m"];
        assert_eq!(m.total(Measure::Invocations), 12.0);
        assert_eq!(m.days.len(), 2);
        assert_eq!(m.days[&super::super::period::utc_date(day2)][&Measure::Invocations], 5.0);
        assert_eq!(m.p99, Some(812.5));
    }
}
