//! A hostile sweep of the whole contract against `redress up`: every unary and
//! server-streaming RPC of every service, found through the server's reflection, is called
//! with an empty message and with one field at a time set to something hostile (NUL, control
//! characters, 1 MiB strings, integer extremes, unknown enum numbers, NaN, timestamps and
//! durations out of range and at the edge of range), at the top level and inside nested
//! messages, on SQLite and on PostgreSQL with Redis. No answer may be INTERNAL or UNKNOWN, and
//! the server must still serve afterwards. `HOSTILE_VERBOSE=1` prints every answer other than
//! INVALID_ARGUMENT.

mod support;

use std::collections::{BTreeSet, HashMap};
use std::str::FromStr as _;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use prost::Message as _;
use prost_reflect::{
    DescriptorPool, DynamicMessage, FieldDescriptor, Kind, MapKey, MessageDescriptor, MethodDescriptor, ReflectMessage,
    Value,
};
use redress_kit::ServiceKind;
use redress_testkit::{TestDatabase, Up, redis_prefix, redis_url, wait_serving};
use support::redress;
use tonic::Code;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::Channel;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
use tonic_reflection::pb::v1::{ServerReflectionRequest, ServerReflectionResponse};

/// How deep into nested messages single-field mutations go.
const DEPTH: usize = 3;
/// Calls in flight at once.
const CONCURRENCY: usize = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_hostile_input_gets_internal_or_unknown_on_sqlite() {
    sweep("sqlite", &[]).await;
}

/// The same sweep with every service on PostgreSQL and the timer index in Redis, where NUL and
/// far-off years used to come back from the database as INTERNAL.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_hostile_input_gets_internal_or_unknown_on_postgres() {
    let db = TestDatabase::create().await;
    let prefix = redis_prefix().await;
    sweep(
        "postgres",
        &[
            format!("database.url={}", db.url),
            format!("redis.url={}", redis_url()),
            format!("redis.key_prefix={prefix}"),
        ],
    )
    .await;
}

