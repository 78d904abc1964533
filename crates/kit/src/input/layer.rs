//! The tower layer that runs the input check on every call of the contract before it reaches
//! a service: it reads the request body (gRPC frames), decodes each message over the method's
//! input descriptor, and either refuses the call or hands the same bytes on.

use std::collections::HashMap;
use std::sync::Arc;

use futures::future::BoxFuture;
use http_body_util::{BodyExt as _, Full, LengthLimitError, Limited};
use prost::bytes::Bytes;
use prost_reflect::{DynamicMessage, MessageDescriptor};
use tonic::Status;
use tonic::body::Body;

use super::{check, contract};
use crate::error::ApiError;
use crate::middleware::{Around, Middleware};

/// A gRPC frame's header: a compression flag and a big-endian length.
const FRAME_HEADER: usize = 5;

/// Puts an [`InputService`] in front of a server's services.
#[derive(Clone)]
pub struct InputLayer {
    shared: Arc<Shared>,
}

struct Shared {
    /// The input message of each method of the contract that takes one message (unary and
    /// server-streaming), by request path (`/redress.case.v1.CaseService/ListCases`).
    inputs: HashMap<String, MessageDescriptor>,
    /// The largest message accepted, as the services' decoders are configured.
    max_message_bytes: usize,
}

impl InputLayer {
    /// A layer checking every call of the contract; messages above `max_message_bytes` are
    /// refused as the services' own decoders would.
    pub fn new(max_message_bytes: usize) -> anyhow::Result<Self> {
        let pool = contract()?;
        let inputs = pool
            .services()
            .flat_map(|service| service.methods().collect::<Vec<_>>())
            .filter(|method| !method.is_client_streaming())
            .map(|method| (format!("/{}/{}", method.parent_service().full_name(), method.name()), method.input()))
            .collect();
        Ok(Self { shared: Arc::new(Shared { inputs, max_message_bytes }) })
    }
}

crate::layer!(InputLayer);

/// A service behind an [`InputLayer`].
pub type InputService<S> = Around<S, InputLayer>;

impl<S, ResBody> Middleware<S, http::Request<Body>> for InputLayer
where
    S: tower::Service<http::Request<Body>, Response = http::Response<ResBody>> + Send + 'static,
    S::Future: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = http::Response<ResBody>;

    fn call(&self, mut inner: S, request: http::Request<Body>) -> BoxFuture<'static, Result<Self::Response, S::Error>> {
        let Some(input) = self.shared.inputs.get(request.uri().path()).cloned() else {
            // Health, reflection, and paths no service answers.
            return Box::pin(inner.call(request));
        };
        let limit = self.shared.max_message_bytes;
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let bytes = match read(body, limit).await {
                Ok(bytes) => bytes,
                Err(status) => return Ok(status.into_http()),
            };
            if let Err(status) = inspect(&input, &bytes, limit) {
                return Ok(status.into_http());
            }
            inner.call(http::Request::from_parts(parts, Body::new(Full::new(bytes)))).await
        })
    }
}

/// The whole request body: one message for the methods checked, at most `limit` bytes of it.
async fn read(body: Body, limit: usize) -> Result<Bytes, Status> {
    match Limited::new(body, limit.saturating_add(FRAME_HEADER)).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large(limit)),
        Err(e) => {
            tracing::debug!(error = %e, "request body broke off");
            Err(Status::cancelled("the request body broke off"))
        }
    }
}

fn too_large(limit: usize) -> Status {
    Status::out_of_range(format!("the request is larger than the limit of {limit} bytes"))
}

/// Checks each complete, uncompressed frame of `bytes`. What is not (a truncated frame, a
/// compressed one) is left to the service's decoder, which refuses it.
fn inspect(input: &MessageDescriptor, mut bytes: &[u8], limit: usize) -> Result<(), Status> {
    while bytes.len() >= FRAME_HEADER {
        let compressed = bytes[0] != 0;
        let len = u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]) as usize;
        if len > limit {
            return Err(too_large(limit));
        }
        let Some(message) = bytes.get(FRAME_HEADER..FRAME_HEADER + len) else { return Ok(()) };
        if compressed {
            return Ok(());
        }
        let message = DynamicMessage::decode(input.clone(), message).map_err(|e| {
            Status::from(ApiError::invalid("request", format!("is not a valid {}: {e}", input.full_name())))
        })?;
        let violations = check(&message);
        if !violations.is_empty() {
            return Err(ApiError::InvalidArgument(violations).into());
        }
        bytes = &bytes[FRAME_HEADER + len..];
    }
    Ok(())
}
