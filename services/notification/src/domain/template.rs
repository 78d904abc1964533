//! Message templates: checked when stored, rendered when sent.
//!
//! A template has a subject, a plain-text body and an optional HTML body, each a MiniJinja
//! template over the documented [context](super::context). Values are HTML-escaped in the HTML
//! body and written as they are in the subject and text body. A value that is not set fails
//! the render rather than printing nothing.
//!
//! When a template is stored, [`Template::compile`] parses each part, refuses any variable
//! the context does not document (naming the field and the variable), refuses a
//! customer-facing template that gives no way back to a person, and renders the template once
//! with [`sample_context`] so that unknown filters and similar mistakes are refused up front.

use std::collections::{BTreeSet, HashSet};
use std::fmt;

use minijinja::syntax::SyntaxConfig;
use minijinja::value::Serde;
use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior, Value};
use serde::{Deserialize, Serialize};

use super::context::{TopLevel, attributes, sample_context, top_level, top_level_names};
use super::locale::Locale;

/// The request field of a template's key.
pub const KEY_FIELD: &str = "template.key";
/// The request field of a template's locale.
pub const LOCALE_FIELD: &str = "template.locale";
/// The request field of a template's subject.
pub const SUBJECT_FIELD: &str = "template.subject";
/// The request field of a template's plain-text body.
pub const TEXT_BODY_FIELD: &str = "template.text_body";
/// The request field of a template's HTML body.
pub const HTML_BODY_FIELD: &str = "template.html_body";

/// The longest subject template accepted, in bytes.
pub const MAX_SUBJECT_BYTES: usize = 1_000;
/// The longest body template accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The longest template key accepted.
pub const MAX_KEY_LEN: usize = 64;
/// How much work one part may do while rendering, in engine instructions.
const FUEL: u64 = 100_000;

/// The variables every customer-facing body must use: a way back to a person and the case.
pub const WAY_BACK_VARIABLES: [&str; 2] = ["reply_to", "case.reference"];

/// Who a template is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Customers: every body carries `reply_to` and `case.reference`.
    Customer,
    /// Staff.
    Staff,
}

/// A message template as written: a key, a locale, an audience and its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// What the template is for, for example `acknowledgement`: lower-case letters, digits
    /// and `_`, starting with a letter.
    pub key: String,
    /// The BCP 47 locale, for example `fr-CA`.
    pub locale: String,
    /// Who reads it.
    pub audience: Audience,
    /// The subject; may be empty, for SMS.
    pub subject: String,
    /// The plain-text body. Required.
    pub text_body: String,
    /// The HTML body, for email.
    pub html_body: Option<String>,
}

/// A field of a template and why it was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// The request field, for example [`TEXT_BODY_FIELD`].
    pub field: &'static str,
    /// Why it was refused.
    pub description: String,
}

impl FieldViolation {
    /// A violation of `field`.
    pub fn new(field: &'static str, description: impl Into<String>) -> Self {
        Self { field, description: description.into() }
    }
}

impl fmt::Display for FieldViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.description)
    }
}

/// Why a template was refused or could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The template was refused; each violation names a field.
    #[error("template refused: {}", join(.0))]
    Invalid(Vec<FieldViolation>),
    /// A part could not be rendered with the context given.
    #[error("{field} could not be rendered: {detail}")]
    Render {
        /// The part that failed, for example [`TEXT_BODY_FIELD`].
        field: &'static str,
        /// Why, with the line.
        detail: String,
    },
}

fn join(violations: &[FieldViolation]) -> String {
    violations.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The subject, on one line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body, when the template has one.
    pub html: Option<String>,
}

/// A template that passed the checks, parsed and ready to render many times.
#[derive(Debug)]
pub struct CompiledTemplate {
    env: Environment<'static>,
    audience: Audience,
    has_html: bool,
    variables: Vec<String>,
}

