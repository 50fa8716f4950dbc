//! The web dashboard: its static page, script and style sheet (no credentials), and the JSON it
//! reads besides the existing API: accounts and connectors (administrator key only), status
//! counts and activity of one account (an account key, or the administrator key with
//! `X-Dlrgate-Account`).

use utoipa::openapi::Paths;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::{Required, Type};

use super::build::{
    Kind, Param, api_key_security, common_answers, json_response, of_type, operation, optional,
    public, query, seven_ok, text_response,
};

const TAG: &str = "Dashboard";

pub const COUNTS: &[Param] = &[optional(
    "hours",
    Kind::Integer,
    "Messages sent in the last 1 to 720 hours; default 24.",
)];

pub const ACTIVITY: &[Param] = &[optional(
    "minutes",
    Kind::Integer,
    "The last 1 to 1440 minutes, one bucket each; default 60.",
)];

pub fn paths(paths: &mut Paths) {
    let accounts = data(
        "dashboardAccounts",
        "Every account (administrator key only)",
        "`{accounts: [{id, name}]}`. Any other key: `900`.",
    );
    let connectors = data(
        "dashboardConnectors",
        "Connector health (administrator key only)",
        "`{time, connectors: [{name, type, binds_up, submitted_total, throttled_total}]}` \
         from this node's metrics; `binds_up` is null except for SMPP connectors.",
    );
    let counts = data(
        "dashboardCounts",
        "The account's messages per status",
        "`{account: {id, name}, since, counts: {STATUS: n}}`; `PENDING` counts messages \
         without an operator report yet.",
    );
    let activity = data(
        "dashboardActivity",
        "The account's sends and final statuses per minute",
        "`{bucket_seconds: 60, buckets: [{time, sent, delivered, failed}]}`, oldest first, \
         every minute present; `failed` counts final statuses other than DELIVERED.",
    );
    let routes = [
        ("/api/dashboard/accounts", accounts),
        ("/api/dashboard/connectors", connectors),
        ("/api/dashboard/counts", for_account(query(counts, COUNTS))),
        (
            "/api/dashboard/activity",
            for_account(query(activity, ACTIVITY)),
        ),
    ];
    for (path, operation) in routes {
        paths.add_path_operation(path, vec![HttpMethod::Get], operation.build());
    }
    let assets = [
        ("/dashboard", "dashboardPage", "The dashboard page (HTML)"),
        (
            "/dashboard/app.js",
            "dashboardScript",
            "The dashboard's script",
        ),
        (
            "/dashboard/app.css",
            "dashboardStyle",
            "The dashboard's style sheet",
        ),
    ];
    for (path, id, summary) in assets {
        let asset = operation(
            id,
            TAG,
            summary,
            "Static, compiled in; served with a strict Content-Security-Policy.",
        )
        .response("200", text_response("The file."));
        paths.add_path_operation(path, vec![HttpMethod::Get], public(asset));
    }
}

fn data(id: &str, summary: &str, description: &str) -> OperationBuilder {
    let operation = operation(id, TAG, summary, description)
        .response("200", seven_ok(of_type(Type::Object).into(), None))
        .response(
            "404",
            json_response(
                "`X-Dlrgate-Account` names no account.",
                super::build::component("Problem"),
            ),
        );
    common_answers(api_key_security(operation))
}

/// The administrator's choice of account; with any other key the request is refused (`900`).
fn for_account(operation: OperationBuilder) -> OperationBuilder {
    let header = ParameterBuilder::new()
        .name("X-Dlrgate-Account")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "With the administrator key: the id of the account to act for. Refused with any \
             other key.",
        ))
        .schema(Some(of_type(Type::String)))
        .build();
    operation.parameter(header)
}
