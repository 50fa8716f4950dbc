//! The seven.io-compatible endpoints: `/api/sms`, `/api/status`, the journal, `/api/balance` and
//! `/api/hooks`. Each takes its parameters from the query (GET) or from a form or JSON body
//! (POST, DELETE), so each endpoint's parameters are one table, written out as query parameters
//! for GET and as one body schema for the others. Tests check every table against the names the
//! handlers accept (`SMS_PARAMS`, `HOOK_PARAMS`, `JOURNAL_PARAMS`).

use utoipa::openapi::Paths;
use utoipa::openapi::path::{HttpMethod, OperationBuilder};

use super::build::{
    Kind, Param, api_key_security, common_answers, component, form_or_json, operation, optional,
    query, required, seven_ok,
};

/// Parameters every seven.io endpoint accepts besides its own.
pub const COMMON: &[Param] = &[
    optional(
        "json",
        Kind::Flag,
        "Answer JSON (as does `Accept: application/json`); otherwise seven.io's legacy text.",
    ),
    optional(
        "sentwith",
        Kind::Text,
        "The client's name, as seven's SDKs send it. Ignored.",
    ),
    optional(
        "u",
        Kind::Text,
        "Legacy user name. Ignored: the API key names the account.",
    ),
];

/// `p` in a form or JSON body; in the query it is the `ApiKeyParameter` security scheme.
const KEY_IN_BODY: Param = optional(
    "p",
    Kind::Text,
    "The API key, when it is not sent in a header or the query.",
);

pub const SMS: &[Param] = &[
    required(
        "to",
        Kind::List,
        "Recipients: phone numbers, comma-separated or as a list. Missing: `301`; none valid: `202`.",
    ),
    required(
        "text",
        Kind::Text,
        "The message, at most 1520 characters (`401`). Missing or empty: `305`.",
    ),
    optional(
        "from",
        Kind::Text,
        "Sender: at most 11 alphanumerics or 16 digits (`201`). Default: `sms.default_sender`.",
    ),
    optional(
        "delay",
        Kind::Time,
        "Send later: unix seconds, unix milliseconds, `YYYY-MM-DD hh:mm[:ss]` (UTC) or ISO 8601.",
    ),
    optional("flash", Kind::Flag, "Send as a flash SMS."),
    optional(
        "udh",
        Kind::Text,
        "User data header as hex; makes `text` (hex) a binary message.",
    ),
    optional(
        "ttl",
        Kind::Integer,
        "Validity in minutes; 0 means the default.",
    ),
    optional(
        "label",
        Kind::Text,
        "A label kept with the message: at most 100 of `a-z A-Z 0-9 . - _ @`.",
    ),
    optional(
        "foreign_id",
        Kind::Text,
        "Your id, returned in webhooks and the journal: at most 64 of `a-z A-Z 0-9 . - _ @`.",
    ),
    optional(
        "debug",
        Kind::Flag,
        "Validate only: nothing is stored, sent or billed.",
    ),
    optional(
        "return_msg_id",
        Kind::Flag,
        "Text answers: the message ids after the code, one a line.",
    ),
    optional(
        "unicode",
        Kind::Flag,
        "Accepted and ignored: the encoding is chosen from the text.",
    ),
    optional(
        "utf8",
        Kind::Flag,
        "Accepted and ignored: the encoding is chosen from the text.",
    ),
    optional("performance_tracking", Kind::Flag, "Accepted and ignored."),
    optional(
        "files",
        Kind::Objects,
        "Accepted and ignored (JSON bodies only).",
    ),
    optional("details", Kind::Flag, "Accepted and ignored."),
    optional(
        "no_reload",
        Kind::Flag,
        "Accepted and ignored: there is no duplicate lock.",
    ),
    optional("type", Kind::Text, "Accepted and ignored (`direct`)."),
    optional(
        "is_binary",
        Kind::Flag,
        "Accepted and ignored: `udh` makes a message binary.",
    ),
];

pub const CANCEL: &[Param] = &[optional(
    "ids",
    Kind::List,
    "Ids of scheduled messages to cancel; messages already sent are not.",
)];

pub const STATUS: &[Param] = &[required(
    "msg_id",
    Kind::List,
    "1 to 1000 message ids. A single unknown id: `901`.",
)];

