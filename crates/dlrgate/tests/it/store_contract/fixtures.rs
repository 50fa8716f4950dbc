//! Builders shared by the contract functions: a fresh account, messages, receipts, and short
//! ways to hand a message to an operator and to read it back.

use std::sync::atomic::{AtomicU64, Ordering};

use dlrgate::domain::status::DeliveryStatus;
use dlrgate::store::{
    Account, AccountId, Billing, MessageId, MessageView, NewAccount, NewMessage, Receipt,
    StatusChange, StatusEvent, Store, Submission, SubmitBatch, SubmitOutcome,
};

/// A fixed point in time (2023-11-14) that every contract function measures from.
pub const T0: i64 = 1_700_000_000_000;

pub struct Tenant {
    pub account: Account,
    pub key_hash: Vec<u8>,
    pub key_id: i64,
}

impl Tenant {
    pub fn id(&self) -> AccountId {
        self.account.id
    }
}

/// A name no other test (nor an earlier run against the same database) uses.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{}-{nanos}-{n}", std::process::id())
}

pub fn new_account(name: &str, billing: Billing) -> NewAccount {
    NewAccount {
        name: name.to_owned(),
        api_key_hash: format!("hash of {name}").into_bytes(),
        signing_secret: format!("secret of {name}"),
        billing,
        created_at: T0,
    }
}

/// A fresh account with unlimited balance and free messages.
pub async fn tenant(store: &dyn Store) -> Tenant {
    tenant_with(store, Billing::default()).await
}

pub async fn tenant_with(store: &dyn Store, billing: Billing) -> Tenant {
    let new = new_account(&unique_name("contract"), billing);
    let key_hash = new.api_key_hash.clone();
    let (account, key_id) = store.create_account(new).await.unwrap();
    Tenant {
        account,
        key_hash,
        key_id,
    }
}

/// A one-part free GSM-7 SMS to `recipient`, due at `T0`.
pub fn sms(recipient: &str) -> NewMessage {
    NewMessage {
        recipient: recipient.to_owned(),
        sender: "dlrgate".to_owned(),
        text: format!("hello {recipient}"),
        encoding: "gsm".to_owned(),
        parts: 1,
        price_micros: 0,
        label: None,
        foreign_id: None,
        udh: None,
        flash: false,
        ttl_minutes: None,
        send_at: T0,
        connector: "sandbox".to_owned(),
    }
}

pub fn batch(account: AccountId, created_at: i64, messages: Vec<NewMessage>) -> SubmitBatch {
    SubmitBatch {
        account_id: account,
        created_at,
        messages,
    }
}

/// Submits one batch and returns its ids; panics unless it was stored.
pub async fn submit(
    store: &dyn Store,
    account: AccountId,
    created_at: i64,
    messages: Vec<NewMessage>,
) -> Vec<MessageId> {
    let outcomes = store
        .submit(vec![batch(account, created_at, messages)])
        .await
        .unwrap();
    match outcomes.as_slice() {
        [SubmitOutcome::Stored { ids, .. }] => ids.clone(),
        other => panic!("batch not stored: {other:?}"),
    }
}

/// Submits one message created at `T0` and returns its id.
pub async fn submit_one(store: &dyn Store, account: AccountId, message: NewMessage) -> MessageId {
    submit(store, account, T0, vec![message]).await[0]
}

pub fn receipt(message_id: MessageId, part: u32, status: DeliveryStatus, at: i64) -> Receipt {
    Receipt {
        message_id,
        part,
        status,
        at,
        source: "contract".to_owned(),
        error_code: None,
        raw: None,
    }
}

/// Hands one message to an operator at `at` with the given immediate and scheduled reports.
pub async fn hand_over(
    store: &dyn Store,
    message_id: MessageId,
    at: i64,
    immediate: Vec<Receipt>,
    scheduled: Vec<Receipt>,
) -> Vec<StatusChange> {
    let submission = Submission {
        message_id,
        connector: "contract-operator".to_owned(),
        at,
        immediate,
        scheduled,
        operator_ids: Vec::new(),
    };
    store.record_submissions(vec![submission]).await.unwrap()
}

/// Applies one receipt and returns the status changes it caused.
pub async fn apply(store: &dyn Store, receipt: Receipt) -> Vec<StatusChange> {
    store.apply_receipts(vec![receipt]).await.unwrap()
}

/// The message as the logbook shows it (any send time), if `account` may see it.
pub async fn view(store: &dyn Store, account: AccountId, id: MessageId) -> Option<MessageView> {
    let filter = dlrgate::store::JournalFilter {
        id: Some(id),
        limit: 2,
        ..Default::default()
    };
    let mut views = store.journal(account, &filter).await.unwrap();
    assert!(views.len() <= 1, "one id gave {views:?}");
    views.pop()
}

/// The operator status of a message that `account` owns.
pub async fn status_of(
    store: &dyn Store,
    account: AccountId,
    id: MessageId,
) -> Option<DeliveryStatus> {
    view(store, account, id).await.unwrap().status
}

/// `(state, effect)` of each operator report in the history of a message.
pub async fn report_effects(
    store: &dyn Store,
    account: AccountId,
    id: MessageId,
) -> Vec<(String, String)> {
    let events: Vec<StatusEvent> = store.events(account, id).await.unwrap();
    events
        .into_iter()
        .filter(|event| event.kind == "report")
        .map(|event| (event.state, event.effect))
        .collect()
}

/// The internal event `submit` writes first for every message of a batch created at `created_at`.
pub fn queued_event(created_at: i64) -> StatusEvent {
    StatusEvent {
        part: None,
        kind: "internal".to_owned(),
        state: "queued".to_owned(),
        effect: "applied".to_owned(),
        at: created_at,
        source: "api".to_owned(),
        error_code: None,
        raw: None,
    }
}

/// A status change of a message sent at `T0` and handed over with [`hand_over`].
pub fn change(
    message_id: MessageId,
    account_id: AccountId,
    status: DeliveryStatus,
    at: i64,
) -> StatusChange {
    StatusChange {
        message_id,
        account_id,
        status,
        at,
        send_at: T0,
        connector: "contract-operator".to_owned(),
    }
}

/// `[("DELIVERED", "applied"), …]` as owned strings, to compare with [`report_effects`].
pub fn effects(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(state, effect)| ((*state).to_owned(), (*effect).to_owned()))
        .collect()
}
