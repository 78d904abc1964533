//! Loading the layers: built-in defaults, an optional TOML file, `REDRESS_…` environment
//! variables, then `--set key=value` flags.

use std::path::PathBuf;

use super::{Config, ConfigError, ENV_PREFIX, TEST_ENV_PREFIX};

/// Where configuration comes from, in increasing precedence after the built-in defaults.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// A TOML file (`--config`).
    pub file: Option<PathBuf>,
    /// Environment variables; normally [`std::env::vars`].
    pub env: Vec<(String, String)>,
    /// `key=value` overrides from flags, applied last.
    pub overrides: Vec<(String, String)>,
    /// For `redress up`: the built-in defaults listen on loopback only (metrics and Flight SQL
    /// too), so a laptop on a shared network gives nothing out unless configured to.
    pub embedded: bool,
}

impl Sources {
    /// The process environment, with an optional file and flag overrides.
    pub fn from_process(file: Option<PathBuf>, overrides: Vec<(String, String)>) -> Self {
        Self { file, env: std::env::vars().collect(), overrides, embedded: false }
    }
}

impl Config {
    /// Loads the layers and validates the result.
    pub fn load(sources: &Sources) -> Result<Self, ConfigError> {
        let base = if sources.embedded { Config::embedded() } else { Config::default() };
        let defaults = config::Config::try_from(&base).map_err(|e| ConfigError::new("<defaults>", e.to_string()))?;
        let mut builder = config::Config::builder().add_source(defaults);
        if let Some(file) = &sources.file {
            if !file.is_file() {
                return Err(ConfigError::new("--config", format!("no such file {}", file.display())));
            }
            builder = builder.add_source(config::File::from(file.as_path()).format(config::FileFormat::Toml));
        }
        let env: config::Map<String, String> = sources
            .env
            .iter()
            .filter(|(k, _)| k.starts_with(ENV_PREFIX) && !k.starts_with(TEST_ENV_PREFIX))
            .cloned()
            .collect();
        builder = builder.add_source(
            config::Environment::with_prefix("REDRESS").prefix_separator("_").separator("__").source(Some(env)),
        );
        for (key, value) in &sources.overrides {
            builder = builder
                .set_override(key.as_str(), value.as_str())
                .map_err(|e| ConfigError::new(key.clone(), e.to_string()))?;
        }
        let merged = builder.build().map_err(|e| describe(&e))?;
        let config: Config = merged.try_deserialize().map_err(|e| describe(&e))?;
        config.validate()?;
        Ok(config)
    }
}

/// Turns a `config` crate error into one line naming the key.
fn describe(error: &config::ConfigError) -> ConfigError {
    let text = error.to_string();
    // Unknown keys: "unknown field `x`, expected one of ..." possibly followed by " for key `a.b`".
    if let Some(field) = between(&text, "unknown field `", "`") {
        let parent = between(&text, "for key `", "`").unwrap_or_default();
        let key = if parent.is_empty() { field.to_string() } else { format!("{parent}.{field}") };
        return ConfigError::new(key, "unknown key");
    }
    if let Some(key) = between(&text, "for key `", "`") {
        let problem = text.split(" for key `").next().unwrap_or(&text).to_string();
        return ConfigError::new(key, problem);
    }
    ConfigError::new("<config>", text)
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let len = text[from..].find(end)?;
    Some(&text[from..from + len])
}

/// Parses `key=value` flag arguments.
pub fn parse_overrides(pairs: &[String]) -> Result<Vec<(String, String)>, ConfigError> {
    pairs
        .iter()
        .map(|pair| {
            pair.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.to_string()))
                .ok_or_else(|| ConfigError::new(pair.clone(), "--set takes key=value"))
        })
        .collect()
}
