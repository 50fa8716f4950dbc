//! `SevenRequest`: one extractor for every seven.io-compatible endpoint. It keeps the raw body
//! (for request signatures) and merges parameters from the query and from a JSON or form body,
//! the way the official SDKs send them (seven-api.md §2, §10.2):
//! - JSON scalars become text, JSON arrays are joined with ',';
//! - PHP-style `ids[0]=1&ids[1]=2` and `to[]=…` keys become one `ids`/`to` joined with ',';
//! - a body parameter wins over a query parameter of the same name;
//! - `""`, `undefined` and `null` count as absent.

use axum::body::Bytes;
use axum::extract::FromRequest;
use axum::http::{HeaderMap, Method, Uri, header};

use super::AppState;
use super::error::{ApiError, SevenCode};
use crate::domain::params::{is_absent, parse_bool};

/// Parameters every endpoint accepts: credentials and client identification.
pub const ALWAYS_ALLOWED: [&str; 4] = ["p", "u", "sentwith", "json"];

#[derive(Debug)]
pub struct SevenRequest {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub params: Params,
}

#[derive(Debug, Default, Clone)]
pub struct Params {
    /// Lower-cased names with their merged values, in first-seen order.
    pairs: Vec<(String, String)>,
}

impl Params {
    /// The value of `name`, or `None` when absent, empty or a placeholder such as `undefined`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.raw(name)
            .map(str::trim)
            .filter(|value| !is_absent(value))
    }

    /// The value of `name` as sent, even when empty.
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Whether the flag `name` is set; junk values are an error naming the parameter.
    pub fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.get(name) {
            None => Ok(false),
            Some(value) => parse_bool(value).map_err(|error| {
                ApiError::seven(SevenCode::UnknownParameter, format!("{name}: {error}"))
            }),
        }
    }

    /// Rejects parameters that the endpoint does not know (code 308).
    pub fn check_known(&self, allowed: &[&str]) -> Result<(), ApiError> {
        for (name, _) in &self.pairs {
            if !allowed.contains(&name.as_str()) && !ALWAYS_ALLOWED.contains(&name.as_str()) {
                return Err(ApiError::seven(
                    SevenCode::UnknownParameter,
                    format!("unknown parameter {name}"),
                ));
            }
        }
        Ok(())
    }

    fn merge(&mut self, source: Vec<(String, String)>) {
        let mut merged: Vec<(String, String)> = Vec::new();
        for (key, value) in source {
            let name = base_name(&key);
            match merged.iter_mut().find(|(existing, _)| *existing == name) {
                Some((_, existing)) if !value.is_empty() && !existing.is_empty() => {
                    existing.push(',');
                    existing.push_str(&value);
                }
                Some((_, existing)) => {
                    if existing.is_empty() {
                        *existing = value;
                    }
                }
                None => merged.push((name, value)),
            }
        }
        for (name, value) in merged {
            match self
                .pairs
                .iter_mut()
                .find(|(existing, _)| *existing == name)
            {
                Some((_, existing)) => *existing = value,
                None => self.pairs.push((name, value)),
            }
        }
    }
}

/// `ids[0]` → `ids`, `to[]` → `to`, `SentWith` → `sentwith`.
fn base_name(key: &str) -> String {
    key.split('[')
        .next()
        .unwrap_or(key)
        .trim()
        .to_ascii_lowercase()
}

impl SevenRequest {
    /// Whether the client asked for JSON (`Accept: application/json` or `json=1`).
    pub fn wants_json(&self) -> bool {
        let accepts_json = self
            .headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .any(|value| value.contains("application/json"));
        accepts_json || self.params.flag("json").unwrap_or(false)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
    }
}

impl FromRequest<AppState> for SevenRequest {
    type Rejection = ApiError;

    async fn from_request(
        request: axum::extract::Request,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let limit = state.settings.server.max_body_bytes;
        let body = axum::body::to_bytes(body, limit).await.map_err(|_| {
            ApiError::seven(
                SevenCode::UnknownError,
                format!("request body larger than {limit} bytes"),
            )
        })?;
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok());
        let params = parse_params(parts.uri.query(), content_type, &body)?;
        Ok(SevenRequest {
            method: parts.method,
            uri: parts.uri,
            headers: parts.headers,
            body,
            params,
        })
    }
}

