//! The README's two commands, as a new user meets them: the first fenced block holds exactly
//! the run command and the test command, neither of them `just`; the run command serves all
//! five services with a PATH that has cargo (and a C compiler) and no `just`, `buf` or Python
//! environment; the test command's set-up (`script/services`), run by an unprivileged user with
//! no `REDRESS_TEST_*` set, starts a private PostgreSQL and Redis on free ports, the smoke test
//! passes against them, and both are gone afterwards.

mod support;

use support::redress;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use redress_kit::ServiceKind;
use redress_testkit::{PrivateRedis, TestDatabase, free_port, redis_prefix, terminate, wait_serving};

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("the repository root")
}

/// The commands of the README's first fenced block, without comments.
fn readme_commands() -> Vec<String> {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let block: Vec<&str> = readme
        .lines()
        .skip_while(|line| !line.starts_with("```"))
        .skip(1)
        .take_while(|line| !line.starts_with("```"))
        .collect();
    block
        .iter()
        .map(|line| line.split('#').next().unwrap_or("").trim().to_string())
        .filter(|command| !command.is_empty())
        .collect()
}

#[test]
fn the_readme_opens_with_the_run_and_test_commands() {
    let commands = readme_commands();
    assert_eq!(commands.len(), 2, "the README's first block holds exactly two commands: {commands:?}");
    for command in &commands {
        assert!(!command.starts_with("just"), "{command:?} needs `just`, which a fresh machine lacks");
    }
    assert_eq!(commands[0], "cargo run --release -p redress -- up", "the run command needs nothing but cargo");
    assert_eq!(commands[1], "script/test");
    let ci = std::fs::read_to_string(root().join(".ci/run")).expect(".ci/run");
    assert!(
        ci.lines().any(|line| line.trim() == commands[1]),
        ".ci/run runs the README's test command {:?} as it is:\n{ci}",
        commands[1]
    );
}

/// Whether any directory of a PATH holds an executable `name`.
fn on_path(path: &str, name: &str) -> bool {
    path.split(':').any(|dir| Path::new(dir).join(name).is_file())
}

/// The PATH of a machine that has cargo and a C compiler (which Rust needs to link anything)
/// and nothing else the README's run command could lean on: no `just`, no `buf`, no Python
/// environment.
fn bare_path() -> String {
    let cargo = PathBuf::from(env!("CARGO"));
    let mut dirs = vec![cargo.parent().expect("cargo's directory").to_path_buf()];
    let cc = std::env::var_os("PATH")
        .and_then(|path| std::env::split_paths(&path).find(|dir| dir.join("cc").is_file()))
        .expect("a C compiler on the PATH");
    dirs.push(cc);
    let path = std::env::join_paths(dirs).expect("a PATH").to_string_lossy().into_owned();
    for tool in ["just", "buf"] {
        assert!(!on_path(&path, tool), "{tool} is on the PATH {path}; the run command must not need it");
    }
    assert!(!on_path(&path, "activate"), "a Python virtual environment is on the PATH {path}");
    path
}

/// Cargo as a user's shell runs it: none of the variables cargo sets for a test (a build script
/// that reads CARGO_MANIFEST_DIR would build again), no REDRESS_ configuration, no Python
/// environment.
fn bare_cargo(path: &str) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO"));
    command.env_clear();
    for key in ["HOME", "CARGO_HOME", "RUSTUP_HOME", "RUSTUP_TOOLCHAIN", "CARGO_TARGET_DIR", "RUSTFLAGS"] {
        if let Some(value) = std::env::var_os(key) {
            command.env(key, value);
        }
    }
    command.env("PATH", path).current_dir(root()).kill_on_drop(true).stdin(Stdio::null());
    command
}

