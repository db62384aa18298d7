//! Error and throttle rates from Bedrock's invocation metrics, written once so that the alarms,
//! the dashboards and both reports (Rust and src/scheduled_reports/report_handler.py) divide by
//! the same thing.
//!
//! What `Invocations` counts, per the Bedrock CloudWatch metrics page
//! (https://docs.aws.amazon.com/bedrock/latest/userguide/monitoring-runtime-metrics.html):
//! "Number of requests to the Converse, ConverseStream, InvokeModel, and
//! InvokeModelWithResponseStream API operations that Amazon Bedrock accepted for processing. This
//! count includes requests that later failed with a client-side or server-side error. It doesn't
//! include throttled requests, or requests that were rejected during input validation before
//! Amazon Bedrock began processing them."
//! (An earlier version of the page said "Number of successful requests" and, under
//! `InvocationThrottles`, "Throttled requests and other invocation errors don't count as either
//! Invocations or Errors"; both versions exclude throttles, the current one counts errors in.)
//!
//! Hence: errors are a part of `Invocations`, so the error rate is errors / `Invocations`; a
//! throttled request is not, so the throttled share of requests is throttles / (`Invocations` +
//! throttles).

/// Client + server errors as a percentage of `Invocations` (`None` without invocations).
pub fn error_rate_percent(invocations: u64, errors: u64) -> Option<f64> {
    (invocations > 0).then(|| errors as f64 / invocations as f64 * 100.0)
}

/// Throttled requests as a percentage of all requests Bedrock received (accepted + throttled).
pub fn throttle_rate_percent(invocations: u64, throttles: u64) -> Option<f64> {
    let requests = invocations + throttles;
    (requests > 0).then(|| throttles as f64 / requests as f64 * 100.0)
}

/// Metric math over `i` = `Invocations`, `c` = `InvocationClientErrors`, `s` =
/// `InvocationServerErrors` and `t` = `InvocationThrottles` (all Sum): (expression, label).
pub const SUCCESS_PERCENT: (&str, &str) = ("100 * (i - FILL(c, 0) - FILL(s, 0)) / i", "Success %");
pub const CLIENT_ERROR_PERCENT: (&str, &str) = ("100 * FILL(c, 0) / i", "Client errors %");
pub const SERVER_ERROR_PERCENT: (&str, &str) = ("100 * FILL(s, 0) / i", "Server errors %");
pub const THROTTLED_PERCENT: (&str, &str) = ("100 * FILL(t, 0) / (i + FILL(t, 0))", "Throttled %");

/// The throttling alarm's math: `m1` = `InvocationThrottles`, `m2` = `Invocations` (Sum).
pub const THROTTLE_ALARM_EXPRESSION: &str = "100 * FILL(m1, 0) / (FILL(m1, 0) + FILL(m2, 0))";

#[cfg(test)]
mod tests {
    use super::*;

    /// Evaluates the expressions above for given sums (FILL of a present value is the value).
    fn eval(expr: &str, i: f64, c: f64, s: f64, t: f64) -> f64 {
        let e = expr.replace("FILL(c, 0)", &c.to_string()).replace("FILL(s, 0)", &s.to_string()).replace("FILL(t, 0)", &t.to_string());
        let e = e.replace("FILL(m1, 0)", &t.to_string()).replace("FILL(m2, 0)", &i.to_string()).replace('i', &i.to_string());
        calc(&e)
    }

    fn calc(e: &str) -> f64 {
        let t: Vec<char> = e.chars().filter(|c| !c.is_whitespace()).collect();
        crate::bedrock::pricing::cost_expression_tests::parse_sum(&t, &mut 0)
    }

    #[test]
    fn errors_are_inside_invocations_and_throttles_outside() {
        // 200 requests accepted (10 of them failed: 6 client, 4 server), 50 more throttled.
        let (i, c, s, t) = (200.0, 6.0, 4.0, 50.0);
        assert_eq!(error_rate_percent(200, 10), Some(5.0));
        assert_eq!(throttle_rate_percent(200, 50), Some(20.0));
        assert_eq!(eval(SUCCESS_PERCENT.0, i, c, s, t), 95.0);
        assert_eq!(eval(CLIENT_ERROR_PERCENT.0, i, c, s, t), 3.0);
        assert_eq!(eval(SERVER_ERROR_PERCENT.0, i, c, s, t), 2.0);
        assert_eq!(eval(THROTTLED_PERCENT.0, i, c, s, t), throttle_rate_percent(200, 50).unwrap());
        assert_eq!(eval(THROTTLE_ALARM_EXPRESSION, i, c, s, t), 20.0);
        // Success, client and server shares add up to all accepted requests.
        let parts: f64 = [SUCCESS_PERCENT, CLIENT_ERROR_PERCENT, SERVER_ERROR_PERCENT].iter().map(|(e, _)| eval(e, i, c, s, t)).sum();
        assert_eq!(parts, 100.0);
        assert_eq!(error_rate_percent(0, 0), None);
        assert_eq!(throttle_rate_percent(0, 0), None);
        assert_eq!(throttle_rate_percent(0, 3), Some(100.0), "all throttled is 100%, not undefined");
    }
}
