//! The pure rules of notification: templates and their context, the defaults redress ships,
//! locale fallback, webhook signatures, the retry schedule, quiet hours and rate limits, and
//! the rules that turn case events into customer communications. No I/O; the API, the outbox
//! and the channels act on what these functions decide.

pub mod backoff;
pub mod content;
pub mod context;
pub mod defaults;
pub mod limits;
pub mod locale;
pub mod rules;
pub mod signing;
pub mod template;

pub use backoff::{DeadLetterReason, DeliveryFailure, FailureClass, RetryDecision, RetryPolicy, classify};
pub use context::{TemplateContext, VARIABLES, format_amount, sample_context};
pub use defaults::{builtin_locales, builtin_template, builtin_templates};
pub use limits::{QuietHours, RateLimit};
pub use locale::{FALLBACK_LOCALE, Locale, choose_locale, fallback_chain};
pub use signing::{SignatureError, SignedHeaders, WebhookSecret, sign, verify};
pub use template::{Audience, CompiledTemplate, FieldViolation, Rendered, Template, TemplateError};