#[tokio::test]
async fn the_run_command_serves_all_five_with_nothing_but_cargo() {
    let commands = readme_commands();
    let words: Vec<&str> = commands[0].split_whitespace().collect();
    assert_eq!(words[0], "cargo");
    // The suite has built the debug profile already; `--release` would build everything again
    // for the same code.
    let args: Vec<&str> = words[1..].iter().copied().filter(|word| *word != "--release").collect();
    let path = bare_path();
    // `cargo run` builds first: under script/test that is already done, and run on its own
    // (a subset of the suite with other features) it may have to link again, which is not part
    // of starting to serve.
    let build: Vec<&str> =
        args.iter().map(|arg| if *arg == "run" { "build" } else { *arg }).take_while(|arg| *arg != "--").collect();
    let built = bare_cargo(&path).args(&build).output().await.expect("cargo build");
    assert!(built.status.success(), "{build:?} with PATH={path}: {}", String::from_utf8_lossy(&built.stderr));

    let dir = tempfile::tempdir().expect("data dir");
    let (port, metrics, flight) = (free_port(), free_port(), free_port());
    let child = bare_cargo(&path)
        .args(&args)
        .args(["--listen", &format!("127.0.0.1:{port}"), "--data-dir", dir.path().to_str().expect("utf-8")])
        .args(["--set", &format!("metrics.listen=127.0.0.1:{metrics}")])
        .args(["--set", &format!("analytics.flight_listen=127.0.0.1:{flight}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cargo run");
    for service in ServiceKind::ALL {
        wait_serving(port, service.grpc_name()).await;
    }
    // `cargo run` replaces itself with redress, so the signal reaches the server.
    terminate(child).await;
}

/// The smoke test of the set-up: the suite reaches its PostgreSQL (a database of its own,
/// every service's migrations) and Redis, starts a Redis of its own, and runs the five
/// services as separate listeners of one `redress serve` on them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_the_five_services_run_on_the_test_servers() {
    let db = TestDatabase::create().await;
    let prefix = redis_prefix().await;
    let data = tempfile::tempdir().expect("data dir");
    let redis_url = redress_testkit::redis_url();
    let env = [
        ("REDRESS_DATABASE__URL", db.url.as_str()),
        ("REDRESS_REDIS__URL", redis_url.as_str()),
        ("REDRESS_REDIS__KEY_PREFIX", prefix.as_str()),
        ("REDRESS_DATA_DIR", data.path().to_str().expect("utf-8")),
        ("REDRESS_AUTH__MODE", "off"),
        ("REDRESS_METRICS__LISTEN", ""),
    ];
    let migrate = redress().arg("migrate").envs(env).output().await.expect("redress migrate");
    assert!(migrate.status.success(), "redress migrate: {}", String::from_utf8_lossy(&migrate.stderr));

    let ports: Vec<(ServiceKind, u16)> = ServiceKind::ALL.into_iter().map(|kind| (kind, free_port())).collect();
    let address = |kind: ServiceKind| {
        let port = ports.iter().find(|(k, _)| *k == kind).map(|(_, port)| *port).expect("a port");
        format!("http://127.0.0.1:{port}")
    };
    let mut serve = redress();
    serve.arg("serve").args(ServiceKind::ALL.map(ServiceKind::key)).envs(env);
    for (kind, port) in &ports {
        serve.args(["--set", &format!("{}.listen=127.0.0.1:{port}", kind.key())]);
    }
    for peer in [ServiceKind::Case, ServiceKind::Escalation, ServiceKind::Notification] {
        serve.args(["--set", &format!("peers.{}={}", peer.key(), address(peer))]);
    }
    serve.args(["--set", &format!("analytics.flight_listen=127.0.0.1:{}", free_port())]);
    let child = serve.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("redress serve");
    for (kind, port) in &ports {
        wait_serving(*port, kind.grpc_name()).await;
    }
    terminate(child).await;

    let own = PrivateRedis::start();
    let client = redis::Client::open(own.url.as_str()).expect("a redis URL");
    let mut connection = client.get_multiplexed_async_connection().await.expect("the test's own Redis");
    let pong: String = redis::cmd("PING").query_async(&mut connection).await.expect("PING");
    assert_eq!(pong, "PONG");
}

/// The user the set-up test runs as: `nobody` when the suite runs as root, else the suite's
/// own (unprivileged) user.
fn unprivileged() -> Option<&'static str> {
    let uid = std::process::Command::new("id").arg("-u").output().expect("id -u");
    (String::from_utf8_lossy(&uid.stdout).trim() == "0").then_some("nobody")
}

