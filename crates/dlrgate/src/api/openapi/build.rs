//! Small builders over utoipa's OpenAPI model, shared by the path descriptions: schemas, the
//! parameters of one endpoint as a table, seven.io's request bodies (the same parameters as a
//! form or a JSON object) and the answers any endpoint can give (rate limit, opaque 5xx).

use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::{RequestBody, RequestBodyBuilder};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{
    ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{Ref, RefOr, Required};

/// How a parameter's value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Integer,
    /// `1`/`0`, `true`/`false` (also `yes`/`no`, `on`/`off`).
    Flag,
    /// A comma list, a JSON array or repeated `name=`/`name[]=` pairs.
    List,
    /// Unix seconds or milliseconds, or a date and time as text.
    Time,
    /// A JSON array of objects (`files` of `/api/sms`).
    Objects,
}

/// One parameter of an endpoint, in the query, a form body or a JSON body alike.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
    pub description: &'static str,
}

pub const fn required(name: &'static str, kind: Kind, description: &'static str) -> Param {
    Param {
        name,
        kind,
        required: true,
        description,
    }
}

pub const fn optional(name: &'static str, kind: Kind, description: &'static str) -> Param {
    Param {
        name,
        kind,
        required: false,
        description,
    }
}

pub fn of_type(schema_type: Type) -> Schema {
    ObjectBuilder::new().schema_type(schema_type).build().into()
}

/// `schema_type` or `null`.
pub fn nullable(schema_type: Type) -> Schema {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([schema_type, Type::Null]))
        .build()
        .into()
}

pub fn text_enum(values: &[&str]) -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
        .build()
        .into()
}

pub fn array_of(items: impl Into<RefOr<Schema>>) -> Schema {
    ArrayBuilder::new().items(items.into()).build().into()
}

pub fn component(name: &str) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(name))
}

pub fn one_of(schemas: impl IntoIterator<Item = RefOr<Schema>>) -> Schema {
    schemas
        .into_iter()
        .fold(OneOfBuilder::new(), |builder, schema| builder.item(schema))
        .build()
        .into()
}

/// An object whose every field is always present (possibly `null`).
pub fn object(fields: Vec<(&str, RefOr<Schema>)>) -> Schema {
    fields
        .into_iter()
        .fold(ObjectBuilder::new(), |builder, (name, schema)| {
            builder.property(name, schema).required(name)
        })
        .build()
        .into()
}

/// The schema of a parameter of `kind`, described when it is a body property.
pub fn param_schema(kind: Kind, description: Option<&str>) -> Schema {
    let types = |types: &[Type]| SchemaType::from_iter(types.iter().cloned());
    match kind {
        Kind::Text => ObjectBuilder::new()
            .schema_type(Type::String)
            .description(description)
            .build()
            .into(),
        Kind::Integer => ObjectBuilder::new()
            .schema_type(Type::Integer)
            .description(description)
            .build()
            .into(),
        Kind::Flag => ObjectBuilder::new()
            .schema_type(types(&[Type::Boolean, Type::Integer, Type::String]))
            .description(description)
            .build()
            .into(),
        Kind::Time => ObjectBuilder::new()
            .schema_type(types(&[Type::Integer, Type::String]))
            .description(description)
            .build()
            .into(),
        Kind::List => ArrayBuilder::new()
            .schema_type(types(&[Type::Array, Type::String]))
            .items(RefOr::from(of_type(Type::String)))
            .description(description)
            .build()
            .into(),
        Kind::Objects => ArrayBuilder::new()
            .items(RefOr::from(of_type(Type::Object)))
            .description(description)
            .build()
            .into(),
    }
}

/// The parameters as one object schema, for form and JSON bodies.
pub fn params_object(params: &[Param]) -> Schema {
    params
        .iter()
        .fold(ObjectBuilder::new(), |builder, param| {
            let property = param_schema(param.kind, Some(param.description));
            let builder = builder.property(param.name, property);
            if param.required {
                builder.required(param.name)
            } else {
                builder
            }
        })
        .build()
        .into()
}

/// The parameters as query parameters.
pub fn query(operation: OperationBuilder, params: &[Param]) -> OperationBuilder {
    params.iter().fold(operation, |operation, param| {
        operation.parameter(
            ParameterBuilder::new()
                .name(param.name)
                .parameter_in(ParameterIn::Query)
                .required(if param.required {
                    Required::True
                } else {
                    Required::False
                })
                .description(Some(param.description))
                .schema(Some(param_schema(param.kind, None))),
        )
    })
}

