//! What the binary's tests share.

use std::process::Stdio;

use tokio::process::Command;

/// The `redress` binary with no `REDRESS_…` configuration from the test's environment.
pub fn redress() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_redress"));
    for (key, _) in std::env::vars() {
        if key.starts_with("REDRESS_") && !key.starts_with("REDRESS_TEST_") {
            command.env_remove(key);
        }
    }
    command.kill_on_drop(true).stdin(Stdio::null());
    command
}
