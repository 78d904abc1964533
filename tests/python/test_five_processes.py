"""One complaint's whole journey through five `redress serve` processes, as five Deployments of
the Helm chart run it: configured only through `REDRESS_…` environment variables, migrated
first by `redress migrate`, against real PostgreSQL, Redis and an SMTP server. Authentication
is on (`auth.mode = tokens`): every caller presents an API key made with `redress apikey
create`, the role table is enforced, and the services call each other with the service token.

A complaint is submitted through intake and becomes a case; the customer's acknowledgement
(with the apology and the case reference) reaches the SMTP server; the first-response clock of
a 4-second SLA policy in a 24×7 calendar runs in the escalation service with its next deadline
in Redis; it warns the owner and then escalates the breach to the team lead, who is alerted by
email; the escalation is acknowledged, the case acknowledged with an apology, a refund offered
and accepted, the case resolved and closed with its root cause; analytics reports it.

Mid-journey, right after a second complaint is submitted and while both cases' escalations are
pending, the notification, escalation and analytics processes are killed with SIGKILL and,
once both deadlines have passed, restarted with the same environment. Nothing is lost and
nothing is done twice: every expected email arrives under one Message-ID (the notification
service delivers at least once and gives every attempt of a notification the Message-ID it was
given when accepted, so a copy sent again carries the same one and receivers drop it; there is
never a second notification), each escalation level is recorded once, the case timeline has no
duplicate entry, and analytics counts each case once. At the end every process stops on
SIGTERM with exit code 0, and neither their logs (at debug level) nor the spans they exported
to the test's OTLP collector hold any customer's name, contact details or words.

The Python stubs are generated from proto/ with grpcio-tools into a temporary directory."""

import base64
import collections
import contextlib
import time
import types
import uuid

import grpc
import pytest

from cluster import ApiKeyInterceptor, Cluster, FreshDatabase, OtlpSink, RedisNamespace, SmtpSink, deadline_loop

TENANT = "acme"
PARENT = f"tenants/{TENANT}"
FIRST_RESPONSE_SECONDS = 4
REPLY_TO = "help@acme.example"
AGENT_EMAIL = "ana.agent@acme.example"
LEAD_EMAIL = "tom.lead@acme.example"


def settings(smtp: SmtpSink) -> dict:
    """The services' own sections, as the chart's services.<service>.config would set them: the
    test's SMTP server, quick retries and polling, no quiet hours (alerts may fire at any hour
    the test runs), a satisfaction survey two seconds after resolution, and a short visibility
    timeout for claimed timers."""
    return {
        "notification": {
            "smtp_url": smtp.url,
            "email_from": "Acme Customer Care <care@acme.example>",
            "reply_to": REPLY_TO,
            "organisation_name": "Acme",
            "smtp_timeout": "2s",
            "http_timeout": "2s",
            "claim_lease": "5s",
            "poll_interval": "200ms",
            "retry_base_delay": "200ms",
            "retry_max_delay": "1s",
            "workers": "2",
            "quiet_hours_start": "",
            "quiet_hours_end": "",
            "survey_delay": "2s",
        },
        "escalation": {
            "timer_workers": "2",
            "claim_visibility": "2s",
        },
    }


@pytest.fixture
def cluster(contract, request):
    """The five processes, migrated, started and SERVING; their logs are kept only when the
    test fails (the report shows their tails and where they are)."""
    with contextlib.ExitStack() as stack:
        database = FreshDatabase()
        stack.callback(database.close)
        redis = RedisNamespace()
        stack.callback(redis.close)
        smtp = SmtpSink()
        stack.callback(smtp.close)
        otlp = OtlpSink()
        stack.callback(otlp.close)
        running = Cluster(database, redis, smtp, settings(smtp), otlp)

        def close():
            report = getattr(request.node, "report_call", None)
            running.close(keep_logs=report is None or report.failed)

        stack.callback(close)
        running.migrate()
        # The callers' API keys exist before the services start, as an integration's would.
        for caller in CALLERS:
            running.credentials(*(dict(caller)[name] for name in ApiKeyInterceptor.NAMES))
        running.start()
        yield running


