//! Erasures reach intake through the case event log: on each PERSONAL_DATA_ERASED event the
//! customer's survey responses (their comments and CRM id) and the quotations of their words
//! in the answers kept for idempotency are purged, in the consumer's transaction.

use prost::Message;
use redress_kit::consumer::EventHandler;
use redress_kit::db::Txn;
use redress_kit::personal::unquote;
use redress_proto::case::v1::{CaseEvent, CaseEventType};
use redress_proto::common::v1::Triage;
use redress_proto::intake::v1::{SubmitComplaintResponse, SubmitReviewResponse, SubmitSurveyResponseResponse};

use crate::error::Error;
use crate::store::erase;

/// The consumer's name: its cursor and lease.
pub const CONSUMER: &str = "intake-erasures";

/// Intake's consumer of the case event log: purges intake's copies of erased personal data.
#[derive(Debug, Default, Clone)]
pub struct Consumer;

fn redact_triage(triage: &mut Option<Triage>) {
    if let Some(triage) = triage.as_mut() {
        triage.unhappy_reason = unquote(&triage.unhappy_reason);
        triage.reasons = triage.reasons.iter().map(|r| unquote(r)).collect();
    }
}

/// Decodes an answer of type `R`, erases the quotations in its triage, and encodes it again.
fn redacted<R: Message + Default>(response: &[u8], triage: fn(&mut R) -> &mut Option<Triage>) -> Option<Vec<u8>> {
    let mut answer = R::decode(response).ok()?;
    redact_triage(triage(&mut answer));
    Some(answer.encode_to_vec())
}

/// The stored answer with the quotations in its reasons erased, or `None` if it does not decode.
fn redact_response(method: &str, response: &[u8]) -> Option<Vec<u8>> {
    match method {
        "SubmitComplaint" => redacted(response, |a: &mut SubmitComplaintResponse| &mut a.triage),
        "SubmitSurveyResponse" => redacted(response, |a: &mut SubmitSurveyResponseResponse| &mut a.triage),
        "SubmitReview" => redacted(response, |a: &mut SubmitReviewResponse| &mut a.triage),
        _ => None,
    }
}

/// Purges what intake keeps of the customer of the erased case in `event` (or, for an erasure
/// that found no case of theirs, of the customer it names).
pub async fn erase(txn: &Txn, event: &CaseEvent) -> Result<(), Error> {
    let tenant = event.tenant.as_str();
    let customer_id = event.erasure.as_ref().map(|e| e.customer_id.as_str()).unwrap_or_default();
    let Some(case) = event.case.as_ref() else {
        if !customer_id.is_empty() {
            erase::erase_customer_surveys(txn, tenant, customer_id).await?;
        }
        return Ok(());
    };
    let anonymous = case.customer.as_ref().map(|c| c.customer_id.as_str()).unwrap_or_default();
    erase::erase_case_surveys(txn, tenant, &case.name, anonymous, customer_id).await?;
    // The answers kept for retries name the case; only those can quote this customer.
    for kept in erase::answers_naming(txn, tenant, &case.name).await? {
        let Some(redacted) = redact_response(&kept.method, &kept.response) else { continue };
        erase::replace_answer(txn, tenant, &kept.request_id, redacted).await?;
    }
    Ok(())
}

#[tonic::async_trait]
impl EventHandler for Consumer {
    async fn handle(&self, txn: &Txn, events: &[CaseEvent]) -> anyhow::Result<()> {
        for event in events.iter().filter(|e| e.r#type == CaseEventType::PersonalDataErased as i32) {
            erase(txn, event).await?;
            tracing::info!(
                case = event.case.as_ref().map(|c| c.name.as_str()).unwrap_or_default(),
                "personal data erased from intake"
            );
        }
        Ok(())
    }
}