pub const JOURNAL: &[Param] = &[
    optional("id", Kind::Text, "Only this message id."),
    optional(
        "date_from",
        Kind::Text,
        "`YYYY-MM-DD` (UTC), the first day included.",
    ),
    optional(
        "date_to",
        Kind::Text,
        "`YYYY-MM-DD` (UTC), the last day included.",
    ),
    optional(
        "state",
        Kind::Text,
        "Only messages with this status, e.g. `DELIVERED`.",
    ),
    optional("to", Kind::Text, "Only messages to this number."),
    optional("limit", Kind::Integer, "1 to 100 rows; default 100."),
    optional("offset", Kind::Integer, "Rows to skip."),
    optional(
        "type",
        Kind::Text,
        "`/api/journal` only: `outbound` (default), `inbound`, `replies`, `voice` (always `[]`).",
    ),
];

pub const HOOKS: &[Param] = &[
    optional(
        "action",
        Kind::Text,
        "Legacy: `read`, `subscribe` or `unsubscribe`, whatever the method.",
    ),
    optional("id", Kind::Text, "The hook to unsubscribe."),
    optional(
        "target_url",
        Kind::Text,
        "Subscribe: where webhooks go (http or https).",
    ),
    optional(
        "event_type",
        Kind::Text,
        "Subscribe: `dlr` or `all` receive status reports; `sms_mo`, `rcs`, `rcs_dlr`, \
         `rcs_mo`, `tracking`, `voice_call`, `voice_status`, `voice_dtmf` are accepted.",
    ),
    optional(
        "request_method",
        Kind::Text,
        "Subscribe: `POST` (form body, default), `JSON` or `GET`.",
    ),
    optional(
        "event_filter",
        Kind::Text,
        "Subscribe: only messages to or from this number.",
    ),
    optional(
        "headers",
        Kind::Text,
        "Subscribe: extra headers, one `Name: value` a line.",
    ),
];

/// The body parameters of a table: its own, the common ones and `p`.
pub fn with_common(params: &[Param]) -> Vec<Param> {
    let mut all = params.to_vec();
    all.extend_from_slice(COMMON);
    all.push(KEY_IN_BODY);
    all
}

/// One seven.io operation: its parameters in the query (GET) or body, credentials, answers.
#[derive(Clone, Copy)]
struct Seven<'a> {
    id: &'a str,
    tag: &'a str,
    summary: &'a str,
    description: &'a str,
    params: &'a [Param],
    body: Option<&'a str>,
    ok: &'a str,
    text: Option<&'a str>,
}

impl Seven<'_> {
    fn build(&self) -> utoipa::openapi::path::Operation {
        let operation = operation(self.id, self.tag, self.summary, self.description);
        let operation: OperationBuilder = match self.body {
            Some(body) => query(operation, COMMON).request_body(Some(form_or_json(body, false))),
            None => query(query(operation, self.params), COMMON),
        };
        let operation = operation.response("200", seven_ok(component(self.ok), self.text));
        common_answers(api_key_security(operation)).build()
    }
}

pub fn paths(paths: &mut Paths) {
    sms(paths);
    status(paths);
    journal(paths);
    let balance = |id, body| Seven {
        id,
        tag: "Balance",
        summary: "The account's balance",
        description: "`{amount, currency, unlimited}`; an unlimited account has `amount: null`.",
        params: &[],
        body,
        ok: "Balance",
        text: Some("The amount, or `unlimited`."),
    };
    let get = balance("getBalance", None).build();
    let post = balance("postBalance", Some("BalanceParameters")).build();
    paths.add_path_operation("/api/balance", vec![HttpMethod::Get], get);
    paths.add_path_operation("/api/balance", vec![HttpMethod::Post], post);
    hooks(paths);
}

fn sms(paths: &mut Paths) {
    let send = |id, body| Seven {
        id,
        tag: "SMS",
        summary: "Send an SMS to one or more recipients",
        description: "Stores one message per valid recipient and sends it now or at `delay`. \
            `success` is `100`, or `101` when some recipients were invalid (their \
            `messages[]` entries say why).",
        params: SMS,
        body,
        ok: "SmsResponse",
        text: Some("`100` or `101`; with `return_msg_id=1` the message ids follow, one a line."),
    };
    let post = send("sendSms", Some("SmsParameters")).build();
    let get = send("sendSmsByQuery", None).build();
    let cancel = Seven {
        id: "cancelScheduledSms",
        tag: "SMS",
        summary: "Cancel scheduled messages that are not sent yet",
        description: "Cancelled messages are refunded. `ids` may be in the query or the body.",
        params: CANCEL,
        body: Some("CancelParameters"),
        ok: "SmsCancelled",
        text: None,
    }
    .build();
    let cancel = with_query(cancel, CANCEL);
    paths.add_path_operation("/api/sms", vec![HttpMethod::Post], post);
    paths.add_path_operation("/api/sms", vec![HttpMethod::Get], get);
    paths.add_path_operation("/api/sms", vec![HttpMethod::Delete], cancel);
}