def contract_modules() -> types.SimpleNamespace:
    """The generated modules, once the `contract` fixture has put them on sys.path."""
    from google.protobuf import duration_pb2
    from redress.analytics.v1 import analytics_service_pb2, analytics_service_pb2_grpc
    from redress.case.v1 import case_pb2, case_service_pb2, case_service_pb2_grpc
    from redress.common.v1 import common_pb2
    from redress.escalation.v1 import escalation_pb2, escalation_service_pb2, escalation_service_pb2_grpc
    from redress.intake.v1 import intake_service_pb2, intake_service_pb2_grpc
    from redress.notification.v1 import notification_pb2, notification_service_pb2, notification_service_pb2_grpc

    return types.SimpleNamespace(
        duration=duration_pb2, common=common_pb2, intake=intake_service_pb2, case=case_pb2, cases=case_service_pb2,
        escalation=escalation_pb2, escalations=escalation_service_pb2, notification=notification_pb2,
        notifications=notification_service_pb2, analytics=analytics_service_pb2,
        grpc=types.SimpleNamespace(intake=intake_service_pb2_grpc, case=case_service_pb2_grpc,
                                   escalation=escalation_service_pb2_grpc,
                                   notification=notification_service_pb2_grpc, analytics=analytics_service_pb2_grpc),
    )


class Api:
    """Stubs of the five services, each on its own process."""

    def __init__(self, cluster: Cluster, pb: types.SimpleNamespace) -> None:
        self.intake = pb.grpc.intake.IntakeServiceStub(cluster.channel("intake"))
        self.case = pb.grpc.case.CaseServiceStub(cluster.channel("case"))
        self.escalation = pb.grpc.escalation.EscalationServiceStub(cluster.channel("escalation"))
        self.notification = pb.grpc.notification.NotificationServiceStub(cluster.channel("notification"))
        self.analytics = pb.grpc.analytics.AnalyticsServiceStub(cluster.channel("analytics"))


def who(actor: str, roles: str) -> list:
    """Call metadata naming the caller: the tenant, the staff id and roles. The cluster's channels
    send, in their place, the API key made for that caller (cluster.ApiKeyInterceptor)."""
    return [("x-redress-tenant", TENANT), ("x-redress-actor", actor), ("x-redress-roles", roles)]


ADMIN = who("admin-1", "admin")
CONTACT_CENTRE = who("contact-centre", "integration")
AGENT = who("agent-ana", "agent")
LEAD = who("lead-tom", "supervisor")
CUSTOMER = who("customer", "integration")
BI = who("bi-1", "bi_reader")
CALLERS = [ADMIN, CONTACT_CENTRE, AGENT, LEAD, CUSTOMER, BI]
# The case log is read by redress services only; the test reads it as one, with the service token.
SERVICE = who("redress", "system")


def rid() -> str:
    return str(uuid.uuid4())


def seconds(timestamp) -> float:
    return timestamp.seconds + timestamp.nanos / 1e9


def until(what: str, probe, timeout: float = 30.0, interval: float = 0.1):
    """Polls `probe` until it returns something truthy; fails naming `what` and the last value."""
    last = None
    for _ in deadline_loop(timeout, interval):
        try:
            found = probe()
        except grpc.RpcError as e:
            last = f"{e.code().name}: {e.details()}"
            continue
        if found:
            return found
        last = found
    pytest.fail(f"never saw that {what} within {timeout}s; last seen: {last}")


