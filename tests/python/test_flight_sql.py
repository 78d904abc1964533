"""The Arrow Flight SQL endpoint of `redress up` seen by a BI tool's driver: Apache Arrow's ADBC
Flight SQL driver (with pyarrow) connects with an API key made by `redress apikey create` (the
installation runs with `auth.mode=tokens`), lists the documented views, and counts cases by
category after a scenario seeded through the case service's gRPC API in two tenants, each by
an integration's own API key. Writes are refused, the other tenant's rows are out of reach
(the tenant is the key's), and a connection without a key, with a forged key, or with a key
whose role is not a BI reader's is turned away.

The Python stubs are generated from proto/ with grpcio-tools into a temporary directory."""

import subprocess
import time
import uuid

import adbc_driver_flightsql
import adbc_driver_flightsql.dbapi as flight_sql
import pytest

from conftest import Up, free_port, redress_binary, wait_serving

AUTHORIZATION = adbc_driver_flightsql.DatabaseOptions.AUTHORIZATION_HEADER.value
SERVICE_TOKEN = "a-service-token-for-the-flight-sql-test-0123456789"
VIEWS = {"cases", "case_events", "sla_clocks", "escalations", "daily_volume"}
SCENARIO = {
    "acme": ["billing", "billing", "billing", "delivery", "delivery", "quality"],
    "globex": ["billing", "secret-project", "secret-project", "secret-project", "secret-project"],
}


def expected_counts(tenant: str) -> dict:
    counts: dict = {}
    for category in SCENARIO[tenant]:
        counts[category] = counts.get(category, 0) + 1
    return counts


class FlightUp(Up):
    """A `redress up` process in tokens mode whose Flight SQL endpoint listens on a port of its
    own, with an API key per tenant and role made by `redress apikey create`."""

    def __init__(self) -> None:
        self.flight_port = free_port()
        super().__init__("--set", f"analytics.flight_listen=127.0.0.1:{self.flight_port}",
                         env={"REDRESS_AUTH__MODE": "tokens", "REDRESS_AUTH__SERVICE_TOKEN": SERVICE_TOKEN})
        self.keys: dict = {}

    @property
    def flight_uri(self) -> str:
        return f"grpc://127.0.0.1:{self.flight_port}"

    def key(self, tenant: str, role: str) -> str:
        """The API key of `tenant` with `role`, made on first use."""
        if (tenant, role) not in self.keys:
            result = subprocess.run(
                [redress_binary(), "apikey", "create", "--tenant", tenant, "--roles", role, "--name", f"{role}-test",
                 "--data-dir", self.data_dir],
                env=self.env, capture_output=True, text=True, timeout=30)
            assert result.returncode == 0, result.stderr
            self.keys[(tenant, role)] = result.stdout.strip()
        return self.keys[(tenant, role)]


def connect(server: FlightUp, tenant: str | None, role: str = "bi_reader", key: str | None = None):
    """A DB-API connection as a BI tool makes it: its API key travels as the bearer credential
    of every call, and the connection stays in autocommit (the endpoint has no transactions)."""
    if key is None and tenant is not None:
        key = server.key(tenant, role)
    kwargs = {AUTHORIZATION: f"Bearer {key}"} if key else {}
    return flight_sql.connect(server.flight_uri, db_kwargs=kwargs, autocommit=True)


def query(connection, sql: str) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def open_cases(server: FlightUp, tenant: str, categories: list) -> None:
    """Opens one case per category through CaseService.CreateCase."""
    from redress.case.v1 import case_pb2, case_service_pb2, case_service_pb2_grpc
    from redress.common.v1 import common_pb2

    stub = case_service_pb2_grpc.CaseServiceStub(server.channel)
    metadata = [("authorization", f"Bearer {server.key(tenant, 'integration')}")]
    for i, category in enumerate(categories):
        case = case_pb2.Case(
            customer=common_pb2.Customer(customer_id=f"cust-{i}", email="ana@example.com"),
            channel=common_pb2.CHANNEL_EMAIL,
            severity=common_pb2.SEVERITY_MEDIUM,
            subject="It broke",
            description="The product stopped working after two days.",
            category=category,
            references=common_pb2.CaseReferences(product_id=f"SKU-{i % 3}"),
        )
        request = case_service_pb2.CreateCaseRequest(parent=f"tenants/{tenant}", case=case,
                                                     request_id=str(uuid.uuid4()))
        reply = stub.CreateCase(request, metadata=metadata, timeout=10)
        assert reply.case.name.startswith(f"tenants/{tenant}/cases/"), reply.case.name


def wait_folded(server: FlightUp, tenant: str, expected: int, timeout: float = 30.0) -> None:
    """Waits until the analytics consumer has folded `expected` cases of `tenant`."""
    deadline = time.monotonic() + timeout
    seen = None
    with connect(server, tenant) as connection:
        while time.monotonic() < deadline:
            seen = query(connection, "SELECT count(*) FROM cases")[0][0]
            if seen == expected:
                return
            time.sleep(0.2)
    pytest.fail(f"analytics folded {seen} of {expected} cases of {tenant} within {timeout}s\n{server.logs()}")


