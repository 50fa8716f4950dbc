//! The web dashboard: a static page at `/dashboard` with its script and style sheet compiled in,
//! and the JSON it needs beyond the existing API (`data`). The page needs no credentials and
//! holds no data; every call it makes carries the key the user typed (kept in sessionStorage,
//! never in a URL). A strict Content-Security-Policy allows only these same-origin files.

mod data;
mod metrics_text;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

#[cfg(test)]
pub use data::{ACTIVITY_PARAMS, COUNT_PARAMS};
pub use data::{accounts, activity, connectors, counts};

const PAGE: &str = include_str!("assets/index.html");
const SCRIPT: &str = include_str!("assets/app.js");
const STYLE: &str = include_str!("assets/app.css");

/// Same-origin script, style and fetches only: no inline code, no frames, no forms elsewhere.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `GET /dashboard`: the page.
pub async fn page() -> Response {
    asset(PAGE, "text/html; charset=utf-8")
}

/// `GET /dashboard/app.js`: the page's script.
pub async fn script() -> Response {
    asset(SCRIPT, "text/javascript; charset=utf-8")
}

/// `GET /dashboard/app.css`: the page's style sheet.
pub async fn style() -> Response {
    asset(STYLE, "text/css; charset=utf-8")
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    let fixed = [
        (header::CONTENT_TYPE, content_type),
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CACHE_CONTROL, "no-cache"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
