//! The route table: every path and method dlrgate's HTTP server answers, with its handler.
//! `api::router` is built from [`table`] and from nothing else, and the OpenAPI tests check the
//! same table against the served document (`api::openapi`), so a route cannot be served without
//! being documented. Add routes here only; never with `.route` on the built router.

use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{self, MethodFilter, MethodRouter};

use super::{AppState, dashboard, health, hooks, ingest, journal, openapi, sms, status};

/// One served path and method and the handler answering it.
pub struct Route {
    /// The path in axum's (and OpenAPI's) template form, e.g. `/api/hooks/{id}/attempts`.
    pub path: &'static str,
    /// The method the handler is routed for: [`build`] routes exactly this one.
    pub method: Method,
    handler: Box<dyn FnOnce(MethodFilter) -> MethodRouter<AppState>>,
}

fn route<H: Handler<T, AppState>, T: 'static>(
    method: Method,
    path: &'static str,
    handler: H,
) -> Route {
    Route {
        path,
        method,
        handler: Box::new(move |filter| routing::on(filter, handler)),
    }
}

pub(super) fn get<H: Handler<T, AppState>, T: 'static>(path: &'static str, handler: H) -> Route {
    route(Method::GET, path, handler)
}

fn post<H: Handler<T, AppState>, T: 'static>(path: &'static str, handler: H) -> Route {
    route(Method::POST, path, handler)
}

pub(super) fn delete<H: Handler<T, AppState>, T: 'static>(path: &'static str, handler: H) -> Route {
    route(Method::DELETE, path, handler)
}

/// Every route of the public HTTP API.
pub fn table() -> Vec<Route> {
    vec![
        post("/api/sms", sms::send),
        get("/api/sms", sms::send),
        delete("/api/sms", sms::cancel),
        get("/api/status", status::status),
        post("/api/status", status::status),
        get("/api/journal", journal::legacy),
        post("/api/journal", journal::legacy),
        get("/api/journal/{kind}", journal::journal),
        post("/api/journal/{kind}", journal::journal),
        get("/api/balance", journal::balance),
        post("/api/balance", journal::balance),
        get("/api/messages/{id}/events", journal::events),
        get("/api/hooks", hooks::hooks),
        post("/api/hooks", hooks::hooks),
        delete("/api/hooks", hooks::hooks),
        get("/api/hooks/{id}/attempts", hooks::attempts),
        get("/api/hooks/{id}/deliveries", hooks::deliveries),
        post(
            "/api/hooks/{id}/deliveries/{delivery}/resend",
            hooks::resend,
        ),
        post("/api/hooks/{id}/enable", hooks::enable),
        post("/api/hooks/{id}/disable", hooks::disable),
        post("/api/hooks/{id}/recover", hooks::recover),
        get("/api/dashboard/accounts", dashboard::accounts),
        get("/api/dashboard/counts", dashboard::counts),
        get("/api/dashboard/activity", dashboard::activity),
        get("/api/dashboard/connectors", dashboard::connectors),
        get("/dashboard", dashboard::page),
        get("/dashboard/app.js", dashboard::script),
        get("/dashboard/app.css", dashboard::style),
        get("/ingest/{connector}", ingest::ingest),
        post("/ingest/{connector}", ingest::ingest),
        get("/healthz", health::healthz),
        get("/readyz", health::readyz),
        get("/metrics", health::metrics),
        get("/openapi.json", openapi::serve),
    ]
}

/// The axum router of `routes`; methods of one path are merged (axum panics on a duplicate).
pub fn build(routes: Vec<Route>) -> axum::Router<AppState> {
    routes
        .into_iter()
        .fold(axum::Router::new(), |router, route| {
            let filter = MethodFilter::try_from(route.method)
                .expect("the route table uses only methods axum can route");
            router.route(route.path, (route.handler)(filter))
        })
}