/// The uid of `user`, or of this process.
fn uid_of(user: Option<&str>) -> String {
    let output = std::process::Command::new("id").arg("-u").args(user).output().expect("id -u");
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// Processes of `uid` whose command line mentions any of `needles`.
fn processes_mentioning(uid: &str, needles: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let dir = entry.path();
        let Ok(status) = std::fs::read_to_string(dir.join("status")) else { continue };
        let owner =
            status.lines().find_map(|line| line.strip_prefix("Uid:")).and_then(|ids| ids.split_whitespace().next());
        if owner != Some(uid) {
            continue;
        }
        let Ok(cmdline) = std::fs::read(dir.join("cmdline")) else { continue };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if needles.iter().any(|needle| cmdline.contains(needle.as_str())) {
            found.push(cmdline);
        }
    }
    found
}

/// The port after `label` ("PostgreSQL on 127.0.0.1:") in the set-up's report.
fn port_after(report: &str, label: &str) -> u16 {
    let rest = &report[report.find(label).unwrap_or_else(|| panic!("no {label:?} in:\n{report}")) + label.len()..];
    rest.chars().take_while(char::is_ascii_digit).collect::<String>().parse().expect("a port")
}

#[test]
fn the_set_up_starts_private_servers_for_an_unprivileged_user_and_stops_them() {
    // Everything the unprivileged user runs is copied where it may read it: the checkout may sit
    // in a home directory no one else can enter.
    let work = tempfile::Builder::new().prefix("redress-setup-").tempdir_in("/tmp").expect("a work directory");
    let dir = work.path();
    std::fs::create_dir(dir.join("script")).expect("script/");
    for entry in std::fs::read_dir(root().join("script")).expect("script/").flatten() {
        std::fs::copy(entry.path(), dir.join("script").join(entry.file_name())).expect("copy a script");
    }
    std::fs::copy(std::env::current_exe().expect("this test binary"), dir.join("smoke")).expect("copy the tests");
    std::fs::copy(support::binary(), dir.join("redress")).expect("copy redress");
    let user = unprivileged();
    let mut command = match user {
        Some(user) => {
            let chown = std::process::Command::new("chown").args(["-R", user]).arg(dir).status().expect("chown");
            assert!(chown.success(), "chown to {user}");
            let mut command = std::process::Command::new("runuser");
            command.args(["-u", user, "--"]);
            command
        }
        None => std::process::Command::new("env"),
    };
    let started = Instant::now();
    let output = command
        .arg("bash")
        .arg(dir.join("script/services"))
        .arg(dir.join("smoke"))
        .args(["--exact", "smoke_the_five_services_run_on_the_test_servers", "--test-threads", "1"])
        .env_clear()
        .env("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        .env("HOME", dir)
        .env("TMPDIR", dir)
        .env("LANG", "C.UTF-8")
        .env("REDRESS_TEST_SERVICES_DIR", dir.join("state"))
        .env("REDRESS_BIN", dir.join("redress"))
        .stdin(Stdio::null())
        .output()
        .expect("script/services");
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "script/services as {user:?} failed\n{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "the smoke test ran and passed:\n{stdout}\n{stderr}");
    let postgres = port_after(&stderr, "PostgreSQL on 127.0.0.1:");
    let redis = port_after(&stderr, "Redis on 127.0.0.1:");
    println!("set-up and smoke test as {user:?}: {:.1} s\n{stdout}\n{stderr}", started.elapsed().as_secs_f64());

    // Both servers are gone: no process of that user mentions the run's files or ports, and the
    // ports can be bound again.
    let uid = uid_of(user);
    let needles = vec![dir.display().to_string(), format!("127.0.0.1:{redis}"), format!("-p {postgres}")];
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = processes_mentioning(&uid, &needles);
        let bound =
            [postgres, redis].into_iter().filter(|port| std::net::TcpListener::bind(("127.0.0.1", *port)).is_err());
        let bound: Vec<u16> = bound.collect();
        if left.is_empty() && bound.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "after the run, processes left: {left:?}; ports still taken: {bound:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let state: Vec<_> = std::fs::read_dir(dir.join("state")).map(|d| d.flatten().collect()).unwrap_or_default();
    assert!(state.is_empty(), "the run's files are removed: {state:?}");
}
