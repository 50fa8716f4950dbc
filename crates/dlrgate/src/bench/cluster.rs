//! The servers under test: one `dlrgate serve` on a fresh SQLite file (the default), or with
//! `--database-url`, `--nodes` of them sharing one fresh PostgreSQL database, created for the run
//! on the server that URL names and dropped after it. The load is spread over the nodes.

use anyhow::{Context, bail};
use sqlx::{Connection, PgConnection};

use super::server::Server;
use crate::config::Settings;

pub struct Cluster {
    /// The first created the bootstrap account; every node serves it.
    pub nodes: Vec<Server>,
    database: Option<FreshDatabase>,
}

impl Cluster {
    /// Starts `nodes` servers from `settings`; several only on PostgreSQL (`database_url`).
    pub async fn start(
        settings: &Settings,
        nodes: usize,
        database_url: Option<&str>,
    ) -> anyhow::Result<Cluster> {
        if nodes == 0 || (nodes > 1 && database_url.is_none()) {
            bail!("--nodes must be at least 1, and above 1 only with --database-url");
        }
        let mut settings = settings.clone();
        let database = match database_url {
            Some(url) => Some(FreshDatabase::create(url).await?),
            None => None,
        };
        if let Some(database) = &database {
            settings.store.database_url = database.url.clone();
        }
        let data_dir = settings.store.data_dir.clone();
        let mut servers = Vec::with_capacity(nodes);
        for n in 0..nodes {
            settings.store.data_dir = data_dir.with_extension(format!("node{n}"));
            servers.push(Server::start(&settings).await?);
        }
        if servers[0].key.is_empty() {
            bail!("the first node did not create the bench account");
        }
        Ok(Cluster {
            nodes: servers,
            database,
        })
    }

    pub fn bases(&self) -> Vec<String> {
        self.nodes.iter().map(|node| node.base.clone()).collect()
    }

    /// The highest peak resident memory of a node, in MiB.
    pub fn peak_rss_mib(&self) -> anyhow::Result<f64> {
        let mut peak: f64 = 0.0;
        for node in &self.nodes {
            peak = peak.max(node.peak_rss_mib()?);
        }
        Ok(peak)
    }

    /// Bytes of the store: the SQLite files, or the PostgreSQL database.
    pub async fn store_bytes(&self) -> anyhow::Result<u64> {
        match &self.database {
            Some(database) => database.size_bytes().await,
            None => Ok(self.nodes[0].store_bytes()),
        }
    }

    pub async fn stop(self) {
        for node in self.nodes {
            node.stop().await;
        }
        if let Some(database) = self.database {
            database.drop_it().await;
        }
    }
}

/// A database of its own on the server an admin URL names.
struct FreshDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl FreshDatabase {
    async fn create(admin_url: &str) -> anyhow::Result<FreshDatabase> {
        let name = format!("dlrgate_bench_{}", std::process::id());
        let mut admin = PgConnection::connect(admin_url)
            .await
            .context("connecting to --database-url")?;
        for sql in [
            format!("DROP DATABASE IF EXISTS \"{name}\""),
            format!("CREATE DATABASE \"{name}\""),
        ] {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&mut admin)
                .await?;
        }
        let _ = admin.close().await;
        let mut url = url::Url::parse(admin_url)?;
        url.set_path(&format!("/{name}"));
        Ok(FreshDatabase {
            admin_url: admin_url.to_owned(),
            name,
            url: url.to_string(),
        })
    }

    async fn size_bytes(&self) -> anyhow::Result<u64> {
        let mut conn = PgConnection::connect(&self.url).await?;
        let bytes: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
            .fetch_one(&mut conn)
            .await?;
        let _ = conn.close().await;
        Ok(u64::try_from(bytes).unwrap_or(0))
    }

    async fn drop_it(self) {
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        match PgConnection::connect(&self.admin_url).await {
            Ok(mut admin) => {
                if let Err(error) = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(&mut admin)
                    .await
                {
                    eprintln!("dropping the bench database {} failed: {error}", self.name);
                }
            }
            Err(error) => eprintln!("dropping the bench database {} failed: {error}", self.name),
        }
    }
}
