//! The router: every route with its OpenAPI description (utoipa-axum collects both from the
//! same handlers, so the document cannot drift), and the layers around them: request
//! tracing that logs the path but never the query string or a header, the refusal of
//! credentials in query strings, the body size limit and body deadline, and one layer that
//! turns every error answer into `{success:false, error, code}` with known secrets redacted.

pub mod auth;
pub mod backups;
pub mod health;
pub mod partial;
pub mod schedule;
pub mod verify;

use axum::body::{to_bytes, Body};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use http_body_util::LengthLimitError;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::TOKEN_REQUIRED;
use crate::error::{codes, ApiError};
use crate::openapi::ApiDoc;
use crate::query_tokens::carries_credentials;
use crate::state::AppState;

/// Error bodies read back for redaction are at most this large (ours are tiny).
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Builds the application and stores its OpenAPI document in the state.
pub fn router(state: AppState) -> Router {
    let (api, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::login))
        .routes(routes!(backups::list_backups, backups::create_backup))
        .routes(routes!(backups::delete_backup))
        .routes(routes!(backups::restore_backup))
        .routes(routes!(backups::restore_role))
        .routes(routes!(verify::verify_backup))
        .routes(routes!(backups::download_backup))
        .routes(routes!(partial::backup_contents))
        .routes(routes!(schedule::get_schedule, schedule::put_schedule))
        .routes(routes!(health::health))
        .routes(routes!(health::openapi_json))
        .split_for_parts();
    let json = openapi
        .to_pretty_json()
        .expect("the OpenAPI document serialises");
    let _ = state.openapi_json.set(json);
    let limit = state.body_limit;
    // The last layer added is the outermost: tracing sees every request first.
    api.fallback(not_found)
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            read_body_in_time,
        ))
        .layer(RequestBodyLimitLayer::new(limit))
        .layer(middleware::from_fn(refuse_query_credentials))
        .layer(middleware::from_fn_with_state(state.clone(), json_errors))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
}

/// The span of a request: method and path only. The query string may hold a credential
/// (refused, but already sent), and headers hold tokens: neither is ever logged.
fn request_span(request: &Request) -> tracing::Span {
    let query = request.uri().query().map(|_| "<redacted>");
    tracing::debug_span!("request", method = %request.method(), path = %request.uri().path(),
        query, version = ?request.version())
}

/// 401 for a credential in the query string, before any handler sees it.
async fn refuse_query_credentials(request: Request, next: Next) -> Response {
    if request.uri().query().is_some_and(carries_credentials) {
        tracing::warn!(path = %request.uri().path(),
            "refused a credential in the query string (send Authorization: Bearer TOKEN)");
        return ApiError::unauthorized(TOKEN_REQUIRED).into_response();
    }
    next.run(request).await
}

/// Reads the whole request body (at most the body limit, enforced by the layer outside)
/// within the body timeout, so a client that dribbles its body cannot hold a handler:
/// 408 and the connection closed otherwise. Every body of this API is a small JSON object.
async fn read_body_in_time(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    match tokio::time::timeout(state.timeouts.body, to_bytes(body, usize::MAX)).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(e)) if is_length_limit(&e) => StatusCode::PAYLOAD_TOO_LARGE.into_response(),
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "cannot read a request body");
            close(ApiError::bad_request("the request body could not be read").into_response())
        }
        Err(_) => {
            tracing::warn!(path = %parts.uri.path(), timeout = ?state.timeouts.body,
                "request body not received in time");
            close(
                ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    codes::REQUEST_TIMEOUT,
                    format!(
                        "the request body did not arrive within {} s",
                        state.timeouts.body.as_secs_f64()
                    ),
                )
                .into_response(),
            )
        }
    }
}

fn is_length_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.is::<LengthLimitError>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// Asks the client to close the connection (its unread body is not worth draining).
fn close(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, codes::NOT_FOUND, "Not found")
}

/// Rewrites error answers that are not our JSON (axum's rejections, 405, the body limit's
/// 413) into `{success:false, error, code}`, and redacts known secrets in all of them.
async fn json_errors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let (mut parts, body) = response.into_parts();
    let text = match to_bytes(body, MAX_ERROR_BODY).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(_) => String::new(),
    };
    let redacted = state.redactor.redact(&text);
    if is_json {
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::from(redacted));
    }
    let (code, message) = match status {
        StatusCode::NOT_FOUND => (codes::NOT_FOUND, "Not found".to_owned()),
        StatusCode::METHOD_NOT_ALLOWED => {
            (codes::METHOD_NOT_ALLOWED, "Method not allowed".to_owned())
        }
        StatusCode::PAYLOAD_TOO_LARGE => (
            codes::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than {} bytes", state.body_limit),
        ),
        s if s.is_client_error() => (
            codes::INVALID_INPUT,
            if redacted.trim().is_empty() {
                s.canonical_reason().unwrap_or("Bad request").to_owned()
            } else {
                redacted.trim().to_owned()
            },
        ),
        s => (
            codes::INTERNAL,
            s.canonical_reason().unwrap_or("Internal error").to_owned(),
        ),
    };
    let mut rewritten = ApiError::new(status, code, message).into_response();
    for name in [header::ALLOW, header::RETRY_AFTER, header::CONTENT_RANGE] {
        if let Some(value) = parts.headers.get(&name) {
            rewritten.headers_mut().insert(name, value.clone());
        }
    }
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        // The unread rest of the body is not worth draining.
        rewritten
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    rewritten
}
