//! Who is calling: the tenant, the staff id and the roles of a call.
//!
//! The server's [`crate::auth::AuthLayer`] identifies the caller of every call and leaves a
//! [`Caller`] in the request's extensions. Only where it trusts headers (`auth.mode = off`,
//! development mode, another redress service) do they decide: `x-redress-tenant`,
//! `x-redress-actor` (a staff id, `customer`, or `system:<service>`) and `x-redress-roles`
//! (comma-separated roles). Services decide with [`Caller`] and never read headers themselves.

use std::fmt;

use tonic::metadata::MetadataMap;

use crate::error::ApiError;
use crate::tenant::{TenantId, tenant_of};

/// The metadata key naming who acts.
pub const ACTOR_HEADER: &str = "x-redress-actor";
/// The metadata key listing the caller's roles.
pub const ROLES_HEADER: &str = "x-redress-roles";
/// The actor recorded when a call names none.
pub const ANONYMOUS: &str = "anonymous";

/// What a caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Works on their own and their team's cases.
    Agent,
    /// Leads a team: reassigns, waives tasks, moves any case.
    Supervisor,
    /// Administers policies, templates, staff and rules.
    Admin,
    /// A contact-centre system submitting complaints and reading cases.
    Integration,
    /// A BI tool reading analytics.
    BiReader,
    /// Another redress service.
    System,
}

impl Role {
    /// Parses a role name as written in `x-redress-roles`.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "agent" => Role::Agent,
            "supervisor" => Role::Supervisor,
            "admin" => Role::Admin,
            "integration" => Role::Integration,
            "bi_reader" => Role::BiReader,
            "system" => Role::System,
            _ => return None,
        })
    }

    /// The role's name.
    pub fn name(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
            Role::Integration => "integration",
            Role::BiReader => "bi_reader",
            Role::System => "system",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The identity a call acts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The tenant whose records the call may see.
    pub tenant: TenantId,
    /// Who acts: a staff id, `customer`, `system:<service>` or `anonymous`.
    pub actor: String,
    /// What the caller may do.
    pub roles: Vec<Role>,
    /// Which of the tenant's cases the caller may see; `None` for all of them.
    pub scope: Option<CaseScope>,
}

/// The cases a verified agent (or a supervisor of one team) may see: their own, their team's,
/// and the unassigned ones of no team. Any other case of the tenant is NOT_FOUND to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseScope {
    /// The caller's team, from their token's `team` claim.
    pub team: Option<String>,
}

impl CaseScope {
    /// The scope of a verified identity with `roles` and `team`: agents see their own and their
    /// team's cases; a supervisor with a team sees that team's; admins, integrations, BI tools,
    /// services and supervisors of no one team see every case of the tenant.
    pub fn of(roles: &[Role], team: Option<String>) -> Option<Self> {
        let wide = [Role::Admin, Role::Integration, Role::BiReader, Role::System];
        if roles.iter().any(|r| wide.contains(r)) {
            return None;
        }
        if roles.contains(&Role::Supervisor) {
            return team.map(|team| CaseScope { team: Some(team) });
        }
        roles.contains(&Role::Agent).then_some(CaseScope { team })
    }
}

impl Caller {
    /// Whether the caller may see a case owned by `owner` in `team`.
    pub fn sees_case(&self, owner: &str, team: &str) -> bool {
        match &self.scope {
            None => true,
            Some(scope) => {
                owner == self.actor
                    || (owner.is_empty() && team.is_empty())
                    || scope.team.as_deref().is_some_and(|t| !t.is_empty() && t == team)
            }
        }
    }

    /// Whether the caller has `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether the caller supervises: a supervisor or an admin.
    pub fn is_supervisor(&self) -> bool {
        self.has(Role::Supervisor) || self.has(Role::Admin)
    }

    /// Whether the caller is another redress service.
    pub fn is_system(&self) -> bool {
        self.has(Role::System)
    }
}