def test_a_complaint_travels_through_five_processes_and_survives_sigkill(cluster):
    started = time.monotonic()
    pb = contract_modules()
    api = Api(cluster, pb)
    smtp = cluster.smtp
    policy = set_up_escalation(api, pb)

    # --- A complaint through intake becomes a case in the case service. ----------------------
    customer = pb.common.Customer(customer_id="cust-ana", display_name="Ana Silva", email="ana.silva@example.com",
                                  locale="en-GB")
    submit = pb.intake.SubmitComplaintRequest(parent=PARENT, request_id=rid(), complaint=pb.intake.Complaint(
        customer=customer, channel=pb.common.CHANNEL_EMAIL,
        subject="Kettle arrived with a cracked lid",
        description="I ordered a kettle (order 1042) and it arrived last week with a cracked lid. "
                    "Could you replace it or refund me please?",
        references=pb.common.CaseReferences(order_id="1042", product_id="KETTLE-2"),
        desired_outcome="a refund",
        external_reference=f"<{uuid.uuid4().hex}@mail.example.com>",
    ))
    submitted = api.intake.SubmitComplaint(submit, metadata=CONTACT_CENTRE, timeout=15)
    assert submitted.outcome == pb.intake.INTAKE_OUTCOME_CASE_CREATED, submitted
    assert submitted.case.startswith(f"{PARENT}/cases/") and submitted.case_reference, submitted
    assert not submitted.triage.unhappy, f"a calm complaint is no unhappy customer: {submitted.triage}"
    again = api.intake.SubmitComplaint(submit, metadata=CONTACT_CENTRE, timeout=15)
    assert (again.case, again.outcome) == (submitted.case, submitted.outcome), "a retried submission opens nothing"
    name, reference = submitted.case, submitted.case_reference

    # The agent takes the case at once, well before the warning at 75 % of the target.
    assigned = api.case.AssignCase(pb.cases.AssignCaseRequest(name=name, owner="agent-ana", team="care",
                                                              request_id=rid()), metadata=AGENT, timeout=10).case
    assert (assigned.owner, assigned.team) == ("agent-ana", "care")
    case = api.case.GetCase(pb.cases.GetCaseRequest(name=name), metadata=AGENT, timeout=10).case
    assert case.reference == reference and case.status == pb.case.CASE_STATUS_NEW
    assert case.customer.email == customer.email and case.channel == pb.common.CHANNEL_EMAIL
    assert case.subject == submit.complaint.subject and case.desired_outcome == "a refund"
    opened = seconds(case.create_time)

    # --- The acknowledgement, with the apology and the reference, reaches the SMTP server. ----
    acknowledgement = smtp.wait_for(customer.email, reference)
    assert "sorry" in acknowledgement.subject.lower(), acknowledgement.subject
    body = acknowledgement.text()
    assert "We are sorry" in body and reference in body and REPLY_TO in body, body
    assert acknowledgement.message["X-Redress-Case"] == reference
    assert REPLY_TO in str(acknowledgement.message["Reply-To"])
    assert acknowledgement.message_id.startswith("<") and acknowledgement.message_id.endswith("@acme.example>")

    # --- The first-response clock runs in the escalation service, its next deadline in Redis.
    def running_clock():
        sla, clock = first_response(api, pb, name)
        return (sla, clock) if clock else None

    sla, clock = until("the first-response clock starts", running_clock)
    assert sla.sla_policy == policy.name
    assert {c.kind for c in sla.clocks} == {pb.common.SLA_CLOCK_KIND_FIRST_RESPONSE,
                                           pb.common.SLA_CLOCK_KIND_RESOLUTION}
    assert clock.state == pb.escalation.CLOCK_STATE_RUNNING and not clock.breached, clock
    assert clock.target.seconds == FIRST_RESPONSE_SECONDS
    due = seconds(clock.due_time)
    assert abs(due - (opened + FIRST_RESPONSE_SECONDS)) < 0.05, f"due {due - opened:.3f}s after opening"
    timers = redis_timers(cluster.redis)
    key = (uuid.UUID(name.rsplit("/", 1)[1]), pb.common.SLA_CLOCK_KIND_FIRST_RESPONSE)
    assert key in timers, f"no first-response timer for {name} in Redis: {timers}"
    # The index holds when to look at the clock next: the warning at 75 %, before the breach.
    fires = timers[key] / 1000
    assert abs(fires - (opened + 0.75 * FIRST_RESPONSE_SECONDS)) < 0.05, f"fires {fires - opened:.3f}s after opening"

    # --- Mid-journey: a second complaint, then SIGKILL while its work is in flight. -----------
    other_customer = pb.common.Customer(customer_id="cust-ben", display_name="Ben Okafor", email="ben@example.com")
    second = api.intake.SubmitComplaint(pb.intake.SubmitComplaintRequest(
        parent=PARENT, request_id=rid(), complaint=pb.intake.Complaint(
            customer=other_customer, channel=pb.common.CHANNEL_WEB,
            subject="Invoice shows the wrong address",
            description="My latest invoice shows my old address. Could someone correct it?",
        )), metadata=CONTACT_CENTRE, timeout=15)
    assert second.outcome == pb.intake.INTAKE_OUTCOME_CASE_CREATED, second
    other, other_reference = second.case, second.case_reference
    killed = ["notification", "escalation", "analytics"]
    for service in killed:
        cluster[service].kill9()
    assert time.time() < due, "the services were killed only after the first case's breach deadline"
    other_opened = seconds(api.case.GetCase(pb.cases.GetCaseRequest(name=other), metadata=AGENT,
                                            timeout=10).case.create_time)
    # Both deadlines pass while the escalation service is down; intake and case carry on.
    time.sleep(max(0.0, max(due, other_opened + FIRST_RESPONSE_SECONDS) + 0.5 - time.time()))
    restarted_at = time.time()
    for service in killed:
        cluster[service].start()
    for service in killed:
        cluster[service].wait_serving()

    # --- The breach escalates to the team lead, once, after the restart. ----------------------
    listed = until("both ladder levels fire for the first case", lambda: both_levels(api, pb, name))
    assert collections.Counter(e.level for e in listed) == {1: 1, 2: 1}, f"each level once: {listed}"
    warning = next(e for e in listed if e.level == 1)
    breach = next(e for e in listed if e.level == 2)
    assert warning.reason == pb.escalation.ESCALATION_REASON_SLA_WARNING, warning
    assert list(warning.notified_staff) == [f"{PARENT}/staff/agent-ana"], warning
    assert breach.reason == pb.escalation.ESCALATION_REASON_SLA_BREACH, breach
    assert breach.clock == pb.common.SLA_CLOCK_KIND_FIRST_RESPONSE
    assert list(breach.notified_staff) == [f"{PARENT}/staff/lead-tom"], breach
    assert seconds(breach.escalate_time) >= restarted_at, "the breach fired after the restart, from the kept timer"
    _, clock = first_response(api, pb, name)
    assert clock.breached and clock.escalation_level == 2, clock

    # The case records both levels on its timeline; the team lead and the owner are alerted.
    entries = until("the case records both escalations", lambda: escalation_entries(api, pb, name))
    assert sorted(e.text.split(":")[0] for e in entries) == ["escalated to level 1", "escalated to level 2"]
    alert = smtp.wait_for(LEAD_EMAIL, f"Escalation level 2: {reference}")
    assert reference in alert.text() and "first response breached" in alert.text(), alert.text()
    smtp.wait_for(AGENT_EMAIL, f"Escalation level 1: {reference}")

    # The second complaint, in flight at the kill: acknowledged and escalated. (A restarted
    # consumer of the case event stream waits for its predecessor's lease to expire first.)
    smtp.wait_for(other_customer.email, other_reference, timeout=45)
    other_listed = until("both ladder levels fire for the second case", lambda: both_levels(api, pb, other),
                         timeout=45)
    assert collections.Counter(e.level for e in other_listed) == {1: 1, 2: 1}, other_listed
    smtp.wait_for(LEAD_EMAIL, f"Escalation level 2: {other_reference}")
    until("the second case records both escalations", lambda: escalation_entries(api, pb, other))

    # --- Acknowledged, offered, accepted, resolved, closed with its root cause. ---------------
    taken = api.escalation.AcknowledgeEscalation(pb.escalations.AcknowledgeEscalationRequest(
        name=breach.name, note="Calling Ana now"), metadata=LEAD, timeout=10).escalation
    assert taken.acknowledged and taken.acknowledger == "lead-tom", taken
    case = api.case.AcknowledgeCase(pb.cases.AcknowledgeCaseRequest(
        name=name, apologized=True, request_id=rid(),
        apology_text="We are sorry the kettle arrived damaged, and sorry we were slow to answer."),
        metadata=AGENT, timeout=10).case
    assert case.status == pb.case.CASE_STATUS_ACKNOWLEDGED
    assert case.acknowledgement.apologized and case.acknowledgement.actor == "agent-ana"

    def met():
        _, clock = first_response(api, pb, name)
        return clock if clock.state == pb.escalation.CLOCK_STATE_MET else None

    clock = until("first response is met, late, once the case is acknowledged", met)
    assert clock.breached and clock.escalation_acknowledged, clock

    case = api.case.StartInvestigation(pb.cases.StartInvestigationRequest(name=name, request_id=rid()),
                                       metadata=AGENT, timeout=10).case
    assert case.status == pb.case.CASE_STATUS_INVESTIGATING
    case = api.case.ProposeResolution(pb.cases.ProposeResolutionRequest(
        name=name, request_id=rid(), offer=pb.case.ResolutionOffer(
            kind=pb.case.OFFER_KIND_REFUND, amount=pb.common.Money(amount_minor=4999, currency_code="GBP"),
            description="a full refund of the kettle")), metadata=AGENT, timeout=10).case
    assert case.status == pb.case.CASE_STATUS_RESOLUTION_PROPOSED
    offer = case.offers[-1]
    offer_mail = smtp.wait_for(customer.email, f"({reference})")
    assert "a full refund of the kettle" in offer_mail.text(), offer_mail.text()

    case = api.case.RecordCustomerResponse(pb.cases.RecordCustomerResponseRequest(
        name=name, request_id=rid(), offer_response=pb.cases.OfferResponse(
            offer=offer.name, decision=pb.case.OFFER_DECISION_ACCEPT, comment="Yes please, thank you.")),
        metadata=CUSTOMER, timeout=10).case
    assert case.offers[-1].state == pb.case.OFFER_STATE_ACCEPTED
    case = api.case.ResolveCase(pb.cases.ResolveCaseRequest(name=name, request_id=rid()),
                                metadata=AGENT, timeout=10).case
    assert case.status == pb.case.CASE_STATUS_RESOLVED and case.resolution.accepted_offer == offer.name
    smtp.wait_for(customer.email, f"{reference} is resolved")

    with pytest.raises(grpc.RpcError) as refused:
        api.case.CloseCase(pb.cases.CloseCaseRequest(name=name, request_id=rid()), metadata=AGENT, timeout=10)
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION, "closing needs a root cause"
    case = api.case.CloseCase(pb.cases.CloseCaseRequest(
        name=name, request_id=rid(),
        root_cause=pb.case.RootCause(category="packaging damage",
                                     notes="The lid cracked in transit: the box had no inner padding."),
        prevention_notes="Kettles ship with a moulded insert from now on."), metadata=AGENT, timeout=10).case
    assert case.status == pb.case.CASE_STATUS_CLOSED and case.root_cause.category == "packaging damage"
    smtp.wait_for(customer.email, f"How did we do with your complaint {reference}")

    # --- Analytics shows the case, once. -----------------------------------------------------
    def exported():
        rows = [row for batch in api.analytics.ExportCases(pb.analytics.ExportCasesRequest(parent=PARENT),
                                                            metadata=BI, timeout=10) for row in batch.rows]
        closed = [row for row in rows if row.case == name and row.status == pb.case.CASE_STATUS_CLOSED]
        return rows if closed and closed[0].root_cause_category else None

    rows = until("analytics folds the closed case", exported)
    assert collections.Counter(row.case for row in rows) == {name: 1, other: 1}, rows
    row = next(row for row in rows if row.case == name)
    assert row.reference == reference and row.owner == "agent-ana" and row.team == "care"
    assert row.first_response_breached and row.highest_escalation_level == 2, row
    assert row.offer_count == 1 and row.accepted_amount.amount_minor == 4999, row
    assert row.root_cause_category == "packaging damage" and row.product_id == "KETTLE-2"
    assert row.HasField("time_to_acknowledge") and row.HasField("time_to_resolve"), row
    overview = api.analytics.GetOverview(pb.analytics.GetOverviewRequest(parent=PARENT), metadata=BI, timeout=10)
    assert (overview.total_cases, overview.open_cases, overview.breached_cases) == (2, 1, 2), overview
    assert overview.HasField("data_fresh_time"), overview

    # --- Nothing lost, nothing twice. --------------------------------------------------------
    assert_every_email_once(api, pb, smtp, {
        (customer.email, f"your complaint {reference} is with us"),
        (customer.email, f"Our proposal to put things right ({reference})"),
        (customer.email, f"Your complaint {reference} is resolved"),
        (customer.email, f"How did we do with your complaint {reference}?"),
        (other_customer.email, f"your complaint {other_reference} is with us"),
        (AGENT_EMAIL, f"Escalation level 1: {reference}"),
        (LEAD_EMAIL, f"Escalation level 2: {reference}"),
        (LEAD_EMAIL, f"Escalation level 2: {other_reference}"),
    })

    every = api.escalation.ListEscalations(pb.escalations.ListEscalationsRequest(parent=PARENT, page_size=100),
                                           metadata=LEAD, timeout=10).escalations
    assert collections.Counter((e.case, e.level) for e in every) == {
        (name, 1): 1, (name, 2): 1, (other, 1): 1, (other, 2): 1}, every
    assert collections.Counter(e.level for e in case.escalations) == {1: 1, 2: 1}, list(case.escalations)

    # One timeline entry per change, none twice: the escalation service's reports (each level,
    # first response breached and then met late, resolution met) once each.
    assert_timeline_once(api, pb, name, {
        "CREATED": 1, "ASSIGNMENT": 1, "ESCALATION": 2, "SLA": 3, "ACKNOWLEDGEMENT": 1, "STATUS_CHANGE": 2,
        "OFFER": 1, "CUSTOMER_RESPONSE": 1, "ROOT_CAUSE": 1})
    assert sorted(e.text.split(":")[0] for e in timeline(api, pb, name) if e.kind == pb.case.TIMELINE_ENTRY_KIND_SLA) \
        == ["first response clock breached", "first response clock met late", "resolution clock met"]
    assert_timeline_once(api, pb, other, {"CREATED": 1, "ESCALATION": 2, "SLA": 1})
    case = api.case.GetCase(pb.cases.GetCaseRequest(name=name), metadata=AGENT, timeout=10).case
    reported = {s.clock: s for s in case.sla}
    first, resolution = reported[pb.common.SLA_CLOCK_KIND_FIRST_RESPONSE], reported[pb.common.SLA_CLOCK_KIND_RESOLUTION]
    assert first.met and first.breached and resolution.met and not resolution.breached, list(case.sla)

    # --- Every process stops on SIGTERM with exit code 0. ------------------------------------
    codes = cluster.stop()
    assert codes == {service: 0 for service in codes}, codes
    for service in killed:
        assert cluster[service].killed == [-9], (service, cluster[service].killed)

    # --- No customer's contact details or words reached a log line or a span. ---------------
    # The services log at debug level here, span fields included, and export every span to
    # the test's OTLP collector (flushed on SIGTERM above).
    personal = ["Ana Silva", "ana.silva@example.com", "cracked lid", "Could you replace it",
                "Ben Okafor", "ben@example.com", "old address", "a full refund of the kettle",
                "Calling Ana now"]
    for service in cluster.processes:
        text = cluster[service].log_text()
        assert len(text) > 1000, f"{service} wrote hardly any log: {text!r}"
        found = [p for p in personal if p in text]
        assert not found, f"{service}'s log holds personal data {found}: {cluster[service].log_path}"
    spans = cluster.otlp.received()
    assert len(spans) > 100, f"only {len(spans)} spans reached the collector"
    leaked = {p for p in personal for span in spans if p.encode() in span}
    assert not leaked, f"spans hold personal data: {sorted(leaked)}"
    print(f"{len(spans)} spans exported, none with personal data")
    print(f"journey of {reference} with a SIGKILL of {', '.join(killed)}: {time.monotonic() - started:.1f}s")