/// A path parameter (always required).
pub fn path_param(operation: OperationBuilder, name: &str, description: &str) -> OperationBuilder {
    operation.parameter(
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Path)
            .required(Required::True)
            .description(Some(description))
            .schema(Some(of_type(Type::String))),
    )
}

/// A body of the component schema `name` as `application/x-www-form-urlencoded` or JSON.
pub fn form_or_json(name: &str, required: bool) -> RequestBody {
    let content = || ContentBuilder::new().schema(Some(component(name))).build();
    RequestBodyBuilder::new()
        .description(Some(
            "The parameters as a form or as a JSON object (by `Content-Type`); query parameters \
             are merged in, and a body parameter wins over a query parameter of the same name.",
        ))
        .required(Some(if required {
            Required::True
        } else {
            Required::False
        }))
        .content("application/x-www-form-urlencoded", content())
        .content("application/json", content())
        .build()
}

pub fn operation(id: &str, tag: &str, summary: &str, description: &str) -> OperationBuilder {
    OperationBuilder::new()
        .operation_id(Some(id))
        .tag(tag)
        .summary(Some(summary))
        .description(Some(description))
}

/// A JSON answer of schema `schema` (often a reference).
pub fn json_response(description: &str, schema: impl Into<RefOr<Schema>>) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(schema)).build(),
        )
        .build()
}

pub fn text_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "text/plain",
            ContentBuilder::new()
                .schema(Some(of_type(Type::String)))
                .build(),
        )
        .build()
}

/// What the client gets for the API key and signature checks and seven.io errors: HTTP 200 with
/// the answer `ok` as JSON (or `text` as text), or a bare return code.
pub fn seven_ok(ok: RefOr<Schema>, text: Option<&str>) -> Response {
    let json = ContentBuilder::new()
        .schema(Some(one_of([ok, component("ReturnCode")])))
        .build();
    let builder = ResponseBuilder::new()
        .description(
            "The answer; or, for a missing or wrong API key, a bad signature or bad parameters, \
             a bare seven.io return code (`X-Dlrgate-Error` says why).",
        )
        .content("application/json", json)
        .header("X-Dlrgate-Error", error_header());
    let builder = match text {
        Some(text) => builder.content(
            "text/plain",
            ContentBuilder::new()
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .description(Some(text))
                        .build(),
                ))
                .build(),
        ),
        None => builder,
    };
    builder.build()
}

fn error_header() -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(Some(of_type(Type::String)))
        .description(Some("Why a return code was answered (only then)."))
        .build()
}

/// The answers every authenticated endpoint can give besides its own: 429 over a rate limit,
/// and opaque 500/503.
pub fn common_answers(operation: OperationBuilder) -> OperationBuilder {
    operation
        .response("429", Ref::from_response_name("RateLimited"))
        .response("500", Ref::from_response_name("InternalError"))
        .response("503", Ref::from_response_name("Unavailable"))
}

/// Any one of the API-key credential forms; the signature headers are optional on top.
pub fn api_key_security(operation: OperationBuilder) -> OperationBuilder {
    let forms = ["ApiKeyHeader", "AuthorizationKey", "ApiKeyParameter"];
    let operation = forms.iter().fold(operation, |operation, name| {
        operation.security(SecurityRequirement::new(*name, Vec::<String>::new()))
    });
    ["X-Signature", "X-Timestamp", "X-Nonce"]
        .iter()
        .fold(operation, |operation, name| {
            operation.parameter_ref(Ref::new(format!("#/components/parameters/{name}")))
        })
}

/// No credentials needed.
pub fn public(operation: OperationBuilder) -> Operation {
    operation
        .securities(Some(Vec::<SecurityRequirement>::new()))
        .build()
}

pub fn integer() -> RefOr<Schema> {
    of_type(Type::Integer).into()
}

pub fn string() -> RefOr<Schema> {
    of_type(Type::String).into()
}

pub fn boolean() -> RefOr<Schema> {
    of_type(Type::Boolean).into()
}

pub fn optional_string() -> RefOr<Schema> {
    nullable(Type::String).into()
}
