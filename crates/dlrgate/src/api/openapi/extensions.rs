//! dlrgate's own endpoints: a message's event history, the webhook attempt log, deliveries and
//! recovery, the upstream DLR endpoints `/ingest/{connector}`, and the public operational ones
//! (health, readiness, metrics, this document). Errors other than credentials are
//! `{code, title, detail}` problems with a fitting HTTP status.

use utoipa::openapi::Paths;
use utoipa::openapi::path::{HttpMethod, Operation, OperationBuilder};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{ContentBuilder, Ref, Required};

use super::build::{
    Kind, Param, api_key_security, common_answers, component, json_response, operation, optional,
    path_param, public, query, seven_ok, text_response,
};

pub const LIMIT: &[Param] = &[optional(
    "limit",
    Kind::Integer,
    "1 to 1000 entries; default 100.",
)];

pub const RECOVER: &[Param] = &[optional(
    "since",
    Kind::Time,
    "Required: unix seconds or `YYYY-MM-DD hh:mm:ss` (UTC). Missing or bad: `308`.",
)];

/// Every field any upstream format reads, by format (docs/upstreams.md).
pub const INGEST: &[Param] = &[
    optional(
        "ref",
        Kind::Text,
        "kannel: the part reference dlrgate put in the `dlr-url` (`<message id>.<part>`).",
    ),
    optional(
        "id",
        Kind::Text,
        "kannel: the SMSC's id (`%F`) when `ref` is absent; jasmin and json: the message id \
         the upstream gave the part.",
    ),
    optional("type", Kind::Integer, "kannel: `%d`, the DLR type bit set."),
    optional(
        "answer",
        Kind::Text,
        "kannel: `%A`, the SMSC's answer or receipt text.",
    ),
    optional("ts", Kind::Integer, "kannel: `%T`, unix seconds."),
    optional("level", Kind::Integer, "jasmin: 1, 2 or 3."),
    optional(
        "message_status",
        Kind::Text,
        "jasmin: e.g. `DELIVRD`, `ESME_ROK`.",
    ),
    optional("id_smsc", Kind::Text, "jasmin: the SMSC's id."),
    optional("sub", Kind::Text, "jasmin: receipt field."),
    optional("dlvrd", Kind::Text, "jasmin: receipt field."),
    optional("subdate", Kind::Text, "jasmin: receipt field."),
    optional("donedate", Kind::Text, "jasmin: receipt field."),
    optional("err", Kind::Text, "jasmin: the error code."),
    optional("text", Kind::Text, "jasmin: receipt field."),
    optional(
        "status",
        Kind::Text,
        "json: a dlrgate status (`DELIVERED`) or a receipt stat (`DELIVRD`).",
    ),
    optional("error_code", Kind::Text, "json: the operator's error code."),
    optional(
        "timestamp",
        Kind::Time,
        "json: unix seconds or RFC 3339; the receive time when absent or implausible.",
    ),
];

pub fn paths(paths: &mut Paths) {
    let events = dlrgate_operation(
        "messageEvents",
        "Messages (dlrgate)",
        "A message's whole status history",
        "Every internal state and operator report, oldest first, with its effect \
         (`applied`, `duplicate`, `stale`). 404 for ids of other accounts.",
        "MessageEvents",
    );
    let events = path_param(events, "id", "The message id.");
    add(paths, "/api/messages/{id}/events", HttpMethod::Get, events);
    hooks(paths);
    ingest(paths);
    operational(paths);
}

fn add(paths: &mut Paths, path: &str, method: HttpMethod, operation: OperationBuilder) {
    paths.add_path_operation(path, vec![method], operation.build());
}

/// An authenticated dlrgate endpoint answering `ok`: credentials as on seven.io endpoints,
/// 404 problems for what the account does not own.
fn dlrgate_operation(
    id: &str,
    tag: &str,
    summary: &str,
    description: &str,
    ok: &str,
) -> OperationBuilder {
    let operation = operation(id, tag, summary, description)
        .response("200", seven_ok(component(ok), None))
        .response(
            "404",
            json_response("No such hook, delivery or message.", component("Problem")),
        );
    common_answers(api_key_security(operation))
}

