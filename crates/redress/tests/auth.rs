//! Authentication and authorisation as an installation runs them: `redress up` in `tokens`
//! mode, with an OIDC issuer's ES256 keys in a JWKS file, API keys made with `redress apikey`,
//! and the service token between the services (every complaint goes intake → case with it).
//!
//! - No credentials, an expired token, a wrong audience, a key the issuer never published and
//!   a forged `alg: none` token are UNAUTHENTICATED; the tenant is the token's, not a header's;
//!   another tenant's case is NOT_FOUND; an agent calling an admin method is PERMISSION_DENIED.
//! - An API key works for its tenant and roles and stops working within the reload interval
//!   once revoked.
//! - The role table of `docs/security.md` holds for every method and every role.

mod support;

use support::redress;

use std::process::Stdio;
use std::str::FromStr;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use redress_kit::auth::policy::POLICY;
use redress_kit::caller::Role;
use redress_proto::analytics::v1::GetOverviewRequest;
use redress_proto::analytics::v1::analytics_service_client::AnalyticsServiceClient;
use redress_proto::case::v1::case_service_client::CaseServiceClient;
use redress_proto::case::v1::{
    AddTimelineEntryRequest, AssignCaseRequest, Case, CreateCaseRequest, GetCaseRequest, ListCasesRequest,
    ListTimelineEntriesRequest, TimelineEntry, TimelineEntryKind,
};
use redress_proto::common::v1::{Channel as ContactChannel, Customer};
use redress_proto::escalation::v1::escalation_service_client::EscalationServiceClient;
use redress_proto::escalation::v1::{CreateSlaPolicyRequest, GetCaseSlaRequest, SlaPolicy};
use redress_proto::intake::v1::intake_service_client::IntakeServiceClient;
use redress_proto::intake::v1::{Complaint, SubmitComplaintRequest};
use redress_testkit::free_port;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};
use tokio::process::Child;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

const ISSUER: &str = "https://idp.example.test/realms/contact-centre";
const AUDIENCE: &str = "redress";
const SERVICE_TOKEN: &str = "a-service-token-of-forty-characters-long";

/// An identity provider's signing key.
struct Issuer {
    kid: String,
    key: EcdsaKeyPair,
    rng: SystemRandom,
}

impl Issuer {
    fn new(kid: &str) -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("key");
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).expect("key");
        Issuer { kid: kid.into(), key, rng }
    }

    /// The public key as a JWK.
    fn jwk(&self) -> Value {
        let point = self.key.public_key().as_ref();
        json!({
            "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": self.kid,
            "x": B64.encode(&point[1..33]), "y": B64.encode(&point[33..65]),
        })
    }

    fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!("{}.{}", B64.encode(header.to_string()), B64.encode(claims.to_string()));
        let signature = self.key.sign(&self.rng, input.as_bytes()).expect("sign");
        format!("{input}.{}", B64.encode(signature.as_ref()))
    }

    fn token(&self, claims: &Value) -> String {
        self.sign(&json!({"alg": "ES256", "typ": "JWT", "kid": self.kid}), claims)
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The claims of a staff member or a machine of `tenant` with `roles`, valid for an hour.
fn claims(tenant: &str, sub: &str, roles: &[&str]) -> Value {
    json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": sub, "tenant": tenant, "roles": roles,
        "iat": now(), "nbf": now(), "exp": now() + 3600,
    })
}

/// `redress up` in tokens mode, keeping its files in `dir`.
struct Installation {
    dir: tempfile::TempDir,
    port: u16,
    child: Child,
}

impl Installation {
    fn env(dir: &std::path::Path) -> Vec<(String, String)> {
        [
            ("REDRESS_AUTH__MODE", "tokens"),
            ("REDRESS_AUTH__ISSUER", ISSUER),
            ("REDRESS_AUTH__AUDIENCE", AUDIENCE),
            ("REDRESS_AUTH__SERVICE_TOKEN", SERVICE_TOKEN),
            ("REDRESS_AUTH__API_KEY_REFRESH", "1s"),
            ("REDRESS_METRICS__LISTEN", ""),
            ("REDRESS_ANALYTICS__FLIGHT_LISTEN", ""),
            ("REDRESS_LOG__LEVEL", "warn"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .chain([
            ("REDRESS_AUTH__JWKS_FILE".to_string(), dir.join("jwks.json").display().to_string()),
            ("REDRESS_DATA_DIR".to_string(), dir.display().to_string()),
        ])
        .collect()
    }

    async fn start(issuer: &Issuer) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("jwks.json"), json!({"keys": [issuer.jwk()]}).to_string()).expect("jwks");
        let port = free_port();
        let child = redress()
            .args(["up", "--listen", &format!("127.0.0.1:{port}")])
            .envs(Self::env(dir.path()))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("redress up");
        let installation = Installation { dir, port, child };
        installation.wait_serving().await;
        installation
    }

