//! The OpenAPI 3.1 document of the whole HTTP API, served at `GET /openapi.json` without
//! credentials. It is built with utoipa's builders: `seven` describes the seven.io-compatible
//! endpoints and `extensions` dlrgate's own, each from one parameter table per endpoint (GET
//! takes the parameters in the query, POST and DELETE as a form or JSON body); `schemas` holds
//! the components. The document must describe exactly the routes of `routes::table()`, and the
//! tables must name exactly the parameters the handlers accept: the tests here check both.
//! Nothing here is consulted while a request is answered; it only describes.

mod build;
mod dashboard;
mod extensions;
mod schemas;
mod seven;
#[cfg(test)]
mod tests;

use std::sync::OnceLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{InfoBuilder, LicenseBuilder, OpenApi, OpenApiBuilder, Paths};

use super::error::ApiError;

const DESCRIPTION: &str = "dlrgate speaks seven.io's HTTP API (point an SDK at `/api`) and adds \
    its own endpoints for message histories, webhook visibility and recovery, and delivery \
    reports from upstream gateways. seven.io endpoints answer errors with HTTP 200 and a bare \
    return code (`900`), as every official SDK expects; dlrgate's own endpoints answer \
    `{code, title, detail}` problems with a fitting status. Answers are JSON with \
    `Accept: application/json` or `json=1`, otherwise seven.io's legacy text. See docs/api.md.";

const TAGS: [(&str, &str); 10] = [
    ("SMS", "Send and cancel (seven.io)."),
    ("Status", "Delivery status by message id (seven.io)."),
    ("Journal", "The logbook (seven.io)."),
    ("Balance", "The account's balance (seven.io)."),
    ("Webhooks", "Subscribe, list, unsubscribe (seven.io)."),
    (
        "Webhooks (dlrgate)",
        "Attempt log, deliveries, enable, disable, re-send, recover.",
    ),
    ("Messages (dlrgate)", "A message's event history."),
    (
        "Upstream reports",
        "Delivery reports from Kannel, Jasmin or any HTTP upstream.",
    ),
    (
        "Dashboard",
        "The web dashboard at /dashboard and the summaries it reads.",
    ),
    ("Operations", "Health, readiness, metrics, this document."),
];

/// The document, built anew.
pub fn document() -> OpenApi {
    let mut paths = Paths::new();
    seven::paths(&mut paths);
    extensions::paths(&mut paths);
    dashboard::paths(&mut paths);
    let info = InfoBuilder::new()
        .title("dlrgate")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(DESCRIPTION))
        .license(Some(
            LicenseBuilder::new()
                .name("MIT OR Apache-2.0")
                .identifier(Some("MIT OR Apache-2.0"))
                .build(),
        ))
        .build();
    let tags = TAGS.iter().map(|(name, description)| {
        TagBuilder::new()
            .name(*name)
            .description(Some(*description))
            .build()
    });
    OpenApiBuilder::new()
        .info(info)
        .paths(paths)
        .components(Some(schemas::components()))
        .tags(Some(tags))
        .build()
}

/// `GET /openapi.json`: the document as JSON, serialized once.
pub async fn serve() -> Result<Response, ApiError> {
    static JSON: OnceLock<Result<String, String>> = OnceLock::new();
    let json = JSON.get_or_init(|| document().to_json().map_err(|error| error.to_string()));
    match json {
        Ok(json) => {
            Ok(([(header::CONTENT_TYPE, "application/json")], json.clone()).into_response())
        }
        Err(error) => Err(ApiError::Internal(format!(
            "serializing the OpenAPI document failed: {error}"
        ))),
    }
}
