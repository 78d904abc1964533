//! The statements an erasure of personal data runs, in the consumer's transaction.

use redress_kit::db::{Txn, statement};
use redress_kit::personal::ERASED;
use sea_orm::{ConnectionTrait, DatabaseBackend, Value};

use crate::error::Error;

/// Blanks the comment (keeping an empty one empty) and the survey tool's reference, and sets
/// the customer id to `$2`.
const ERASE_SURVEYS: &str = "UPDATE survey_responses SET comment = CASE WHEN comment = '' THEN '' ELSE $1 END, \
                             customer_id = $2, external_reference = '' WHERE tenant = $3";

/// An answer kept for retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptAnswer {
    /// The request_id it answers.
    pub request_id: String,
    /// The method that gave it.
    pub method: String,
    /// The encoded answer.
    pub response: Vec<u8>,
}

/// Purges the survey answers of `customer_id`, for an erasure that found no case of theirs.
pub async fn erase_customer_surveys(txn: &Txn, tenant: &str, customer_id: &str) -> Result<(), Error> {
    let text = format!("{ERASE_SURVEYS} AND customer_id = $4");
    let values: [Value; 4] = [ERASED.into(), "erased".into(), tenant.into(), customer_id.into()];
    txn.execute_raw(statement(txn.get_database_backend(), &text, values)).await?;
    Ok(())
}

/// Purges the survey answers about `case`, and those of `customer_id` when it is not empty,
/// leaving `anonymous` (the case's erased customer id) as their customer.
pub async fn erase_case_surveys(
    txn: &Txn,
    tenant: &str,
    case: &str,
    anonymous: &str,
    customer_id: &str,
) -> Result<(), Error> {
    let text = format!("{ERASE_SURVEYS} AND (case_name = $4 OR ($5 <> '' AND customer_id = $5))");
    let values: [Value; 5] = [ERASED.into(), anonymous.into(), tenant.into(), case.into(), customer_id.into()];
    txn.execute_raw(statement(txn.get_database_backend(), &text, values)).await?;
    Ok(())
}

/// The answers kept for retries whose bytes contain `case`'s name: only those can quote the
/// case's customer.
pub async fn answers_naming(txn: &Txn, tenant: &str, case: &str) -> Result<Vec<KeptAnswer>, Error> {
    let backend = txn.get_database_backend();
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
    let rows =
        txn.query_all_raw(statement(backend, find, [Value::from(tenant), case.as_bytes().to_vec().into()])).await?;
    let mut answers = Vec::with_capacity(rows.len());
    for row in rows {
        answers.push(KeptAnswer {
            request_id: row.try_get("", "request_id")?,
            method: row.try_get("", "method")?,
            response: row.try_get("", "response")?,
        });
    }
    Ok(answers)
}

/// Replaces the answer kept for `request_id`.
pub async fn replace_answer(txn: &Txn, tenant: &str, request_id: &str, response: Vec<u8>) -> Result<(), Error> {
    let text = "UPDATE submissions SET response = $1 WHERE tenant = $2 AND request_id = $3";
    let values: [Value; 3] = [response.into(), tenant.into(), request_id.into()];
    txn.execute_raw(statement(txn.get_database_backend(), text, values)).await?;
    Ok(())
}
