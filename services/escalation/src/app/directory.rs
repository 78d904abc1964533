//! SLA policies, business-hours calendars and the staff directory.

use redress_kit::caller::Caller;
use redress_kit::names;
use redress_proto::escalation::v1::{Calendar as CalendarProto, SlaPolicy, StaffMember};

use super::App;
use crate::domain::{Calendar, Invalid, policy};
use crate::error::Error;

impl App {
    /// Checks a policy, including that its calendar exists.
    async fn check_policy(&self, caller: &Caller, policy: &SlaPolicy) -> Result<(), Error> {
        let mut invalid = Invalid::new();
        policy::validate("sla_policy", policy, &mut invalid);
        if !policy.calendar.is_empty() {
            let field = "sla_policy.calendar";
            match names::parse_owned(field, &policy.calendar, &["tenants", "calendars"], &caller.tenant) {
                Ok(ids) => {
                    if let Err(Error::NotFound(_)) = self.store.calendar(caller.tenant.as_str(), ids[0]).await {
                        invalid.add(field, "no such calendar");
                    }
                }
                Err(_) => invalid.add(field, "not a calendar name (tenants/{tenant}/calendars/{calendar})"),
            }
        }
        Ok(invalid.finish(())?)
    }

    /// Creates a policy once per `request_id`.
    pub async fn create_policy(
        &self,
        caller: &Caller,
        request_id: &str,
        policy: SlaPolicy,
    ) -> Result<SlaPolicy, Error> {
        self.check_policy(caller, &policy).await?;
        self.store.create_policy(caller.tenant.as_str(), request_id, policy).await
    }

    /// A policy by id.
    pub async fn policy(&self, caller: &Caller, id: &str) -> Result<SlaPolicy, Error> {
        self.store.policy(caller.tenant.as_str(), id).await
    }

    /// Every policy of the caller's tenant, in priority order.
    pub async fn policies(&self, caller: &Caller) -> Result<Vec<SlaPolicy>, Error> {
        self.store.policies(caller.tenant.as_str()).await
    }

    /// Changes the fields of policy `id` named by `paths` to their values in `given`.
    pub async fn update_policy(
        &self,
        caller: &Caller,
        id: &str,
        given: &SlaPolicy,
        paths: &[String],
    ) -> Result<SlaPolicy, Error> {
        let mut policy = self.store.policy(caller.tenant.as_str(), id).await?;
        let mut invalid = Invalid::new();
        policy::merge(&mut policy, given, paths, &mut invalid);
        invalid.finish(())?;
        self.check_policy(caller, &policy).await?;
        self.store.save_policy(caller.tenant.as_str(), id, policy).await
    }

    /// Deletes a policy.
    pub async fn delete_policy(&self, caller: &Caller, id: &str) -> Result<(), Error> {
        self.store.delete_policy(caller.tenant.as_str(), id).await
    }

    /// Creates a calendar once per `request_id`, its time zone named as IANA does.
    pub async fn create_calendar(
        &self,
        caller: &Caller,
        request_id: &str,
        mut calendar: CalendarProto,
    ) -> Result<CalendarProto, Error> {
        let parsed = Calendar::from_proto("calendar", &calendar)?;
        calendar.time_zone = parsed.time_zone().to_string();
        self.store.create_calendar(caller.tenant.as_str(), request_id, calendar).await
    }

    /// A calendar by id.
    pub async fn calendar(&self, caller: &Caller, id: &str) -> Result<CalendarProto, Error> {
        self.store.calendar(caller.tenant.as_str(), id).await
    }

    /// Up to `limit` calendars after id `after`, with their ids.
    pub async fn calendars(
        &self,
        caller: &Caller,
        after: &str,
        limit: u64,
    ) -> Result<Vec<(String, CalendarProto)>, Error> {
        self.store.calendars(caller.tenant.as_str(), after, limit).await
    }

    /// Creates or replaces member of staff `id`; true when created.
    pub async fn upsert_staff(
        &self,
        caller: &Caller,
        id: &str,
        member: StaffMember,
    ) -> Result<(StaffMember, bool), Error> {
        self.store.upsert_staff(caller.tenant.as_str(), id, member).await
    }

    /// Up to `limit` members of staff after id `after`, with their ids, filtered by role (0
    /// for any), team and region (empty for any).
    pub async fn staff(
        &self,
        caller: &Caller,
        (role, team, region): (i32, &str, &str),
        after: &str,
        limit: u64,
    ) -> Result<Vec<(String, StaffMember)>, Error> {
        self.store.staff(caller.tenant.as_str(), role, team, region, after, limit).await
    }
}