impl Template {
    /// Checks the template and parses it: key, locale, sizes, syntax, variables, the way back
    /// to a person for customers, and a render with the sample context. Every problem found is
    /// reported, each with its field.
    pub fn compile(&self) -> Result<CompiledTemplate, TemplateError> {
        let mut violations = Vec::new();

        if let Err(reason) = check_key(&self.key) {
            violations.push(FieldViolation::new(KEY_FIELD, reason));
        }
        if let Err(err) = Locale::parse(&self.locale) {
            violations.push(FieldViolation::new(LOCALE_FIELD, err.to_string()));
        }
        if self.subject.contains(['\r', '\n']) {
            violations.push(FieldViolation::new(SUBJECT_FIELD, "the subject must be one line"));
        }
        if self.text_body.trim().is_empty() {
            violations.push(FieldViolation::new(TEXT_BODY_FIELD, "the plain-text body is required"));
        }
        let html = self.html_body.as_deref().filter(|body| !body.trim().is_empty());
        let mut parts = vec![(SUBJECT_FIELD, self.subject.as_str(), MAX_SUBJECT_BYTES)];
        parts.push((TEXT_BODY_FIELD, self.text_body.as_str(), MAX_BODY_BYTES));
        if let Some(html) = html {
            parts.push((HTML_BODY_FIELD, html, MAX_BODY_BYTES));
        }

        let mut env = environment();
        let globals: Vec<String> = env.globals().map(|(name, _)| name.to_string()).collect();
        let mut variables = BTreeSet::new();
        for (field, source, max) in parts {
            if source.len() > max {
                violations.push(FieldViolation::new(
                    field,
                    format!("it is {} bytes; at most {max} are allowed", source.len()),
                ));
                continue;
            }
            if let Err(err) = env.add_template_owned(field, source.to_string()) {
                violations.push(FieldViolation::new(field, describe(&err)));
                continue;
            }
            let used = match env.get_template(field) {
                Ok(template) => template.undeclared_variables(true),
                Err(err) => {
                    violations.push(FieldViolation::new(field, describe(&err)));
                    continue;
                }
            };
            let mut used: Vec<String> = used.into_iter().collect();
            used.sort();
            for path in &used {
                if let Err(reason) = check_path(path, &globals) {
                    violations.push(FieldViolation::new(field, reason));
                }
            }
            if self.audience == Audience::Customer && field != SUBJECT_FIELD {
                let missing: Vec<&str> =
                    WAY_BACK_VARIABLES.into_iter().filter(|want| !used.iter().any(|path| path == want)).collect();
                if !missing.is_empty() {
                    let uses = missing.iter().map(|name| format!("{{{{ {name} }}}}")).collect::<Vec<_>>().join(" and ");
                    violations.push(FieldViolation::new(
                        field,
                        format!("a customer-facing message must give a way back to a person: use {uses}"),
                    ));
                }
            }
            variables.extend(used);
        }

        let compiled = CompiledTemplate {
            env,
            audience: self.audience,
            has_html: html.is_some(),
            variables: variables.into_iter().collect(),
        };
        if violations.is_empty()
            && let Err(TemplateError::Render { field, detail }) = compiled.render(&sample_context())
        {
            violations.push(FieldViolation::new(field, format!("{detail}, with the sample context")));
        }
        if violations.is_empty() { Ok(compiled) } else { Err(TemplateError::Invalid(violations)) }
    }

    /// Checks the template as [`compile`](Self::compile) does and returns the variables it
    /// uses, sorted, as dotted paths.
    pub fn check(&self) -> Result<Vec<String>, TemplateError> {
        self.compile().map(|compiled| compiled.variables)
    }

    /// Checks and renders the template with `context` in one go.
    pub fn render<C: Serialize + ?Sized>(&self, context: &C) -> Result<Rendered, TemplateError> {
        self.compile()?.render(context)
    }
}

impl CompiledTemplate {
    /// The variables the template uses, sorted, as dotted paths such as `customer.display_name`.
    pub fn variables(&self) -> &[String] {
        &self.variables
    }

    /// Who the template is written for.
    pub fn audience(&self) -> Audience {
        self.audience
    }

    /// Renders the subject, the text body and the HTML body with `context`, usually a
    /// [`TemplateContext`](super::context::TemplateContext) or a JSON object. Line breaks in
    /// the rendered subject become spaces.
    pub fn render<C: Serialize + ?Sized>(&self, context: &C) -> Result<Rendered, TemplateError> {
        let context = Value::from(Serde(context));
        let subject = one_line(&self.render_part(SUBJECT_FIELD, &context)?);
        let text = self.render_part(TEXT_BODY_FIELD, &context)?;
        let html = if self.has_html { Some(self.render_part(HTML_BODY_FIELD, &context)?) } else { None };
        Ok(Rendered { subject, text, html })
    }