/// The caller of a call, from its metadata.
pub fn caller_of(metadata: &MetadataMap) -> Result<Caller, ApiError> {
    let tenant = tenant_of(metadata)?;
    let actor = match metadata.get(ACTOR_HEADER) {
        None => ANONYMOUS.to_string(),
        Some(value) => {
            let value = value.to_str().map_err(|_| ApiError::invalid(ACTOR_HEADER, "not ASCII"))?.trim();
            if value.is_empty() || value.len() > 128 || value.chars().any(|c| c.is_control() || c == ',') {
                return Err(ApiError::invalid(ACTOR_HEADER, "must be 1 to 128 printable characters"));
            }
            value.to_string()
        }
    };
    let mut roles = Vec::new();
    if let Some(value) = metadata.get(ROLES_HEADER) {
        let value = value.to_str().map_err(|_| ApiError::invalid(ROLES_HEADER, "not ASCII"))?;
        for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let role = Role::parse(name).ok_or_else(|| {
                ApiError::invalid(
                    ROLES_HEADER,
                    format!(
                        "unknown role {name:?} (expected agent, supervisor, admin, integration, bi_reader, system)"
                    ),
                )
            })?;
            if !roles.contains(&role) {
                roles.push(role);
            }
        }
    }
    if roles.is_empty() {
        roles.push(Role::Agent);
    }
    Ok(Caller { tenant, actor, roles, scope: None })
}

/// The caller of a request as the server identified it, or the status to refuse it with.
/// A request that did not pass through a server's authentication (a service called directly
/// in process) is identified by its headers.
pub fn caller<T>(request: &tonic::Request<T>) -> Result<Caller, tonic::Status> {
    match request.extensions().get::<Caller>() {
        Some(caller) => Ok(caller.clone()),
        None => caller_of(request.metadata()).map_err(Into::into),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agents_see_their_own_their_teams_and_the_open_queue() {
        let agent = |team: Option<&str>| Caller {
            tenant: TenantId::parse("acme").unwrap(),
            actor: "ana".into(),
            roles: vec![Role::Agent],
            scope: CaseScope::of(&[Role::Agent], team.map(str::to_string)),
        };
        let ana = agent(Some("care"));
        assert!(ana.sees_case("ana", "billing"), "her own, whatever the team");
        assert!(ana.sees_case("tom", "care"), "her team's");
        assert!(ana.sees_case("", "care"), "her team's queue");
        assert!(ana.sees_case("", ""), "the queue of no team");
        assert!(!ana.sees_case("tom", "billing") && !ana.sees_case("", "billing"), "another team's");
        let teamless = agent(None);
        assert!(teamless.sees_case("ana", "care") && teamless.sees_case("", ""));
        assert!(!teamless.sees_case("tom", "care") && !teamless.sees_case("", "care"));
        assert!(!agent(Some("")).sees_case("tom", ""), "an empty team is no team");

        assert_eq!(CaseScope::of(&[Role::Supervisor], None), None, "a supervisor of no one team sees all");
        assert_eq!(
            CaseScope::of(&[Role::Supervisor, Role::Agent], Some("care".into())),
            Some(CaseScope { team: Some("care".into()) })
        );
        for wide in [Role::Admin, Role::Integration, Role::BiReader, Role::System] {
            assert_eq!(CaseScope::of(&[Role::Agent, wide], Some("care".into())), None, "{wide:?}");
        }
    }

    #[test]
    fn callers_come_from_metadata() {
        let mut md = MetadataMap::new();
        md.insert("x-redress-tenant", "acme".parse().unwrap());
        let caller = caller_of(&md).unwrap();
        assert_eq!(caller.actor, ANONYMOUS);
        assert_eq!(caller.roles, [Role::Agent]);

        md.insert(ACTOR_HEADER, "agent-7".parse().unwrap());
        md.insert(ROLES_HEADER, "agent, supervisor".parse().unwrap());
        let caller = caller_of(&md).unwrap();
        assert_eq!(caller.actor, "agent-7");
        assert!(caller.is_supervisor());

        md.insert(ROLES_HEADER, "agent,overlord".parse().unwrap());
        let status = tonic::Status::from(caller_of(&md).unwrap_err());
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert!(status.message().contains("x-redress-roles"));
    }
}
