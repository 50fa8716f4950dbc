//! The contract on PostgreSQL, each test on a fresh database of the local server
//! (`helpers::postgres`), plus what only PostgreSQL can show: the outbox's fast path misses no
//! delivery whose transaction commits after a later one.

use dlrgate::domain::status::DeliveryStatus::{Accepted, Delivered};
use dlrgate::store::{NewHook, PgPoolSettings, PgStore, Store};
use sqlx::{Connection, PgConnection};

use super::fixtures::{T0, hand_over, receipt, sms, submit_one, tenant};
use crate::helpers::postgres::{TestDatabase, fresh_database};

pub struct PostgresBackend {
    // Dropped first: the pool closes before its database goes.
    store: PgStore,
    db: TestDatabase,
}

impl PostgresBackend {
    pub fn store(&self) -> &dyn Store {
        &self.store
    }
}

/// A fresh PostgreSQL store on its own database, migrated.
pub async fn open() -> PostgresBackend {
    let db = fresh_database().await;
    let settings = PgPoolSettings {
        max_connections: 4,
        ..PgPoolSettings::default()
    };
    let store = PgStore::open(&db.url, settings).await.unwrap();
    PostgresBackend { store, db }
}

store_contract_tests!(open);

fn now_millis() -> i64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(since_epoch.as_millis()).unwrap()
}

#[tokio::test]
async fn a_pushed_delivery_committed_after_a_later_one_is_still_read() {
    // Arrange: a hook and two processed messages; another connection of the same node holds an
    // open transaction that has inserted a delivery pushed to this node with the lower id.
    let backend = open().await;
    let store = backend.store();
    let tenant = tenant(store).await;
    store
        .create_hook(NewHook {
            account_id: tenant.id(),
            target_url: "https://example.com/dlr".to_owned(),
            event_type: "all".to_owned(),
            request_method: "POST".to_owned(),
            event_filter: None,
            headers: String::new(),
            created_at: T0,
        })
        .await
        .unwrap();
    let first = submit_one(store, tenant.id(), sms("491701234561")).await;
    let second = submit_one(store, tenant.id(), sms("491701234562")).await;
    let cursor = store.last_delivery_id().await.unwrap();
    let mut other = PgConnection::connect(&backend.db.url).await.unwrap();
    let mut slow = other.begin().await.unwrap();
    let now = now_millis();
    let slow_id: i64 = sqlx::query_scalar(
        "INSERT INTO webhook_deliveries (hook_id, account_id, message_id, status, status_at,
             created_at, state, next_attempt_at, lease_until, lease_owner, pushed)
         SELECT id, account_id, $1, 'DELIVERED', $2, $2, 'pending', $2, $2 + 60000, $3, true
         FROM hooks RETURNING id",
    )
    .bind(first)
    .bind(now)
    .bind(backend.store.node_id())
    .fetch_one(&mut *slow)
    .await
    .unwrap();

    // Act: a status change of the second message commits first and is read; then the slow
    // transaction commits and the next read comes.
    hand_over(
        store,
        second,
        T0,
        vec![receipt(second, 1, Accepted, T0)],
        vec![],
    )
    .await;
    let early = store.pushed_deliveries(cursor, now, 100).await.unwrap();
    slow.commit().await.unwrap();
    let late = store
        .pushed_deliveries(early.cursor, now, 100)
        .await
        .unwrap();
    let again = store
        .pushed_deliveries(late.cursor, now, 100)
        .await
        .unwrap();

    // Assert: each delivery was read exactly once, the lower id after the higher one.
    let ids = |pushed: &dlrgate::store::Pushed| -> Vec<(i64, i64)> {
        pushed
            .deliveries
            .iter()
            .map(|d| (d.id, d.message_id))
            .collect()
    };
    let early_ids = ids(&early);
    assert_eq!(early_ids.len(), 1, "{early:?}");
    assert_eq!(early_ids[0].1, second);
    assert!(early_ids[0].0 > slow_id, "the later id committed first");
    assert_eq!(ids(&late), vec![(slow_id, first)], "{late:?}");
    assert_eq!(late.deliveries[0].status, Delivered);
    assert!(
        again.deliveries.is_empty() && again.stale.is_empty(),
        "{again:?}"
    );
}