def set_up_escalation(api: Api, pb) -> object:
    """A 24×7 calendar, an agent and a team lead, and a policy for every case: first response
    in FIRST_RESPONSE_SECONDS, warning the owner at 75 % and escalating the breach to the team
    lead; resolution within an hour."""
    calendar = api.escalation.CreateCalendar(pb.escalations.CreateCalendarRequest(
        parent=PARENT, request_id=rid(), calendar=pb.escalation.Calendar(
            display_name="Round the clock", time_zone="UTC",
            weekly_hours=[pb.escalation.DayHours(day=day, intervals=[
                pb.escalation.OpeningInterval(opens="00:00", closes="24:00")]) for day in range(1, 8)]),
    ), metadata=ADMIN, timeout=10).calendar
    for staff_id, role, address in [("agent-ana", pb.common.STAFF_ROLE_AGENT, AGENT_EMAIL),
                                    ("lead-tom", pb.common.STAFF_ROLE_TEAM_LEAD, LEAD_EMAIL)]:
        api.escalation.UpsertStaffMember(pb.escalations.UpsertStaffMemberRequest(
            staff_member=pb.escalation.StaffMember(
                name=f"{PARENT}/staff/{staff_id}", display_name=staff_id, role=role, team="care", region="uk",
                email=address, time_zone="Europe/London", active=True)), metadata=ADMIN, timeout=10)
    policy = api.escalation.CreateSlaPolicy(pb.escalations.CreateSlaPolicyRequest(
        parent=PARENT, request_id=rid(), sla_policy=pb.escalation.SlaPolicy(
            display_name="Every complaint, 24x7", priority=1, calendar=calendar.name,
            first_response_target=pb.duration.Duration(seconds=FIRST_RESPONSE_SECONDS),
            resolution_target=pb.duration.Duration(seconds=3600),
            ladder=[
                pb.escalation.LadderStep(level=1, trigger=pb.escalation.ESCALATION_TRIGGER_WARNING, notify_owner=True),
                pb.escalation.LadderStep(level=2, trigger=pb.escalation.ESCALATION_TRIGGER_BREACH,
                                         notify_roles=[pb.common.STAFF_ROLE_TEAM_LEAD]),
            ]),
    ), metadata=ADMIN, timeout=10).sla_policy
    assert policy.name.startswith(f"{PARENT}/slaPolicies/") and policy.calendar == calendar.name, policy
    return policy