@pytest.fixture(scope="module")
def seeded(contract):
    """`redress up` with the scenario's cases folded into analytics."""
    server = FlightUp()
    try:
        wait_serving(server.channel, "redress.case.v1.CaseService")
        wait_serving(server.channel, "redress.analytics.v1.AnalyticsService")
        for tenant, categories in SCENARIO.items():
            open_cases(server, tenant, categories)
        for tenant, categories in SCENARIO.items():
            wait_folded(server, tenant, len(categories))
        yield server
    finally:
        server.close()


def test_a_bi_driver_lists_the_views_and_counts_cases_by_category(seeded):
    with connect(seeded, "acme") as connection:
        assert connection.adbc_get_info()["vendor_name"] == "redress analytics"
        assert "VIEW" in connection.adbc_get_table_types()

        objects = connection.adbc_get_objects(depth="tables").read_all().to_pylist()
        tables = {
            (schema["db_schema_name"], table["table_name"], table["table_type"])
            for catalog in objects
            for schema in catalog["catalog_db_schemas"]
            for table in schema["db_schema_tables"]
        }
        assert {name for _, name, _ in tables} == VIEWS, tables
        assert {kind for _, _, kind in tables} == {"VIEW"}
        schema = connection.adbc_get_table_schema("cases")
        for column in ["tenant", "case_id", "category", "status", "create_time", "time_to_acknowledge_seconds"]:
            assert column in schema.names, schema

        rows = query(connection, "SELECT category, count(*) FROM cases GROUP BY 1")
        assert dict(rows) == expected_counts("acme")
        with connection.cursor() as cursor:
            cursor.execute("SELECT category, count(*) AS n FROM cases GROUP BY 1 ORDER BY 1")
            table = cursor.fetch_arrow_table()
        assert table.column_names == ["category", "n"]
        assert table.column("category").to_pylist() == ["billing", "delivery", "quality"]
        assert table.column("n").to_pylist() == [3, 2, 1]

    with connect(seeded, "globex") as connection:
        rows = query(connection, "SELECT category, count(*) FROM cases GROUP BY 1")
        assert dict(rows) == expected_counts("globex")


def test_writes_are_refused_and_change_nothing(seeded):
    with connect(seeded, "acme") as connection:
        for sql in [
            "DROP TABLE cases",
            "DROP VIEW cases",
            "INSERT INTO cases (tenant, case_id) VALUES ('acme', 'x')",
            "DELETE FROM case_facts",
            "CREATE TABLE t (x INTEGER)",
        ]:
            with pytest.raises(flight_sql.Error) as refused:
                query(connection, sql)
            assert "read-only" in str(refused.value), f"{sql}: {refused.value}"

        # An update sent as one (DoPut), as a driver's executeUpdate does.
        for sql in ["INSERT INTO cases (tenant, case_id) VALUES ('acme', 'x')", "DROP TABLE cases"]:
            with connection.cursor() as cursor:
                cursor.adbc_statement.set_sql_query(sql)
                with pytest.raises(flight_sql.Error) as refused:
                    cursor.adbc_statement.execute_update()
            assert "read-only" in str(refused.value), f"{sql}: {refused.value}"

        assert dict(query(connection, "SELECT category, count(*) FROM cases GROUP BY 1")) == expected_counts("acme")
    with connect(seeded, "globex") as connection:
        assert query(connection, "SELECT count(*) FROM cases")[0][0] == len(SCENARIO["globex"])


def test_another_tenants_rows_are_out_of_reach(seeded):
    with connect(seeded, "acme") as connection:
        assert query(connection, "SELECT count(*) FROM cases WHERE tenant = 'globex'")[0][0] == 0
        assert query(connection, "SELECT count(*) FROM cases WHERE category = 'secret-project'")[0][0] == 0
        assert query(connection, "SELECT DISTINCT tenant FROM cases") == [("acme",)]
        assert query(connection, "SELECT DISTINCT tenant FROM case_events") == [("acme",)]
        # The tables behind the views are not reachable at all.
        for sql in ["SELECT count(*) FROM case_facts", "SELECT category FROM case_facts WHERE tenant = 'globex'"]:
            with pytest.raises(flight_sql.Error) as refused:
                query(connection, sql)
            assert "read-only" in str(refused.value), f"{sql}: {refused.value}"

    with connect(seeded, "globex") as connection:
        assert query(connection, "SELECT DISTINCT tenant FROM cases") == [("globex",)]

    # No key, a forged key: UNAUTHENTICATED. An integration's key: not a BI reader's.
    refusals = [(None, "UNAUTHENTICATED", "no credentials"),
                ("rdk_0123456789abcdef_" + "A" * 43, "UNAUTHENTICATED", "unknown or revoked api key"),
                (seeded.key("acme", "integration"), "PermissionDenied", "not open to the roles integration")]
    for key, code, words in refusals:
        with pytest.raises(flight_sql.Error) as refused:
            with connect(seeded, None, key=key) as connection:
                query(connection, "SELECT count(*) FROM cases")
        assert code in str(refused.value) and words in str(refused.value), refused.value
