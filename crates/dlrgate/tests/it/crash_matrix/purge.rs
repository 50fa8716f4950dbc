//! The crash matrix's retention rounds: some finished messages are made old in the SQLite file,
//! then servers with a one-minute retention period are killed while they purge them in small
//! batches. Afterwards every old message is gone with all its rows, and nothing else is.

use std::path::Path;

use sqlx::SqlitePool;
use sqlx::sqlite::SqliteConnectOptions;

use super::harness::Rig;
use crate::helpers::crash_load::Acked;

const RETENTION: [(&str, &str); 3] = [
    ("DLRGATE_RETENTION_PERIOD", "1m"),
    ("DLRGATE_RETENTION_INTERVAL", "5ms"),
    ("DLRGATE_RETENTION_BATCH_SIZE", "3"),
];

/// Rows that name a message that no longer exists, by table.
const ORPHANS: [(&str, &str); 5] = [
    (
        "status_events",
        "SELECT COUNT(*) FROM status_events WHERE message_id NOT IN (SELECT id FROM messages)",
    ),
    (
        "message_parts",
        "SELECT COUNT(*) FROM message_parts WHERE message_id NOT IN (SELECT id FROM messages)",
    ),
    (
        "scheduled_reports",
        "SELECT COUNT(*) FROM scheduled_reports WHERE message_id NOT IN (SELECT id FROM messages)",
    ),
    (
        "webhook_deliveries",
        "SELECT COUNT(*) FROM webhook_deliveries WHERE message_id NOT IN (SELECT id FROM messages)",
    ),
    (
        "webhook_attempts",
        "SELECT COUNT(*) FROM webhook_attempts WHERE delivery_id NOT IN (SELECT id FROM webhook_deliveries)",
    ),
];

async fn open(data: &Path, read_only: bool) -> SqlitePool {
    let options = SqliteConnectOptions::new()
        .filename(data.join("dlrgate.db"))
        .read_only(read_only);
    SqlitePool::connect_with(options).await.unwrap()
}

fn id_list(messages: &[Acked]) -> String {
    let ids: Vec<&str> = messages.iter().map(|m| m.id.as_str()).collect();
    ids.join(",")
}

/// Moves the send and creation times of `old` a long way back (the server is not running).
pub async fn make_old(data: &Path, old: &[Acked]) {
    let pool = open(data, false).await;
    let sql = format!(
        "UPDATE messages SET send_at = send_at - 1000000000, created_at = created_at - 1000000000 \
         WHERE id IN ({})",
        id_list(old)
    );
    let changed = sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(changed.rows_affected(), old.len() as u64);
    pool.close().await;
}

/// Every message stored, acknowledged or not (an answer may be lost in a kill).
pub async fn stored_messages(data: &Path) -> u64 {
    let pool = open(data, true).await;
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    count as u64
}

/// How many of `old` are still stored.
pub async fn remaining(data: &Path, old: &[Acked]) -> i64 {
    let pool = open(data, true).await;
    let sql = format!(
        "SELECT COUNT(*) FROM messages WHERE id IN ({})",
        id_list(old)
    );
    let count = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    count
}

/// Rounds that kill a purging server as soon as it has removed something; returns one line
/// per kill.
pub async fn kill_while_purging(rig: &Rig<'_>, old: &[Acked], kills: usize) -> Vec<String> {
    let mut seen = Vec::new();
    for kill in 0..kills {
        let before = remaining(rig.data, old).await;
        assert!(before > 0, "purge kill {kill}: nothing left to purge");
        let mut server = rig.server(&RETENTION);
        while remaining(rig.data, old).await == before {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        server.kill9();
        let after = remaining(rig.data, old).await;
        seen.push(format!(
            "purge kill {kill}: {before} -> {after} old messages left"
        ));
    }
    seen
}

/// Lets a server finish the purge; then no old message and no orphaned row is left.
pub async fn assert_purged_cleanly(rig: &Rig<'_>, old: &[Acked]) {
    let server = rig.server(&RETENTION);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while remaining(rig.data, old).await > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the purge did not finish in 60 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    drop(server);
    let pool = open(rig.data, true).await;
    for (table, sql) in ORPHANS {
        let count: i64 = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
        assert_eq!(count, 0, "{count} rows of {table} outlived their message");
    }
    pool.close().await;
}
