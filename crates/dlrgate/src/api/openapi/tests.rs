//! The document against the route table the router is built from, and the parameter tables
//! against the names the handlers accept.

use std::collections::BTreeSet;

use axum::http::Method;
use utoipa::openapi::OpenApi;
use utoipa::openapi::path::PathItem;

use super::build::Param;
use super::{document, seven};
use crate::api::routes::{self, Route};

/// The check: what differs between the served routes and the document, as `METHOD path` lines:
/// served routes the document lacks (`undocumented: …`) and documented ones nobody serves
/// (`not served: …`). Empty when they agree.
fn mismatches(served: &[(&str, Method)], document: &OpenApi) -> Vec<String> {
    let documented = operations(document);
    let mut found = Vec::new();
    for (path, method) in served {
        if !documented.iter().any(|(p, m)| p == path && m == method) {
            found.push(format!("undocumented: {method} {path}"));
        }
    }
    for (path, method) in &documented {
        if !served.iter().any(|(p, m)| p == path && m == method) {
            found.push(format!("not served: {method} {path}"));
        }
    }
    found
}

/// Every (path, method) the document has an operation for.
fn operations(document: &OpenApi) -> Vec<(String, Method)> {
    document
        .paths
        .paths
        .iter()
        .flat_map(|(path, item)| {
            methods(item)
                .into_iter()
                .map(move |method| (path.clone(), method))
        })
        .collect()
}

fn methods(item: &PathItem) -> Vec<Method> {
    let all = [
        (Method::GET, item.get.is_some()),
        (Method::POST, item.post.is_some()),
        (Method::PUT, item.put.is_some()),
        (Method::DELETE, item.delete.is_some()),
        (Method::PATCH, item.patch.is_some()),
        (Method::HEAD, item.head.is_some()),
        (Method::OPTIONS, item.options.is_some()),
        (Method::TRACE, item.trace.is_some()),
    ];
    all.into_iter()
        .filter(|(_, present)| *present)
        .map(|(method, _)| method)
        .collect()
}

fn served(table: &[Route]) -> Vec<(&str, Method)> {
    table
        .iter()
        .map(|route| (route.path, route.method.clone()))
        .collect()
}

#[test]
fn every_served_route_is_documented_and_every_documented_route_is_served() {
    let table = routes::table();
    assert!(table.len() >= 27, "the table lost routes: {}", table.len());
    let found = mismatches(&served(&table), &document());
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn a_route_served_without_documentation_is_reported() {
    let mut table = routes::table();
    table.push(routes::get(
        "/api/undocumented",
        crate::api::health::healthz,
    ));
    table.push(routes::delete("/api/status", crate::api::status::status));
    let found = mismatches(&served(&table), &document());
    assert_eq!(
        found,
        [
            "undocumented: GET /api/undocumented",
            "undocumented: DELETE /api/status"
        ]
    );
}

#[test]
fn a_documented_route_nobody_serves_is_reported() {
    let table: Vec<Route> = routes::table()
        .into_iter()
        .filter(|route| route.path != "/api/balance" || route.method != Method::POST)
        .collect();
    let found = mismatches(&served(&table), &document());
    assert_eq!(found, ["not served: POST /api/balance"]);
}

#[test]
fn the_checked_table_is_the_one_the_router_serves() {
    // `routes::build` panics on a path and method given twice; the router is this table.
    let router = routes::build(routes::table());
    assert!(router.has_routes());
}

#[test]
fn the_router_adds_no_route_outside_the_table() {
    // Where the served router is assembled: `api::router` (fallback and layers on top of
    // `routes::build(routes::table())`), `api::serve` and `Application`. A route added there
    // would bypass the table, so none of axum's route-adding calls may appear in them.
    let sources = [
        ("api/mod.rs", include_str!("../mod.rs")),
        ("api/serve.rs", include_str!("../serve.rs")),
        ("app.rs", include_str!("../../app.rs")),
    ];
    let calls = [
        ".route(",
        ".route_service(",
        ".nest(",
        ".nest_service(",
        ".merge(",
    ];
    for (file, source) in sources {
        for call in calls {
            assert!(
                !source.contains(call),
                "{file} calls {call}: add routes in api/routes.rs"
            );
        }
    }
    assert!(sources[0].1.contains("routes::build(routes::table())"));
}

#[test]
fn operation_ids_are_unique() {
    let document = document();
    let mut ids = BTreeSet::new();
    for (path, item) in &document.paths.paths {
        let operations = [&item.get, &item.post, &item.delete, &item.put, &item.patch];
        for operation in operations.into_iter().flatten() {
            let id = operation.operation_id.clone().unwrap_or_default();
            assert!(!id.is_empty(), "an operation of {path} has no operationId");
            assert!(ids.insert(id.clone()), "operationId {id} is used twice");
        }
    }
    assert_eq!(ids.len(), operations(&document).len());
}

fn names(params: &[Param]) -> BTreeSet<&str> {
    params.iter().map(|param| param.name).collect()
}

fn set<'a>(names: &[&'a str]) -> BTreeSet<&'a str> {
    names.iter().copied().collect()
}

#[test]
fn parameter_tables_name_exactly_what_the_handlers_accept() {
    let cases: [(&str, &[Param], &[&str]); 5] = [
        (
            "dashboard counts",
            super::dashboard::COUNTS,
            crate::api::dashboard::COUNT_PARAMS,
        ),
        (
            "dashboard activity",
            super::dashboard::ACTIVITY,
            crate::api::dashboard::ACTIVITY_PARAMS,
        ),
        ("/api/sms", seven::SMS, crate::api::sms_request::SMS_PARAMS),
        ("/api/hooks", seven::HOOKS, crate::api::hooks::HOOK_PARAMS),
        (
            "journal",
            seven::JOURNAL,
            crate::api::journal::JOURNAL_PARAMS,
        ),
    ];
    for (endpoint, documented, accepted) in cases {
        assert_eq!(names(documented), set(accepted), "{endpoint}");
    }
    let mut common = names(seven::COMMON);
    common.insert("p");
    assert_eq!(common, set(&crate::api::params::ALWAYS_ALLOWED));
}

#[test]
fn sms_parameters_are_in_the_query_of_get_and_the_bodies_of_post() {
    let json = serde_json::to_value(document()).expect("the document serializes");
    let get = &json["paths"]["/api/sms"]["get"]["parameters"];
    let query: BTreeSet<&str> = get
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|param| param["name"].as_str())
        .collect();
    assert!(names(seven::SMS).is_subset(&query), "{query:?}");
    let body = &json["components"]["schemas"]["SmsParameters"];
    for name in names(seven::SMS) {
        assert!(
            body["properties"][name].is_object(),
            "{name} not in the body"
        );
    }
    assert_eq!(body["required"], serde_json::json!(["to", "text"]));
}
