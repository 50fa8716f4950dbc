//! The contract on the embedded SQLite backend, plus what only a file-backed store can show:
//! what one instance wrote is there after reopening the directory.

use dlrgate::domain::status::DeliveryStatus::{self, Accepted, Delivered};
use dlrgate::store::{SqliteStore, Store};
use tempfile::TempDir;

use super::fixtures::{T0, apply, hand_over, receipt, sms, submit_one, tenant, view};

pub struct SqliteBackend {
    store: SqliteStore,
    _dir: TempDir,
}

impl SqliteBackend {
    pub fn store(&self) -> &dyn Store {
        &self.store
    }
}

/// A fresh SQLite store in its own temporary directory, with `synchronous = FULL`.
pub async fn open() -> SqliteBackend {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path(), true).await.unwrap();
    SqliteBackend { store, _dir: dir }
}

store_contract_tests!(open);

#[tokio::test]
async fn data_written_by_one_instance_is_there_after_reopening_the_directory() {
    // Arrange: write an account, a message, its submission and a receipt, then drop the store
    // without closing it.
    let dir = tempfile::tempdir().unwrap();
    let first = SqliteStore::open(dir.path(), true).await.unwrap();
    let tenant = tenant(&first).await;
    let id = submit_one(&first, tenant.id(), sms("491701234567")).await;
    let scheduled = vec![receipt(id, 1, Delivered, T0 + 5_000)];
    hand_over(
        &first,
        id,
        T0,
        vec![receipt(id, 1, Accepted, T0)],
        scheduled,
    )
    .await;
    apply(
        &first,
        receipt(id, 1, DeliveryStatus::Transmitted, T0 + 1_000),
    )
    .await;
    drop(first);

    // Act
    let second = SqliteStore::open(dir.path(), true).await.unwrap();

    // Assert
    let found = second.account_by_key_hash(&tenant.key_hash).await.unwrap();
    assert_eq!(found, Some(tenant.account.clone()));
    let message = view(&second, tenant.id(), id).await.unwrap();
    assert_eq!(message.recipient, "491701234567");
    assert_eq!(message.status, Some(DeliveryStatus::Transmitted));
    assert_eq!(message.status_at, Some(T0 + 1_000));
    assert_eq!(second.events(tenant.id(), id).await.unwrap().len(), 4);
    assert_eq!(second.next_report_due().await.unwrap(), Some(T0 + 5_000));
    let changes = second.apply_due_reports(T0 + 5_000, 10).await.unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].status, Delivered);
}
