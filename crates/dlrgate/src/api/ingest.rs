//! `/ingest/{connector}`: delivery reports that upstream gateways send over HTTP (smpp.md §6).
//!
//! A report is accepted from a configured connector of type `kannel` (Kannel's `dlr-url`
//! callbacks) or `http` (its `format`: `kannel`, `jasmin` or `json`), by GET or POST (form or
//! JSON), authenticated by the connector's token (`?token=` or `Authorization: Bearer`). Each
//! report is read by its format's module into `OperatorReceipt`s and stored with
//! `Store::apply_operator_receipts` before the answer: a report that names a part no submission
//! has stored yet is parked, not lost. Bad input is refused with a 400 problem and nothing stored.
//!
//! This module owns the HTTP side only (finding the upstream, authentication, parameters and the
//! raw text kept for audit); reading statuses is `domain::dlr`, matching is the store's.

mod jasmin;
mod json;
mod kannel;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::AppState;
use super::error::ApiError;
use crate::domain::receipt::IdFormat;
use crate::operators::settings::{ConnectorSettings, HttpFormat};
use crate::store::OperatorReceipt;
use crate::workers::{count_changes, now_millis};

/// How far a report's own time may lie in the past or future before the receive time is used
/// instead: a clock that is far off must not date a status years back.
const MAX_REPORT_AGE_MS: i64 = 7 * 24 * 3600 * 1000;
const MAX_REPORT_AHEAD_MS: i64 = 3600 * 1000;

pub async fn ingest(
    State(state): State<AppState>,
    Path(connector): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let upstream = Upstream::find(&state, &connector)?;
    upstream.authenticate(&headers, query.as_deref())?;
    let received = Received::read(query.as_deref(), &headers, &body)?;
    let receipts = match upstream.format {
        Format::Kannel(id_format) => kannel::receipts(&received, id_format)?,
        Format::Jasmin(id_format) => jasmin::receipts(&received, id_format)?,
        Format::Json(id_format) => json::receipts(&received, id_format)?,
    };
    let outcome = state
        .store
        .apply_operator_receipts(&upstream.matches, receipts)
        .await?;
    count_changes(&outcome.changes);
    if !outcome.changes.is_empty() {
        state.deliveries.notify_one();
    }
    Ok(match upstream.format {
        Format::Jasmin(_) => jasmin::ACK.into_response(),
        _ => Json(serde_json::json!({ "matched": outcome.matched, "parked": outcome.parked }))
            .into_response(),
    })
}

#[derive(Debug, Clone, Copy)]
enum Format {
    Kannel(IdFormat),
    Jasmin(IdFormat),
    Json(IdFormat),
}

/// A configured connector that may send reports.
struct Upstream {
    format: Format,
    token: String,
    /// The connector whose parts the reports name (`reports_for`, by default itself).
    matches: String,
}

impl Upstream {
    fn find(state: &AppState, name: &str) -> Result<Upstream, ApiError> {
        let connector = state.settings.connectors.iter().find(|c| c.name() == name);
        match connector {
            Some(ConnectorSettings::Kannel(kannel)) => Ok(Upstream {
                format: Format::Kannel(IdFormat::AsIs),
                token: kannel.token.clone(),
                matches: kannel.name.clone(),
            }),
            Some(ConnectorSettings::Http(http)) => Ok(Upstream {
                format: match http.format {
                    HttpFormat::Kannel => Format::Kannel(http.id_format),
                    HttpFormat::Jasmin => Format::Jasmin(http.id_format),
                    HttpFormat::Json => Format::Json(http.id_format),
                },
                token: http.token.clone(),
                matches: http
                    .reports_for
                    .clone()
                    .unwrap_or_else(|| http.name.clone()),
            }),
            _ => Err(ApiError::not_found(format!(
                "no connector {name:?} that reports over HTTP"
            ))),
        }
    }

    /// Compares SHA-256 digests in constant time, so neither the content nor the length of the
    /// token leaks through timing. An empty configured token admits nobody.
    fn authenticate(&self, headers: &HeaderMap, query: Option<&str>) -> Result<(), ApiError> {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().strip_prefix("Bearer "))
            .map(str::trim);
        let query = parse_form(query.unwrap_or_default());
        let given = bearer.or_else(|| first(&query, "token"));
        let ok = match given {
            Some(given) if !self.token.is_empty() => {
                let expected = Sha256::digest(self.token.as_bytes());
                let given = Sha256::digest(given.as_bytes());
                bool::from(expected.ct_eq(&given))
            }
            _ => false,
        };
        if ok {
            return Ok(());
        }
        Err(ApiError::Problem {
            status: StatusCode::UNAUTHORIZED,
            code: "unauthorized",
            title: "Unauthorized",
            detail: "a valid token (?token= or Authorization: Bearer) is required".to_owned(),
        })
    }
}

/// A report's parameters and raw text.
pub(super) struct Received {
    /// Query parameters, in order.
    query: Vec<(String, String)>,
    /// Form parameters of the body, or the scalar fields of a JSON object body.
    body: Vec<(String, String)>,
    /// The JSON body, when one came.
    json: Option<serde_json::Value>,
    /// The report as received (query, then body), without its token, for the event log.
    raw: String,
    now: i64,
}