fn hooks(paths: &mut Paths) {
    let tag = "Webhooks (dlrgate)";
    let hook = |operation| path_param(operation, "id", "The hook id.");
    let attempts = dlrgate_operation(
        "hookAttempts",
        tag,
        "A hook's attempt log, newest first",
        "Time, `http_status`, `latency_ms`, `error_class` (`timeout`, `dns`, `connect`, `tls`, \
         `http_status`, `refused_address`, `invalid_url`), detail and the answer's first bytes.",
        "HookAttempts",
    );
    let attempts = hook(query(attempts, LIMIT));
    add(paths, "/api/hooks/{id}/attempts", HttpMethod::Get, attempts);
    let deliveries = dlrgate_operation(
        "hookDeliveries",
        tag,
        "A hook's deliveries, newest first",
        "`state` is `pending`, `delivered`, `failed` or `abandoned`.",
        "HookDeliveries",
    );
    let deliveries = hook(query(deliveries, LIMIT));
    add(
        paths,
        "/api/hooks/{id}/deliveries",
        HttpMethod::Get,
        deliveries,
    );
    let resend = dlrgate_operation(
        "resendDelivery",
        tag,
        "Send one finished delivery again",
        "404 unless the delivery is finished (delivered, failed or abandoned).",
        "DeliveryResent",
    );
    let resend = path_param(hook(resend), "delivery", "The delivery id.");
    let resend_path = "/api/hooks/{id}/deliveries/{delivery}/resend";
    add(paths, resend_path, HttpMethod::Post, resend);
    for (name, what) in [("enable", "Enable"), ("disable", "Disable")] {
        let summary = format!("{what} a hook");
        let operation = dlrgate_operation(
            &format!("{name}Hook"),
            tag,
            &summary,
            "Answers the hook. Pending deliveries of a re-enabled hook go out in order.",
            "Hook",
        );
        let path = format!("/api/hooks/{{id}}/{name}");
        add(paths, &path, HttpMethod::Post, hook(operation));
    }
    let recover = dlrgate_operation(
        "recoverDeliveries",
        tag,
        "Send again every failed or abandoned delivery created since a time",
        "`since` in the query, a form or a JSON body.",
        "DeliveriesRecovered",
    )
    .request_body(Some(super::build::form_or_json("RecoverParameters", false)));
    add(
        paths,
        "/api/hooks/{id}/recover",
        HttpMethod::Post,
        hook(query(recover, RECOVER)),
    );
}

fn ingest(paths: &mut Paths) {
    let ingest = |id: &str| {
        let operation = operation(
            id,
            "Upstream reports",
            "Delivery reports from an upstream gateway",
            "For connectors of type `kannel` or `http` (format `kannel`, `jasmin` or `json`). \
             Reports are stored before the answer; a report for a part not stored yet is \
             parked, not lost. Which parameters count depends on the connector's format.",
        );
        let operation = path_param(query(operation, INGEST), "connector", "The connector name.")
            .response(
                "200",
                utoipa::openapi::ResponseBuilder::new()
                    .description(
                        "Stored: `{matched, parked}`, or for `jasmin` exactly `ACK/Jasmin`.",
                    )
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(component("IngestResult")))
                            .build(),
                    )
                    .content(
                        "text/plain",
                        ContentBuilder::new()
                            .schema(Some(super::build::text_enum(&["ACK/Jasmin"])))
                            .build(),
                    )
                    .build(),
            )
            .response("400", problem("A bad report; nothing was stored."))
            .response("401", problem("No valid connector token."))
            .response(
                "404",
                problem("No connector of that name that reports over HTTP."),
            )
            .response("500", Ref::from_response_name("InternalError"))
            .response("503", Ref::from_response_name("Unavailable"));
        ["IngestToken", "IngestBearer"]
            .iter()
            .fold(operation, |operation, name| {
                operation.security(SecurityRequirement::new(*name, Vec::<String>::new()))
            })
    };
    let body = RequestBodyBuilder::new()
        .description(Some(
            "The report as a form, or as JSON: the same fields as an object, or for `json` \
             one report object or an array of up to 1000.",
        ))
        .required(Some(Required::False))
        .content(
            "application/x-www-form-urlencoded",
            ContentBuilder::new()
                .schema(Some(component("IngestFields")))
                .build(),
        )
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(component("IngestJson")))
                .build(),
        )
        .build();
    add(
        paths,
        "/ingest/{connector}",
        HttpMethod::Get,
        ingest("ingestReportByQuery"),
    );
    let post = ingest("ingestReport").request_body(Some(body));
    add(paths, "/ingest/{connector}", HttpMethod::Post, post);
}

fn problem(description: &str) -> utoipa::openapi::Response {
    json_response(description, component("Problem"))
}

fn operational(paths: &mut Paths) {
    let tag = "Operations";
    let health = operation(
        "healthz",
        tag,
        "Liveness",
        "Answers `ok` while the process runs.",
    )
    .response("200", text_response("`ok`"));
    let ready = operation(
        "readyz",
        tag,
        "Readiness",
        "`ready` when the store answers; 503 otherwise.",
    )
    .response("200", text_response("`ready`"))
    .response("503", text_response("`store unavailable`"));
    let metrics = operation(
        "metrics",
        tag,
        "Prometheus metrics",
        "The text exposition format: request latencies, queue depths, delivery counters.",
    )
    .response("200", text_response("Prometheus text format."));
    let document = operation(
        "openapi",
        tag,
        "This OpenAPI document",
        "OpenAPI 3.1, generated from the code.",
    )
    .response(
        "200",
        json_response(
            "The document.",
            super::build::of_type(utoipa::openapi::Type::Object),
        ),
    );
    let routes: [(&str, OperationBuilder); 4] = [
        ("/healthz", health),
        ("/readyz", ready),
        ("/metrics", metrics),
        ("/openapi.json", document),
    ];
    for (path, operation) in routes {
        let operation: Operation = public(operation);
        paths.add_path_operation(path, vec![HttpMethod::Get], operation);
    }
}
