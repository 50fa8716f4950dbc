//! Tenant isolation across every endpoint that takes an id or lists something: with its own key,
//! account B never sees account A's messages, hooks, deliveries or balance, never changes them,
//! and cannot tell A's existing ids from ids that exist nowhere (the answers are byte-identical).
//! That B's hook receives none of A's status reports is `webhooks_isolation.rs`'s job.

#![allow(clippy::unwrap_used)]

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::app::{TestApp, spawn_app};
use crate::helpers::hooks::Api;
use crate::helpers::hooks_api::{DELIVERED_TO, QUIET, WAIT};
use crate::helpers::receiver::{Reply, WebhookReceiver};
use crate::helpers::sms::{cancel, unix_now};

/// The ids a request is built from; the `{…}` placeholders of a row's path and body.
#[derive(Debug, Clone)]
struct Ids {
    /// A message (A's, or one that exists nowhere).
    msg: String,
    /// A hook (A's, or one that exists nowhere).
    hook: String,
    /// A delivery (A's, or one that exists nowhere).
    delivery: String,
    /// B's own message and hook: the same in both requests of a pair.
    own: String,
    own_hook: String,
}

impl Ids {
    fn fill(&self, template: &str) -> String {
        template
            .replace("{msg}", &self.msg)
            .replace("{hook}", &self.hook)
            .replace("{delivery}", &self.delivery)
            .replace("{own_hook}", &self.own_hook)
            .replace("{own}", &self.own)
    }
}

