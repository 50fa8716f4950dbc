//! `Application`: builds everything from `Settings` (store, intake, workers, HTTP listener) and
//! runs until told to stop. Tests build it on port 0 with a temporary data directory.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU32;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::api::{self, AppState, NonceCache};
use crate::config::Settings;
use crate::dispatcher::Dispatcher;
use crate::dispatcher::client::{SystemLookup, WebhookClient};
use crate::dispatcher::ssrf::AddressPolicy;
use crate::domain::credentials::{hash_api_key, new_api_key, new_signing_secret};
use crate::domain::timefmt::to_millis;
use crate::domain::webhook::{ConcurrencyPolicy, RetryPolicy};
use crate::operators::{self, Operator};
use crate::store::{Billing, NewAccount, PgPoolSettings, PgStore, SqliteStore, Store, StoreError};
use crate::workers::backlog::BacklogLimit;
use crate::workers::intake::Intake;
use crate::workers::leases::NodeKeeper;
use crate::workers::reports::ReportApplier;
use crate::workers::retention::Retention;
use crate::workers::submitter::Submitter;

/// Credentials of a newly created account, shown once.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub account_id: i64,
    pub api_key: String,
    pub signing_secret: String,
}

pub struct Application {
    listener: TcpListener,
    local_addr: SocketAddr,
    settings: Arc<Settings>,
    store: Arc<dyn Store>,
    /// The highest webhook delivery id at start: the dispatcher reads new ones after it.
    first_delivery: i64,
    /// Set when this start created the default account of an empty store.
    pub bootstrap: Option<Credentials>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let store = open_store(&settings).await?;
        // Deliveries this node had in flight when it stopped are due again at once (SQLite: every
        // lease, there is one process; PostgreSQL: this node's own, which a fresh node id has
        // none of — a dead node's leases run out after `store.lease_timeout`).
        let released = store.release_leases().await?;
        let first_delivery = store.last_delivery_id().await?;
        let known: Vec<String> = std::iter::once(operators::settings::SANDBOX)
            .chain(settings.connectors.iter().map(|c| c.name()))
            .map(str::to_owned)
            .collect();
        let orphans = store
            .reroute_orphans(&known, settings.routing.router().default_connector())
            .await?;
        if orphans > 0 {
            tracing::warn!(
                orphans,
                "queued messages of connectors no longer configured go to the default route"
            );
        }
        if released > 0 {
            tracing::info!(
                released,
                "webhook deliveries in flight at the last stop are due again"
            );
        }
        let bootstrap = bootstrap_default(store.as_ref()).await?;
        let listener = TcpListener::bind(settings.server.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.server.listen))?;
        let local_addr = listener.local_addr()?;
        Ok(Application {
            listener,
            local_addr,
            settings: Arc::new(settings),
            store,
            first_delivery,
            bootstrap,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `shutdown` fires, then stops accepting, finishes in-flight requests, lets
    /// the intake store what it holds and the workers finish their batch, and closes the store.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        // Installed first, so that metrics recorded by tasks started below are kept.
        let metrics = crate::telemetry::metrics_handle();
        let store = self.store.clone();
        let stored = Arc::new(Notify::new());
        let (intake, intake_task) = Intake::start(
            store.clone(),
            self.settings.workers.intake_batch,
            stored.clone(),
        );
        let workers_stop = CancellationToken::new();
        let deliveries = Arc::new(Notify::new());
        let address_policy = Arc::new(AddressPolicy {
            allow: self.settings.webhook.allow_cidrs.clone(),
        });
        // How many nodes share the store (the heartbeat counts them; 1 on SQLite).
        let nodes = Arc::new(AtomicU32::new(1));
        let dispatcher = build_dispatcher(
            &self.settings,
            &store,
            &address_policy,
            (&deliveries, self.first_delivery, &nodes),
        )?;
        let workers = TaskTracker::new();
        if self.settings.store.is_postgres() {
            let keeper = NodeKeeper {
                store: store.clone(),
                lease: self.settings.store.lease_timeout,
                nodes: nodes.clone(),
            };
            workers.spawn(keeper.run(workers_stop.clone()));
        }
        let operators = operators::start(
            &self.settings,
            &operators::Context {
                store: store.clone(),
                deliveries: deliveries.clone(),
                stop: workers_stop.clone(),
                tracker: workers.clone(),
                nodes,
            },
        )?;
        spawn_workers(
            &workers,
            &self.settings,
            &store,
            operators,
            stored,
            &deliveries,
            &workers_stop,
        );
        workers.spawn(dispatcher.run(workers_stop.clone()));
        let state = AppState {
            store: store.clone(),
            settings: self.settings.clone(),
            intake,
            nonces: Arc::new(NonceCache::default()),
            limits: Arc::new(api::RateLimits::new(&self.settings.limits)),
            metrics,
            address_policy,
            deliveries,
            routes: Arc::new(self.settings.routing.router()),
        };
        tracing::info!(addr = %self.local_addr, "dlrgate listening");
        let server = self.settings.server.clone();
        api::serve(self.listener, api::router(state), &server, shutdown).await;
        finish(intake_task, workers, workers_stop).await;
        // What the dispatcher had not read yet (pushed to this node) is due again at once for
        // the other nodes, instead of after its lease runs out.
        if let Err(error) = self.store.release_leases().await {
            tracing::error!(?error, "handing back this node's webhook leases failed");
        }
        self.store.close().await;
        tracing::info!("dlrgate stopped");
        Ok(())
    }
}

