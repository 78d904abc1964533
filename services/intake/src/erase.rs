//! Erasures reach intake through the case event log: on each PERSONAL_DATA_ERASED event the
//! customer's survey responses (their comments and CRM id) and the quotations of their words
//! in the answers kept for idempotency are purged, in the consumer's transaction.

use prost::Message;
use redress_kit::consumer::EventHandler;
use redress_kit::personal::{ERASED, unquote};
use redress_proto::case::v1::{CaseEvent, CaseEventType};
use redress_proto::common::v1::Triage;
use redress_proto::intake::v1::{SubmitComplaintResponse, SubmitReviewResponse, SubmitSurveyResponseResponse};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseTransaction, Statement, Value};

/// The consumer's name: its cursor and lease.
pub const CONSUMER: &str = "intake-erasures";

/// Purges intake's copies of erased personal data.
#[derive(Debug, Default, Clone)]
pub struct Erasures;

fn statement(backend: DatabaseBackend, text: &str, values: Vec<Value>) -> Statement {
    let text = match backend {
        DatabaseBackend::Postgres => text.to_string(),
        _ => text.replace('$', "?"),
    };
    Statement::from_sql_and_values(backend, text, values)
}

fn redact_triage(triage: &mut Option<Triage>) {
    if let Some(triage) = triage.as_mut() {
        triage.unhappy_reason = unquote(&triage.unhappy_reason);
        triage.reasons = triage.reasons.iter().map(|r| unquote(r)).collect();
    }
}

/// The stored answer with the quotations in its reasons erased, or `None` if it does not decode.
fn redact_response(method: &str, response: &[u8]) -> Option<Vec<u8>> {
    Some(match method {
        "SubmitComplaint" => {
            let mut answer = SubmitComplaintResponse::decode(response).ok()?;
            redact_triage(&mut answer.triage);
            answer.encode_to_vec()
        }
        "SubmitSurveyResponse" => {
            let mut answer = SubmitSurveyResponseResponse::decode(response).ok()?;
            redact_triage(&mut answer.triage);
            answer.encode_to_vec()
        }
        "SubmitReview" => {
            let mut answer = SubmitReviewResponse::decode(response).ok()?;
            redact_triage(&mut answer.triage);
            answer.encode_to_vec()
        }
        _ => return None,
    })
}

/// Purges what intake keeps of the customer of the erased case in `event` (or, for an erasure
/// that found no case of theirs, of the customer it names).
pub async fn erase(txn: &impl ConnectionTrait, event: &CaseEvent) -> Result<(), sea_orm::DbErr> {
    let backend = txn.get_database_backend();
    let customer_id = event.erasure.as_ref().map(|e| e.customer_id.clone()).unwrap_or_default();
    let Some(case) = event.case.as_ref() else {
        if !customer_id.is_empty() {
            txn.execute_raw(statement(
                backend,
                "UPDATE survey_responses SET comment = CASE WHEN comment = '' THEN '' ELSE $1 END, customer_id = $2, \
                 external_reference = '' WHERE tenant = $3 AND customer_id = $4",
                vec![ERASED.into(), "erased".into(), event.tenant.as_str().into(), customer_id.into()],
            ))
            .await?;
        }
        return Ok(());
    };
    let anonymous = case.customer.as_ref().map(|c| c.customer_id.clone()).unwrap_or_default();
    txn.execute_raw(statement(
        backend,
        "UPDATE survey_responses SET comment = CASE WHEN comment = '' THEN '' ELSE $1 END, customer_id = $2, \
         external_reference = '' WHERE tenant = $3 AND (case_name = $4 OR ($5 <> '' AND customer_id = $5))",
        vec![
            ERASED.into(),
            anonymous.into(),
            event.tenant.as_str().into(),
            case.name.as_str().into(),
            customer_id.into(),
        ],
    ))
    .await?;
    // The answers kept for retries name the case; only those can quote this customer.
    let find = match backend {
        DatabaseBackend::Postgres => {
            "SELECT request_id, method, response FROM submissions \
             WHERE tenant = $1 AND response IS NOT NULL AND position($2::bytea in response) > 0"
        }
        _ => {
            "SELECT request_id, method, response FROM submissions \
              WHERE tenant = $1 AND response IS NOT NULL AND instr(response, $2) > 0"
        }
    };
    let rows = txn
        .query_all_raw(statement(
            backend,
            find,
            vec![event.tenant.as_str().into(), case.name.as_bytes().to_vec().into()],
        ))
        .await?;
    for row in rows {
        let request_id: String = row.try_get("", "request_id")?;
        let method: String = row.try_get("", "method")?;
        let response: Vec<u8> = row.try_get("", "response")?;
        let Some(redacted) = redact_response(&method, &response) else { continue };
        txn.execute_raw(statement(
            backend,
            "UPDATE submissions SET response = $1 WHERE tenant = $2 AND request_id = $3",
            vec![redacted.into(), event.tenant.as_str().into(), request_id.into()],
        ))
        .await?;
    }
    Ok(())
}

#[tonic::async_trait]
impl EventHandler for Erasures {
    async fn handle(&self, txn: &DatabaseTransaction, events: &[CaseEvent]) -> anyhow::Result<()> {
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