enum Body {
    Empty,
    Json(&'static str),
    Form(&'static [(&'static str, &'static str)]),
}

/// What B must get back (placeholders filled in from A's ids).
enum Expect {
    /// Exactly this body.
    Is(&'static str),
    /// A body containing this.
    Has(&'static str),
}

/// One endpoint, called by B once with A's ids and once with ids that exist nowhere.
struct Row {
    name: &'static str,
    method: Method,
    path: &'static str,
    body: Body,
    status: u16,
    expect: Expect,
}

fn row(name: &'static str, method: Method, path: &'static str, body: Body) -> Row {
    Row {
        name,
        method,
        path,
        body,
        status: 200,
        expect: Expect::Is("[]"),
    }
}

impl Row {
    fn answers(mut self, status: u16, expect: Expect) -> Row {
        self.status = status;
        self.expect = expect;
        self
    }
}

const NO_HOOK: &str = r#"{"code":"not_found","title":"Not found","detail":"no such hook"}"#;
const NO_MESSAGE: &str = r#"{"code":"not_found","title":"Not found","detail":"no such message"}"#;
const NOT_DELETED: &str = r#"{"success":false}"#;

/// Endpoints that take a message id; each runs for A's sent and A's scheduled message.
fn message_rows() -> Vec<Row> {
    use Method as M;
    vec![
        row("status, one id", M::GET, "/api/status?msg_id={msg}", Body::Empty)
            .answers(200, Expect::Is("901")),
        row("status, with B's own", M::GET, "/api/status?msg_id={msg},{own}", Body::Empty)
            .answers(200, Expect::Has(r#"[{"id":"{msg}","status":null,"status_time":null},{"id":"{own}","status":"DELIVERED""#)),
        row("status, POST", M::POST, "/api/status", Body::Form(&[("msg_id", "{msg}")]))
            .answers(200, Expect::Is("901")),
        row("journal outbound", M::GET, "/api/journal/outbound?id={msg}", Body::Empty),
        row("journal inbound", M::GET, "/api/journal/inbound?id={msg}", Body::Empty),
        row("journal replies", M::GET, "/api/journal/replies?id={msg}", Body::Empty),
        row("journal voice", M::GET, "/api/journal/voice?id={msg}", Body::Empty),
        row("legacy journal outbound", M::GET, "/api/journal?type=outbound&id={msg}", Body::Empty),
        row("legacy journal inbound", M::GET, "/api/journal?type=inbound&id={msg}", Body::Empty),
        row("legacy journal replies", M::GET, "/api/journal?type=replies&id={msg}", Body::Empty),
        row("legacy journal voice", M::GET, "/api/journal?type=voice&id={msg}", Body::Empty),
        row("message events", M::GET, "/api/messages/{msg}/events", Body::Empty)
            .answers(404, Expect::Is(NO_MESSAGE)),
        row("cancel", M::DELETE, "/api/sms", Body::Json(r#"{"ids":"{msg}"}"#))
            .answers(200, Expect::Is(r#"{"success":false,"deleted":[]}"#)),
    ]
}

/// Endpoints that take a hook id (and a delivery id).
fn hook_rows() -> Vec<Row> {
    use Method as M;
    let since = &[("since", "2000-01-01 00:00:00")];
    vec![
        row(
            "unsubscribe, DELETE",
            M::DELETE,
            "/api/hooks?id={hook}",
            Body::Empty,
        )
        .answers(200, Expect::Is(NOT_DELETED)),
        row(
            "unsubscribe, action",
            M::POST,
            "/api/hooks",
            Body::Form(&[("action", "unsubscribe"), ("id", "{hook}")]),
        )
        .answers(200, Expect::Is(NOT_DELETED)),
        row(
            "attempts",
            M::GET,
            "/api/hooks/{hook}/attempts",
            Body::Empty,
        )
        .answers(404, Expect::Is(NO_HOOK)),
        row(
            "deliveries",
            M::GET,
            "/api/hooks/{hook}/deliveries",
            Body::Empty,
        )
        .answers(404, Expect::Is(NO_HOOK)),
        row(
            "resend",
            M::POST,
            "/api/hooks/{hook}/deliveries/{delivery}/resend",
            Body::Empty,
        )
        .answers(404, Expect::Is(NO_HOOK)),
        row(
            "resend A's delivery on B's hook",
            M::POST,
            "/api/hooks/{own_hook}/deliveries/{delivery}/resend",
            Body::Empty,
        )
        .answers(
            404,
            Expect::Is(
                r#"{"code":"not_found","title":"Not found","detail":"no such finished delivery"}"#,
            ),
        ),
        row("enable", M::POST, "/api/hooks/{hook}/enable", Body::Empty)
            .answers(404, Expect::Is(NO_HOOK)),
        row("disable", M::POST, "/api/hooks/{hook}/disable", Body::Empty)
            .answers(404, Expect::Is(NO_HOOK)),
        row(
            "recover",
            M::POST,
            "/api/hooks/{hook}/recover",
            Body::Form(since),
        )
        .answers(404, Expect::Is(NO_HOOK)),
    ]
}

/// One answer as the wire carries it, without the volatile `date` header.
#[derive(Debug, PartialEq)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

async fn call(app: &TestApp, key: &str, row: &Row, ids: &Ids) -> Answer {
    let request = app
        .http
        .request(row.method.clone(), app.url(&ids.fill(row.path)))
        .header("X-Api-Key", key)
        .header("Accept", "application/json");
    let request = match row.body {
        Body::Empty => request,
        Body::Json(template) => request
            .header("Content-Type", "application/json")
            .body(ids.fill(template)),
        Body::Form(pairs) => {
            let pairs: Vec<(&str, String)> = pairs.iter().map(|(k, v)| (*k, ids.fill(v))).collect();
            request.form(&pairs)
        }
    };
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .filter(|(name, _)| *name != "date")
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
        .collect();
    let body = response.text().await.unwrap();
    Answer {
        status,
        headers,
        body,
    }
}

/// The answer with an echoed `"id":"…"` of `id` (status lists echo what was asked) neutralised.
fn without_echo(mut answer: Answer, id: &str) -> Answer {
    answer.body = answer
        .body
        .replace(&format!(r#""id":"{id}""#), r#""id":"<asked>""#);
    answer
}

/// An id of the same length (so lengths match) that no row of the test can hold.
fn nowhere(id: &str, known: &[&str]) -> String {
    let id = "9".repeat(id.len());
    assert!(!known.contains(&id.as_str()), "{id} exists");
    id
}

/// B calls `row` with A's ids and with ids that exist nowhere: identical answers, as expected.
async fn check_row(app: &TestApp, b_key: &str, row: &Row, mine: &Ids, none: &Ids) {
    let for_a = call(app, b_key, row, mine).await;
    let for_none = call(app, b_key, row, none).await;
    let expect = |template: &str| mine.fill(template);
    assert_eq!(for_a.status, row.status, "{}: {for_a:?}", row.name);
    match row.expect {
        Expect::Is(body) => assert_eq!(for_a.body, expect(body), "{}", row.name),
        Expect::Has(part) => assert!(
            for_a.body.contains(&expect(part)),
            "{}: {for_a:?}",
            row.name
        ),
    }
    assert_eq!(
        without_echo(for_a, &mine.msg),
        without_echo(for_none, &none.msg),
        "{}: B can tell A's id from one that exists nowhere",
        row.name
    );
}

/// Everything of A's that B must not change, as A sees it.
async fn snapshot(a: &Api, hook: &str, scheduled: &str) -> Vec<Value> {
    vec![
        a.get("/api/hooks").await,
        json!(a.deliveries(hook).await),
        json!(a.attempts(hook).await),
        a.get(&format!("/api/journal/outbound?id={scheduled}"))
            .await,
        a.get("/api/balance").await,
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_account_never_sees_changes_or_detects_my_ids_on_any_endpoint() {
    // Arrange: A has a sent message (its reports delivered to A's hook after one 500), a message
    // scheduled for an hour later, and a hook; B has a prepaid balance, a sent message and a hook.
    let app = spawn_app().await;
    let a = Api::of(&app);
    let b = app.create_account("tenant-b", &["--balance", "3", "--price-per-part", "0.5"]);
    let b = Api::new(&app.base, b["api_key"].as_str().unwrap());
    let mut a_receiver = WebhookReceiver::start().await;
    a_receiver.push([Reply::status(500)]);
    let b_receiver = WebhookReceiver::start().await;
    let a_hook = a.subscribe(&a_receiver.url).await;
    let b_hook = b.subscribe(&b_receiver.url).await;
    let a_sent = a.send(&[DELIVERED_TO.to_owned()]).await;
    let b_sent = b.send(&[DELIVERED_TO.to_owned()]).await;
    let scheduled = json!({"to": DELIVERED_TO, "text": "later", "delay": unix_now() + 3600});
    let scheduled: Value = app.send_sms(scheduled).await.json().await.unwrap();
    let scheduled = scheduled["messages"][0]["id"].as_str().unwrap().to_owned();
    a.wait_for_final_statuses(&a_sent, WAIT).await;
    b.wait_for_final_statuses(&b_sent, WAIT).await;
    let settled = |d: &[Value]| d.len() == 3 && d.iter().all(|d| d["state"] == "delivered");
    let a_deliveries = a.wait_for_deliveries(&a_hook, WAIT, settled).await;
    let b_deliveries = b.wait_for_deliveries(&b_hook, WAIT, settled).await;
    a_receiver.collect(4, WAIT).await;
    assert_eq!(
        a.attempts(&a_hook).await.len(),
        4,
        "one failed attempt, three delivered"
    );
    let before = snapshot(&a, &a_hook, &scheduled).await;
    let delivery = a_deliveries[0]["id"].as_str().unwrap().to_owned();
    let a_sent = a_sent[0].id.clone();
    let b_own = b_sent[0].id.clone();
    let known = [
        a_sent.as_str(),
        &scheduled,
        &b_own,
        &a_hook,
        &b_hook,
        &delivery,
    ];
    let ids = |msg: &str, hook: &str, delivery: &str| Ids {
        msg: msg.to_owned(),
        hook: hook.to_owned(),
        delivery: delivery.to_owned(),
        own: b_own.clone(),
        own_hook: b_hook.clone(),
    };
    let none = ids(
        &nowhere(&a_sent, &known),
        &nowhere(&a_hook, &known),
        &nowhere(&delivery, &known),
    );

    // Act and assert, row by row.
    for row in message_rows() {
        for msg in [&a_sent, &scheduled] {
            let none = Ids {
                msg: nowhere(msg, &known),
                ..none.clone()
            };
            check_row(&app, &b.api_key, &row, &ids(msg, &a_hook, &delivery), &none).await;
        }
    }
    for row in hook_rows() {
        check_row(
            &app,
            &b.api_key,
            &row,
            &ids(&a_sent, &a_hook, &delivery),
            &none,
        )
        .await;
    }

    // Assert: B's lists hold only B's things.
    let listed = |body: &Value, field: &str| -> Vec<String> {
        let rows = if field.is_empty() {
            body.clone()
        } else {
            body[field].clone()
        };
        rows.as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        listed(&b.get("/api/hooks").await, "hooks"),
        [b_hook.as_str()]
    );
    assert_eq!(
        listed(&b.get("/api/hooks?action=read").await, "hooks"),
        [b_hook.as_str()]
    );
    let b_journal = b.get("/api/journal/outbound").await;
    assert_eq!(listed(&b_journal, ""), [b_own.as_str()], "{b_journal}");
    let b_legacy = b.get("/api/journal?type=outbound").await;
    assert_eq!(listed(&b_legacy, ""), [b_own.as_str()], "{b_legacy}");
    for kind in ["inbound", "replies", "voice"] {
        assert_eq!(
            b.get(&format!("/api/journal/{kind}")).await,
            json!([]),
            "{kind}"
        );
    }
    let b_msgs: Vec<&Value> = b_deliveries.iter().map(|d| &d["msg_id"]).collect();
    assert_eq!(b_msgs, [&json!(b_own); 3], "B's hook got only B's reports");
    let b_balance = b.get("/api/balance").await;
    assert_eq!(b_balance["amount"], json!(2.5), "{b_balance}");
    assert_eq!(b_balance["unlimited"], false, "{b_balance}");

    // Assert: nothing of A's changed, nothing was re-sent, and A can still cancel its message.
    assert_eq!(snapshot(&a, &a_hook, &scheduled).await, before);
    assert_eq!(a.hook(&a_hook).await["enabled"], true);
    let quiet = a_receiver.maybe_next(QUIET).await;
    assert!(quiet.is_none(), "B's calls re-sent A's webhooks: {quiet:?}");
    let a_view = a
        .get(&format!("/api/status?msg_id={scheduled},{a_sent}"))
        .await;
    assert_eq!(a_view[0]["id"], json!(scheduled), "{a_view}");
    assert_eq!(a_view[1]["status"], "DELIVERED", "{a_view}");
    let a_cancel = cancel(&app, &app.api_key, &scheduled).await;
    assert_eq!(a_cancel, json!({"success": true, "deleted": [scheduled]}));
}
