//! Offers: a resolution proposed, and the customer's answer to it.

use redress_proto::case::v1::{
    Case, CaseEventType, CaseStatus, OfferDecision, OfferKind, OfferState, ResolutionOffer, TimelineEntryKind,
    Visibility,
};
use redress_proto::common::v1::Money;

use super::{Change, Outcome, Step};
use crate::domain::DomainError;
use crate::domain::machine::Move;

pub(super) fn propose(case: &mut Case, mut offer: ResolutionOffer, step: &Step) -> Outcome {
    step.check_move(case, Move::Propose)?;
    for earlier in case.offers.iter_mut().filter(|o| o.state() == OfferState::Proposed) {
        earlier.state = OfferState::Superseded as i32;
    }
    offer.name = format!("{}/offers/{}", case.name, case.offers.len() + 1);
    offer.state = OfferState::Proposed as i32;
    offer.proposer = step.actor.id.clone();
    offer.propose_time = step.time();
    offer.decision = OfferDecision::Unspecified as i32;
    offer.counter_amount = None;
    offer.customer_comment.clear();
    offer.decide_time = None;
    case.offers.push(offer.clone());
    case.status = CaseStatus::ResolutionProposed as i32;
    let text = format!("offered {}: {}", describe_offer(&offer), offer.description);
    Ok(with_offer(step, CaseEventType::ResolutionProposed, TimelineEntryKind::Offer, text, offer))
}

pub(super) fn respond(
    case: &mut Case,
    offer_id: Option<&str>,
    decision: OfferDecision,
    counter_amount: Option<Money>,
    comment: String,
    step: &Step,
) -> Outcome {
    step.check_move(case, Move::RespondToOffer)?;
    let index = match offer_id {
        Some(id) => case
            .offers
            .iter()
            .position(|o| o.name.rsplit('/').next() == Some(id))
            .ok_or_else(|| DomainError::NotFound(format!("{}/offers/{id}", case.name)))?,
        None => case
            .offers
            .iter()
            .rposition(|o| o.state() == OfferState::Proposed)
            .ok_or_else(|| DomainError::Rule("no offer awaits the customer's answer".into()))?,
    };
    let offer = &mut case.offers[index];
    if offer.state() != OfferState::Proposed {
        return Err(DomainError::Rule(format!(
            "{} is {}; only a PROPOSED offer can be answered",
            offer.name,
            offer.state().as_str_name().trim_start_matches("OFFER_STATE_")
        )));
    }
    offer.decision = decision as i32;
    offer.customer_comment = comment.clone();
    offer.decide_time = step.time();
    let described = describe_offer(offer);
    let text = match decision {
        OfferDecision::Accept => {
            offer.state = OfferState::Accepted as i32;
            format!("customer accepted {described}")
        }
        OfferDecision::Reject => {
            offer.state = OfferState::Rejected as i32;
            format!("customer rejected {described}")
        }
        OfferDecision::Counter | OfferDecision::Unspecified => {
            offer.state = OfferState::Countered as i32;
            offer.counter_amount = counter_amount.clone();
            let asked = counter_amount.as_ref().map(format_money).unwrap_or_else(|| "something else".into());
            format!("customer countered {described}, asking for {asked}")
        }
    };
    let offer = offer.clone();
    if decision == OfferDecision::Reject {
        case.status = CaseStatus::Investigating as i32;
    }
    let text = if comment.is_empty() { text } else { format!("{text}: \"{comment}\"") };
    Ok(with_offer(step, CaseEventType::CustomerResponded, TimelineEntryKind::CustomerResponse, text, offer))
}

/// The change of an offer command, told to the customer and carrying the offer.
fn with_offer(
    step: &Step,
    event_type: CaseEventType,
    kind: TimelineEntryKind,
    text: String,
    offer: ResolutionOffer,
) -> Change {
    let mut change = step.change(event_type, kind, Visibility::CustomerFacing, text);
    change.offer = Some(offer);
    change
}

/// An amount for people: `12.50 EUR`, `1200 JPY`.
pub fn format_money(money: &Money) -> String {
    let exponent = match money.currency_code.as_str() {
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "UGX" | "XAF" | "XOF" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" => 3,
        _ => 2,
    };
    let sign = if money.amount_minor < 0 { "-" } else { "" };
    let abs = money.amount_minor.unsigned_abs();
    if exponent == 0 {
        return format!("{sign}{abs} {}", money.currency_code);
    }
    let unit = 10u64.pow(exponent);
    format!("{sign}{}.{:0width$} {}", abs / unit, abs % unit, money.currency_code, width = exponent as usize)
}

fn describe_offer(offer: &ResolutionOffer) -> String {
    let kind = match offer.kind() {
        OfferKind::Refund => "a refund",
        OfferKind::Replacement => "a replacement",
        OfferKind::Discount => "a discount",
        OfferKind::Repair => "a repair",
        OfferKind::Credit => "a credit",
        OfferKind::Explanation => "an explanation",
        OfferKind::Other | OfferKind::Unspecified => "a remedy",
    };
    match &offer.amount {
        Some(amount) if amount.amount_minor > 0 => format!("{kind} of {}", format_money(amount)),
        _ => kind.to_string(),
    }
}
