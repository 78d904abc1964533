//! Typed settings: a value is parsed once, when the configuration is loaded, and read typed
//! everywhere after. A [`Setting`] keeps the text it was written as, so that `redress config`
//! prints the configuration back as given.

use std::fmt;
use std::net::SocketAddr;
use std::ops::Deref;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::ConfigError;

/// What a setting's text parses to; the error says what is wrong, the caller names the key.
pub trait Parse: Sized {
    /// Parses the text of a setting.
    fn parse(text: &str) -> Result<Self, String>;
}

impl Parse for Duration {
    /// A duration such as `30s`, `250ms` or `1h 30m`.
    fn parse(text: &str) -> Result<Self, String> {
        humantime::parse_duration(text).map_err(|e| format!("not a duration ({e}); write it like 30s or 250ms"))
    }
}

impl Parse for SocketAddr {
    /// A `host:port` listen address, with a port from 0 to 65535.
    fn parse(text: &str) -> Result<Self, String> {
        let (host, port) = text.rsplit_once(':').ok_or_else(|| format!("{text:?} is not host:port"))?;
        let port: u64 = port.parse().map_err(|_| format!("port {port:?} is not a number"))?;
        if port > u64::from(u16::MAX) {
            return Err(format!("port {port} is out of range (0 to 65535)"));
        }
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let ip: std::net::IpAddr = match host {
            "localhost" => std::net::Ipv4Addr::LOCALHOST.into(),
            _ => host.parse().map_err(|_| format!("{host:?} is not an IP address"))?,
        };
        Ok(SocketAddr::new(ip, port as u16))
    }
}

impl<T: Parse> Parse for Option<T> {
    /// Empty text is `None` (the setting is turned off).
    fn parse(text: &str) -> Result<Self, String> {
        if text.is_empty() { Ok(None) } else { T::parse(text).map(Some) }
    }
}

/// A setting as written and as the value it parses to.
#[derive(Clone, PartialEq, Eq)]
pub struct Setting<T> {
    text: String,
    value: T,
}

impl<T: Parse> Setting<T> {
    /// Parses `text`; an error names `key`.
    pub fn parse(key: &str, text: &str) -> Result<Self, ConfigError> {
        T::parse(text)
            .map(|value| Self { text: text.to_string(), value })
            .map_err(|problem| ConfigError::new(key, problem))
    }
}

impl<T> Setting<T> {
    /// The text the setting was written as.
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl<T: Copy> Setting<T> {
    /// The typed value.
    pub fn get(&self) -> T {
        self.value
    }
}

impl<T> Deref for Setting<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

/// Built-in defaults and test configurations write settings as literals; a literal that does
/// not parse is a bug in the code that wrote it, so this panics naming it.
impl<T: Parse> From<&str> for Setting<T> {
    fn from(text: &str) -> Self {
        match Setting::parse("<literal>", text) {
            Ok(setting) => setting,
            Err(e) => panic!("setting literal {text:?}: {}", e.problem),
        }
    }
}

impl<T: Parse> From<String> for Setting<T> {
    fn from(text: String) -> Self {
        Setting::from(text.as_str())
    }
}

impl<T> PartialEq<&str> for Setting<T> {
    fn eq(&self, other: &&str) -> bool {
        self.text == *other
    }
}

impl<T> fmt::Debug for Setting<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.text, f)
    }
}

impl<T> fmt::Display for Setting<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl<T> Serialize for Setting<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

/// A value that does not parse fails the load; the configuration loader adds the key.
impl<'de, T: Parse> Deserialize<'de> for Setting<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        T::parse(&text).map(|value| Self { text, value }).map_err(serde::de::Error::custom)
    }
}

/// A duration setting, such as `30s`.
pub type DurationSetting = Setting<Duration>;

/// A `host:port` listen address.
pub type ListenSetting = Setting<SocketAddr>;

/// A listen address that may be empty, turning the listener off.
pub type OptionalListen = Setting<Option<SocketAddr>>;

/// Parses a `host:port` listen address, with a port from 0 to 65535.
pub fn parse_listen(key: &str, value: &str) -> Result<SocketAddr, ConfigError> {
    Setting::<SocketAddr>::parse(key, value).map(|s| s.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_keep_their_text_and_parse_once() {
        let s: DurationSetting = "1h 30m".into();
        assert_eq!(s.get(), Duration::from_secs(5400));
        assert_eq!(s, "1h 30m");
        let off: OptionalListen = String::new().into();
        assert_eq!(off.get(), None);
        let err = Setting::<Duration>::parse("k", "soon").unwrap_err();
        assert_eq!(err.key, "k");
        assert!(err.problem.contains("write it like 30s"), "{err}");
    }

    #[test]
    fn listen_addresses_parse() {
        assert_eq!(parse_listen("k", "127.0.0.1:0").unwrap().port(), 0);
        assert_eq!(parse_listen("k", "[::1]:80").unwrap().port(), 80);
        assert!(parse_listen("k", "localhost:65536").unwrap_err().problem.contains("out of range"));
        assert!(parse_listen("k", "nowhere").is_err());
    }
}