/// Starts `redress up` with `settings` (on `backend`) and sweeps it.
async fn sweep(backend: &str, settings: &[String]) {
    let up = Up::start(redress(), settings).await;
    let (port, channel) = (up.port, up.channel().await);

    let started = Instant::now();
    let pool = contract_through_reflection(channel.clone()).await;
    let methods: Vec<MethodDescriptor> = pool
        .services()
        .filter(|s| s.package_name().starts_with("redress."))
        .flat_map(|s| s.methods().collect::<Vec<_>>())
        .filter(|m| !m.is_client_streaming())
        .collect();
    assert!(methods.len() > 50, "reflection found only {} methods", methods.len());

    let mut calls = Vec::new();
    for method in &methods {
        for (what, message) in hostile_messages(&method.input()) {
            calls.push((method.clone(), what, message));
        }
    }
    let total = calls.len();
    let outcomes: Vec<(String, Result<(), tonic::Status>)> = futures::stream::iter(calls)
        .map(|(method, what, message)| async move {
            let label = format!("{}/{} with {what}", method.parent_service().name(), method.name());
            (label, call(port, &method, message).await)
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;

    let mut codes: HashMap<Code, usize> = HashMap::new();
    let mut offenders = BTreeSet::new();
    for (label, outcome) in &outcomes {
        let code = match outcome {
            Ok(()) => Code::Ok,
            Err(status) => status.code(),
        };
        *codes.entry(code).or_default() += 1;
        if std::env::var_os("HOSTILE_VERBOSE").is_some() && !matches!(code, Code::InvalidArgument) {
            let message = outcome.as_ref().err().map(|s| s.message().chars().take(200).collect::<String>());
            println!("{label}: {code:?} {message:?}");
        }
        if let Err(status) = outcome
            && matches!(status.code(), Code::Internal | Code::Unknown)
        {
            offenders.insert(format!("{label}: {:?} {}", status.code(), status.message()));
        }
    }
    let mut codes: Vec<_> = codes.into_iter().map(|(c, n)| format!("{c:?}={n}")).collect();
    codes.sort();
    println!(
        "hostile sweep on {backend}: {total} calls to {} methods in {:.1} s; answers {}",
        methods.len(),
        started.elapsed().as_secs_f64(),
        codes.join(", ")
    );
    assert!(offenders.is_empty(), "{} calls answered INTERNAL or UNKNOWN:\n{}", offenders.len(), {
        let list: Vec<_> = offenders.into_iter().collect();
        list.join("\n")
    });

    // Still serving, every service.
    for service in ServiceKind::ALL {
        wait_serving(port, service.grpc_name()).await;
    }
    up.stop().await;
}

/// The contract as the server describes it: its services, then the files that define them
/// and every file those import.
async fn contract_through_reflection(channel: Channel) -> DescriptorPool {
    let mut client = ServerReflectionClient::new(channel);
    let services = match ask(&mut client, MessageRequest::ListServices(String::new())).await {
        MessageResponse::ListServicesResponse(list) => list.service,
        other => panic!("ListServices answered {other:?}"),
    };
    let names: Vec<String> = services.into_iter().map(|s| s.name).filter(|n| n.starts_with("redress.")).collect();
    assert_eq!(names.len(), ServiceKind::ALL.len(), "reflection lists the five services: {names:?}");

    let mut files: HashMap<String, prost_types::FileDescriptorProto> = HashMap::new();
    let mut wanted: Vec<MessageRequest> = names.into_iter().map(MessageRequest::FileContainingSymbol).collect();
    while let Some(request) = wanted.pop() {
        let MessageResponse::FileDescriptorResponse(response) = ask(&mut client, request).await else {
            panic!("reflection did not answer with a file");
        };
        for bytes in response.file_descriptor_proto {
            let file = prost_types::FileDescriptorProto::decode(bytes.as_slice()).expect("a file descriptor");
            for dependency in &file.dependency {
                if !files.contains_key(dependency) {
                    wanted.push(MessageRequest::FileByFilename(dependency.clone()));
                }
            }
            files.insert(file.name().to_string(), file);
        }
    }
    let mut pool = DescriptorPool::new();
    pool.add_file_descriptor_protos(files.into_values()).expect("the files reflection served form a whole");
    pool
}

async fn ask(client: &mut ServerReflectionClient<Channel>, request: MessageRequest) -> MessageResponse {
    let request = ServerReflectionRequest { host: String::new(), message_request: Some(request) };
    let mut answers =
        client.server_reflection_info(futures::stream::iter([request])).await.expect("reflection").into_inner();
    let answer: ServerReflectionResponse = answers.message().await.expect("a reflection answer").expect("one answer");
    match answer.message_response.expect("a response") {
        MessageResponse::ErrorResponse(e) => panic!("reflection refused: {e:?}"),
        other => other,
    }
}

/// Calls `method` with `message` as a caller holding every role; a streaming method counts by
/// its first message (or the first error), since a stream such as StreamEvents stays open.
///
/// Each call has a connection of its own, so that one call's failure (a stream reset, a
/// connection closed) shows on that call alone.
async fn call(port: u16, method: &MethodDescriptor, message: DynamicMessage) -> Result<(), tonic::Status> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
        .expect("endpoint")
        .connect()
        .await
        .map_err(|e| tonic::Status::unavailable(format!("cannot connect: {e}")))?;
    let mut grpc = tonic::client::Grpc::new(channel)
        .max_decoding_message_size(64 * 1024 * 1024)
        .max_encoding_message_size(64 * 1024 * 1024);
    grpc.ready().await.map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let path =
        http::uri::PathAndQuery::from_str(&format!("/{}/{}", method.parent_service().full_name(), method.name()))
            .expect("a path");
    let mut request = tonic::Request::new(message);
    let metadata = request.metadata_mut();
    metadata.insert("x-redress-tenant", "acme".parse().expect("ascii"));
    metadata.insert("x-redress-actor", "ana".parse().expect("ascii"));
    metadata.insert("x-redress-roles", "agent,supervisor,admin,integration,bi_reader,system".parse().expect("ascii"));
    request.set_timeout(Duration::from_secs(20));
    let codec = DynamicCodec(method.output());
    if method.is_server_streaming() {
        let mut stream = grpc.server_streaming(request, path, codec).await?.into_inner();
        match tokio::time::timeout(Duration::from_millis(300), stream.message()).await {
            Ok(Err(status)) => Err(status),
            Ok(Ok(_)) | Err(_) => Ok(()),
        }
    } else {
        grpc.unary(request, path, codec).await.map(|_| ())
    }
}

/// The messages to send to a method taking `input`, each with what it holds.
fn hostile_messages(input: &MessageDescriptor) -> Vec<(String, DynamicMessage)> {
    let mut out = vec![("an empty message".to_string(), DynamicMessage::new(input.clone()))];
    let mut paths = Vec::new();
    leaf_paths(input, &mut Vec::new(), &mut paths, DEPTH);
    let mut filled_message = plausible(input);
    fill(&mut filled_message, DEPTH);
    for (base_name, base) in [("a plausible message", plausible(input)), ("a filled-in message", filled_message)] {
        out.push((base_name.to_string(), base.clone()));
        for path in &paths {
            let field = path.last().expect("a leaf").clone();
            for (what, value) in hostile_values(&field) {
                let mut message = base.clone();
                set_at(&mut message, path, value);
                let name: Vec<&str> = path.iter().map(|f| f.name()).collect();
                out.push((format!("{base_name} with {} = {what}", name.join(".")), message));
            }
        }
    }
    out
}

/// Fills every singular string and enum field within `depth` levels with a value of the
/// right shape where its name tells it, so that one hostile field is more likely to be the
/// only thing wrong with the message.
fn fill(message: &mut DynamicMessage, depth: usize) {
    for field in message.descriptor().fields() {
        if field.is_list() || field.is_map() || field.containing_oneof().is_some() || message.has_field(&field) {
            continue;
        }
        match field.kind() {
            Kind::String => {
                let value = match field.name() {
                    "name" | "case" | "page_token" => continue,
                    "request_id" => uuid::Uuid::now_v7().to_string(),
                    "email" => "ana@example.com".into(),
                    "phone" => "+447700900123".into(),
                    "locale" => "en".into(),
                    "time_zone" => "Europe/London".into(),
                    "currency_code" => "GBP".into(),
                    _ => "hostile sweep".into(),
                };
                message.set_field(&field, Value::String(value));
            }
            Kind::Enum(e) => {
                if let Some(first) = e.values().find(|v| v.number() != 0) {
                    message.set_field(&field, Value::EnumNumber(first.number()));
                }
            }
            Kind::Message(nested) if depth > 1 && !is_time(&nested) && !nested.full_name().starts_with("google.") => {
                if let Value::Message(inner) = message.get_field_mut(&field) {
                    fill(inner, depth - 1);
                }
            }
            _ => {}
        }
    }
}

/// A message whose `parent` names the test's tenant and whose idempotency key is set, so that
/// a mutation of one other field gets past the first checks to where it matters.
fn plausible(input: &MessageDescriptor) -> DynamicMessage {
    let mut message = DynamicMessage::new(input.clone());
    for field in input.fields() {
        if field.is_list() || field.is_map() || field.kind() != Kind::String {
            continue;
        }
        match field.name() {
            "parent" => message.set_field(&field, Value::String("tenants/acme".into())),
            "request_id" => message.set_field(&field, Value::String(uuid::Uuid::now_v7().to_string())),
            _ => {}
        }
    }
    message
}

/// Every field reachable from `message` within `depth` levels, as the chain of fields to it.
/// Timestamps and durations are leaves; so are repeated and map fields.
fn leaf_paths(
    message: &MessageDescriptor,
    prefix: &mut Vec<FieldDescriptor>,
    out: &mut Vec<Vec<FieldDescriptor>>,
    depth: usize,
) {
    for field in message.fields() {
        prefix.push(field.clone());
        match field.kind() {
            Kind::Message(nested) if !field.is_list() && !field.is_map() && !is_time(&nested) => {
                if depth > 1 {
                    leaf_paths(&nested, prefix, out, depth - 1);
                }
            }
            _ => out.push(prefix.clone()),
        }
        prefix.pop();
    }
}

fn is_time(message: &MessageDescriptor) -> bool {
    matches!(message.full_name(), "google.protobuf.Timestamp" | "google.protobuf.Duration")
}

/// Sets the field at the end of `path`, creating the messages on the way.
fn set_at(message: &mut DynamicMessage, path: &[FieldDescriptor], value: Value) {
    match path {
        [field] => message.set_field(field, value),
        [field, rest @ ..] => {
            if let Value::Message(nested) = message.get_field_mut(field) {
                set_at(nested, rest, value);
            }
        }
        [] => {}
    }
}

/// The hostile values for a field, with a word for each.
fn hostile_values(field: &FieldDescriptor) -> Vec<(String, Value)> {
    let singles = hostile_singles(&field.kind());
    if field.is_map() {
        let Kind::Message(entry) = field.kind() else { return Vec::new() };
        let value_field = entry.map_entry_value_field();
        let mut out = vec![(
            "a map entry with a NUL key".to_string(),
            Value::Map([(MapKey::String("k\u{0}".into()), Value::default_value(&value_field.kind()))].into()),
        )];
        for (what, value) in hostile_singles(&value_field.kind()) {
            out.push((format!("a map entry holding {what}"), Value::Map([(MapKey::String("k".into()), value)].into())));
        }
        out
    } else if field.is_list() {
        singles.into_iter().map(|(what, value)| (format!("[{what}]"), Value::List(vec![value]))).collect()
    } else {
        singles
    }
}

fn hostile_singles(kind: &Kind) -> Vec<(String, Value)> {
    let s = |what: &str, v: Value| (what.to_string(), v);
    match kind {
        Kind::String => vec![
            s("NUL", Value::String("\u{0}".into())),
            s("text with an escape character", Value::String("a\u{1b}[2Jb".into())),
            s("1 MiB", Value::String("x".repeat(1 << 20))),
        ],
        Kind::Bytes => vec![s("1 MiB of bytes", Value::Bytes(vec![0u8; 1 << 20].into()))],
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
            vec![s("i32::MIN", Value::I32(i32::MIN)), s("i32::MAX", Value::I32(i32::MAX)), s("-1", Value::I32(-1))]
        }
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
            vec![s("i64::MIN", Value::I64(i64::MIN)), s("i64::MAX", Value::I64(i64::MAX)), s("-1", Value::I64(-1))]
        }
        Kind::Uint32 | Kind::Fixed32 => vec![s("u32::MAX", Value::U32(u32::MAX))],
        Kind::Uint64 | Kind::Fixed64 => vec![s("u64::MAX", Value::U64(u64::MAX))],
        Kind::Double => vec![
            s("NaN", Value::F64(f64::NAN)),
            s("infinity", Value::F64(f64::INFINITY)),
            s("-1e308", Value::F64(-1e308)),
        ],
        Kind::Float => vec![s("NaN", Value::F32(f32::NAN)), s("infinity", Value::F32(f32::INFINITY))],
        Kind::Bool => Vec::new(),
        Kind::Enum(_) => vec![s("enum number 999", Value::EnumNumber(999)), s("enum number -1", Value::EnumNumber(-1))],
        Kind::Message(m) if m.full_name() == "google.protobuf.Timestamp" => [
            ("year -10000", -377_705_116_800),
            ("year 10000", 253_402_300_800),
            ("i64::MIN seconds", i64::MIN),
            ("i64::MAX seconds", i64::MAX),
            ("0001-01-01T00:00:00Z", -62_135_596_800),
            ("9999-12-31T23:59:59Z", 253_402_300_799),
        ]
        .into_iter()
        .map(|(what, seconds)| s(what, time(m, seconds, 0)))
        .collect(),
        Kind::Message(m) if m.full_name() == "google.protobuf.Duration" => [
            ("i64::MIN seconds", i64::MIN),
            ("i64::MAX seconds", i64::MAX),
            ("10,000 years", 315_576_000_000),
            ("-10,000 years", -315_576_000_000),
            ("-1 s", -1),
        ]
        .into_iter()
        .map(|(what, seconds)| s(what, time(m, seconds, 0)))
        .collect(),
        Kind::Message(_) => Vec::new(),
    }
}

