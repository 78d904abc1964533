//! Opaque page tokens: a position in a keyset order, bound to the query it came from.
//!
//! A token carries the last key of the page and a fingerprint of the tenant and filter, sealed
//! by `redress_kit::page`.

use redress_kit::page::Tokens;
pub use redress_kit::page::fingerprint;

/// The notification service's page tokens.
pub const TOKENS: Tokens = Tokens(b"redress notification page token v1");
