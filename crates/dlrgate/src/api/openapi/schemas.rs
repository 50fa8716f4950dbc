//! The document's components: answer schemas (the handlers' own wire types where they have one,
//! else the shapes their `json!` answers build), body-parameter schemas from the parameter
//! tables, the shared error answers, the signature headers and the security schemes.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{Components, ComponentsBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{RefOr, Required, Response};

use super::build::{
    Param, array_of, boolean, component, integer, json_response, nullable, object, of_type, one_of,
    optional_string, params_object, string, text_enum,
};
use super::{extensions, seven};
use crate::api::journal::OutboundRow;
use crate::api::sms::SentMessage;
use crate::api::status::StatusEntry;

/// seven.io return codes dlrgate answers (docs/api.md, *Errors*).
pub const RETURN_CODES: [u16; 11] = [201, 202, 301, 305, 308, 401, 403, 500, 700, 900, 901];

pub fn components() -> Components {
    let builder = ComponentsBuilder::new()
        .schema_from::<SentMessage>()
        .schema_from::<StatusEntry>()
        .schema_from::<OutboundRow>()
        .schemas_from_iter(answer_schemas())
        .schemas_from_iter(body_schemas())
        .response("RateLimited", rate_limited())
        .response(
            "InternalError",
            opaque("An internal error; the body is `700`."),
        )
        .response(
            "Unavailable",
            opaque("The store is unavailable or the request timed out; the body is `700`."),
        );
    let builder = signature_headers(builder);
    security_schemes(builder).build()
}

fn return_code() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .enum_values(Some(RETURN_CODES))
        .description(Some(
            "A seven.io return code, answered with HTTP 200 (429 for `403`): 201 bad sender, \
             202 no valid recipient, 301 `to` missing, 305 `text` missing, 308 unknown parameter \
             or bad value, 401 text too long, 403 rate limit, 500 balance too low, 700 malformed \
             body or internal error, 900 missing or wrong API key, 901 unknown message id \
             (`/api/status`) or bad signature.",
        ))
        .into()
}

fn answer_schemas() -> Vec<(&'static str, RefOr<Schema>)> {
    let number = || RefOr::from(of_type(Type::Number));
    let hook = object(vec![
        ("id", string()),
        ("target_url", string()),
        ("headers", string()),
        ("event_type", string()),
        ("event_filter", optional_string()),
        ("request_method", text_enum(&["POST", "GET", "JSON"]).into()),
        ("enabled", boolean()),
        ("created", string()),
        ("disabled_reason", optional_string()),
        ("backlog_full", boolean()),
    ]);
    let attempt = object(vec![
        ("id", string()),
        ("delivery_id", string()),
        ("msg_id", string()),
        ("status", string()),
        ("attempt", integer()),
        ("time", string()),
        ("http_status", nullable(Type::Integer).into()),
        ("latency_ms", integer()),
        ("error_class", optional_string()),
        ("detail", optional_string()),
        ("response", optional_string()),
    ]);
    let delivery = object(vec![
        ("id", string()),
        ("msg_id", string()),
        ("status", string()),
        (
            "state",
            text_enum(&["pending", "delivered", "failed", "abandoned"]).into(),
        ),
        ("attempts", integer()),
        ("created", string()),
        ("next_attempt", optional_string()),
        ("last_error", optional_string()),
    ]);
    let event = object(vec![
        ("part", nullable(Type::Integer).into()),
        ("kind", string()),
        ("state", string()),
        ("effect", string()),
        ("time", string()),
        ("source", string()),
        ("error_code", optional_string()),
        ("raw", optional_string()),
    ]);
    vec![
        ("ReturnCode", return_code().into()),
        (
            "Problem",
            object(vec![
                ("code", string()),
                ("title", string()),
                ("detail", string()),
            ])
            .into(),
        ),
        (
            "SmsResponse",
            object(vec![
                ("success", text_enum(&["100", "101"]).into()),
                ("total_price", number()),
                ("balance", nullable(Type::Number).into()),
                ("debug", text_enum(&["true", "false"]).into()),
                ("sms_type", text_enum(&["direct"]).into()),
                ("messages", array_of(component("SentMessage")).into()),
            ])
            .into(),
        ),
        (
            "SmsCancelled",
            object(vec![
                ("success", boolean()),
                ("deleted", array_of(string()).into()),
            ])
            .into(),
        ),
        ("StatusList", array_of(component("StatusEntry")).into()),
        ("Journal", array_of(component("OutboundRow")).into()),
        (
            "Balance",
            object(vec![
                ("amount", nullable(Type::Number).into()),
                ("currency", string()),
                ("unlimited", boolean()),
            ])
            .into(),
        ),
        ("Hook", hook.into()),
        (
            "HookList",
            object(vec![
                ("success", boolean()),
                ("code", of_type(Type::Null).into()),
                ("hooks", array_of(component("Hook")).into()),
            ])
            .into(),
        ),
        (
            "HookSubscribeResult",
            one_of([
                object(vec![("success", boolean()), ("id", integer())]).into(),
                object(vec![
                    ("success", boolean()),
                    ("code", string()),
                    ("error_message", string()),
                ])
                .into(),
            ])
            .into(),
        ),
        (
            "HookUnsubscribed",
            object(vec![("success", boolean())]).into(),
        ),
        (
            "HookAttempts",
            object(vec![
                ("hook_id", string()),
                ("enabled", boolean()),
                ("attempts", array_of(attempt).into()),
            ])
            .into(),
        ),
        (
            "HookDeliveries",
            object(vec![
                ("hook_id", string()),
                ("deliveries", array_of(delivery).into()),
            ])
            .into(),
        ),
        (
            "DeliveryResent",
            object(vec![("success", boolean()), ("id", string())]).into(),
        ),
        (
            "DeliveriesRecovered",
            object(vec![("success", boolean()), ("recovered", integer())]).into(),
        ),
        (
            "MessageEvents",
            object(vec![("id", string()), ("events", array_of(event).into())]).into(),
        ),
        (
            "IngestResult",
            object(vec![("matched", integer()), ("parked", integer())]).into(),
        ),
    ]
}

