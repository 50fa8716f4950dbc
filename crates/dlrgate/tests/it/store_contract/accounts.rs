//! Accounts and API keys: lookup by key hash, revocation, name uniqueness, tenant isolation.

use dlrgate::store::Store;
use dlrgate::store::{Billing, JournalFilter, StoreError};

use super::fixtures::{T0, new_account, sms, submit_one, tenant, tenant_with, unique_name, view};

pub async fn created_account_is_found_by_its_key_hash(store: &dyn Store) {
    // Arrange
    let name = unique_name("lookup");
    let billing = Billing {
        price_per_part_micros: Some(75_000),
        balance_micros: Some(Some(1_000_000)),
    };

    // Act
    let (account, _key_id) = store
        .create_account(new_account(&name, billing))
        .await
        .unwrap();

    // Assert
    assert_eq!(account.name, name);
    assert_eq!(account.signing_secret, format!("secret of {name}"));
    assert_eq!(account.price_per_part_micros, 75_000);
    assert_eq!(account.balance_micros, Some(1_000_000));
    assert_eq!(account.created_at, T0);
    let by_key = store
        .account_by_key_hash(format!("hash of {name}").as_bytes())
        .await
        .unwrap();
    assert_eq!(by_key, Some(account.clone()));
    assert_eq!(store.account(account.id).await.unwrap(), account);
    assert_eq!(store.account_by_name(&name).await.unwrap(), account);
    assert!(store.list_accounts().await.unwrap().contains(&account));
    assert!(store.count_accounts().await.unwrap() >= 1);
    let unknown_hash = format!("hash of {name}, but not quite").into_bytes();
    assert_eq!(
        store.account_by_key_hash(&unknown_hash).await.unwrap(),
        None
    );
}

pub async fn revoked_key_finds_no_account_and_other_keys_still_work(store: &dyn Store) {
    // Arrange
    let tenant = tenant(store).await;
    let second_hash = format!("second key of {}", tenant.account.name).into_bytes();
    let second_key = store
        .create_api_key(tenant.id(), &second_hash)
        .await
        .unwrap();
    assert_ne!(second_key, tenant.key_id);
    let found = store.account_by_key_hash(&second_hash).await.unwrap();
    assert_eq!(found, Some(tenant.account.clone()));

    // Act
    store.revoke_api_key(tenant.key_id).await.unwrap();

    // Assert
    assert_eq!(
        store.account_by_key_hash(&tenant.key_hash).await.unwrap(),
        None
    );
    let found = store.account_by_key_hash(&second_hash).await.unwrap();
    assert_eq!(found, Some(tenant.account.clone()));
    // Revoking again is harmless and the key stays revoked.
    store.revoke_api_key(tenant.key_id).await.unwrap();
    assert_eq!(
        store.account_by_key_hash(&tenant.key_hash).await.unwrap(),
        None
    );
}

pub async fn duplicate_account_name_or_key_is_a_conflict(store: &dyn Store) {
    // Arrange
    let first = tenant(store).await;
    let mut same_name = new_account(&first.account.name, Billing::default());
    same_name.api_key_hash = format!("other key of {}", first.account.name).into_bytes();

    // Act
    let duplicate_name = store.create_account(same_name).await;
    let duplicate_key = store.create_api_key(first.id(), &first.key_hash).await;

    // Assert
    assert!(
        matches!(duplicate_name, Err(StoreError::Conflict(_))),
        "{duplicate_name:?}"
    );
    assert!(
        matches!(duplicate_key, Err(StoreError::Conflict(_))),
        "{duplicate_key:?}"
    );
    let named = store.list_accounts().await.unwrap();
    let named: Vec<_> = named
        .iter()
        .filter(|account| account.name == first.account.name)
        .collect();
    assert_eq!(named, vec![&first.account]);
}

