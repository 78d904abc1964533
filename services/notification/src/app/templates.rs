//! Templates: CreateTemplate, UpdateTemplate and ListTemplates (tenants' templates checked by
//! the domain when stored, listed beside the built-in defaults they do not replace), and
//! finding the template to send: a tenant's own template or the built-in default, in the best
//! locale for the recipient (`fr-CA` → `fr` → the default locale → `en`).

use redress_kit::error::Violations;
use redress_kit::time::now;
use redress_proto::notification::v1 as pb;
use uuid::Uuid;

use super::App;
use crate::domain::{
    Audience, Template, TemplateError, builtin_locales, builtin_template, builtin_templates, fallback_chain,
    locale::Locale,
};
use crate::error::Error;
use crate::store::Store;
use crate::store::templates::TemplateRow;

/// The fields UpdateTemplate may change.
const UPDATABLE: [&str; 4] = ["subject", "text_body", "html_body", "audience"];

/// The id prefix of built-in templates: `tenants/{tenant}/templates/builtin.{key}.{locale}`.
pub const BUILTIN_PREFIX: &str = "builtin.";

/// A template chosen for a message.
#[derive(Debug, Clone)]
pub struct Chosen {
    /// The template.
    pub template: Template,
    /// True when it is a built-in default.
    pub built_in: bool,
}

/// The domain audience of a stored number; unknown numbers read as customer, the stricter.
pub fn audience_of(number: i32) -> Audience {
    if number == pb::Audience::Staff as i32 { Audience::Staff } else { Audience::Customer }
}

/// The stored number of a domain audience.
pub fn audience_number(audience: Audience) -> i32 {
    match audience {
        Audience::Customer => pb::Audience::Customer as i32,
        Audience::Staff => pb::Audience::Staff as i32,
    }
}

/// A stored template as the domain's.
pub fn from_row(row: &TemplateRow) -> Template {
    Template {
        key: row.key.clone(),
        locale: row.locale.clone(),
        audience: audience_of(row.audience),
        subject: row.subject.clone(),
        text_body: row.text_body.clone(),
        html_body: (!row.html_body.is_empty()).then(|| row.html_body.clone()),
    }
}

/// The template for `key` in the best locale for `wanted`, trying the tenant's own before the
/// built-in at each step of the fallback; `None` when neither exists in any locale tried.
pub async fn choose(
    store: &Store,
    tenant: &str,
    key: &str,
    wanted: &str,
    default_locale: &str,
) -> Result<Option<Chosen>, Error> {
    let own = store.templates(tenant, key, "").await?;
    let builtin = builtin_locales(key);
    for locale in fallback_chain(wanted, Some(default_locale)) {
        if let Some(row) = own.iter().find(|row| Locale::parse(&row.locale).is_ok_and(|l| l == locale)) {
            return Ok(Some(Chosen { template: from_row(row), built_in: false }));
        }
        if builtin.contains(&locale.as_str())
            && let Some(template) = builtin_template(key, locale.as_str(), None)
        {
            return Ok(Some(Chosen { template, built_in: true }));
        }
    }
    Ok(None)
}

impl App {
    /// Whether a template with `key` exists for the tenant in some locale, its own or built in.
    pub(crate) async fn template_exists(&self, tenant: &str, key: &str) -> Result<bool, Error> {
        if !builtin_locales(key).is_empty() {
            return Ok(true);
        }
        Ok(!self.store.templates(tenant, key, "").await?.is_empty())
    }

    /// CreateTemplate: stores `template` (checked, using `variables`) for `tenant`, or returns
    /// the one created with the same `request_id`.
    pub async fn create_template(
        &self,
        tenant: &str,
        request_id: &str,
        template: Template,
        variables: &[String],
    ) -> Result<TemplateRow, Error> {
        let at = now();
        let row = TemplateRow {
            id: Uuid::now_v7(),
            tenant: tenant.to_string(),
            request_id: request_id.to_string(),
            key: template.key.clone(),
            locale: template.locale.clone(),
            audience: audience_number(template.audience),
            subject: template.subject,
            text_body: template.text_body,
            html_body: template.html_body.unwrap_or_default(),
            variables: serde_json::to_string(variables).unwrap_or_else(|_| "[]".into()),
            create_time: at,
            update_time: at,
        };
        self.store.create_template(row).await?.ok_or_else(|| {
            Error::AlreadyExists(format!(
                "a template with key {:?} and locale {:?} exists; change it with UpdateTemplate",
                template.key, template.locale
            ))
        })
    }

