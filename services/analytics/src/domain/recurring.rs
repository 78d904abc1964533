//! Recurring-issue detection: which categories, products and root causes rose significantly
//! this week against their own baseline.
//!
//! The statistic is a one-sided exact Poisson test. Complaints about one product (or in one
//! category, or with one root cause) arrive independently enough that a week's count is well
//! modelled as Poisson with the baseline weekly mean λ (floored at one case a week, so a value
//! that was silent is not infinitely surprising). The p-value is P(X ≥ this week's count | λ).
//! It is exact for the small counts a single product has, where a z-score's normal
//! approximation overstates rare spikes. A value is flagged when
//! - p is below 0.001 after a Bonferroni correction for the number of values examined in the
//!   dimension (so many quiet products do not produce false alarms by chance),
//! - this week has at least 5 cases (tiny counts are never actionable), and
//! - this week is at least twice the baseline mean (on high-volume categories a small rise can
//!   be statistically significant without being a new issue; real weekly counts are also more
//!   variable than Poisson, and the ratio floor absorbs that over-dispersion).
//!
//! The score is −log10 p, uncorrected: how surprising the week is.

use redress_proto::analytics::v1::IssueDimension;

use super::stats::poisson_upper_tail;

/// The significance level before correction.
pub const ALPHA: f64 = 0.001;
/// The fewest cases in the week for a value to be flagged.
pub const MIN_COUNT: u64 = 5;
/// The smallest rise over the baseline mean for a value to be flagged.
pub const MIN_RATIO: f64 = 2.0;

/// The statistic in words, returned with every answer.
pub const STATISTIC: &str = "one-sided exact Poisson test of this week's count against the mean weekly count of the \
baseline weeks (floored at 1): flagged when p < 0.001 after a Bonferroni correction for the values examined in the \
dimension, with at least 5 cases this week and at least twice the baseline mean; score = -log10(p)";

/// Weekly counts of one value.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The value: a category, product id or root-cause category.
    pub value: String,
    /// Cases in each baseline week.
    pub baseline: Vec<u64>,
    /// Cases in the week examined.
    pub current: u64,
}

/// A value whose week rose significantly.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The value.
    pub value: String,
    /// Cases in the week examined.
    pub current: u64,
    /// Mean weekly cases over the baseline.
    pub baseline_mean: f64,
    /// current / max(baseline_mean, 1).
    pub ratio: f64,
    /// P(X ≥ current | λ).
    pub p_value: f64,
    /// −log10 p.
    pub score: f64,
}

/// Examines every series of one dimension; the findings come highest score first.
pub fn detect(series: &[Series]) -> Vec<Finding> {
    let examined = series.len().max(1) as f64;
    let mut findings: Vec<Finding> = series
        .iter()
        .filter_map(|s| {
            let weeks = s.baseline.len().max(1) as f64;
            let baseline_mean = s.baseline.iter().sum::<u64>() as f64 / weeks;
            let lambda = baseline_mean.max(1.0);
            let ratio = s.current as f64 / lambda;
            if s.current < MIN_COUNT || ratio < MIN_RATIO {
                return None;
            }
            let p_value = poisson_upper_tail(s.current, lambda);
            if p_value * examined >= ALPHA {
                return None;
            }
            let score = -p_value.max(f64::MIN_POSITIVE).log10();
            Some(Finding { value: s.value.clone(), current: s.current, baseline_mean, ratio, p_value, score })
        })
        .collect();
    findings.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.value.cmp(&b.value)));
    findings
}

/// The dimension in words, for explanations.
pub fn label(dimension: IssueDimension) -> &'static str {
    match dimension {
        IssueDimension::Category => "category",
        IssueDimension::Product => "product",
        IssueDimension::RootCause => "root cause",
        IssueDimension::Unspecified => "value",
    }
}

/// The finding in words, for example
/// "product SKU-123: 25 cases this week against 5.0 a week before (5.0×)".
pub fn explain(dimension: &str, finding: &Finding) -> String {
    format!(
        "{dimension} {}: {} cases this week against {:.1} a week before ({:.1}×)",
        finding.value, finding.current, finding.baseline_mean, finding.ratio
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(value: &str, baseline: &[u64], current: u64) -> Series {
        Series { value: value.into(), baseline: baseline.to_vec(), current }
    }

    #[test]
    fn a_five_fold_week_is_found_and_steady_values_are_not() {
        let found = detect(&[
            series("steady-high", &[40, 44, 38, 41, 43, 39, 42, 40], 45),
            series("steady-low", &[3, 2, 4, 3, 3, 2, 4, 3], 4),
            series("spike", &[3, 4, 3, 2, 4, 3, 3, 2], 15),
            series("noisy-double", &[3, 3, 3, 3, 3, 3, 3, 3], 6),
        ]);
        assert_eq!(found.len(), 1, "{found:?}");
        let spike = &found[0];
        assert_eq!(spike.value, "spike");
        assert!((spike.baseline_mean - 3.0).abs() < 1e-9);
        assert!((spike.ratio - 5.0).abs() < 1e-9);
        assert!(spike.score > 6.0, "{}", spike.score);
        assert_eq!(explain("product", spike), "product spike: 15 cases this week against 3.0 a week before (5.0×)");
    }

    #[test]
    fn floors_keep_small_and_merely_significant_rises_quiet() {
        // A new product with a handful of cases: fewer than the minimum count.
        assert!(detect(&[series("new", &[0; 8], 4)]).is_empty());
        // A new product with many: flagged against the floor of one a week.
        assert_eq!(detect(&[series("new", &[0; 8], 12)]).len(), 1);
        // A busy category up 30%: significant by p alone, but under the ratio floor.
        assert!(detect(&[series("busy", &[1000; 8], 1300)]).is_empty());
    }

    #[test]
    fn the_correction_grows_with_the_values_examined() {
        let borderline = series("x", &[2; 8], 9);
        assert_eq!(detect(std::slice::from_ref(&borderline)).len(), 1);
        let mut many = vec![borderline];
        many.extend((0..500).map(|i| series(&format!("quiet-{i}"), &[2; 8], 2)));
        assert!(detect(&many).is_empty(), "one borderline rise among 501 values is chance");
    }
}
