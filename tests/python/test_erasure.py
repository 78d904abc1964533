"""Erasing customers' personal data across five `redress serve` processes, as five Deployments
of the Helm chart run them, against real PostgreSQL, Redis and an SMTP server.

Zofia files two complaints and a glowing survey. She is acknowledged by email, and her first
case breaches its first-response clock, so the team lead is alerted by email with its subject.
Piotr has no case at all: he only praised the shop in a survey, whose comment intake keeps.
Ben's complaint stands beside theirs. An admin erases Zofia's and Piotr's personal data with
CaseService.EraseCustomer. Afterwards no service's API returns their names, contact details or
words, no table of any service stores them, and Redis holds no key naming them. The analytics
totals are what they were, and Ben's data is untouched."""

import time

import grpc
import pytest

from test_five_processes import (  # noqa: F401  (cluster is a fixture)
    ADMIN, AGENT, BI, CONTACT_CENTRE, LEAD, LEAD_EMAIL, PARENT, Api, case_events, cluster, contract_modules, rid,
    set_up_escalation, timeline, until,
)

# Her name, contact details and words, as they would be written to a table or returned.
PERSONAL = ["Zofia", "Kowalczyk", "zofia.k@example.org", "+48601234567", "Zanzibar blender",
            "filled my kitchen with smoke", "77812", "my money back", "pouring rain", "soaked through",
            "Lovely quick reply from Marta", "the Gdansk store was wonderful"]


def personal_in(text: str) -> list:
    """The personal strings in `text`, as written or hex-encoded (PostgreSQL's bytea)."""
    lowered = text.lower()
    return [p for p in PERSONAL if p in text or p.encode().hex() in lowered]


def stored_personal_data(cluster) -> dict:
    """{schema.table: [personal strings]} over every table of every service's schema, and
    whether the other customer's data could be found the same way (the scan's own check)."""
    import psycopg

    found, ben_seen = {}, False
    with psycopg.connect(cluster.database.url, autocommit=True) as conn:
        tables = conn.execute("SELECT table_schema, table_name FROM information_schema.tables "
                              "WHERE table_schema LIKE 'redress%' AND table_type = 'BASE TABLE'").fetchall()
        assert {schema for schema, _ in tables} >= {"redress_intake", "redress_case", "redress_escalation",
                                                    "redress_notification", "redress_analytics"}, tables
        for schema, table in tables:
            for (row,) in conn.execute(f'SELECT t::text FROM "{schema}"."{table}" t'):
                hits = personal_in(row)
                if hits:
                    found.setdefault(f"{schema}.{table}", set()).update(hits)
                ben_seen = ben_seen or "Ben Okafor".encode().hex() in row.lower() or "Ben Okafor" in row
    return {"found": found, "ben_seen": ben_seen}


def overview(api: Api, pb):
    totals = api.analytics.GetOverview(pb.analytics.GetOverviewRequest(parent=PARENT), metadata=BI, timeout=10)
    totals.ClearField("data_fresh_time")
    return totals


def exported(api: Api, pb) -> list:
    rows = []
    for batch in api.analytics.ExportCases(pb.analytics.ExportCasesRequest(parent=PARENT), metadata=BI, timeout=20):
        rows.extend(batch.rows)
    return sorted(rows, key=lambda row: row.case)


