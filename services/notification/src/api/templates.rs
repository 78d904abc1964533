//! CreateTemplate, UpdateTemplate and ListTemplates: tenants' templates checked by the domain
//! when stored, listed beside the built-in defaults they do not replace.

use redress_kit::caller::Caller;
use redress_kit::error::Violations;
use redress_kit::{ApiError, names};
use redress_proto::notification::v1::{self as pb, ListTemplatesRequest};
use tonic::Status;
use uuid::Uuid;

use super::{convert, validate};
use crate::domain::locale::Locale;
use crate::domain::{Audience, Template, TemplateError, builtin_templates};
use crate::error::Error;
use crate::store::templates::{CreateError, TemplateRow};
use crate::store::{Store, now, page};
use crate::templates::{BUILTIN_PREFIX, audience_number, from_row};

/// The fields UpdateTemplate may change.
const UPDATABLE: [&str; 4] = ["subject", "text_body", "html_body", "audience"];

/// The audience of a request, recorded as a violation when missing or unknown.
fn audience(v: &mut Violations, value: i32) -> Audience {
    match redress_kit::validate::enum_value::<pb::Audience>(v, "template.audience", value, false) {
        Some(pb::Audience::Staff) => Audience::Staff,
        _ => Audience::Customer,
    }
}

/// The domain's verdict on a template, added to `v`; the variables it uses when it passed.
fn check(v: &mut Violations, template: &Template) -> Vec<String> {
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
fn canonical(locale: &str) -> String {
    Locale::parse(locale).map_or_else(|_| locale.to_string(), |l| l.to_string())
}

/// Creates a template, or returns the one created with the same request_id.
pub async fn create(
    store: &Store,
    caller: &Caller,
    request_id: &str,
    template: Option<pb::Template>,
) -> Result<pb::Template, Status> {
    let mut v = Violations::new();
    redress_kit::validate::request_id(&mut v, "request_id", request_id, true);
    let Some(given) = template else {
        v.add("template", "required");
        v.finish()?;
        return Err(ApiError::invalid("template", "required").into());
    };
    let domain = Template {
        key: given.key.clone(),
        locale: canonical(&given.locale),
        audience: audience(&mut v, given.audience),
        subject: given.subject.clone(),
        text_body: given.text_body.clone(),
        html_body: (!given.html_body.trim().is_empty()).then(|| given.html_body.clone()),
    };
    let variables = check(&mut v, &domain);
    v.finish()?;
    let at = now();
    let row = TemplateRow {
        id: Uuid::now_v7(),
        tenant: caller.tenant.to_string(),
        request_id: request_id.to_string(),
        key: domain.key.clone(),
        locale: domain.locale.clone(),
        audience: audience_number(domain.audience),
        subject: domain.subject,
        text_body: domain.text_body,
        html_body: domain.html_body.unwrap_or_default(),
        variables: serde_json::to_string(&variables).unwrap_or_else(|_| "[]".into()),
        create_time: at,
        update_time: at,
    };
    match store.create_template(row).await {
        Ok(stored) => Ok(convert::template(&stored)),
        Err(CreateError::Taken) => Err(Error::AlreadyExists(format!(
            "a template with key {:?} and locale {:?} exists; change it with UpdateTemplate",
            domain.key, domain.locale
        ))
        .into()),
        Err(CreateError::Database(e)) => Err(Error::from(e).into()),
    }
}

/// Changes the fields of a tenant's template named in the mask (all of them when it is empty).
pub async fn update(
    store: &Store,
    caller: &Caller,
    template: Option<pb::Template>,
    mask: Option<prost_types::FieldMask>,
) -> Result<pb::Template, Status> {
    let Some(given) = template else {
        return Err(ApiError::invalid("template", "required").into());
    };
    let ids = names::parse_owned("template.name", &given.name, &["tenants", "templates"], &caller.tenant)?;
    if ids[0].starts_with(BUILTIN_PREFIX) {
        return Err(Error::FailedPrecondition(format!(
            "{} is built in and cannot be changed: create a template with the same key and locale to take its place",
            given.name
        ))
        .into());
    }
    let id = Uuid::parse_str(ids[0]).map_err(|_| Status::from(ApiError::NotFound(given.name.clone())))?;
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
    let mut row = store
        .template(caller.tenant.as_str(), id)
        .await
        .map_err(Error::from)?
        .ok_or_else(|| Status::from(ApiError::NotFound(given.name.clone())))?;
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
    if !store.update_template(&row).await.map_err(Error::from)? {
        return Err(ApiError::NotFound(given.name).into());
    }
    Ok(convert::template(&row))
}

/// The position of a template in the list order: key, locale, the tenant's before built-in.
fn position(template: &pb::Template) -> Vec<u8> {
    let mut out = template.key.as_bytes().to_vec();
    out.push(0);
    out.extend_from_slice(template.locale.as_bytes());
    out.push(0);
    out.push(u8::from(template.built_in));
    out
}

/// A page of the tenant's templates and the built-in ones they do not replace, by key and locale.
pub async fn list(
    store: &Store,
    caller: &Caller,
    req: &ListTemplatesRequest,
) -> Result<(Vec<pb::Template>, String), Status> {
    let mut v = Violations::new();
    let limit = validate::page_size(&mut v, req.page_size, 100) as usize;
    if !req.key.is_empty() {
        validate::template_key(&mut v, "key", &req.key);
    }
    let locale = if req.locale.is_empty() { String::new() } else { canonical(&req.locale) };
    v.check(!locale.is_empty() && Locale::parse(&locale).is_err(), "locale", "not a locale such as fr-CA");
    let bound = page::fingerprint(&[caller.tenant.as_str().as_bytes(), req.key.as_bytes(), locale.as_bytes()]);
    let after = if req.page_token.is_empty() {
        None
    } else {
        let position = page::decode(&req.page_token, bound);
        v.check(position.is_none(), "page_token", "not a token from a previous call with the same filter");
        position
    };
    v.finish()?;
    let own = store.templates(caller.tenant.as_str(), &req.key, &locale).await.map_err(Error::from)?;
    let mut all: Vec<pb::Template> = own.iter().map(convert::template).collect();
    for builtin in builtin_templates() {
        let wanted = (req.key.is_empty() || builtin.key == req.key) && (locale.is_empty() || builtin.locale == locale);
        let replaced = own.iter().any(|t| t.key == builtin.key && t.locale == builtin.locale);
        if wanted && !replaced {
            all.push(convert::builtin(caller.tenant.as_str(), &builtin));
        }
    }
    all.sort_by_key(position);
    if let Some(after) = after {
        all.retain(|t| position(t) > after);
    }
    let more = all.len() > limit;
    all.truncate(limit);
    let next = match all.last() {
        Some(last) if more => page::encode(&position(last), bound),
        _ => String::new(),
    };
    Ok((all, next))
}