async fn finish(intake_task: JoinHandle<()>, workers: TaskTracker, stop: CancellationToken) {
    // The router (and with it every Intake handle) is gone, so the intake drains and ends.
    if let Err(error) = intake_task.await {
        tracing::error!(?error, "intake task failed");
    }
    stop.cancel();
    workers.close();
    workers.wait().await;
}

fn build_dispatcher(
    settings: &Settings,
    store: &Arc<dyn Store>,
    policy: &Arc<AddressPolicy>,
    (wake, first_cursor, nodes): (&Arc<Notify>, i64, &Arc<AtomicU32>),
) -> anyhow::Result<Arc<Dispatcher>> {
    let webhook = &settings.webhook;
    let client = WebhookClient::new(
        policy.as_ref().clone(),
        webhook.timeout,
        webhook.response_snippet_bytes,
        Arc::new(SystemLookup),
    )?;
    Ok(Arc::new(Dispatcher {
        store: store.clone(),
        client: Arc::new(client),
        policy: RetryPolicy {
            schedule: webhook.retry_schedule.clone(),
            jitter: webhook.jitter,
            max_retry_after: webhook.max_retry_after,
        },
        timeout: webhook.timeout,
        concurrency: ConcurrencyPolicy {
            min: u32::try_from(webhook.min_in_flight_per_hook).unwrap_or(u32::MAX),
            max: u32::try_from(webhook.max_in_flight_per_hook).unwrap_or(u32::MAX),
            slow_ms: i64::try_from(webhook.slow_answer.as_millis()).unwrap_or(i64::MAX),
        },
        limits: Default::default(),
        batch_size: settings.workers.batch_size,
        // New deliveries arrive on commit; the tick only looks for retries and unclaimed work.
        tick: settings.workers.tick.max(Duration::from_millis(50)),
        disable_after: webhook.disable_after,
        max_held: webhook.max_held.max(1),
        wake: wake.clone(),
        first_cursor,
        lease: settings.store.lease_timeout,
        nodes: nodes.clone(),
    }))
}

fn spawn_workers(
    tracker: &TaskTracker,
    settings: &Settings,
    store: &Arc<dyn Store>,
    operators: Vec<(String, Arc<dyn Operator>)>,
    stored: Arc<Notify>,
    deliveries: &Arc<Notify>,
    stop: &CancellationToken,
) {
    let reports = Arc::new(Notify::new());
    let mut wakers = Vec::new();
    for (connector, operator) in operators {
        let wake = Arc::new(Notify::new());
        wakers.push(wake.clone());
        let submitter = Submitter {
            store: store.clone(),
            connector,
            operator,
            tick: settings.workers.tick,
            batch_size: settings.workers.batch_size,
            wake,
            reports: reports.clone(),
            deliveries: deliveries.clone(),
            lease: settings.store.lease_timeout,
        };
        tracker.spawn(submitter.run(stop.clone()));
    }
    // The intake wakes one Notify; every connector's submitter hears it.
    tracker.spawn(fan_out(stored, wakers, stop.clone()));
    let applier = ReportApplier {
        store: store.clone(),
        tick: settings.workers.tick,
        batch_size: settings.workers.batch_size,
        wake: reports,
        deliveries: deliveries.clone(),
    };
    let retention = Retention {
        store: store.clone(),
        period: settings.retention.period,
        interval: settings.retention.interval,
        batch_size: settings.retention.batch_size,
    };
    tracker.spawn(applier.run(stop.clone()));
    tracker.spawn(retention.run(stop.clone()));

    if settings.limits.pending_deliveries_per_hook > 0 {
        let backlog = BacklogLimit {
            store: store.clone(),
            limit: settings.limits.pending_deliveries_per_hook,
            interval: settings.limits.backlog_check_interval,
        };
        tracker.spawn(backlog.run(stop.clone()));
    }
}

