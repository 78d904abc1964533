//! The input check every request passes before its handler runs, whatever the service and
//! whoever the caller (system-only methods included).
//!
//! The request is decoded a second time as a `prost_reflect::DynamicMessage` over the
//! contract's descriptors and walked to any depth, repeated and map fields included. It is
//! refused with INVALID_ARGUMENT and a `google.rpc.BadRequest` naming each field when it holds
//! - a string with NUL or another control character other than tab, line feed and carriage
//!   return (PostgreSQL cannot store NUL, and no text of the product needs the others);
//! - a `google.protobuf.Timestamp` outside 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z, or
//!   with nanos outside 0 to 999,999,999;
//! - a `google.protobuf.Duration` beyond ±10,000 years, or with nanos out of range or of the
//!   other sign than its seconds.
//!
//! These are the bounds `google/protobuf/timestamp.proto` and `duration.proto` document, so no
//! service has to think about values its database or its date arithmetic cannot hold. Each
//! service's own validation still checks what its fields mean.

mod layer;

pub use layer::{InputLayer, InputService};

use prost_reflect::{DescriptorPool, DynamicMessage, MapKey, ReflectMessage, Value};
use tonic_types::FieldViolation;

use crate::validate::has_control_chars;

/// The most violations one refusal carries; the walk stops collecting after that many.
pub const MAX_VIOLATIONS: usize = 32;

/// 0001-01-01T00:00:00Z in seconds since the Unix epoch.
pub const MIN_TIMESTAMP_SECONDS: i64 = -62_135_596_800;
/// 9999-12-31T23:59:59Z in seconds since the Unix epoch.
pub const MAX_TIMESTAMP_SECONDS: i64 = 253_402_300_799;
/// 10,000 years of 365.25 days, in seconds: the longest `google.protobuf.Duration`.
pub const MAX_DURATION_SECONDS: i64 = 315_576_000_000;

const MAX_NANOS: i32 = 999_999_999;

/// The contract's descriptors (`redress_proto::FILE_DESCRIPTOR_SET`), well-known types included.
pub fn contract() -> Result<DescriptorPool, prost_reflect::DescriptorError> {
    DescriptorPool::decode(redress_proto::FILE_DESCRIPTOR_SET)
}

/// Every violation of the input rules in `message`, each naming its field by path
/// (`filter.owner`, `entries[2].text`, `attributes["key"]`), at most [`MAX_VIOLATIONS`].
pub fn check(message: &DynamicMessage) -> Vec<FieldViolation> {
    let mut walk = Walk::default();
    walk.message("", message);
    walk.violations
}

#[derive(Default)]
struct Walk {
    violations: Vec<FieldViolation>,
}

impl Walk {
    fn full(&self) -> bool {
        self.violations.len() >= MAX_VIOLATIONS
    }

    fn add(&mut self, field: &str, description: &str) {
        if !self.full() {
            self.violations.push(FieldViolation::new(field, description));
        }
    }

    fn message(&mut self, path: &str, message: &DynamicMessage) {
        match message.descriptor().full_name() {
            "google.protobuf.Timestamp" => return self.timestamp(path, message),
            "google.protobuf.Duration" => return self.duration(path, message),
            _ => {}
        }
        for (field, value) in message.fields() {
            if self.full() {
                return;
            }
            let path = if path.is_empty() { field.name().to_string() } else { format!("{path}.{}", field.name()) };
            match value {
                Value::List(items) => {
                    for (i, item) in items.iter().enumerate() {
                        self.value(&format!("{path}[{i}]"), item);
                    }
                }
                Value::Map(entries) => {
                    for (key, item) in entries {
                        match key {
                            MapKey::String(key) if has_control_chars(key) => {
                                self.add(&path, "keys must not contain control characters");
                            }
                            MapKey::String(key) => self.value(&format!("{path}[{}]", quote_key(key)), item),
                            other => self.value(&format!("{path}[{}]", map_key_text(other)), item),
                        }
                    }
                }
                other => self.value(&path, other),
            }
        }
    }

    fn value(&mut self, path: &str, value: &Value) {
        match value {
            Value::String(text) if has_control_chars(text) => {
                self.add(
                    path,
                    "must not contain NUL or other control characters (tab, line feed and carriage return are allowed)",
                );
            }
            Value::Message(message) => self.message(path, message),
            _ => {}
        }
    }

    fn timestamp(&mut self, path: &str, message: &DynamicMessage) {
        let (seconds, nanos) = seconds_and_nanos(message);
        if !(MIN_TIMESTAMP_SECONDS..=MAX_TIMESTAMP_SECONDS).contains(&seconds) {
            self.add(path, "must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z");
        } else if !(0..=MAX_NANOS).contains(&nanos) {
            self.add(path, "nanos must be 0 to 999999999");
        }
    }

    fn duration(&mut self, path: &str, message: &DynamicMessage) {
        let (seconds, nanos) = seconds_and_nanos(message);
        if !(-MAX_DURATION_SECONDS..=MAX_DURATION_SECONDS).contains(&seconds) {
            self.add(path, "must be within ±10,000 years");
        } else if !(-MAX_NANOS..=MAX_NANOS).contains(&nanos) || (seconds > 0 && nanos < 0) || (seconds < 0 && nanos > 0)
        {
            self.add(path, "nanos must be -999999999 to 999999999, of the same sign as seconds");
        }
    }
}

fn seconds_and_nanos(message: &DynamicMessage) -> (i64, i32) {
    let seconds = message.get_field_by_name("seconds").and_then(|v| v.as_i64()).unwrap_or(0);
    let nanos = message.get_field_by_name("nanos").and_then(|v| v.as_i32()).unwrap_or(0);
    (seconds, nanos)
}

/// A map's string key as it appears in a field path: quoted, and cut short when long.
fn quote_key(key: &str) -> String {
    const LONGEST: usize = 64;
    if key.chars().count() <= LONGEST {
        format!("{key:?}")
    } else {
        let head: String = key.chars().take(LONGEST).collect();
        format!("{head:?}…")
    }
}

fn map_key_text(key: &MapKey) -> String {
    match key {
        MapKey::Bool(b) => b.to_string(),
        MapKey::I32(n) => n.to_string(),
        MapKey::I64(n) => n.to_string(),
        MapKey::U32(n) => n.to_string(),
        MapKey::U64(n) => n.to_string(),
        MapKey::String(s) => quote_key(s),
    }
}

#[cfg(test)]
mod tests;