def test_an_erased_customer_is_gone_from_every_service_and_the_totals_stay(cluster):
    pb = contract_modules()
    api = Api(cluster, pb)
    smtp = cluster.smtp
    set_up_escalation(api, pb)

    zofia = pb.common.Customer(customer_id="cust-zofia", display_name="Zofia Kowalczyk",
                               email="zofia.k@example.org", phone="+48601234567", locale="en-GB")
    first = api.intake.SubmitComplaint(pb.intake.SubmitComplaintRequest(
        parent=PARENT, request_id=rid(), complaint=pb.intake.Complaint(
            customer=zofia, channel=pb.common.CHANNEL_EMAIL,
            subject="Zanzibar blender smoked on first use",
            description="The Zanzibar blender I bought filled my kitchen with smoke the first time I used it.",
            references=pb.common.CaseReferences(order_id="77812", product_id="BLEND-9"),
            desired_outcome="my money back",
        )), metadata=CONTACT_CENTRE, timeout=15)
    second = api.intake.SubmitComplaint(pb.intake.SubmitComplaintRequest(
        parent=PARENT, request_id=rid(), complaint=pb.intake.Complaint(
            customer=zofia, channel=pb.common.CHANNEL_WEB,
            subject="Courier left my parcel outside",
            description="The courier left the parcel on my doorstep in the pouring rain and the box was soaked through.",
        )), metadata=CONTACT_CENTRE, timeout=15)
    assert first.case != second.case, "two different complaints, two cases"
    survey = api.intake.SubmitSurveyResponse(pb.intake.SubmitSurveyResponseRequest(
        parent=PARENT, request_id=rid(), survey_response=pb.intake.SurveyResponse(
            customer=zofia, scale=pb.case.SURVEY_SCALE_CSAT, score=5,
            comment="Lovely quick reply from Marta, thank you")), metadata=CONTACT_CENTRE, timeout=15)
    assert not survey.case, "a promoter opens no case"
    # A customer who only ever praised the shop: no case of theirs, a comment kept by intake.
    piotr = pb.common.Customer(customer_id="cust-piotr", display_name="Piotr Nowak")
    praise = api.intake.SubmitSurveyResponse(pb.intake.SubmitSurveyResponseRequest(
        parent=PARENT, request_id=rid(), survey_response=pb.intake.SurveyResponse(
            customer=piotr, scale=pb.case.SURVEY_SCALE_NPS, score=10,
            comment="the Gdansk store was wonderful")), metadata=CONTACT_CENTRE, timeout=15)
    assert not praise.case
    ben = pb.common.Customer(customer_id="cust-ben", display_name="Ben Okafor", email="ben@example.com")
    bens = api.intake.SubmitComplaint(pb.intake.SubmitComplaintRequest(
        parent=PARENT, request_id=rid(), complaint=pb.intake.Complaint(
            customer=ben, channel=pb.common.CHANNEL_WEB, subject="Invoice shows the wrong address",
            description="My latest invoice shows my old address.")), metadata=CONTACT_CENTRE, timeout=15)

    # Her acknowledgement went out, and every case breached its first-response clock, alerting
    # the lead; the alert about her first case quotes its subject.
    smtp.wait_for(zofia.email, first.case_reference)
    alert = smtp.wait_for(LEAD_EMAIL, first.case_reference, timeout=30)
    assert "Zanzibar blender" in alert.text() + alert.subject, "the alert quotes her subject"
    for reference in (second.case_reference, bens.case_reference):
        smtp.wait_for(LEAD_EMAIL, reference, timeout=30)
    until("analytics has folded the three cases and their breaches",
          lambda: [row.highest_escalation_level for row in exported(api, pb)] == [2, 2, 2])
    before = stored_personal_data(cluster)
    assert before["found"] and before["ben_seen"], "her data is stored to begin with"
    totals, rows = overview(api, pb), exported(api, pb)

    # Only an admin may erase; a retry returns the same erasure.
    request = pb.cases.EraseCustomerRequest(parent=PARENT, customer_id="cust-zofia", email="Zofia.K@example.org",
                                            phone="+48601234567", reason="GDPR article 17 request, ticket 4711",
                                            request_id=rid())
    with pytest.raises(grpc.RpcError) as refused:
        api.case.EraseCustomer(request, metadata=LEAD, timeout=10)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    erasure = api.case.EraseCustomer(request, metadata=ADMIN, timeout=20).erasure
    assert sorted(erasure.cases) == sorted([first.case, second.case]), erasure
    assert api.case.EraseCustomer(request, metadata=ADMIN, timeout=20).erasure == erasure
    caseless = api.case.EraseCustomer(pb.cases.EraseCustomerRequest(
        parent=PARENT, customer_id="cust-piotr", reason="GDPR article 17 request, ticket 4712", request_id=rid()),
        metadata=ADMIN, timeout=20).erasure
    assert not caseless.cases, "Piotr has no case; intake still purges his survey comment"
    started = time.monotonic()

    # Every service purges its copies from the event log.
    last = {}

    def purged():
        last.update(stored_personal_data(cluster))
        return not last["found"]

    until("no table of any service holds her data", purged, timeout=30, interval=0.5)
    print(f"every service purged her data {time.monotonic() - started:.2f}s after the erasure")
    assert last["ben_seen"], "the other customer's data is still there"
    keys = " ".join(cluster.redis.keys())
    assert not personal_in(keys), f"Redis keys name her: {keys}"

    # No API returns anything of hers.
    for name in erasure.cases:
        case = api.case.GetCase(pb.cases.GetCaseRequest(name=name), metadata=AGENT, timeout=10).case
        assert not personal_in(str(case)), case
        assert case.customer.customer_id.startswith("erased-")
        assert not personal_in(str(timeline(api, pb, name)))
        assert not personal_in(str(case_events(api, pb, name)))
        escalations = api.escalation.ListEscalations(pb.escalations.ListEscalationsRequest(
            parent=PARENT, case=name, page_size=100), metadata=LEAD, timeout=10).escalations
        assert not personal_in(str(list(escalations)))
    notifications = api.notification.ListNotifications(pb.notifications.ListNotificationsRequest(
        parent=PARENT, page_size=100), metadata=ADMIN, timeout=10).notifications
    assert not personal_in(str(list(notifications))), notifications
    to_her = [n for n in notifications if n.case in erasure.cases and n.destination == "[erased]"]
    assert to_her, "her acknowledgements are still listed, without her address"
    for n in notifications:
        got = api.notification.GetNotification(pb.notifications.GetNotificationRequest(name=n.name),
                                               metadata=ADMIN, timeout=10).notification
        assert not personal_in(str(got)), got
    bens_case = api.case.GetCase(pb.cases.GetCaseRequest(name=bens.case), metadata=AGENT, timeout=10).case
    assert bens_case.customer.display_name == "Ben Okafor"

    # The statistics are what they were.
    until("analytics has folded the erasure", lambda: overview(api, pb) == totals)
    assert exported(api, pb) == rows, "the export's rows are unchanged"
    assert not personal_in(str(rows))
    listed = api.case.ListErasures(pb.cases.ListErasuresRequest(parent=PARENT), metadata=ADMIN, timeout=10).erasures
    assert list(listed) == [caseless, erasure], listed
    assert not personal_in(str(erasure)), "the audit holds no contact details"