/// The merged parameters of a request: its query string, then its body as JSON (when the
/// content type says so) or as a form. Public for the fuzz target `api_params`.
pub fn parse_params(
    query: Option<&str>,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Params, ApiError> {
    let mut params = Params::default();
    if let Some(query) = query {
        params.merge(parse_form(query.as_bytes())?);
    }
    if !body.is_empty() {
        let is_json = content_type.is_some_and(|value| value.to_ascii_lowercase().contains("json"));
        params.merge(if is_json {
            parse_json(body)?
        } else {
            parse_form(body)?
        });
    }
    Ok(params)
}

fn malformed(what: &str) -> ApiError {
    ApiError::seven(SevenCode::UnknownError, format!("malformed {what}"))
}

fn parse_form(bytes: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_bytes(bytes).map_err(|_| malformed("form data or query string"))
}

fn parse_json(bytes: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|_| malformed("JSON body"))?;
    let serde_json::Value::Object(object) = value else {
        return Err(malformed("JSON body: expected an object"));
    };
    if let Some((key, _)) = object
        .iter()
        .find(|(key, value)| is_structured(value) && !STRUCTURED_PARAMS.contains(&key.as_str()))
    {
        return Err(ApiError::seven(
            SevenCode::UnknownParameter,
            format!("{key}: expected text, a number, a boolean or a list of them"),
        ));
    }
    Ok(object
        .into_iter()
        .filter_map(|(key, value)| json_text(value).map(|text| (key, text)))
        .collect())
}

/// Parameters whose JSON value may be an object or a list of objects (`files` of `/api/sms`);
/// every other parameter is a scalar or a flat list, so `{"text":{…}}` is refused, not stored
/// as the text `{…}`.
const STRUCTURED_PARAMS: [&str; 1] = ["files"];

fn is_structured(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Object(_) => true,
        serde_json::Value::Array(items) => {
            items.iter().any(|item| item.is_object() || item.is_array())
        }
        _ => false,
    }
}

/// A JSON value as a parameter text; `null` is absent.
fn json_text(value: serde_json::Value) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::Null => None,
        Value::String(text) => Some(text),
        Value::Bool(flag) => Some(if flag { "1" } else { "0" }.to_owned()),
        Value::Number(number) => Some(number.to_string()),
        Value::Array(items)
            if items
                .iter()
                .all(|item| !item.is_object() && !item.is_array()) =>
        {
            Some(
                items
                    .into_iter()
                    .filter_map(json_text)
                    .collect::<Vec<_>>()
                    .join(","),
            )
        }
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn merged(sources: &[Vec<(&str, &str)>]) -> Params {
        let mut params = Params::default();
        for source in sources {
            params.merge(
                source
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            );
        }
        params
    }

    #[test]
    fn arrays_placeholders_and_precedence() {
        let params = merged(&[
            vec![
                ("ids[0]", "1"),
                ("ids[1]", "2"),
                ("date_from", "undefined"),
                ("to", "q"),
            ],
            vec![("to", "b"), ("SentWith", "js"), ("state", "")],
        ]);
        assert_eq!(params.get("ids"), Some("1,2"));
        assert_eq!(params.get("date_from"), None);
        assert_eq!(params.get("to"), Some("b"));
        assert_eq!(params.get("state"), None);
        assert_eq!(params.raw("state"), Some(""));
        assert!(
            params
                .check_known(&["ids", "date_from", "to", "state"])
                .is_ok()
        );
        assert!(params.check_known(&["ids"]).is_err());
    }

    #[test]
    fn json_values_become_text() {
        let mut pairs =
            parse_json(br#"{"to":["1","2"],"flash":true,"delay":2524608000000,"label":null}"#)
                .unwrap();
        pairs.sort();
        let expect = [("delay", "2524608000000"), ("flash", "1"), ("to", "1,2")];
        let expect: Vec<(String, String)> = expect
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(pairs, expect);
        assert!(parse_json(b"[1]").is_err());
        assert!(parse_json(br#"{"text":{"a":1}}"#).is_err());
        assert!(parse_json(br#"{"to":[["1"]]}"#).is_err());
        assert!(parse_json(br#"{"files":[{"name":"a","contents":"eA=="}]}"#).is_ok());
        assert!(parse_json(b"{").is_err());
    }
}
