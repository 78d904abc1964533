//! What the binary's tests share.

use std::process::Stdio;

use tokio::process::Command;

/// The binary under test: `$REDRESS_BIN`, else the one cargo built for these tests.
pub fn binary() -> String {
    std::env::var("REDRESS_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_redress").to_string())
}

/// The `redress` binary with no `REDRESS_…` configuration from the test's environment.
pub fn redress() -> Command {
    let mut command = Command::new(binary());
    for (key, _) in std::env::vars() {
        if key.starts_with("REDRESS_") && !key.starts_with("REDRESS_TEST_") {
            command.env_remove(key);
        }
    }
    command.kill_on_drop(true).stdin(Stdio::null());
    command
}
