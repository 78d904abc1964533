//! Finding the template to send: a tenant's own template or the built-in default, in the best
//! locale for the recipient (`fr-CA` → `fr` → the default locale → `en`).

use redress_proto::notification::v1 as pb;
use sea_orm::{ConnectionTrait, DbErr};

use crate::domain::{Audience, Template, builtin_locales, builtin_template, fallback_chain, locale::Locale};
use crate::store::templates::{TemplateRow, templates_of};

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
    conn: &impl ConnectionTrait,
    tenant: &str,
    key: &str,
    wanted: &str,
    default_locale: &str,
) -> Result<Option<Chosen>, DbErr> {
    let own = templates_of(conn, tenant, key, "").await?;
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

/// Whether a template with `key` exists for the tenant in some locale, its own or built in.
pub async fn exists(conn: &impl ConnectionTrait, tenant: &str, key: &str) -> Result<bool, DbErr> {
    if !builtin_locales(key).is_empty() {
        return Ok(true);
    }
    Ok(!templates_of(conn, tenant, key, "").await?.is_empty())
}
