//! Who is calling: every credential form of seven-api.md §1 and the optional request signature
//! of §6.5. A missing or wrong key is `900`; a signature that is present but wrong, stale or
//! replayed is `901`. The dashboard's administrator key (`dashboard.admin_key`) acts as the
//! account that `X-Dlrgate-Account` names; any other key with that header is refused, so an
//! account key never reaches another account.

use std::collections::HashMap;
use std::sync::Mutex;

use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use super::AppState;
use super::error::{ApiError, SevenCode};
use super::params::SevenRequest;
use crate::domain::credentials::hash_api_key;
use crate::domain::signature::{SignedRequest, verify};
use crate::store::{Account, AccountId, StoreError};

/// The header naming the account an administrator request acts for.
pub const ACCOUNT_HEADER: &str = "x-dlrgate-account";

/// Finds the account behind the request's credentials and checks its signature if it has one.
/// With `X-Dlrgate-Account`, the key must be the administrator key and the header names the
/// account.
pub async fn authenticate(state: &AppState, request: &SevenRequest) -> Result<Account, ApiError> {
    let key = given_key(request)?;
    if let Some(chosen) = request.header(ACCOUNT_HEADER) {
        require_admin(state, request)?;
        let id: i64 = chosen
            .trim()
            .parse()
            .map_err(|_| ApiError::not_found("no such account"))?;
        return match state.store.account(id).await {
            Err(StoreError::NotFound) => Err(ApiError::not_found("no such account")),
            other => Ok(other?),
        };
    }
    let key_hash = hash_api_key(key);
    let Some(account) = state.store.account_by_key_hash(&key_hash).await? else {
        return Err(ApiError::seven(SevenCode::InvalidApiKey, "invalid API key"));
    };
    state.limits.request(&key_hash)?;
    if request.header("x-signature").is_some() {
        check_signature(state, request, &account)?;
    }
    Ok(account)
}

/// Accepts only the administrator key (`dashboard.admin_key`, compared in constant time); any
/// other key, and every key while none is set, is `900`.
pub fn require_admin(state: &AppState, request: &SevenRequest) -> Result<(), ApiError> {
    let key = given_key(request)?;
    let admin = state.settings.dashboard.admin_key.trim();
    let key_hash = hash_api_key(key);
    let matches = !admin.is_empty() && bool::from(hash_api_key(admin).ct_eq(&key_hash));
    if !matches {
        return Err(ApiError::seven(
            SevenCode::InvalidApiKey,
            "this needs the administrator key",
        ));
    }
    state.limits.request(&key_hash)
}

fn given_key(request: &SevenRequest) -> Result<&str, ApiError> {
    api_key(request).ok_or_else(|| ApiError::seven(SevenCode::InvalidApiKey, "no API key given"))
}

/// The key from `X-Api-Key`, `Authorization: Basic|Bearer <key>` (raw, not base64) or `p`.
fn api_key(request: &SevenRequest) -> Option<&str> {
    if let Some(key) = request.header("x-api-key").filter(|key| !key.is_empty()) {
        return Some(key);
    }
    if let Some(value) = request.header("authorization") {
        let (scheme, key) = value.split_once(' ').unwrap_or(("", value));
        if scheme.eq_ignore_ascii_case("basic") || scheme.eq_ignore_ascii_case("bearer") {
            return Some(key.trim());
        }
    }
    request.params.get("p")
}

fn check_signature(
    state: &AppState,
    request: &SevenRequest,
    account: &Account,
) -> Result<(), ApiError> {
    let bad =
        |detail: &str| ApiError::seven(SevenCode::InvalidMessageIdOrSignature, detail.to_owned());
    let signature = request.header("x-signature").unwrap_or_default();
    let timestamp = request
        .header("x-timestamp")
        .ok_or_else(|| bad("X-Timestamp missing"))?;
    let nonce = request
        .header("x-nonce")
        .ok_or_else(|| bad("X-Nonce missing"))?;
    let sent_at: i64 = timestamp
        .parse()
        .map_err(|_| bad("X-Timestamp is not unix seconds"))?;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let tolerance =
        i64::try_from(state.settings.api.signature_tolerance.as_secs()).unwrap_or(i64::MAX);
    if (now - sent_at).abs() > tolerance {
        return Err(bad("X-Timestamp outside the allowed window"));
    }
    let full_url = full_url(request);
    let path = request
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let matches = [full_url.as_str(), path].into_iter().any(|url| {
        let signed = SignedRequest {
            timestamp,
            nonce,
            method: request.method.as_str(),
            url,
            body: &request.body,
        };
        verify(&account.signing_secret, &signed, signature)
    });
    if !matches {
        return Err(bad("signature does not match"));
    }
    if !state.nonces.first_use(account.id, nonce, now, tolerance) {
        return Err(bad("nonce already used"));
    }
    Ok(())
}

/// The URL as the client saw it: scheme (from `X-Forwarded-Proto` behind a proxy), host and path
/// with query. seven's SDKs sign this full URL.
fn full_url(request: &SevenRequest) -> String {
    let scheme = request.header("x-forwarded-proto").unwrap_or("http");
    let host = request.header("host").unwrap_or("localhost");
    let path = request
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    format!("{scheme}://{host}{path}")
}

/// Nonces seen within the signature window, so a captured signed request cannot be replayed.
#[derive(Debug, Default)]
pub struct NonceCache {
    seen: Mutex<HashMap<(AccountId, String), i64>>,
}

impl NonceCache {
    /// Records `nonce` and says whether it is new. Entries older than `window` are forgotten.
    pub fn first_use(&self, account: AccountId, nonce: &str, now: i64, window: i64) -> bool {
        let Ok(mut seen) = self.seen.lock() else {
            return false;
        };
        if seen.len() > 10_000 {
            seen.retain(|_, at| now - *at <= window);
        }
        seen.insert((account, nonce.to_owned()), now).is_none()
    }
}
