//! The statistics the reports need: the Poisson upper tail for recurring issues.

/// The natural logarithm of `n!`, exact by summation for small `n` and by Stirling's series
/// beyond (error below 1e-12 there).
pub fn ln_factorial(n: u64) -> f64 {
    if n < 64 {
        return (2..=n).map(|i| (i as f64).ln()).sum();
    }
    let x = n as f64 + 1.0;
    // ln Γ(x) by Stirling's series.
    (x - 0.5) * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI).ln() + 1.0 / (12.0 * x) - 1.0 / (360.0 * x.powi(3))
        + 1.0 / (1260.0 * x.powi(5))
}

/// P(X ≥ k) for X ~ Poisson(λ): the chance of seeing at least `k` events when `λ` are
/// expected. Summed upward from `k` in log space, so tiny tails stay accurate.
pub fn poisson_upper_tail(k: u64, lambda: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if lambda <= 0.0 {
        return 0.0;
    }
    if (k as f64) < lambda {
        // The tail is large: 1 − P(X ≤ k − 1), summed downward from k − 1.
        let mut term = (-lambda + (k - 1) as f64 * lambda.ln() - ln_factorial(k - 1)).exp();
        let mut below = 0.0;
        let mut i = k - 1;
        loop {
            below += term;
            if i == 0 || term < below * 1e-17 {
                break;
            }
            term *= i as f64 / lambda;
            i -= 1;
        }
        return (1.0 - below).clamp(0.0, 1.0);
    }
    let mut term = (-lambda + k as f64 * lambda.ln() - ln_factorial(k)).exp();
    let mut sum = 0.0;
    let mut i = k;
    while term > 0.0 && term >= sum * 1e-17 {
        sum += term;
        i += 1;
        term *= lambda / i as f64;
    }
    sum.clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    /// 1 − P(X < k), summed term by term.
    fn direct(k: u64, lambda: f64) -> f64 {
        1.0 - (0..k).map(|i| (-lambda + i as f64 * lambda.ln() - ln_factorial(i)).exp()).sum::<f64>()
    }

    #[test]
    fn factorials() {
        assert_eq!(ln_factorial(0), 0.0);
        assert!(close(ln_factorial(5), 120f64.ln(), 1e-12));
        let exact: f64 = (2..=100u64).map(|i| (i as f64).ln()).sum();
        assert!(close(ln_factorial(100), exact, 1e-12));
    }

    #[test]
    fn poisson_tails_match_known_values() {
        assert!(close(poisson_upper_tail(1, 1.0), 1.0 - (-1f64).exp(), 1e-12));
        // P(X ≥ 5 | 1) = 1 − e^−1 (1 + 1 + 1/2 + 1/6 + 1/24).
        assert!(close(poisson_upper_tail(5, 1.0), 0.003_659_846_827_343_7, 1e-9));
        // A five-fold week: P(X ≥ 20 | 4) = 1.0200522e-8.
        assert!(close(poisson_upper_tail(20, 4.0), 1.020_052_2e-8, 1e-6));
        assert_eq!(poisson_upper_tail(0, 3.0), 1.0);
        assert_eq!(poisson_upper_tail(3, 0.0), 0.0);
        let mut last = 1.0;
        for k in 0..60 {
            let p = poisson_upper_tail(k, 12.5);
            assert!(p <= last + 1e-15, "monotone in k, k={k}");
            last = p;
        }
    }

    #[test]
    fn agrees_with_direct_summation() {
        for (k, lambda) in [(3, 2.5), (8, 10.0), (15, 3.0), (40, 35.5), (2, 0.1), (70, 80.0)] {
            assert!(close(poisson_upper_tail(k, lambda), direct(k, lambda), 1e-9), "k={k} λ={lambda}");
        }
    }
}
