//! The webhook HTTP client: connection reuse (one pool for all hooks), a time limit per attempt,
//! no redirects, and the SSRF guard applied to literal IPs and to every resolved address. The
//! resolver hands reqwest only vetted addresses, so the connection uses exactly what was checked.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{HeaderName, HeaderValue};

use super::payload::Rendered;
use super::ssrf::{AddressPolicy, Refusal};
use crate::domain::webhook::parse_retry_after;

/// Looks up the addresses of a host name (a seam so tests can stub DNS).
pub trait Lookup: Send + Sync + 'static {
    fn lookup(
        &self,
        host: String,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>>;
}

/// The system resolver.
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(
        &self,
        host: String,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>> {
        Box::pin(async move {
            Ok(tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .map(|a| a.ip())
                .collect())
        })
    }
}

/// Every address of a host was refused by the SSRF guard.
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves only to refused addresses ({reason})")]
pub struct RefusedAddress {
    pub host: String,
    pub reason: &'static str,
}

/// A resolver that keeps only the addresses the policy allows.
pub struct GuardedResolver {
    pub policy: Arc<AddressPolicy>,
    pub lookup: Arc<dyn Lookup>,
}

impl GuardedResolver {
    /// The allowed addresses of `host`, or why there are none.
    pub async fn allowed(
        &self,
        host: String,
    ) -> Result<Vec<SocketAddr>, Box<dyn std::error::Error + Send + Sync>> {
        let addresses = self.lookup.lookup(host.clone()).await?;
        let mut refusal = Refusal::Reserved;
        let allowed: Vec<SocketAddr> = addresses
            .into_iter()
            .filter(|ip| match self.policy.check(*ip) {
                Ok(()) => true,
                Err(why) => {
                    refusal = why;
                    false
                }
            })
            .map(|ip| SocketAddr::new(ip, 0))
            .collect();
        if allowed.is_empty() {
            return Err(Box::new(RefusedAddress {
                host,
                reason: refusal.as_str(),
            }));
        }
        Ok(allowed)
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let resolver = GuardedResolver {
            policy: self.policy.clone(),
            lookup: self.lookup.clone(),
        };
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let allowed = resolver.allowed(host).await?;
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// The receiver's answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub snippet: String,
}

/// Why no answer came, from a closed set of classes.
#[derive(Debug, Clone)]
pub struct Failure {
    pub class: &'static str,
    pub detail: String,
}

pub struct WebhookClient {
    http: reqwest::Client,
    policy: Arc<AddressPolicy>,
    snippet_bytes: usize,
}

impl WebhookClient {
    pub fn new(
        policy: AddressPolicy,
        timeout: Duration,
        snippet_bytes: usize,
        lookup: Arc<dyn Lookup>,
    ) -> anyhow::Result<WebhookClient> {
        let policy = Arc::new(policy);
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // A proxy from HTTP_PROXY/ALL_PROXY would resolve host names itself, past the
            // guarded resolver: webhooks always connect directly.
            .no_proxy()
            .timeout(timeout)
            .connect_timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("dlrgate/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(GuardedResolver {
                policy: policy.clone(),
                lookup,
            }))
            .build()?;
        Ok(WebhookClient {
            http,
            policy,
            snippet_bytes,
        })
    }

    /// Whether `url` may be called: http(s) with a host, and a literal IP host must pass the
    /// policy (names are checked when they are resolved).
    pub fn check_url(policy: &AddressPolicy, url: &str) -> Result<reqwest::Url, Failure> {
        let refused = |detail: String| Failure {
            class: "refused_address",
            detail,
        };
        let url = reqwest::Url::parse(url).map_err(|e| Failure {
            class: "invalid_url",
            detail: e.to_string(),
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Failure {
                class: "invalid_url",
                detail: "only http and https URLs are allowed".into(),
            });
        }
        match url.host() {
            Some(url::Host::Ipv4(ip)) => policy
                .check(IpAddr::V4(ip))
                .map_err(|why| refused(format!("{ip} is {}", why.as_str())))?,
            Some(url::Host::Ipv6(ip)) => policy
                .check(IpAddr::V6(ip))
                .map_err(|why| refused(format!("{ip} is {}", why.as_str())))?,
            Some(url::Host::Domain(_)) => {}
            None => {
                return Err(Failure {
                    class: "invalid_url",
                    detail: "the URL has no host".into(),
                });
            }
        }
        Ok(url)
    }

    pub async fn send(
        &self,
        rendered: &Rendered,
        headers: &[(String, String)],
    ) -> Result<Answer, Failure> {
        let url = Self::check_url(&self.policy, &rendered.url)?;
        let method = if rendered.method == "GET" {
            reqwest::Method::GET
        } else {
            reqwest::Method::POST
        };
        let mut request = self.http.request(method, url);
        if let Some(content_type) = rendered.content_type {
            request = request.header(reqwest::header::CONTENT_TYPE, content_type);
        }
        for (name, value) in headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                request = request.header(name, value);
            }
        }
        if !rendered.body.is_empty() {
            request = request.body(rendered.body.clone());
        }
        let mut response = request.send().await.map_err(classify)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let mut snippet = Vec::new();
        while snippet.len() < self.snippet_bytes {
            match response.chunk().await {
                Ok(Some(chunk)) => snippet.extend_from_slice(&chunk),
                Ok(None) => break,
                // The status already decided the outcome; a broken body only shortens the log.
                Err(_) => break,
            }
        }
        snippet.truncate(self.snippet_bytes);
        Ok(Answer {
            status,
            retry_after,
            snippet: String::from_utf8_lossy(&snippet).into_owned(),
        })
    }
}

