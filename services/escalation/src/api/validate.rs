//! Checks of requests that need no stored data: names, ids, request ids, texts, roles.

use redress_kit::caller::Caller;
use redress_kit::error::Violations;
use redress_kit::validate::{enum_value, is_e164, is_email, request_id, text};
use redress_kit::{ApiError, names};
use redress_proto::common::v1::StaffRole;
use redress_proto::escalation::v1::{EscalateCaseRequest, StaffMember};
use tonic::Status;
use uuid::Uuid;

/// The id in `name`, a resource of the caller's tenant in `collection`.
pub fn id_of<'a>(caller: &Caller, field: &str, name: &'a str, collection: &str) -> Result<&'a str, Status> {
    Ok(names::parse_owned(field, name, &["tenants", collection], &caller.tenant)?[0])
}

/// `value` as a UUID; invalid `field`, described by `description`, when it is not one.
pub fn uuid_of(field: &str, value: &str, description: &str) -> Result<Uuid, Status> {
    Uuid::parse_str(value).map_err(|_| ApiError::invalid(field, description).into())
}

/// The id of the case `name` of the caller's tenant.
pub fn case_id(caller: &Caller, field: &str, name: &str) -> Result<Uuid, Status> {
    let id = id_of(caller, field, name, "cases")?;
    Uuid::parse_str(id).map_err(|_| ApiError::invalid(field, format!("{name:?} does not name a case")).into())
}

/// A create's `request_id` and its resource (`field`, `missing` when absent) are given.
pub fn required(request: &str, missing: bool, field: &str) -> Result<(), Status> {
    let mut v = Violations::new();
    request_id(&mut v, "request_id", request, true);
    v.check(missing, field, "required");
    Ok(v.finish()?)
}

/// Each of `values` is a staff role (or 0 when `optional`); `field(i)` names the i-th.
pub fn roles(values: &[i32], optional: bool, field: impl Fn(usize) -> String) -> Result<Vec<StaffRole>, Status> {
    let mut v = Violations::new();
    let roles = each_role(&mut v, values, optional, field);
    v.finish()?;
    Ok(roles)
}

fn each_role(v: &mut Violations, values: &[i32], optional: bool, field: impl Fn(usize) -> String) -> Vec<StaffRole> {
    values.iter().enumerate().filter_map(|(i, role)| enum_value::<StaffRole>(v, &field(i), *role, optional)).collect()
}

/// A manual escalation's request id, reason and roles; the roles it names.
pub fn escalation(req: &EscalateCaseRequest) -> Result<Vec<StaffRole>, Status> {
    let mut v = Violations::new();
    request_id(&mut v, "request_id", &req.request_id, true);
    text(&mut v, "reason", &req.reason, 1000, true);
    let roles = each_role(&mut v, &req.notify_roles, false, |i| format!("notify_roles[{i}]"));
    v.finish()?;
    Ok(roles)
}

/// An acknowledgement's note.
pub fn note(note: &str) -> Result<(), Status> {
    let mut v = Violations::new();
    text(&mut v, "note", note, 4000, false);
    Ok(v.finish()?)
}

/// A member of staff as given to UpsertStaffMember.
pub fn check_staff(member: &StaffMember) -> Result<(), Status> {
    let mut v = Violations::new();
    text(&mut v, "staff_member.display_name", &member.display_name, 200, false);
    enum_value::<StaffRole>(&mut v, "staff_member.role", member.role, false);
    text(&mut v, "staff_member.team", &member.team, 128, false);
    text(&mut v, "staff_member.region", &member.region, 128, false);
    if !member.email.is_empty() && !is_email(&member.email) {
        v.add("staff_member.email", format!("{:?} is not an email address", member.email));
    }
    if !member.phone.is_empty() && !is_e164(&member.phone) {
        v.add("staff_member.phone", "must be in E.164 form, for example +447700900123");
    }
    if !member.time_zone.is_empty() && jiff::tz::TimeZone::get(&member.time_zone).is_err() {
        v.add("staff_member.time_zone", format!("unknown time zone {:?}", member.time_zone));
    }
    Ok(v.finish()?)
}
