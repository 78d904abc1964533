//! The tower layer that authenticates and authorises every call before it reaches a service.

use std::sync::Arc;

use futures::future::BoxFuture;

use super::Authenticator;
use super::policy::{Rule, allows, rule};
use crate::error::ApiError;
use crate::middleware::{Around, Middleware};

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

crate::layer!(AuthLayer);

/// A service behind an [`AuthLayer`].
pub type AuthService<S> = Around<S, AuthLayer>;

impl<S, ReqBody, ResBody> Middleware<S, http::Request<ReqBody>> for AuthLayer
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>> + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = http::Response<ResBody>;

    fn call(
        &self,
        mut inner: S,
        mut request: http::Request<ReqBody>,
    ) -> BoxFuture<'static, Result<Self::Response, S::Error>> {
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