fn body_schemas() -> Vec<(&'static str, RefOr<Schema>)> {
    let seven =
        |params: &[Param]| -> RefOr<Schema> { params_object(&seven::with_common(params)).into() };
    let report = params_object(extensions::INGEST);
    vec![
        ("SmsParameters", seven(seven::SMS)),
        ("CancelParameters", seven(seven::CANCEL)),
        ("StatusParameters", seven(seven::STATUS)),
        ("JournalParameters", seven(seven::JOURNAL)),
        ("BalanceParameters", seven(&[])),
        ("HookParameters", seven(seven::HOOKS)),
        (
            "RecoverParameters",
            params_object(extensions::RECOVER).into(),
        ),
        ("IngestFields", report.clone().into()),
        (
            "IngestJson",
            one_of([report.into(), array_of(component("IngestFields")).into()]).into(),
        ),
    ]
}

fn rate_limited() -> Response {
    let mut response = json_response(
        "Over a rate limit of `[limits]`: the body is `403`; nothing was stored or billed.",
        component("ReturnCode"),
    );
    let header = |description: &str, schema_type| {
        RefOr::T(
            HeaderBuilder::new()
                .schema(Some(of_type(schema_type)))
                .description(Some(description))
                .build(),
        )
    };
    response.headers.insert(
        "Retry-After".to_owned(),
        header("Seconds until a retry can succeed.", Type::Integer),
    );
    response.headers.insert(
        "X-Dlrgate-Error".to_owned(),
        header("Which limit was reached.", Type::String),
    );
    response
}

fn opaque(description: &str) -> Response {
    json_response(description, component("ReturnCode"))
}

/// The optional request-signature headers (seven-api.md §6.5), as reusable parameters.
fn signature_headers(builder: ComponentsBuilder) -> ComponentsBuilder {
    let headers = [
        (
            "X-Signature",
            "hex(HMAC-SHA256(signing_secret, ts \"\\n\" nonce \"\\n\" METHOD \"\\n\" URL \"\\n\" \
             md5hex(body))). When present, `X-Timestamp` and `X-Nonce` must be too; a bad, \
             stale or replayed signature is `901`.",
        ),
        (
            "X-Timestamp",
            "Unix seconds, within `api.signature_tolerance`.",
        ),
        ("X-Nonce", "Used once."),
    ];
    headers
        .into_iter()
        .fold(builder, |builder, (name, description)| {
            builder.parameter(
                name,
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Header)
                    .required(Required::False)
                    .description(Some(description))
                    .schema(Some(of_type(Type::String)))
                    .build(),
            )
        })
}

fn security_schemes(builder: ComponentsBuilder) -> ComponentsBuilder {
    let header = |name: &str, description: &str| {
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            name.to_owned(),
            description.to_owned(),
        )))
    };
    let query = |name: &str, description: &str| {
        SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
            name.to_owned(),
            description.to_owned(),
        )))
    };
    let bearer = HttpBuilder::new()
        .scheme(HttpAuthScheme::Bearer)
        .description(Some(
            "`Authorization: Bearer TOKEN` with the connector's `token`.",
        ))
        .build();
    builder
        .security_scheme(
            "ApiKeyHeader",
            header("X-Api-Key", "The account's API key."),
        )
        .security_scheme(
            "AuthorizationKey",
            header(
                "Authorization",
                "`Basic KEY` or `Bearer KEY` with the raw API key (not base64, so this is \
                 not HTTP Basic authentication).",
            ),
        )
        .security_scheme(
            "ApiKeyParameter",
            query(
                "p",
                "The API key as the `p` parameter (deprecated by seven.io); `p` in a form or \
                 JSON body works too.",
            ),
        )
        .security_scheme(
            "IngestToken",
            query("token", "The connector's `token` (`/ingest/*` only)."),
        )
        .security_scheme("IngestBearer", SecurityScheme::Http(bearer))
}
