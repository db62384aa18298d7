//! The month projection: a straight line from the period. It assumes the period is typical;
//! the method string says so and names the number of days it rests on, because a projection
//! from six hours of a Monday morning means something else than one from four weeks.

use super::model::{Projection, Totals};

pub const MONTH_DAYS: u32 = 30;

/// `figure / period_days × 30` for each total.
pub fn project(totals: &Totals, period_days: f64) -> Projection {
    let factor = if period_days > 0.0 { f64::from(MONTH_DAYS) / period_days } else { 0.0 };
    let scale = |v: u64| (v as f64 * factor).round() as u64;
    let mut method = format!("linear: each total divided by the period's {} days, times {MONTH_DAYS}", trim(period_days));
    if period_days < 7.0 {
        method.push_str("; based on less than a week, so weekly cycles are not reflected");
    }
    Projection {
        method,
        based_on_days: period_days,
        month_days: MONTH_DAYS,
        invocations: scale(totals.invocations),
        input_tokens: scale(totals.input_tokens),
        output_tokens: scale(totals.output_tokens),
        estimated_cost_usd: totals.estimated_cost_usd * factor,
    }
}

fn trim(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_from_the_period() {
        let totals = Totals { invocations: 1_000, input_tokens: 40_000, output_tokens: 7, estimated_cost_usd: 2.5, ..Totals::default() };
        // 36 hours = 1.5 days: ×20.
        let p = project(&totals, 1.5);
        assert_eq!((p.invocations, p.input_tokens, p.output_tokens), (20_000, 800_000, 140));
        assert!((p.estimated_cost_usd - 50.0).abs() < 1e-9);
        assert_eq!(p.based_on_days, 1.5);
        assert!(p.method.contains("1.5 days, times 30"), "{}", p.method);
        assert!(p.method.contains("less than a week"));
        let week = project(&totals, 7.0);
        assert!(!week.method.contains("less than a week"));
        assert_eq!(week.invocations, 4_286); // 1000 / 7 × 30 = 4285.71…
    }
}
