//! A fresh PostgreSQL database per test on the local server, dropped again when its
//! [`TestDatabase`] goes out of scope, also when the test panics. Databases that a killed run
//! left behind (older than an hour) are dropped by the first test of the next run. The server is
//! `DLRGATE_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`); when it is
//! unreachable, tests fail: they never skip.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::{Connection, PgConnection};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
const PREFIX: &str = "dlrgate_test_";
/// Databases of runs older than this are taken for leftovers of a killed run.
const STALE_SECS: u64 = 3600;

/// A database only this test uses; `url` points at it.
pub struct TestDatabase {
    pub url: String,
    name: String,
    admin_url: String,
}

/// The server tests run against, from `DLRGATE_TEST_POSTGRES_URL`.
pub fn admin_url() -> String {
    std::env::var("DLRGATE_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

async fn admin_connection(url: &str) -> PgConnection {
    PgConnection::connect(url).await.unwrap_or_else(|error| {
        panic!(
            "PostgreSQL is needed for this test and is unreachable at {url} \
             (set DLRGATE_TEST_POSTGRES_URL): {error}"
        )
    })
}

/// Creates `dlrgate_test_<unix seconds>_<pid>_<n>` and returns its URL.
pub async fn fresh_database() -> TestDatabase {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let admin_url = admin_url();
    let mut admin = admin_connection(&admin_url).await;
    drop_stale_databases(&mut admin).await;
    let name = format!(
        "{PREFIX}{}_{}_{}",
        unix_secs(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|error| panic!("CREATE DATABASE {name}: {error}"));
    let _ = admin.close().await;
    let mut url = url::Url::parse(&admin_url).expect("DLRGATE_TEST_POSTGRES_URL is a URL");
    url.set_path(&format!("/{name}"));
    TestDatabase {
        url: url.to_string(),
        name,
        admin_url,
    }
}

/// Drops the test databases a killed run left behind, once per test process.
async fn drop_stale_databases(admin: &mut PgConnection) {
    static DONE: AtomicBool = AtomicBool::new(false);
    if DONE.swap(true, Ordering::SeqCst) {
        return;
    }
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE starts_with(datname, $1)")
            .bind(PREFIX)
            .fetch_all(&mut *admin)
            .await
            .unwrap_or_default();
    let now = unix_secs();
    for name in names {
        let created = name[PREFIX.len()..]
            .split('_')
            .next()
            .and_then(|secs| secs.parse::<u64>().ok());
        if created.is_some_and(|secs| secs + STALE_SECS < now) {
            let _ = drop_database(admin, &name).await;
        }
    }
}

async fn drop_database(admin: &mut PgConnection, name: &str) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
    )))
    .execute(admin)
    .await
    .map(|_| ())
}

impl Drop for TestDatabase {
    /// Drops the database on a thread of its own (with its own runtime, since `drop` cannot
    /// await), `WITH (FORCE)` so that connections the test left open do not keep it.
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to drop the test database");
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&admin_url).await?;
                drop_database(&mut admin, &name).await?;
                admin.close().await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {}: {dropped:?}", self.name);
        }
    }
}
