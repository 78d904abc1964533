//! The tower plumbing the server's layers share. A layer is a [`Middleware`]: what it does
//! with each call, given the inner service ready to take it; [`Around`] is the service that
//! wraps the inner one, and [`layer!`](crate::layer!) makes the middleware a `tower::Layer`.

use std::task::{Context, Poll};

use futures::future::BoxFuture;

/// What a layer does with each call: `inner` is ready to take `request`.
pub trait Middleware<S: tower::Service<R>, R> {
    /// What the wrapped service answers.
    type Response;

    /// Handles one call.
    fn call(&self, inner: S, request: R) -> BoxFuture<'static, Result<Self::Response, S::Error>>;
}

/// A service wrapped by a middleware.
#[derive(Debug, Clone)]
pub struct Around<S, M> {
    inner: S,
    middleware: M,
}

impl<S, M> Around<S, M> {
    /// `inner` wrapped by `middleware`.
    pub fn new(inner: S, middleware: M) -> Self {
        Self { inner, middleware }
    }
}

impl<S, M, R> tower::Service<R> for Around<S, M>
where
    S: tower::Service<R> + Clone,
    M: Middleware<S, R>,
{
    type Response = M::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<M::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        // The service `poll_ready` readied takes the call; a clone waits for the next one.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        self.middleware.call(inner, request)
    }
}

/// Makes a [`Middleware`] (which must be `Clone`) a `tower::Layer` wrapping each service in
/// [`Around`].
#[macro_export]
macro_rules! layer {
    ($middleware:ty) => {
        impl<S> tower::Layer<S> for $middleware {
            type Service = $crate::middleware::Around<S, $middleware>;

            fn layer(&self, inner: S) -> Self::Service {
                $crate::middleware::Around::new(inner, self.clone())
            }
        }
    };
}
