//! The API's description, built from the code: every route module declares
//! its endpoints (method, path, who may call it, body and response types),
//! schemars derives the schemas from the Rust types, and this module assembles
//! the OpenAPI 3.0 document. A test checks the declared endpoints against
//! Rocket's mounted routes, so a route cannot exist undocumented.

pub mod formats;
mod refine;

use rocket::http::Method;
use schemars::gen::{SchemaGenerator, SchemaSettings};
use schemars::schema::Schema;
use schemars::visit::{RemoveRefSiblings, Visitor};
use schemars::JsonSchema;
use serde_json::{json, Map, Value};

use crate::auth::Scope;
use crate::http::response::ErrorEnvelope;

pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

/// Reference to `T`'s schema, usable as a `SchemaFn`.
pub fn schema<T: JsonSchema>(gen: &mut SchemaGenerator) -> Schema {
    gen.subschema_for::<T>()
}

/// Who may call an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
    /// An `X-API-Key` holding the scope.
    ApiKey(Scope),
    /// A user's bearer token.
    User,
    /// A user's bearer token (their own resources) or an `admin` key (all).
    UserOrAdmin,
    /// Both: the customer's bearer token and a server key holding the scope.
    UserAndApiKey(Scope),
}

#[derive(Debug, Clone, Copy)]
pub struct QueryParam {
    pub name: &'static str,
    pub description: &'static str,
    /// The parameter's JSON schema, as JSON text.
    pub schema: &'static str,
}

/// A header an endpoint reads (besides the security schemes).
#[derive(Debug, Clone, Copy)]
pub struct HeaderParam {
    pub name: &'static str,
    pub description: &'static str,
    pub required: bool,
}

/// An endpoint's JSON request body.
#[derive(Clone, Copy)]
pub enum Body {
    None,
    Required(SchemaFn),
    /// May be left out entirely (an empty body has a documented meaning).
    Optional(SchemaFn),
}

pub struct Endpoint {
    pub method: Method,
    /// Rocket's form, `<id>` for parameters, exactly as mounted.
    pub path: &'static str,
    pub summary: &'static str,
    pub access: Access,
    pub query: &'static [QueryParam],
    pub body: Body,
    pub response: Option<SchemaFn>,
    /// Success statuses, the usual one first.
    pub success: &'static [u16],
    pub headers: &'static [HeaderParam],
    pub errors: &'static [u16],
}

impl Endpoint {
    /// OpenAPI's form of the path: `<id>` -> `{id}`.
    pub fn openapi_path(&self) -> String {
        self.path.replace('<', "{").replace('>', "}")
    }

    fn path_params(&self) -> Vec<&'static str> {
        self.path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('<').and_then(|s| s.strip_suffix('>')))
            .collect()
    }
}

pub fn document(endpoints: &[Endpoint]) -> Value {
    let mut gen = SchemaGenerator::new(SchemaSettings::openapi3());
    let error_schema = schema::<ErrorEnvelope>(&mut gen);
    formats::register_shared(&mut gen);
    let mut paths = Map::new();
    for endpoint in endpoints {
        let operation = operation(endpoint, &mut gen, &error_schema);
        let entry = paths
            .entry(endpoint.openapi_path())
            .or_insert_with(|| json!({}));
        entry[endpoint.method.as_str().to_ascii_lowercase()] = operation;
    }
    let mut schemas = gen.take_definitions();
    for schema in schemas.values_mut() {
        // OpenAPI 3.0 ignores every sibling of a `$ref` (schemars puts
        // `nullable` and descriptions there): move the `$ref` into `allOf`.
        RemoveRefSiblings.visit_schema(schema);
    }
    let mut schemas = serde_json::to_value(schemas).expect("schemas are JSON");
    refine::cross_field_rules(&mut schemas);
    let mut doc = json!({
        "openapi": "3.0.3",
        "info": {
            "title": "orderpay",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Order payments for a shop backend: orders become Stripe PaymentIntents and are marked paid exactly once. Amounts are decimal strings in major units; errors are {\"message\", \"error\": {\"code\", \"details\"}}.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "ApiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-API-Key",
                    "description": "Server key created with `orderpay api-key create`; each route names the scope it needs."},
                "BearerAuth": {"type": "http", "scheme": "bearer",
                    "description": "A user's access token from /api/v1/users/login."},
            },
        },
    });
    refine::no_control_characters(&mut doc);
    doc
}

