//! The API contract: an OpenAPI 3.1 document generated from the code. Each handler
//! carries its `#[utoipa::path]` (method, path, body, answers) and routes are added with
//! `utoipa_axum::routes!`, so a route and its description cannot part; the wire types'
//! schemas come from `bhxh-protocol` (feature `openapi`); each operation's refusals are
//! a list of catalogue codes declared beside its handler ([`refusals!`]), grouped here by
//! the codes' own statuses, with their messages in both languages.
//!
//! Served at `GET /v1/openapi.json`, kept in `docs/openapi.json` (a test holds the two
//! equal), and held to the server by Schemathesis in `tests/it/openapi.rs`.
//!
//! A leaf module: the router ([`crate::http`]) builds the paths and calls [`finish`].

use std::collections::BTreeMap;

use bhxh_protocol::{ErrorCode, Lang};
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi as _};

/// What every operation may answer besides its own refusals: the request took too long,
/// the server failed (`INTERNAL`, with a reference in the log) or its database is away.
pub const ANY: &[ErrorCode] = &[ErrorCode::RequestTimeout, ErrorCode::Internal, ErrorCode::ServiceUnavailable];

/// What every operation with a JSON body may answer besides: not JSON of its shape, or
/// larger than the server takes.
pub const JSON_BODY: &[ErrorCode] = &[ErrorCode::MalformedRequest, ErrorCode::BodyTooLarge];

/// Declares the refusals of one operation: a type for `responses(...)` of its
/// `#[utoipa::path]`, whose answers are [`ANY`] and the codes listed, grouped by status.
/// `Json` first adds [`JSON_BODY`]; `Html` answers them as the link pages do (a page in
/// `text/html` with the code and reference in it).
#[macro_export]
macro_rules! refusals {
    ($(#[$m:meta])* $name:ident, $kind:ident: $($code:ident),* $(,)?) => {
        $(#[$m])*
        pub(crate) struct $name;
        impl utoipa::IntoResponses for $name {
            fn responses() -> std::collections::BTreeMap<String, utoipa::openapi::RefOr<utoipa::openapi::Response>> {
                $crate::openapi::refusal_responses($crate::openapi::Kind::$kind, &[$(bhxh_protocol::ErrorCode::$code),*])
            }
        }
    };
}

/// How an operation answers a refusal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// JSON in, [`bhxh_protocol::wire::ErrorBody`] out.
    Json,
    /// No body in, [`bhxh_protocol::wire::ErrorBody`] out.
    Plain,
    /// A link's page: an HTML page with the error's words, code and reference.
    Html,
}

/// The answers of `codes` (with [`ANY`], and [`JSON_BODY`] for [`Kind::Json`]), one per
/// status: its codes in the description with both languages' messages, the error body
/// whose `code` is one of them, and an example of each.
pub fn refusal_responses(kind: Kind, codes: &[ErrorCode]) -> BTreeMap<String, RefOr<Response>> {
    let extra: &[ErrorCode] = if kind == Kind::Json { JSON_BODY } else { &[] };
    let mut by_status: BTreeMap<u16, Vec<ErrorCode>> = BTreeMap::new();
    for &code in extra.iter().chain(codes).chain(ANY) {
        let list = by_status.entry(code.http_status()).or_default();
        if !list.contains(&code) {
            list.push(code);
        }
    }
    by_status
        .into_iter()
        .map(|(status, codes)| {
            let mut description = String::new();
            for code in &codes {
                description.push_str(&format!(
                    "- `{}`: {} / {}\n",
                    code.as_str(),
                    code.message(Lang::En),
                    code.message(Lang::Vi)
                ));
            }
            let content = match kind {
                Kind::Html => {
                    ContentBuilder::new().schema(Some(ObjectBuilder::new().schema_type(Type::String))).build()
                }
                Kind::Json | Kind::Plain => {
                    let names: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
                    let only_these = ObjectBuilder::new()
                        .property("code", ObjectBuilder::new().schema_type(Type::String).enum_values(Some(names)));
                    let schema = AllOfBuilder::new()
                        .item(RefOr::<Schema>::Ref(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                        .item(only_these);
                    ContentBuilder::new()
                        .schema(Some(schema))
                        .examples_from_iter(
                            codes.iter().map(|c| (c.as_str(), ExampleBuilder::new().value(Some(example(*c))).build())),
                        )
                        .build()
                }
            };
            let media = if kind == Kind::Html { "text/html; charset=utf-8" } else { "application/json" };
            let mut response = ResponseBuilder::new().description(description.trim_end()).content(media, content);
            if status == 429 {
                response = response.header(
                    "Retry-After",
                    HeaderBuilder::new()
                        .schema(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0)))
                        .description(Some("Seconds to wait before trying again."))
                        .build(),
                );
            }
            (status.to_string(), RefOr::T(response.build()))
        })
        .collect()
}

/// An error answer of `code` as the server writes it (in English).
fn example(code: ErrorCode) -> serde_json::Value {
    let mut body = serde_json::json!({
        "code": code.as_str(),
        "message": code.message(Lang::En),
        "hint": code.hint(Lang::En),
        "reference": "RC-7K3M-9QXA",
    });
    if code == ErrorCode::RateLimited {
        body["retry_after"] = serde_json::json!(60);
    }
    body
}

/// What the document says of itself and what no handler carries: the title, the
/// servers' shared facts, the bearer scheme, the error body and the whole catalogue.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "BHXH password recovery",
        description = "Protocol v1 of the BHXH password-recovery backend: a USB token proves the \
            account and a temporary password is emailed (token recovery), or the tax code, the \
            registered email and a captcha do (portal recovery). docs/protocol.md describes the \
            signed bytes and the flows; every refusal is an error body with a stable code, a \
            message in the language of Accept-Language (Vietnamese by default) and a reference \
            the support desk looks up.",
        license(name = "Proprietary")
    ),
    components(schemas(bhxh_protocol::wire::ErrorBody, ErrorCode)),
    modifiers(&Contract),
    tags(
        (name = "token", description = "Recovery with the USB token (chữ ký số)"),
        (name = "portal", description = "Recovery with the tax code, the registered email and a captcha"),
        (name = "account", description = "Logging in with the temporary password and changing it"),
        (name = "support", description = "The support report and its code"),
        (name = "service", description = "Health, readiness and this document")
    )
)]
struct Base;

struct Contract;

impl Modify for Contract {
    fn modify(&self, doc: &mut OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The session_token of POST /v1/auth/login."))
                    .build(),
            ),
        );
    }
}

/// The whole document: the routes' paths (from [`crate::http`]) under [`Base`].
pub fn finish(paths: OpenApi) -> OpenApi {
    let mut doc = Base::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    doc.merge(paths);
    doc
}
