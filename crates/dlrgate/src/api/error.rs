//! `ApiError`, the one error type of the HTTP boundary, and how it is answered.
//!
//! seven.io-compatible endpoints answer errors as the SDKs expect: HTTP 200 and a bare numeric
//! return code as the body (seven-api.md §1), with the human-readable reason in the
//! `X-Dlrgate-Error` header so `curl -i` shows what was wrong. dlrgate's own endpoints answer
//! `{code, title, detail}` with a fitting HTTP status. Internal errors are opaque; their cause
//! chain is logged once, here.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::store::StoreError;

/// seven.io return codes dlrgate answers with (seven-api.md §3.1; docs/api.md lists when).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SevenCode {
    InvalidSender = 201,
    InvalidRecipient = 202,
    MissingRecipient = 301,
    MissingText = 305,
    UnknownParameter = 308,
    TextTooLong = 401,
    /// "Daily limit reached" in most SDKs, "rate limit exceeded" in PHP's: answered when a rate
    /// limit of `[limits]` is reached (ADR 0002).
    LimitReached = 403,
    InsufficientCredit = 500,
    UnknownError = 700,
    InvalidApiKey = 900,
    /// "Invalid message id" on /api/status; "signature verification failed" elsewhere.
    InvalidMessageIdOrSignature = 901,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A seven.io return code and why.
    #[error("{code:?}: {detail}")]
    Seven { code: SevenCode, detail: String },
    /// A dlrgate endpoint's client error.
    #[error("{title}: {detail}")]
    Problem {
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        detail: String,
    },
    /// A rate limit of `[limits]`: HTTP 429 with `Retry-After`, body seven.io code 403.
    #[error("limit reached: {detail}")]
    Limited {
        detail: String,
        retry_after: std::time::Duration,
    },
    #[error("store failure")]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn seven(code: SevenCode, detail: impl Into<String>) -> ApiError {
        ApiError::Seven {
            code,
            detail: detail.into(),
        }
    }

    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError::Problem {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            title: "Not found",
            detail: detail.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Seven { code, detail } => {
                let mut response = (StatusCode::OK, (code as u16).to_string()).into_response();
                set_json(&mut response);
                if let Ok(value) = HeaderValue::from_str(&sanitize(&detail)) {
                    response.headers_mut().insert("x-dlrgate-error", value);
                }
                response
            }
            ApiError::Limited {
                detail,
                retry_after,
            } => {
                let mut response = (
                    StatusCode::TOO_MANY_REQUESTS,
                    (SevenCode::LimitReached as u16).to_string(),
                )
                    .into_response();
                set_json(&mut response);
                let headers = response.headers_mut();
                let seconds = retry_after.as_secs_f64().ceil().max(1.0) as u64;
                headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
                if let Ok(value) = HeaderValue::from_str(&sanitize(&detail)) {
                    headers.insert("x-dlrgate-error", value);
                }
                response
            }
            ApiError::Problem {
                status,
                code,
                title,
                detail,
            } => {
                let body = serde_json::json!({ "code": code, "title": title, "detail": detail });
                (status, axum::Json(body)).into_response()
            }
            ApiError::Store(error) => {
                let status = match error {
                    StoreError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
                    _ => StatusCode::INTERNAL_SERVER_ERROR,
                };
                tracing::error!(error = ?error, "store failure while answering a request");
                opaque(status)
            }
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "internal error while answering a request");
                opaque(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }
}

/// 5xx answers say nothing about the cause; seven.io clients still see a return code.
fn opaque(status: StatusCode) -> Response {
    let mut response = (status, (SevenCode::UnknownError as u16).to_string()).into_response();
    set_json(&mut response);
    response
}

fn set_json(response: &mut Response) {
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
}

/// Header values must be visible ASCII; anything else becomes '?'.
fn sanitize(detail: &str) -> String {
    detail
        .chars()
        .take(300)
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect()
}