fn operation(endpoint: &Endpoint, gen: &mut SchemaGenerator, error_schema: &Schema) -> Value {
    let mut parameters: Vec<Value> = endpoint
        .path_params()
        .into_iter()
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": formats::path_param(name)}))
        .collect();
    parameters.extend(endpoint.query.iter().map(|q| {
        let schema: Value = serde_json::from_str(q.schema).unwrap_or_else(|_| json!({"type": "string"}));
        json!({"name": q.name, "in": "query", "required": false, "description": q.description, "schema": schema})
    }));
    parameters.extend(endpoint.headers.iter().map(|h| {
        json!({"name": h.name, "in": "header", "required": h.required, "description": h.description, "schema": formats::header(h.name)})
    }));
    let mut responses = Map::new();
    for status in endpoint.success {
        let success = match endpoint.response {
            Some(schema_fn) => {
                json!({"description": "Success", "content": {"application/json": {"schema": schema_fn(gen)}}})
            }
            None => json!({"description": "Success"}),
        };
        responses.insert(status.to_string(), success);
    }
    for status in endpoint.errors {
        responses.insert(
            status.to_string(),
            json!({"description": error_description(*status), "content": {"application/json": {"schema": error_schema}}}),
        );
    }
    let mut op = json!({
        "summary": endpoint.summary,
        "operationId": operation_id(endpoint),
        "parameters": parameters,
        "responses": responses,
    });
    let body = match endpoint.body {
        Body::None => None,
        Body::Required(schema_fn) => Some((true, schema_fn)),
        Body::Optional(schema_fn) => Some((false, schema_fn)),
    };
    if let Some((required, schema_fn)) = body {
        op["requestBody"] = json!({"required": required, "content": {"application/json": {"schema": schema_fn(gen)}}});
    }
    match endpoint.access {
        Access::Public => op["security"] = json!([]),
        Access::ApiKey(scope) => {
            op["security"] = json!([{"ApiKeyAuth": []}]);
            op["x-required-scope"] = json!(scope.as_str());
        }
        Access::User => op["security"] = json!([{"BearerAuth": []}]),
        Access::UserAndApiKey(scope) => {
            op["security"] = json!([{"BearerAuth": [], "ApiKeyAuth": []}]);
            op["x-required-scope"] = json!(scope.as_str());
            op["description"] = json!("Needs both the customer's bearer token and a server `X-API-Key`; another customer's order is a 404.");
        }
        Access::UserOrAdmin => {
            op["security"] = json!([{"BearerAuth": []}, {"ApiKeyAuth": []}]);
            op["x-required-scope"] = json!(Scope::Admin.as_str());
            op["description"] = json!("A customer's bearer token sees only their own orders (another's is a 404); an `admin` key sees all.");
        }
    }
    op
}

fn operation_id(endpoint: &Endpoint) -> String {
    let path: String = endpoint
        .path
        .split('/')
        .filter(|s| !s.is_empty() && *s != "api" && *s != "v1")
        .map(|s| {
            s.trim_matches(|c| c == '<' || c == '>')
                .replace(['-', ':'], "_")
        })
        .collect::<Vec<_>>()
        .join("_");
    format!("{}_{path}", endpoint.method.as_str().to_ascii_lowercase())
}

fn error_description(status: u16) -> &'static str {
    match status {
        400 => "Malformed request (e.g. invalid JSON)",
        401 => "Missing or invalid credentials",
        403 => "Credentials lack the required scope",
        404 => "Not found",
        409 => "Conflict with the resource's current state",
        413 => "Body too large",
        415 => "Body is not JSON",
        422 => "A field is invalid; details.field names it",
        429 => "Too many requests",
        503 => "A dependency (database, Stripe) is unavailable",
        _ => "Error",
    }
}