def first_response(api: Api, pb, case_name: str):
    """The case's SLA clocks and its first-response clock (None before the clocks start)."""
    sla = api.escalation.GetCaseSla(pb.escalations.GetCaseSlaRequest(case=case_name), metadata=AGENT, timeout=5)
    return sla, next((c for c in sla.clocks if c.kind == pb.common.SLA_CLOCK_KIND_FIRST_RESPONSE), None)


def both_levels(api: Api, pb, case_name: str):
    """The case's escalations once levels 1 and 2 are both there, else None."""
    listed = api.escalation.ListEscalations(pb.escalations.ListEscalationsRequest(
        parent=PARENT, case=case_name, page_size=100), metadata=LEAD, timeout=5).escalations
    return list(listed) if {e.level for e in listed} >= {1, 2} else None


def timeline(api: Api, pb, case_name: str) -> list:
    return list(api.case.ListTimelineEntries(pb.cases.ListTimelineEntriesRequest(parent=case_name, page_size=1000),
                                             metadata=AGENT, timeout=10).entries)


def escalation_entries(api: Api, pb, case_name: str):
    """The case's ESCALATION timeline entries once there are two, else None."""
    found = [e for e in timeline(api, pb, case_name) if e.kind == pb.case.TIMELINE_ENTRY_KIND_ESCALATION]
    return found if len(found) >= 2 else None