pub async fn unknown_key_or_account_is_not_found(store: &dyn Store) {
    // Arrange
    let tenant = tenant(store).await;
    let missing_account = tenant.id() + 1_000_000;

    // Act
    let revoke = store.revoke_api_key(tenant.key_id + 1_000_000).await;
    let create_key = store.create_api_key(missing_account, b"orphan key").await;
    let account = store.account(missing_account).await;
    let by_name = store.account_by_name(&unique_name("nobody")).await;

    // Assert
    assert!(matches!(revoke, Err(StoreError::NotFound)), "{revoke:?}");
    assert!(
        matches!(create_key, Err(StoreError::NotFound)),
        "{create_key:?}"
    );
    assert!(matches!(account, Err(StoreError::NotFound)), "{account:?}");
    assert!(matches!(by_name, Err(StoreError::NotFound)), "{by_name:?}");
    assert_eq!(
        store.account_by_key_hash(b"orphan key").await.unwrap(),
        None
    );
    // The real key was not touched.
    let found = store.account_by_key_hash(&tenant.key_hash).await.unwrap();
    assert_eq!(found, Some(tenant.account));
}

pub async fn two_accounts_never_see_each_others_messages(store: &dyn Store) {
    // Arrange
    let alice = tenant(store).await;
    let bob = tenant(store).await;
    let alices = submit_one(store, alice.id(), sms("491700000001")).await;
    let bobs = submit_one(store, bob.id(), sms("491700000002")).await;
    let everything = JournalFilter {
        limit: 100,
        ..JournalFilter::default()
    };

    // Act
    let alice_sees = store
        .statuses(alice.id(), &[alices, bobs], 0)
        .await
        .unwrap();
    let alice_journal = store.journal(alice.id(), &everything).await.unwrap();
    let bob_journal = store.journal(bob.id(), &everything).await.unwrap();
    let bob_cancels = store.cancel_scheduled(bob.id(), &[alices]).await.unwrap();

    // Assert
    assert_ne!(alice.id(), bob.id());
    let found = store.account_by_key_hash(&bob.key_hash).await.unwrap();
    assert_eq!(found.map(|account| account.id), Some(bob.id()));
    assert_eq!(
        alice_sees.iter().map(|v| v.id).collect::<Vec<_>>(),
        vec![alices]
    );
    assert_eq!(
        alice_journal.iter().map(|v| v.id).collect::<Vec<_>>(),
        vec![alices]
    );
    assert_eq!(
        bob_journal.iter().map(|v| v.id).collect::<Vec<_>>(),
        vec![bobs]
    );
    assert_eq!(bob_cancels, Vec::<i64>::new());
    assert!(view(store, alice.id(), alices).await.is_some());
    assert!(view(store, bob.id(), alices).await.is_none());
}

pub async fn billing_update_changes_price_and_balance(store: &dyn Store) {
    // Arrange
    let limited = Billing {
        price_per_part_micros: Some(50_000),
        balance_micros: Some(Some(200_000)),
    };
    let tenant = tenant_with(store, limited).await;

    // Act: a price alone keeps the balance; `Some(None)` makes it unlimited.
    let priced = Billing {
        price_per_part_micros: Some(80_000),
        balance_micros: None,
    };
    let after_price = store.update_billing(tenant.id(), priced).await.unwrap();
    let unlimited = Billing {
        price_per_part_micros: None,
        balance_micros: Some(None),
    };
    let after_unlimited = store.update_billing(tenant.id(), unlimited).await.unwrap();
    let unknown = store
        .update_billing(tenant.id() + 1_000_000, Billing::default())
        .await;

    // Assert
    assert_eq!(after_price.price_per_part_micros, 80_000);
    assert_eq!(after_price.balance_micros, Some(200_000));
    assert_eq!(after_unlimited.price_per_part_micros, 80_000);
    assert_eq!(after_unlimited.balance_micros, None);
    assert_eq!(store.account(tenant.id()).await.unwrap(), after_unlimited);
    assert!(matches!(unknown, Err(StoreError::NotFound)), "{unknown:?}");
}
