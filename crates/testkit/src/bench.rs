//! What the benchmarks share: their figures, and pgbench as the yardstick.

use std::process::Command;
use std::time::Duration;

/// The `p` quantile (0 to 1) of sorted durations, nearest rank; zero for none.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// A duration in milliseconds, for printing.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Runs `script` (pgbench's SQL, written to `name` in the temporary directory) with `clients`
/// clients for `seconds` against the database at `url`, and returns the transactions per second
/// pgbench reports.
pub fn pgbench(url: &str, name: &str, script: &str, clients: usize, seconds: u64) -> f64 {
    let path = std::env::temp_dir().join(format!("{name}-{}.sql", std::process::id()));
    std::fs::write(&path, script).expect("script");
    let output = Command::new("pgbench")
        .args(["-n", "-c", &clients.to_string(), "-j", "2", "-T", &seconds.to_string(), "-f"])
        .arg(&path)
        .arg(url)
        .output()
        .expect("pgbench is installed (it ships with PostgreSQL)");
    let _ = std::fs::remove_file(&path);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "pgbench failed: {stdout}{}", String::from_utf8_lossy(&output.stderr));
    stdout
        .lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.trim_start_matches("tps = ").split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("a tps line")
}
