"""`redress up` seen by a client written in another language: Python grpcio finds every
service SERVING and every service and method of the contract through reflection, and SIGTERM
stops the process within 5 s with exit code 0."""

import grpc
from google.protobuf.descriptor_pool import DescriptorPool
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from conftest import wait_serving

CONTRACT = {
    "redress.intake.v1.IntakeService": ["SubmitComplaint", "SubmitSurveyResponse", "SubmitReview"],
    "redress.case.v1.CaseService": [
        "CreateCase", "GetCase", "ListCases", "UpdateCase", "AcknowledgeCase", "AssignCase", "AddTimelineEntry",
        "CreateTask", "CompleteTask", "RequestCustomerInput", "ProposeResolution", "RecordCustomerResponse",
        "ResolveCase", "CloseCase", "ReopenCase", "RecordEscalation", "StreamEvents",
    ],
    "redress.escalation.v1.EscalationService": [
        "CreateSlaPolicy", "GetSlaPolicy", "ListSlaPolicies", "UpdateSlaPolicy", "DeleteSlaPolicy", "CreateCalendar",
        "ListCalendars", "UpsertStaffMember", "ListStaff", "GetCaseSla", "ListEscalations", "EscalateCase",
        "AcknowledgeEscalation",
    ],
    "redress.notification.v1.NotificationService": [
        "SendNotification", "GetNotification", "ListNotifications", "CreateTemplate", "UpdateTemplate",
        "ListTemplates", "CreateRule", "ListRules", "DeleteRule",
    ],
    "redress.analytics.v1.AnalyticsService": [
        "GetOverview", "GetVolumeSeries", "GetSlaCompliance", "GetAgentPerformance", "GetRecurringIssues",
        "ExportCases",
    ],
}
STREAMING = {("redress.case.v1.CaseService", "StreamEvents"), ("redress.analytics.v1.AnalyticsService", "ExportCases")}


def test_every_service_is_serving(up):
    health = health_pb2_grpc.HealthStub(up.channel)
    for service in ["", *CONTRACT]:
        wait_serving(up.channel, service)
        status = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=2).status
        assert status == health_pb2.HealthCheckResponse.SERVING, service


def test_reflection_finds_every_service_and_method(up):
    database = ProtoReflectionDescriptorDatabase(up.channel)
    listed = set(database.get_services())
    assert set(CONTRACT) <= listed, f"missing: {set(CONTRACT) - listed}"
    assert "grpc.health.v1.Health" in listed
    pool = DescriptorPool(database)
    for service, methods in CONTRACT.items():
        descriptor = pool.FindServiceByName(service)
        found = {m.name: m for m in descriptor.methods}
        for method in methods:
            assert method in found, f"{service}/{method} not found through reflection"
            streaming = found[method].server_streaming
            assert streaming == ((service, method) in STREAMING), f"{service}/{method} streaming={streaming}"
        assert descriptor.file.package == service.rsplit(".", 1)[0]


def test_sigterm_stops_within_five_seconds_with_exit_code_zero(up):
    wait_serving(up.channel, "redress.case.v1.CaseService")
    code, seconds = up.terminate()
    assert code == 0, up.logs()
    assert seconds < 5.0, f"took {seconds:.2f}s"