fn time(descriptor: &MessageDescriptor, seconds: i64, nanos: i32) -> Value {
    let mut message = DynamicMessage::new(descriptor.clone());
    message.set_field_by_name("seconds", Value::I64(seconds));
    message.set_field_by_name("nanos", Value::I32(nanos));
    Value::Message(message)
}

/// Encodes and decodes `DynamicMessage`s over a method's descriptors for a raw tonic client.
#[derive(Clone)]
struct DynamicCodec(MessageDescriptor);

impl Codec for DynamicCodec {
    type Encode = DynamicMessage;
    type Decode = DynamicMessage;
    type Encoder = DynamicEncoder;
    type Decoder = DynamicDecoder;

    fn encoder(&mut self) -> Self::Encoder {
        DynamicEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        DynamicDecoder(self.0.clone())
    }
}

struct DynamicEncoder;

impl Encoder for DynamicEncoder {
    type Item = DynamicMessage;
    type Error = tonic::Status;

    fn encode(&mut self, item: DynamicMessage, dst: &mut EncodeBuf<'_>) -> Result<(), Self::Error> {
        item.encode(dst).map_err(|e| tonic::Status::invalid_argument(format!("client could not encode: {e}")))
    }
}

struct DynamicDecoder(MessageDescriptor);

impl Decoder for DynamicDecoder {
    type Item = DynamicMessage;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<DynamicMessage>, Self::Error> {
        DynamicMessage::decode(self.0.clone(), src)
            .map(Some)
            .map_err(|e| tonic::Status::internal(format!("the answer does not decode: {e}")))
    }
}