/// Adds `params` as query parameters to a built operation (for DELETE, which reads both).
fn with_query(
    operation: utoipa::openapi::path::Operation,
    params: &[Param],
) -> utoipa::openapi::path::Operation {
    let mut operation = operation;
    let extra = query(OperationBuilder::new(), params).build().parameters;
    if let (Some(all), Some(extra)) = (operation.parameters.as_mut(), extra) {
        all.extend(extra);
    }
    operation
}

fn status(paths: &mut Paths) {
    let status = |id, body| Seven {
        id,
        tag: "Status",
        summary: "The latest operator status of messages",
        description: "One entry per requested id, in request order; `status` and \
            `status_time` are null while no operator status exists (and for ids of other \
            accounts or older than the retention period).",
        params: STATUS,
        body,
        ok: "StatusList",
        text: Some(
            "A single id without JSON asked for: `STATUS\\nYYYY-MM-DD hh:mm:ss.mmm`, \
                    or two empty lines while there is no status.",
        ),
    };
    let get = status("getStatus", None).build();
    let post = status("postStatus", Some("StatusParameters")).build();
    paths.add_path_operation("/api/status", vec![HttpMethod::Get], get);
    paths.add_path_operation("/api/status", vec![HttpMethod::Post], post);
}

fn journal(paths: &mut Paths) {
    let journal = |id, body| Seven {
        id,
        tag: "Journal",
        summary: "The logbook of sent messages, newest first",
        description: "`outbound` lists messages; the other kinds answer `[]`.",
        params: JOURNAL,
        body,
        ok: "Journal",
        text: None,
    };
    let get = journal("getJournal", None).build();
    let post = journal("postJournal", Some("JournalParameters")).build();
    paths.add_path_operation("/api/journal", vec![HttpMethod::Get], get);
    paths.add_path_operation("/api/journal", vec![HttpMethod::Post], post);
    let kind = "`outbound`, or `inbound`, `replies`, `voice`, `voice_call` (always `[]`).";
    let get = path_kind(journal("getJournalOfKind", None).build(), kind);
    let post = path_kind(
        journal("postJournalOfKind", Some("JournalParameters")).build(),
        kind,
    );
    paths.add_path_operation("/api/journal/{kind}", vec![HttpMethod::Get], get);
    paths.add_path_operation("/api/journal/{kind}", vec![HttpMethod::Post], post);
}

fn path_kind(
    operation: utoipa::openapi::path::Operation,
    description: &str,
) -> utoipa::openapi::path::Operation {
    let mut operation = operation;
    let path = super::build::path_param(OperationBuilder::new(), "kind", description).build();
    if let (Some(all), Some(extra)) = (operation.parameters.as_mut(), path.parameters) {
        all.extend(extra);
    }
    operation
}

fn hooks(paths: &mut Paths) {
    let list = Seven {
        id: "listHooks",
        tag: "Webhooks",
        summary: "List the account's webhooks",
        description: "With `action=subscribe` or `unsubscribe` a GET does that instead.",
        params: HOOKS,
        body: None,
        ok: "HookList",
        text: None,
    };
    let subscribe = Seven {
        id: "subscribeHook",
        summary: "Subscribe a webhook",
        description: "Answers `{success: true, id}`, or `{success: false, code, error_message}` \
            naming the refused parameter. With `action=read` or `unsubscribe` a POST does that.",
        body: Some("HookParameters"),
        ok: "HookSubscribeResult",
        ..list
    };
    let unsubscribe = Seven {
        id: "unsubscribeHook",
        summary: "Unsubscribe a webhook",
        description: "`id` in the query or the body; `success` is false when there was no \
            such hook. Its pending deliveries are abandoned.",
        ok: "HookUnsubscribed",
        ..subscribe
    };
    let unsubscribe = with_query(unsubscribe.build(), HOOKS);
    paths.add_path_operation("/api/hooks", vec![HttpMethod::Get], list.build());
    paths.add_path_operation("/api/hooks", vec![HttpMethod::Post], subscribe.build());
    paths.add_path_operation("/api/hooks", vec![HttpMethod::Delete], unsubscribe);
}