/// Maps a reqwest error to the attempt log's closed set of classes.
fn classify(error: reqwest::Error) -> Failure {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<RefusedAddress>() {
            return Failure {
                class: "refused_address",
                detail: refused.to_string(),
            };
        }
        source = cause.source();
    }
    let chain = error_chain(&error);
    let class = if error.is_timeout() {
        "timeout"
    } else if chain.contains("dns error") || chain.contains("failed to lookup") {
        "dns"
    } else if chain.to_ascii_lowercase().contains("certificate") || chain.contains("tls") {
        "tls"
    } else {
        "connect"
    };
    Failure {
        class,
        detail: chain,
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A resolver stub: every name resolves to the given addresses; no packet leaves the machine.
    struct Stub(Vec<IpAddr>);

    impl Lookup for Stub {
        fn lookup(
            &self,
            _host: String,
        ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>> {
            let addresses = self.0.clone();
            Box::pin(async move { Ok(addresses) })
        }
    }

    async fn resolve(addresses: &[&str], allow: &[&str]) -> Result<Vec<SocketAddr>, String> {
        let policy = AddressPolicy {
            allow: allow.iter().map(|c| c.parse().unwrap()).collect(),
        };
        let stub = Stub(addresses.iter().map(|a| a.parse().unwrap()).collect());
        let resolver = GuardedResolver {
            policy: Arc::new(policy),
            lookup: Arc::new(stub),
        };
        resolver
            .allowed("hooks.example".into())
            .await
            .map_err(|e| e.to_string())
    }

    #[tokio::test]
    async fn names_resolving_to_non_public_addresses_are_refused() {
        for private in [
            "10.0.0.1",
            "192.168.0.10",
            "169.254.169.254",
            "127.0.0.1",
            "::1",
            "fd00::5",
            "::ffff:172.16.0.1",
        ] {
            let error = resolve(&[private], &[]).await.unwrap_err();
            assert!(error.contains("refused addresses"), "{private}: {error}");
        }
    }

    #[tokio::test]
    async fn only_vetted_addresses_are_handed_to_the_connection() {
        let allowed = resolve(&["10.0.0.1", "93.184.216.34"], &[]).await.unwrap();
        assert_eq!(allowed, vec!["93.184.216.34:0".parse().unwrap()]);
        let loopback = resolve(&["127.0.0.1"], &["127.0.0.0/8"]).await.unwrap();
        assert_eq!(loopback, vec!["127.0.0.1:0".parse().unwrap()]);
    }

    #[test]
    fn literal_ips_and_schemes_are_checked_before_any_connection() {
        let strict = AddressPolicy::default();
        for url in [
            "http://127.0.0.1/x",
            "http://10.1.1.1/",
            "http://[::1]:8080/",
            "http://[::ffff:192.168.1.1]/",
            "http://169.254.169.254/latest",
        ] {
            assert_eq!(
                WebhookClient::check_url(&strict, url).unwrap_err().class,
                "refused_address",
                "{url}"
            );
        }
        assert_eq!(
            WebhookClient::check_url(&strict, "ftp://example.com/")
                .unwrap_err()
                .class,
            "invalid_url"
        );
        assert_eq!(
            WebhookClient::check_url(&strict, "abc://my.tld/123")
                .unwrap_err()
                .class,
            "invalid_url"
        );
        assert!(WebhookClient::check_url(&strict, "https://hooks.example.com/dlr").is_ok());
        assert!(WebhookClient::check_url(&strict, "http://93.184.216.34/").is_ok());
        let open = AddressPolicy {
            allow: vec!["127.0.0.0/8".parse().unwrap()],
        };
        assert!(WebhookClient::check_url(&open, "http://127.0.0.1:9000/dlr").is_ok());
    }
}
