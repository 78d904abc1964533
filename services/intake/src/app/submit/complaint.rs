//! SubmitComplaint: open a case, or join the customer's open case as a repeat contact.
//!
//! Submissions of one customer take turns under the customer's lock. Under it, intake asks
//! the case service for the customer's cases of the last 30 days (the repeat-complainant
//! count), decides whether the complaint is a repeat contact of an open one, records that
//! plan under the request_id, and carries it out. A retry finds the plan (or the answer)
//! and repeats nothing.

use chrono::Utc;
use redress_kit::TenantId;
use redress_proto::case::v1::{Case, TimelineEntry, TimelineEntryKind, Visibility};
use redress_proto::common::v1 as common;
use redress_proto::intake::v1::{Complaint, IntakeOutcome, SubmitComplaintResponse};
use tonic::Code;

use super::{Seen, age, cut, derived_request_id};
use crate::app::Intake;
use crate::domain::{
    Channel, Classifier, ComplaintInput, Fingerprint, PriorCase, RepeatDecision, Severity, Triage,
    validate::MAX_DESCRIPTION_BYTES,
};
use crate::error::Error;
use crate::store::lock::CustomerLock;
use crate::store::{Plan, request_hash};

const METHOD: &str = "SubmitComplaint";

/// The case a new complaint opens, with its triage.
fn new_case(complaint: &Complaint, triage: Triage, linked: &str) -> Case {
    let triage = common::Triage::from(triage);
    Case {
        customer: complaint.customer.clone(),
        channel: complaint.channel,
        subject: complaint.subject.clone(),
        description: complaint.description.clone(),
        references: complaint.references.clone(),
        desired_outcome: complaint.desired_outcome.clone(),
        occur_time: complaint.occur_time,
        category: triage.category.clone(),
        severity: triage.severity,
        unhappy: triage.unhappy,
        unhappy_reason: triage.unhappy_reason.clone(),
        triage: Some(triage),
        tags: complaint.tags.clone(),
        linked_cases: if linked.is_empty() { Vec::new() } else { vec![linked.to_string()] },
        external_reference: complaint.external_reference.clone(),
        attachments: complaint.attachments.clone(),
        ..Case::default()
    }
}

impl Intake {
    /// Handles a validated, normalised complaint.
    pub async fn submit_complaint(
        &self,
        tenant: &TenantId,
        request_id: &str,
        complaint: &Complaint,
    ) -> Result<SubmitComplaintResponse, Error> {
        let hash = request_hash(&prost::Message::encode_to_vec(complaint));
        let customer_id = complaint.customer.as_ref().map(|c| c.customer_id.as_str()).unwrap_or_default();
        // The tenant's rate-limit token is taken with the customer's lock (one round trip to
        // the shared store), or alone when there is no customer id and so no lock.
        let lock = if customer_id.is_empty() {
            self.limiter.take(tenant).await?;
            None
        } else {
            Some(self.locks.lock(tenant, customer_id, &self.limiter).await?)
        };
        let result = self.complaint_in_turn(tenant, request_id, complaint, &hash, customer_id, lock.as_ref()).await;
        if let Some(lock) = lock {
            lock.release().await;
        }
        result
    }

    async fn complaint_in_turn(
        &self,
        tenant: &TenantId,
        request_id: &str,
        complaint: &Complaint,
        hash: &[u8],
        customer_id: &str,
        lock: Option<&CustomerLock>,
    ) -> Result<SubmitComplaintResponse, Error> {
        let input = ComplaintInput::from_complaint(complaint)
            .ok_or_else(|| Error::Corrupt("a validated complaint has no channel".into()))?;
        let rules = self.rules.for_tenant(&self.store, tenant).await?;
        let recent = self.recent_cases(tenant, customer_id, rules.repeat_complainant_window).await?;
        // A request_id seen before keeps the plan decided then (or its answer); otherwise the
        // plan decided now is recorded before anything is changed.
        let plan = self.decide(complaint, &recent);
        let (plan, resumed) = match self.begin(tenant, request_id, METHOD, hash, &plan).await? {
            Seen::Done(answer) => return Ok(answer),
            Seen::Pending(earlier) => (earlier, true),
            Seen::New => (plan, false),
        };
        if let Some(lock) = lock {
            lock.ensure_held()?;
        }
        let answer = if plan.outcome == IntakeOutcome::JoinedExistingCase as i32 {
            let target = match recent.iter().find(|c| c.name == plan.case) {
                Some(case) => case.clone(),
                None => self.peer.get_case(tenant, &plan.case).await?,
            };
            let earlier = u32::try_from(recent.len().saturating_sub(1)).unwrap_or(u32::MAX);
            let triage =
                rules.classifier.classify(&ComplaintInput { recent_cases: earlier, repeat_contact: true, ..input });
            self.join(tenant, request_id, complaint, target, (&rules.classifier, triage), lock).await?
        } else {
            let earlier = u32::try_from(recent.len()).unwrap_or(u32::MAX);
            let triage = rules.classifier.classify(&ComplaintInput { recent_cases: earlier, ..input });
            let case = new_case(complaint, triage, &plan.case);
            let derived = derived_request_id(request_id, "");
            let (case, created) = self.peer.create_case(tenant, case, &derived).await?;
            // Not created by this call: an earlier attempt of it, or a case with the same
            // channel and external reference, which this complaint is.
            let outcome =
                if created || resumed { IntakeOutcome::CaseCreated } else { IntakeOutcome::JoinedExistingCase };
            tracing::info!(tenant = %tenant, case = %case.name, outcome = outcome.as_str_name(), "complaint submitted");
            SubmitComplaintResponse {
                case: case.name,
                case_reference: case.reference,
                outcome: outcome as i32,
                triage: case.triage,
            }
        };
        self.finish(tenant, request_id, &answer).await?;
        Ok(answer)
    }