impl Received {
    fn read(query: Option<&str>, headers: &HeaderMap, body: &[u8]) -> Result<Received, ApiError> {
        let query_text = query.unwrap_or_default();
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let first = body.iter().find(|b| !b.is_ascii_whitespace());
        let is_json = content_type.contains("json")
            || (!content_type.contains("form") && matches!(first, Some(b'{' | b'[')));
        let (json, body_params, body_raw) = if body.iter().all(u8::is_ascii_whitespace) {
            (None, Vec::new(), String::new())
        } else if is_json {
            let value: serde_json::Value = serde_json::from_slice(body)
                .map_err(|error| bad_request(format!("the body is not JSON: {error}")))?;
            let params = scalar_fields(&value);
            (
                Some(value),
                params,
                String::from_utf8_lossy(body).into_owned(),
            )
        } else {
            let text = String::from_utf8_lossy(body);
            (None, parse_form(&text), without_token(&text))
        };
        let raw = [without_token(query_text), body_raw]
            .into_iter()
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        Ok(Received {
            query: parse_form(query_text),
            body: body_params,
            json,
            raw,
            now: now_millis(),
        })
    }

    /// A parameter from the query or the body (the query first), trimmed; empty counts as absent.
    pub(super) fn param(&self, name: &str) -> Option<&str> {
        first(&self.query, name).or_else(|| first(&self.body, name))
    }

    /// A required parameter, or a 400 naming it.
    pub(super) fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.param(name)
            .ok_or_else(|| bad_request(format!("{name} is missing")))
    }

    pub(super) fn json(&self) -> Option<&serde_json::Value> {
        self.json.as_ref()
    }

    /// The raw report, and after it the receipt text it carried (when any), for the event log.
    pub(super) fn raw_with(&self, receipt_text: Option<&str>) -> String {
        match receipt_text.filter(|text| !text.is_empty()) {
            Some(text) => format!("{}\n{text}", self.raw),
            None => self.raw.clone(),
        }
    }

    /// The time of the report: `seconds` (unix) when given and plausible, else the receive time.
    pub(super) fn time(&self, seconds: Option<i64>) -> i64 {
        seconds
            .and_then(|seconds| seconds.checked_mul(1000))
            .filter(|at| {
                *at >= self.now.saturating_sub(MAX_REPORT_AGE_MS)
                    && *at <= self.now.saturating_add(MAX_REPORT_AHEAD_MS)
            })
            .unwrap_or(self.now)
    }
}

fn first<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(key, value)| key == name && !value.trim().is_empty())
        .map(|(_, value)| value.trim())
}

fn parse_form(text: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(text.as_bytes())
        .into_owned()
        .collect()
}

/// The top-level scalar fields of a JSON object as text (Kannel and Jasmin fields posted as JSON).
fn scalar_fields(value: &serde_json::Value) -> Vec<(String, String)> {
    let Some(object) = value.as_object() else {
        return Vec::new();
    };
    object
        .iter()
        .filter_map(|(key, value)| {
            let text = match value {
                serde_json::Value::String(text) => text.clone(),
                serde_json::Value::Number(number) => number.to_string(),
                serde_json::Value::Bool(flag) => flag.to_string(),
                _ => return None,
            };
            Some((key.clone(), text))
        })
        .collect()
}

/// A query or form text without its `token` pairs, otherwise exactly as received: the token is
/// the upstream's secret, and the raw report is shown to customers in the event log.
fn without_token(text: &str) -> String {
    text.split('&')
        .filter(|pair| {
            let key = pair.split('=').next().unwrap_or_default();
            let key: String = url::form_urlencoded::parse(key.as_bytes())
                .map(|(key, _)| key.into_owned())
                .collect();
            key != "token"
        })
        .collect::<Vec<_>>()
        .join("&")
}

pub(super) fn bad_request(detail: impl Into<String>) -> ApiError {
    ApiError::Problem {
        status: StatusCode::BAD_REQUEST,
        code: "bad_report",
        title: "Bad delivery report",
        detail: detail.into(),
    }
}

/// One receipt for `operator_id`, the shape every format produces.
pub(super) fn receipt(
    operator_id: String,
    reading: crate::domain::dlr::DlrReading,
    at: i64,
    raw: String,
) -> OperatorReceipt {
    OperatorReceipt {
        operator_id,
        status: reading.status,
        at,
        error_code: reading.error_code,
        raw: Some(raw),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_cut_from_the_raw_report_and_nothing_else() {
        let cases = [
            ("token=s3cret&ref=1.1&type=8", "ref=1.1&type=8"),
            ("ref=1.1&tok%65n=x&type=1", "ref=1.1&type=1"),
            ("ref=1.1&tokens=x", "ref=1.1&tokens=x"),
            ("", ""),
            ("token", ""),
        ];
        for (input, expect) in cases {
            assert_eq!(without_token(input), expect, "{input:?}");
        }
    }
}
