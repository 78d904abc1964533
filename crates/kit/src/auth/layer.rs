//! The tower layer that authenticates and authorises every call before it reaches a service.

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;

use super::Authenticator;
use super::policy::{Rule, allows, rule};
use crate::error::ApiError;

/// Puts an [`AuthService`] in front of a server's services.
#[derive(Debug, Clone)]
pub struct AuthLayer {
    auth: Arc<Authenticator>,
}

impl AuthLayer {
    /// The layer for `auth`.
    pub fn new(auth: Arc<Authenticator>) -> Self {
        AuthLayer { auth }
    }
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService { inner, auth: self.auth.clone() }
    }
}

/// See [`AuthLayer`].
#[derive(Debug, Clone)]
pub struct AuthService<S> {
    inner: S,
    auth: Arc<Authenticator>,
}

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for AuthService<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = http::Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<ReqBody>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let path = request.uri().path().to_string();
        if rule(&path) == Rule::Public {
            return Box::pin(inner.call(request));
        }
        let auth = self.auth.clone();
        Box::pin(async move {
            let caller = match auth.identify(request.headers()).await {
                Ok(caller) => caller,
                Err(e) => return Ok(refuse(e)),
            };
            if auth.enforces_roles() && !allows(&path, &caller.roles) {
                let roles: Vec<&str> = caller.roles.iter().map(|r| r.name()).collect();
                let method = path.trim_start_matches('/');
                let why = if roles.is_empty() {
                    format!("{method} is not open to a caller without roles")
                } else {
                    format!("{method} is not open to the roles {}", roles.join(", "))
                };
                return Ok(refuse(ApiError::PermissionDenied(why)));
            }
            request.extensions_mut().insert(caller);
            inner.call(request).await
        })
    }
}

fn refuse<B: Default>(error: ApiError) -> http::Response<B> {
    tonic::Status::from(error).into_http()
}