def kinds(pb, entries) -> dict:
    return dict(collections.Counter(pb.case.TimelineEntryKind.Name(e.kind).removeprefix("TIMELINE_ENTRY_KIND_")
                                    for e in entries))


def assert_timeline_once(api: Api, pb, case_name: str, expected: dict) -> None:
    """The timeline comes to exactly `expected` (entries by kind), with no entry twice, one
    per version of the case, and one event in the log per change."""
    until(f"the timeline of {case_name} comes to {expected}",
          lambda: kinds(pb, timeline(api, pb, case_name)) == expected)
    time.sleep(0.5)  # room for a late duplicate to show itself
    entries = timeline(api, pb, case_name)
    assert kinds(pb, entries) == expected, [(pb.case.TimelineEntryKind.Name(e.kind), e.text) for e in entries]
    signatures = collections.Counter((e.kind, e.text, tuple(sorted(e.attributes.items()))) for e in entries)
    assert not [s for s, n in signatures.items() if n > 1], f"duplicate timeline entries: {signatures}"
    assert len({e.name for e in entries}) == len(entries)
    case = api.case.GetCase(pb.cases.GetCaseRequest(name=case_name), metadata=AGENT, timeout=10).case
    assert len(entries) == case.version, f"one entry per version of the case ({case.version})"
    events = case_events(api, pb, case_name)
    assert len({e.event_id for e in events}) == len(events) == case.version, "one event per change"


