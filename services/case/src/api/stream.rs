//! `StreamEvents`: which part of the log a caller may follow. The stream itself is
//! [`crate::app::events`].

use std::pin::Pin;

use futures::Stream;
use redress_kit::caller::Caller;
use redress_kit::error::Violations;
use redress_kit::{ApiError, names};
use redress_proto::case::v1::{CaseEventType, StreamEventsRequest, StreamEventsResponse};
use tonic::Status;

use crate::app::events::Follow;

/// The stream StreamEvents answers with.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<StreamEventsResponse, Status>> + Send>>;

/// What the request asks to follow, once it is valid: `tenants/-` (every tenant) is for
/// redress services only.
pub fn follow(caller: &Caller, request: StreamEventsRequest) -> Result<Follow, Status> {
    let tenant = if request.parent == "tenants/-" {
        if !caller.is_system() {
            return Err(
                ApiError::PermissionDenied("only redress services may stream every tenant (tenants/-)".into()).into()
            );
        }
        None
    } else {
        names::check_parent("parent", &request.parent, &caller.tenant)?;
        Some(caller.tenant.as_str().to_string())
    };
    let mut v = Violations::new();
    v.check(request.after_sequence < 0, "after_sequence", "must not be negative");
    for (i, t) in request.event_types.iter().enumerate() {
        redress_kit::validate::enum_value::<CaseEventType>(&mut v, &format!("event_types[{i}]"), *t, false);
    }
    v.finish()?;
    Ok(Follow { tenant, types: request.event_types, after: request.after_sequence })
}