    async fn wait_serving(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(channel) = self.try_channel().await {
                let mut health = HealthClient::new(channel);
                let request = HealthCheckRequest { service: String::new() };
                if let Ok(answer) = health.check(request).await
                    && answer.into_inner().status == ServingStatus::Serving as i32
                {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "redress up never became SERVING");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn try_channel(&self) -> Result<Channel, tonic::transport::Error> {
        tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{}", self.port))
            .expect("endpoint")
            .connect()
            .await
    }

    async fn channel(&self) -> Channel {
        self.try_channel().await.expect("connect")
    }

    /// Runs `redress apikey …` against this installation's key store.
    async fn apikey(&self, args: &[&str]) -> String {
        let output =
            redress().arg("apikey").args(args).envs(Self::env(self.dir.path())).output().await.expect("redress apikey");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "redress apikey {args:?}: {stderr}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

/// A request carrying `credential` as a bearer credential (or none).
fn with<T>(credential: Option<&str>, message: T) -> Request<T> {
    let mut request = Request::new(message);
    if let Some(credential) = credential {
        request.metadata_mut().insert("authorization", format!("Bearer {credential}").parse().expect("header"));
    }
    request.set_timeout(Duration::from_secs(10));
    request
}

fn complaint() -> SubmitComplaintRequest {
    SubmitComplaintRequest {
        parent: "tenants/acme".into(),
        complaint: Some(Complaint {
            customer: Some(Customer { customer_id: "c-1".into(), ..Default::default() }),
            channel: ContactChannel::Email as i32,
            description: "The kettle I bought leaks from the base.".into(),
            ..Default::default()
        }),
        request_id: uuid::Uuid::now_v7().to_string(),
    }
}

fn assert_refused(result: Result<impl std::fmt::Debug, Status>, code: Code, words: &str) {
    let status = result.expect_err("refused");
    assert_eq!(status.code(), code, "{status:?}");
    assert!(status.message().contains(words), "expected {words:?} in {:?}", status.message());
}

#[tokio::test]
async fn tokens_decide_who_calls_which_tenant_they_see_and_what_they_may_do() {
    let issuer = Issuer::new("key-2026-12");
    let stranger = Issuer::new("not-published");
    let up = Installation::start(&issuer).await;
    let channel = up.channel().await;
    let mut cases = CaseServiceClient::new(channel.clone());
    let mut intake = IntakeServiceClient::new(channel.clone());
    let mut escalation = EscalationServiceClient::new(channel.clone());
    let mut analytics = AnalyticsServiceClient::new(channel.clone());
    let get = |name: &str| GetCaseRequest { name: name.to_string() };

    // Refused before anything else: no credentials, and every bad token.
    let some_case = "tenants/acme/cases/0193a6f0-0000-7000-8000-000000000000";
    assert_refused(cases.get_case(with(None, get(some_case))).await, Code::Unauthenticated, "no credentials");
    let mut stale = claims("acme", "agent-7", &["agent"]);
    stale["exp"] = json!(now() - 3600);
    stale["iat"] = json!(now() - 7200);
    stale["nbf"] = json!(now() - 7200);
    let mut elsewhere = claims("acme", "agent-7", &["agent"]);
    elsewhere["aud"] = json!("another-api");
    let bad = [
        (issuer.token(&stale), "expired"),
        (issuer.token(&elsewhere), "audience"),
        (stranger.token(&claims("acme", "agent-7", &["agent"])), "key"),
        (
            format!(
                "{}.{}.",
                B64.encode(json!({"alg": "none", "typ": "JWT", "kid": issuer.kid}).to_string()),
                B64.encode(claims("acme", "agent-7", &["admin"]).to_string())
            ),
            "algorithm",
        ),
        ("not-a-token".to_string(), "refused"),
    ];
    for (token, words) in &bad {
        assert_refused(cases.get_case(with(Some(token), get(some_case))).await, Code::Unauthenticated, words);
    }

    // A contact-centre integration submits a complaint; intake opens the case in the case
    // service with the service token.
    let crm = issuer.token(&claims("acme", "crm-connector", &["integration"]));
    let opened = intake.submit_complaint(with(Some(&crm), complaint())).await.expect("submit").into_inner();
    assert!(opened.case.starts_with("tenants/acme/cases/"), "{opened:?}");

    // An agent of acme reads it; an agent of globex is told it does not exist.
    let agent = issuer.token(&claims("acme", "agent-7", &["agent"]));
    let case = cases.get_case(with(Some(&agent), get(&opened.case))).await.expect("get").into_inner();
    assert_eq!(case.case.expect("case").name, opened.case);
    let outsider = issuer.token(&claims("globex", "agent-9", &["agent", "supervisor", "admin"]));
    assert_refused(cases.get_case(with(Some(&outsider), get(&opened.case))).await, Code::NotFound, "");

    // The tenant is the token's: a header naming another tenant changes nothing.
    let mut listing = with(Some(&outsider), ListCasesRequest { parent: "tenants/acme".into(), ..Default::default() });
    listing.metadata_mut().insert("x-redress-tenant", "acme".parse().expect("header"));
    assert_refused(cases.list_cases(listing).await, Code::PermissionDenied, "tenant");
    let mut listing = with(Some(&agent), ListCasesRequest { parent: "tenants/acme".into(), ..Default::default() });
    listing.metadata_mut().insert("x-redress-tenant", "globex".parse().expect("header"));
    let listed = cases.list_cases(listing).await.expect("list").into_inner();
    assert_eq!(listed.cases.len(), 1);

    // An agent calling an admin method.
    let policy = CreateSlaPolicyRequest {
        parent: "tenants/acme".into(),
        sla_policy: Some(SlaPolicy { display_name: "Standard".into(), ..Default::default() }),
        request_id: uuid::Uuid::now_v7().to_string(),
    };
    assert_refused(
        escalation.create_sla_policy(with(Some(&agent), policy)).await,
        Code::PermissionDenied,
        "CreateSlaPolicy is not open to the roles agent",
    );

    // A BI tool's API key: its tenant and roles, until it is revoked.
    let key = up.apikey(&["create", "--tenant", "acme", "--roles", "bi_reader", "--name", "looker"]).await;
    let key = key.trim();
    assert!(key.starts_with("rdk_"), "{key}");
    let overview = || with(Some(key), GetOverviewRequest { parent: "tenants/acme".into(), ..Default::default() });
    analytics.get_overview(overview()).await.expect("a BI key reads the reports");
    assert_refused(cases.get_case(with(Some(key), get(&opened.case))).await, Code::PermissionDenied, "bi_reader");
    let listed = up.apikey(&["list", "--tenant", "acme"]).await;
    let id = key.split('_').nth(1).expect("id");
    assert!(listed.contains(id) && listed.contains("looker") && listed.contains("bi_reader"), "{listed}");
    assert!(!listed.contains(key), "the secret is never shown again");
    up.apikey(&["revoke", id]).await;
    let revoked = Instant::now();
    loop {
        match analytics.get_overview(overview()).await {
            Ok(_) => {
                assert!(revoked.elapsed() < Duration::from_secs(5), "a revoked key still works after 5 s");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(status) => {
                assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
                break;
            }
        }
    }
    println!(
        "a revoked api key stopped working {:?} after `redress apikey revoke` (reload interval 1 s)",
        revoked.elapsed()
    );
    up.stop().await;
}

#[tokio::test]
async fn the_role_table_holds_for_every_method_and_role() {
    let issuer = Issuer::new("key-a");
    let up = Installation::start(&issuer).await;
    let channel = up.channel().await;
    let people = [Role::Agent, Role::Supervisor, Role::Admin, Role::Integration, Role::BiReader];
    let tokens: Vec<(Role, String)> =
        people.iter().map(|role| (*role, issuer.token(&claims("acme", "walker", &[role.name()])))).collect();
    let mut checked = 0;
    for (method, allowed) in POLICY {
        for (role, token) in &tokens {
            let mut grpc = tonic::client::Grpc::new(channel.clone());
            grpc.ready().await.expect("ready");
            let path = http::uri::PathAndQuery::from_str(&format!("/{method}")).expect("path");
            let request = with(Some(token), ());
            let codec = tonic_prost::ProstCodec::<(), ()>::default();
            let answer: Result<tonic::Response<()>, Status> = grpc.unary(request, path, codec).await;
            let refused_by_table = matches!(&answer, Err(s) if s.code() == Code::PermissionDenied && s.message().contains("is not open to"));
            if let Err(status) = &answer {
                assert_ne!(status.code(), Code::Unauthenticated, "{method} as {role}: {status:?}");
            }
            assert_eq!(refused_by_table, !allowed.contains(role), "{method} as {role}: {answer:?}");
            checked += 1;
        }
    }
    println!("{checked} method × role pairs checked against the table");
    up.stop().await;
}

#[tokio::test]
async fn agents_see_their_own_and_their_teams_cases_and_no_others() {
    let issuer = Issuer::new("key-scope");
    let up = Installation::start(&issuer).await;
    let channel = up.channel().await;
    let mut cases = CaseServiceClient::new(channel.clone());
    let mut escalation = EscalationServiceClient::new(channel.clone());
    let token = |sub: &str, roles: &[&str], team: Option<&str>| {
        let mut claims = claims("acme", sub, roles);
        if let Some(team) = team {
            claims["team"] = json!(team);
        }
        issuer.token(&claims)
    };
    let lead = token("lead-1", &["supervisor"], None);
    let ana = token("ana", &["agent"], Some("care"));
    let ben = token("ben", &["agent"], Some("billing"));
    let care_lead = token("lead-care", &["supervisor", "agent"], Some("care"));

    // Ana's own case (in billing), one of care's (Tom's), one of billing's (Ben's), and one
    // nobody has taken yet, of no team.
    let open = |subject: &'static str| {
        let mut cases = cases.clone();
        let lead = lead.clone();
        async move {
            let case = Case {
                customer: Some(Customer { customer_id: "c-9".into(), ..Default::default() }),
                channel: ContactChannel::Email as i32,
                subject: subject.into(),
                description: "The kettle leaks.".into(),
                ..Default::default()
            };
            let request = CreateCaseRequest {
                parent: "tenants/acme".into(),
                case: Some(case),
                request_id: uuid::Uuid::now_v7().to_string(),
            };
            cases.create_case(with(Some(&lead), request)).await.expect("create").into_inner().case.expect("case").name
        }
    };
    let (own, cares, billings, queue) =
        (open("own").await, open("care").await, open("billing").await, open("queue").await);
    for (name, owner, team) in [(&own, "ana", "billing"), (&cares, "tom", "care"), (&billings, "ben", "billing")] {
        let request = AssignCaseRequest {
            name: name.clone(),
            owner: owner.into(),
            team: team.into(),
            reason: "rota".into(),
            request_id: uuid::Uuid::now_v7().to_string(),
            ..Default::default()
        };
        cases.assign_case(with(Some(&lead), request)).await.expect("assign");
    }

    let listed = |credential: String| {
        let mut cases = cases.clone();
        async move {
            let request = ListCasesRequest { parent: "tenants/acme".into(), page_size: 100, ..Default::default() };
            let mut names: Vec<String> = cases
                .list_cases(with(Some(&credential), request))
                .await
                .expect("list")
                .into_inner()
                .cases
                .into_iter()
                .map(|c| c.name)
                .collect();
            names.sort();
            names
        }
    };
    let sorted = |names: &[&String]| {
        let mut names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        names.sort();
        names
    };
    assert_eq!(listed(ana.clone()).await, sorted(&[&own, &cares, &queue]), "Ana: her own, care's, the queue");
    assert_eq!(listed(ben.clone()).await, sorted(&[&own, &billings, &queue]), "Ben: billing's, the queue");
    assert_eq!(listed(care_lead.clone()).await, sorted(&[&cares, &queue]), "care's lead: care's, the queue");
    assert_eq!(listed(lead.clone()).await, sorted(&[&own, &cares, &billings, &queue]), "a lead of no one team: all");

    // Another team's case does not exist for Ana: not to read, its timeline, or to change.
    assert_refused(
        cases.get_case(with(Some(&ana), GetCaseRequest { name: billings.clone() })).await,
        Code::NotFound,
        "",
    );
    let timeline = ListTimelineEntriesRequest { parent: billings.clone(), ..Default::default() };
    assert_refused(cases.list_timeline_entries(with(Some(&ana), timeline)).await, Code::NotFound, "");
    let note = AddTimelineEntryRequest {
        parent: billings.clone(),
        entry: Some(TimelineEntry { kind: TimelineEntryKind::Note as i32, text: "peek".into(), ..Default::default() }),
        request_id: uuid::Uuid::now_v7().to_string(),
    };
    assert_refused(cases.add_timeline_entry(with(Some(&ana), note.clone())).await, Code::NotFound, "");
    cases.add_timeline_entry(with(Some(&ben), note)).await.expect("Ben notes his own case");
    cases.get_case(with(Some(&ana), GetCaseRequest { name: cares.clone() })).await.expect("her team's case");

    // The escalation service keeps to the same scope once it has seen the cases.
    let deadline = Instant::now() + Duration::from_secs(20);
    while escalation.get_case_sla(with(Some(&ben), GetCaseSlaRequest { case: billings.clone() })).await.is_err() {
        assert!(Instant::now() < deadline, "the escalation service never saw the case");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Once it has seen the assignment, Ana is told the case does not exist there either.
    loop {
        let sla = GetCaseSlaRequest { case: billings.clone() };
        match escalation.get_case_sla(with(Some(&ana), sla)).await {
            Err(status) if status.code() == Code::NotFound => break,
            other => assert!(Instant::now() < deadline, "Ana still sees billing's clocks: {other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    escalation.get_case_sla(with(Some(&ben), GetCaseSlaRequest { case: billings.clone() })).await.expect("Ben's");
    println!("agents see their own, their team's and the unassigned cases; another team's is NOT_FOUND");
    up.stop().await;
}