    /// UpdateTemplate: changes the fields of the tenant's template `id` (of `given.name`) named
    /// in `mask`, all of them when it is empty. Built-in templates cannot be changed, only
    /// replaced.
    pub async fn update_template(
        &self,
        tenant: &str,
        id: &str,
        given: pb::Template,
        mask: Option<prost_types::FieldMask>,
    ) -> Result<TemplateRow, Error> {
        if id.starts_with(BUILTIN_PREFIX) {
            return Err(Error::FailedPrecondition(format!(
                "{} is built in and cannot be changed: create a template with the same key and locale to take its \
                 place",
                given.name
            )));
        }
        let id = Uuid::parse_str(id).map_err(|_| Error::NotFound(given.name.clone()))?;
        let mut v = Violations::new();
        let paths: Vec<String> = mask
            .map(|m| m.paths)
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| UPDATABLE.iter().map(|p| p.to_string()).collect());
        for (i, path) in paths.iter().enumerate() {
            if !UPDATABLE.contains(&path.as_str()) {
                v.add(
                    format!("update_mask.paths[{i}]"),
                    format!("{path:?} cannot be changed; only {}", UPDATABLE.join(", ")),
                );
            }
        }
        v.finish()?;
        let mut row = self.store.template(tenant, id).await?.ok_or_else(|| Error::NotFound(given.name.clone()))?;
        let mut domain = from_row(&row);
        let mut v = Violations::new();
        for path in &paths {
            match path.as_str() {
                "subject" => domain.subject = given.subject.clone(),
                "text_body" => domain.text_body = given.text_body.clone(),
                "html_body" => domain.html_body = (!given.html_body.trim().is_empty()).then(|| given.html_body.clone()),
                "audience" => domain.audience = audience(&mut v, given.audience),
                _ => {}
            }
        }
        let variables = check(&mut v, &domain);
        v.finish()?;
        row.audience = audience_number(domain.audience);
        row.subject = domain.subject;
        row.text_body = domain.text_body;
        row.html_body = domain.html_body.unwrap_or_default();
        row.variables = serde_json::to_string(&variables).unwrap_or_else(|_| "[]".into());
        row.update_time = now();
        if !self.store.update_template(&row).await? {
            return Err(Error::NotFound(given.name));
        }
        Ok(row)
    }

    /// ListTemplates: up to `limit` of the tenant's templates and the built-in ones they do not
    /// replace, by key and locale (optionally only `key`, only `locale`), after the position
    /// `after`; and the position to go on from when more follow.
    pub async fn list_templates(
        &self,
        tenant: &str,
        key: &str,
        locale: &str,
        after: Option<Vec<u8>>,
        limit: usize,
    ) -> Result<(Vec<Listed>, Option<Vec<u8>>), Error> {
        let own = self.store.templates(tenant, key, locale).await?;
        let builtins: Vec<Template> = builtin_templates()
            .into_iter()
            .filter(|builtin| {
                let wanted = (key.is_empty() || builtin.key == key) && (locale.is_empty() || builtin.locale == locale);
                let replaced = own.iter().any(|t| t.key == builtin.key && t.locale == builtin.locale);
                wanted && !replaced
            })
            .collect();
        let mut all: Vec<Listed> =
            own.into_iter().map(Listed::Own).chain(builtins.into_iter().map(Listed::BuiltIn)).collect();
        all.sort_by_key(Listed::position);
        if let Some(after) = after {
            all.retain(|t| t.position() > after);
        }
        let more = all.len() > limit;
        all.truncate(limit);
        let next = all.last().filter(|_| more).map(Listed::position);
        Ok((all, next))
    }
}

/// A template as ListTemplates lists it.
#[derive(Debug, Clone)]
pub enum Listed {
    /// The tenant's own.
    Own(TemplateRow),
    /// A built-in default the tenant has not replaced.
    BuiltIn(Template),
}

impl Listed {
    /// Its position in the list order: key, locale, the tenant's before built-in.
    pub fn position(&self) -> Vec<u8> {
        let (key, locale, built_in) = match self {
            Listed::Own(row) => (&row.key, &row.locale, false),
            Listed::BuiltIn(template) => (&template.key, &template.locale, true),
        };
        let mut out = key.as_bytes().to_vec();
        out.push(0);
        out.extend_from_slice(locale.as_bytes());
        out.push(0);
        out.push(u8::from(built_in));
        out
    }
}

/// The audience of a request, recorded as a violation when missing or unknown.
pub(crate) fn audience(v: &mut Violations, value: i32) -> Audience {
    match redress_kit::validate::enum_value::<pb::Audience>(v, "template.audience", value, false) {
        Some(pb::Audience::Staff) => Audience::Staff,
        _ => Audience::Customer,
    }
}

/// The domain's verdict on a template, added to `v`; the variables it uses when it passed.
pub(crate) fn check(v: &mut Violations, template: &Template) -> Vec<String> {
    match template.check() {
        Ok(variables) => variables,
        Err(TemplateError::Invalid(violations)) => {
            for violation in violations {
                v.add(violation.field, violation.description);
            }
            Vec::new()
        }
        Err(e @ TemplateError::Render { .. }) => {
            v.add("template", e.to_string());
            Vec::new()
        }
    }
}

/// The locale in canonical form when it parses; as given otherwise, for the check to refuse.
pub(crate) fn canonical(locale: &str) -> String {
    Locale::parse(locale).map_or_else(|_| locale.to_string(), |l| l.to_string())
}