async fn fan_out(from: Arc<Notify>, to: Vec<Arc<Notify>>, stop: CancellationToken) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = from.notified() => to.iter().for_each(|wake| wake.notify_one()),
        }
    }
}

/// Opens the configured store, applying its migrations: PostgreSQL when `store.database_url` is
/// set, else the SQLite file in `store.data_dir`.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    let store = &settings.store;
    if store.is_postgres() {
        let pg = PgStore::open(&store.database_url, pool_settings(settings))
            .await
            .with_context(|| {
                format!(
                    "cannot open the PostgreSQL store at {} (is PostgreSQL running there, and \
                     are --database-url / store.database_url right?)",
                    redacted(&store.database_url)
                )
            })?;
        return Ok(Arc::new(pg));
    }
    let sqlite = SqliteStore::open(&store.data_dir, store.synchronous_full)
        .await
        .with_context(|| {
            format!(
                "cannot open the SQLite store {} (is --data / store.data_dir the right \
                 directory, and may dlrgate write there?)",
                store.data_dir.join("dlrgate.db").display()
            )
        })?;
    Ok(Arc::new(sqlite))
}

/// A database URL fit for an error message: without its password.
fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => "the configured URL (not a valid URL)".to_owned(),
    }
}

/// Applies the configured store's migrations and closes it (`dlrgate migrate`); returns the
/// backend's name.
pub async fn migrate_store(settings: &Settings) -> anyhow::Result<&'static str> {
    let store = &settings.store;
    if store.is_postgres() {
        let pg = PgStore::connect(&store.database_url, pool_settings(settings))
            .await
            .with_context(|| {
                format!(
                    "cannot connect to PostgreSQL at {} (is it running there, and is \
                     --database-url / store.database_url right?)",
                    redacted(&store.database_url)
                )
            })?;
        pg.migrate()
            .await
            .context("applying the PostgreSQL migrations failed")?;
        pg.close().await;
        return Ok("postgres");
    }
    open_store(settings).await?.close().await;
    Ok("sqlite")
}

fn pool_settings(settings: &Settings) -> PgPoolSettings {
    PgPoolSettings {
        max_connections: settings.store.max_connections,
        acquire_timeout: settings.store.acquire_timeout,
        lease_timeout: settings.store.lease_timeout,
    }
}

/// Creates an account with a fresh API key and signing secret.
/// Creates the default account when the store has none. Another node starting at the same
/// moment on the same empty database may create it first (names are unique): then this one
/// creates none and shows no credentials.
pub async fn bootstrap_default(store: &dyn Store) -> anyhow::Result<Option<Credentials>> {
    if store.count_accounts().await? > 0 {
        return Ok(None);
    }
    match create_account(store, "default", Billing::default()).await {
        Ok(credentials) => Ok(Some(credentials)),
        Err(error) if matches!(error.downcast_ref(), Some(StoreError::Conflict(_))) => {
            tracing::info!("another node created the default account first");
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

pub async fn create_account(
    store: &dyn Store,
    name: &str,
    billing: Billing,
) -> anyhow::Result<Credentials> {
    let api_key = new_api_key();
    let signing_secret = new_signing_secret();
    let (account, _key_id) = store
        .create_account(NewAccount {
            name: name.to_owned(),
            api_key_hash: hash_api_key(&api_key),
            signing_secret: signing_secret.clone(),
            billing,
            created_at: to_millis(time::OffsetDateTime::now_utc()),
        })
        .await?;
    Ok(Credentials {
        account_id: account.id,
        api_key,
        signing_secret,
    })
}