    /// Decides whether the complaint joins one of the customer's recent cases.
    fn decide(&self, complaint: &Complaint, recent: &[Case]) -> Plan {
        let now = Utc::now();
        let window = self.settings.repeat.window;
        let candidates: Vec<(&Case, PriorCase)> = recent
            .iter()
            .filter(|case| age(case, now) <= window)
            .map(|case| {
                let prior = PriorCase {
                    age: age(case, now),
                    open: case.is_open(),
                    fingerprint: Fingerprint::new(&case.description),
                };
                (case, prior)
            })
            .collect();
        let prior: Vec<PriorCase> = candidates.iter().map(|(_, p)| p.clone()).collect();
        match self.settings.repeat.decide(&Fingerprint::new(&complaint.description), &prior) {
            RepeatDecision::Join { index, .. } => {
                Plan { outcome: IntakeOutcome::JoinedExistingCase as i32, case: candidates[index].0.name.clone() }
            }
            RepeatDecision::Open { linked } => Plan {
                outcome: IntakeOutcome::CaseCreated as i32,
                case: linked.map(|i| candidates[i].0.name.clone()).unwrap_or_default(),
            },
        }
    }

    /// Joins `target` as a repeat contact: a REPEAT_CONTACT entry with the customer's words,
    /// then severity raised (and the customer marked unhappy if this contact says so).
    async fn join(
        &self,
        tenant: &TenantId,
        request_id: &str,
        complaint: &Complaint,
        target: Case,
        (classifier, mut triage): (&Classifier, Triage),
        lock: Option<&CustomerLock>,
    ) -> Result<SubmitComplaintResponse, Error> {
        let channel = Channel::from_proto(complaint.channel).map(Channel::describe).unwrap_or("another channel");
        let similarity = Fingerprint::new(&complaint.description).similarity(&Fingerprint::new(&target.description));
        let heading = format!("customer contacted again via {channel}");
        let text = format!(
            "{heading}\n\n{}",
            cut(&complaint.description, MAX_DESCRIPTION_BYTES.saturating_sub(heading.len() + 2))
        );
        let mut entry = TimelineEntry {
            kind: TimelineEntryKind::RepeatContact as i32,
            text,
            visibility: Visibility::Internal as i32,
            occur_time: complaint.occur_time,
            ..TimelineEntry::default()
        };
        entry.attributes.insert("channel".into(), channel.to_string());
        entry.attributes.insert("similarity".into(), format!("{similarity:.2}"));
        entry.attributes.insert("intake_request_id".into(), request_id.to_string());
        if !complaint.external_reference.is_empty() {
            entry.attributes.insert("external_reference".into(), complaint.external_reference.clone());
        }
        let mut case =
            self.peer.add_entry(tenant, &target.name, entry, &derived_request_id(request_id, ":repeat")).await?;

        let update_id = derived_request_id(request_id, ":raise");
        for attempt in 0..4 {
            if let Some(lock) = lock {
                lock.ensure_held()?;
            }
            let current = Severity::from_proto(case.severity).unwrap_or(Severity::Medium);
            let raised = classifier.repeat_contact_severity(current, &triage);
            let mark_unhappy = triage.unhappy && !case.unhappy;
            if raised <= current && !mark_unhappy {
                break;
            }
            let mut patch = Case { name: case.name.clone(), severity: raised.to_proto() as i32, ..Case::default() };
            let mut paths = vec!["severity"];
            if mark_unhappy {
                patch.unhappy = true;
                patch.unhappy_reason = triage.unhappy_reason.clone();
                paths.extend(["unhappy", "unhappy_reason"]);
            }
            match self.peer.update_case(tenant, patch, &paths, case.version, &update_id).await {
                Ok(updated) => {
                    case = updated;
                    break;
                }
                // Someone changed the case meanwhile: read it again and decide again.
                Err(Error::Peer { status, .. }) if status.code() == Code::Aborted && attempt < 3 => {
                    case = self.peer.get_case(tenant, &case.name).await?;
                }
                Err(e) => return Err(e),
            }
        }
        triage.severity = Severity::from_proto(case.severity).unwrap_or(triage.severity);
        triage
            .reasons
            .insert(0, format!("repeat contact: joined case {} (similarity {similarity:.2})", case.reference));
        tracing::info!(tenant = %tenant, case = %case.name, outcome = "JOINED_EXISTING_CASE", "complaint submitted");
        Ok(SubmitComplaintResponse {
            case: case.name,
            case_reference: case.reference,
            outcome: IntakeOutcome::JoinedExistingCase as i32,
            triage: Some(triage.into()),
        })
    }
}