def case_events(api: Api, pb, case_name: str) -> list:
    """The case's events in the log, read from the start until the stream has caught up."""
    stream = api.case.StreamEvents(pb.cases.StreamEventsRequest(parent=PARENT, after_sequence=0),
                                   metadata=SERVICE, timeout=10)
    found = []
    try:
        for batch in stream:
            found.extend(event for event in batch.events if event.case.name == case_name)
            if not batch.events or batch.events[-1].sequence >= batch.head_sequence:
                break
    finally:
        stream.cancel()
    return found


def assert_every_email_once(api: Api, pb, smtp: SmtpSink, expected: set) -> None:
    """Every expected email (recipient, words of its subject) arrived under exactly one
    Message-ID, the one its notification was given, and nothing else arrived. A copy sent again
    after a crash would carry the same Message-ID; there is one notification per email."""
    time.sleep(1.0)  # room for a late duplicate to show itself
    mails = smtp.mails()
    ids = collections.defaultdict(set)
    for mail in mails:
        key = next((k for k in expected if k[0] == mail.to and k[1] in mail.subject), None)
        assert key is not None, f"an email nobody expected: {mail.describe()}"
        ids[key].add(mail.message_id)
    assert not expected - set(ids), f"never arrived: {expected - set(ids)}"
    twice = {k: v for k, v in ids.items() if len(v) != 1}
    assert not twice, f"sent twice, under different Message-IDs: {twice}"
    copies = collections.Counter(mail.message_id for mail in mails)
    again = {message_id: n for message_id, n in copies.items() if n > 1}
    if again:
        print(f"copies sent again after the kill, each with its original Message-ID: {again}")

    listed = api.notification.ListNotifications(pb.notifications.ListNotificationsRequest(
        parent=PARENT, page_size=100), metadata=ADMIN, timeout=10).notifications
    assert len(listed) == len(expected), "one notification per expected email:\n" + "\n".join(
        f"{n.destination} {n.rendered_subject!r} {pb.notification.DeliveryStatus.Name(n.status)}" for n in listed)
    assert all(n.status == pb.notification.DELIVERY_STATUS_DELIVERED for n in listed), listed
    assert {n.message_id for n in listed} == set(copies), "the SMTP server saw exactly the accepted Message-IDs"


def redis_timers(redis: RedisNamespace) -> dict:
    """The timer index in Redis, {(case id, clock kind): when to look, in ms}, over every shard
    (`{prefix}:{timers:N}:due`; a member is the case id, the clock and a generation)."""
    found = {}
    for key in redis.keys():
        if not key.endswith(":due"):
            continue
        for member, score in redis.client.zrange(key, 0, -1, withscores=True):
            raw = base64.urlsafe_b64decode(member + "=" * (-len(member) % 4))
            if len(raw) == 21:
                found[(uuid.UUID(bytes=raw[:16]), raw[16])] = score
    return found
