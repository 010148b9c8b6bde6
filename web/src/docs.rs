//! The OpenAPI document, Swagger UI, and the answers for routes that do not exist.
//!
//! The document is collected from the handlers' `#[utoipa::path]` attributes as they are
//! registered (see [`crate::handlers::routes`]). The same document decides between 404
//! and 405 for unmatched requests, so the docs and the router cannot disagree.
//!
//! It describes the service as configured: with an identity provider, the orders
//! operations require a bearer token; without one (open mode) no token is asked for or
//! looked at, and the document says so (see [`Api::new`]).

use crate::auth::AuthSettings;
use crate::error::ApiError;
use crate::schemas::{ErrorBody, ValidationErrorBody};
use crate::{AppState, handlers};
use actix_web::{HttpRequest, HttpResponse, get, web};
use utoipa::OpenApi;
use utoipa::openapi::PathItem;
use utoipa::openapi::path::Operation;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::{Config, SwaggerUi};

/// Where the document is served.
pub const OPENAPI_PATH: &str = "/openapi.json";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Orders API",
        description = "API that allows you to manage orders for CoffeeMesh.\n\n\
            `GET /hi` waits without blocking (a timer); `GET /hi/blocking` waits by blocking a \
            threadpool thread. Both leave the async workers free to serve other requests.",
        version = "1.0.0",
    ),
    servers((url = "/", description = "This server")),
    modifiers(&BearerAuth),
    // The error bodies are used only in `responses::*` groups, whose schemas utoipa does
    // not collect: registered here, so their `$ref`s resolve.
    components(schemas(ErrorBody, ValidationErrorBody)),
    tags(
        (name = "orders", description = "Orders and their life cycle: created → paid → … , or cancelled"),
        (name = "greeting", description = "The shy greeting, async and blocking"),
        (name = "operations", description = "Liveness, readiness and metrics"),
    )
)]
struct ApiDoc;

/// The name of the security scheme the orders operations require.
pub const BEARER_AUTH: &str = "bearerAuth";

/// Declares the `bearerAuth` scheme (a JWT from the identity provider), so Swagger UI's
/// *Authorize* button can send one; operations opt in with `security(("bearerAuth" = []))`.
/// In open mode [`Api::new`] takes the scheme and the requirements out again.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let scheme = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").description(Some(
            "A token from the identity provider (`AUTH_ISSUER`); its `sub` owns the orders. \
             Locally: `cargo run -- dev-token`.",
        ));
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(BEARER_AUTH, SecurityScheme::Http(scheme.build()));
    }
}

/// The OpenAPI document and the route table taken from it.
pub struct Api {
    /// The document, as served at [`OPENAPI_PATH`].
    pub doc: utoipa::openapi::OpenApi,
    routes: Vec<(Vec<Segment>, String)>,
}

#[derive(Debug)]
enum Segment {
    Literal(String),
    Parameter,
}

impl Api {
    /// Collects the document from the registered handlers, for a service that
    /// authenticates callers as `auth` says: in open mode, no operation requires a bearer
    /// token or answers 401, and no security scheme is declared.
    pub fn new(auth: &AuthSettings) -> Self {
        let (_, mut doc) = actix_web::App::new()
            .into_utoipa_app()
            .openapi(ApiDoc::openapi())
            .configure(handlers::routes)
            .split_for_parts();
        if *auth == AuthSettings::Open {
            without_tokens(&mut doc);
        }
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let segments = path
                    .split('/')
                    .map(|s| if s.starts_with('{') { Segment::Parameter } else { Segment::Literal(s.to_owned()) })
                    .collect();
                (segments, allowed_methods(item))
            })
            .collect();
        Self { doc, routes }
    }

    /// The methods allowed on `path`, comma-separated, if the document has the path.
    pub fn allowed_methods(&self, path: &str) -> Option<&str> {
        let parts: Vec<&str> = path.split('/').collect();
        self.routes
            .iter()
            .find(|(segments, _)| {
                segments.len() == parts.len()
                    && segments.iter().zip(&parts).all(|(segment, part)| match segment {
                        Segment::Literal(literal) => literal == part,
                        Segment::Parameter => !part.is_empty(),
                    })
            })
            .map(|(_, methods)| methods.as_str())
    }
}

/// The document of a service in open mode, which neither asks for a token nor looks at
/// one sent (every caller is [`crate::auth::OPEN_OWNER`]): no operation requires one, and
/// none answers 401, which only a missing or invalid token causes. The `bearerAuth` scheme
/// goes too, so Swagger UI offers no *Authorize* button and shows no lock, and generated
/// clients ask for no token. (An optional requirement, `[{}, {"bearerAuth": []}]`, would
/// still say that a token means something here.)
fn without_tokens(doc: &mut utoipa::openapi::OpenApi) {
    doc.security = None;
    for item in doc.paths.paths.values_mut() {
        for operation in operations_mut(item) {
            if operation.security.take().is_some() {
                operation.responses.responses.remove("401");
            }
        }
    }
    if let Some(components) = &mut doc.components {
        components.security_schemes.remove(BEARER_AUTH);
    }
}

fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete].into_iter().flatten()
}

fn allowed_methods(item: &PathItem) -> String {
    let operations = [
        ("GET", &item.get),
        ("POST", &item.post),
        ("PUT", &item.put),
        ("PATCH", &item.patch),
        ("DELETE", &item.delete),
    ];
    let methods: Vec<&str> = operations.iter().filter(|(_, op)| op.is_some()).map(|(name, _)| *name).collect();
    methods.join(", ")
}

/// Swagger UI at `/docs/`, from files compiled into the binary, with the online
/// validator off: the page makes no request outside this service.
pub fn swagger_ui(api: &Api) -> SwaggerUi {
    SwaggerUi::new("/docs/{_:.*}")
        .url(OPENAPI_PATH, api.doc.clone())
        .config(Config::new([OPENAPI_PATH]).validator_url("none"))
}

/// `/docs` → `/docs/`, where Swagger UI lives.
#[get("/docs")]
pub async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header(("Location", "/docs/")).finish()
}

/// Any request no route matched: 405 with `Allow` if the path exists, else 404.
pub async fn fallback(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Err(match state.api.allowed_methods(req.path()) {
        Some(methods) => ApiError::MethodNotAllowed(methods.to_owned()),
        None => ApiError::NotFound,
    })
}