    fn render_part(&self, field: &'static str, context: &Value) -> Result<String, TemplateError> {
        let template =
            self.env.get_template(field).map_err(|err| TemplateError::Render { field, detail: describe(&err) })?;
        template.render(context).map_err(|err| {
            let mut detail = err.kind().to_string();
            if err.kind() == ErrorKind::UndefinedError
                && let Some(path) = self.first_unset(&template.undeclared_variables(true), context)
            {
                detail = format!("{path:?} is not set");
            } else if let Some(more) = err.detail() {
                detail = format!("{detail}: {more}");
            }
            if let Some(line) = err.line() {
                detail = format!("{detail} (line {line})");
            }
            TemplateError::Render { field, detail }
        })
    }
}

impl CompiledTemplate {
    /// The first of `paths` that is not set in `context`, or set to none; the engine's own
    /// functions are never reported.
    fn first_unset(&self, paths: &HashSet<String>, context: &Value) -> Option<String> {
        let mut paths: Vec<&String> = paths.iter().collect();
        paths.sort();
        let unset = |path: &&String| {
            let mut value = context.clone();
            for (depth, segment) in path.split('.').enumerate() {
                value = match value.get_attr(segment) {
                    Ok(inner) if !inner.is_undefined() && !inner.is_none() => inner,
                    _ => return depth > 0 || self.env.globals().all(|(name, _)| name != segment),
                };
            }
            false
        };
        paths.into_iter().find(unset).cloned()
    }
}

/// The engine every template part is parsed into: strict about unset values, HTML escaping
/// for the HTML body only, a budget of work per render, and block tags that take their line
/// with them.
fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|name| if name == HTML_BODY_FIELD { AutoEscape::Html } else { AutoEscape::None });
    env.set_formatter(|out, state, value| {
        if value.is_undefined() || value.is_none() {
            return Err(minijinja::Error::new(ErrorKind::UndefinedError, "a value is not set"));
        }
        minijinja::escape_formatter(out, state, value)
    });
    env.set_fuel(Some(FUEL));
    if let Ok(syntax) = SyntaxConfig::builder().trim_blocks(true).lstrip_blocks(true).build() {
        env.set_syntax(syntax);
    }
    env
}

/// An engine error in words, with its line.
fn describe(err: &minijinja::Error) -> String {
    let mut text = err.kind().to_string();
    if let Some(detail) = err.detail() {
        text = format!("{text}: {detail}");
    }
    if let Some(line) = err.line() {
        text = format!("{text} (line {line})");
    }
    text
}

/// Refuses a key that is not lower-case letters, digits and `_`, starting with a letter.
fn check_key(key: &str) -> Result<(), String> {
    let valid = key.len() <= MAX_KEY_LEN
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "{key:?} is not a template key: use up to {MAX_KEY_LEN} lower-case letters, digits and _, starting with a letter"
        ))
    }
}

/// Refuses a variable path the context does not document. `globals` are the engine's own
/// functions (`range`, `namespace`), allowed by name.
fn check_path(path: &str, globals: &[String]) -> Result<(), String> {
    let mut segments = path.split('.');
    let head = segments.next().unwrap_or(path);
    let attribute = segments.next();
    let deeper = segments.next().is_some();
    match (top_level(head), attribute) {
        (Some(_), None) => Ok(()),
        (None, None) if globals.iter().any(|global| global == head) => Ok(()),
        (None, _) => Err(format!("unknown variable {path:?}; known: {}", top_level_names().join(", "))),
        (Some(TopLevel::Value), Some(_)) => {
            Err(format!("unknown variable {path:?}; {head:?} is a single value with no attributes"))
        }
        (Some(TopLevel::Object), Some(attribute)) => {
            let known = attributes(head);
            if !known.contains(&attribute) {
                let known: Vec<String> = known.iter().map(|a| format!("{head}.{a}")).collect();
                Err(format!("unknown variable {path:?}; known: {}", known.join(", ")))
            } else if deeper {
                Err(format!("unknown variable {path:?}; \"{head}.{attribute}\" is a single value with no attributes"))
            } else {
                Ok(())
            }
        }
    }
}

/// The text on one line: line breaks and other control characters become single spaces.
fn one_line(text: &str) -> String {
    text.split(|c: char| c.is_control())
        .filter(|piece| !piece.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
#[path = "template_tests.rs"]
mod tests;
