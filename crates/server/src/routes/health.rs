//! `GET /api/health` (no token: for load balancers and monitoring; says whether the last
//! scheduled run failed) and `GET /api/openapi.json`, the contract generated from the code.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;

use crate::schedule::RunRecord;
use crate::state::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// `ok`, or `degraded` when the last scheduled run failed.
    pub status: String,
    pub version: String,
    /// The last scheduled run, if any (kept across restarts).
    pub last_scheduled_run: Option<RunRecord>,
    pub schedule: HealthSchedule,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HealthSchedule {
    pub enabled: bool,
    pub next_run_at: Option<String>,
}

/// Liveness and the state of scheduled backups.
#[utoipa::path(
    get,
    path = "/api/health",
    tag = "health",
    responses((status = 200, description = "The server is up", body = Health))
)]
pub async fn health(State(state): State<AppState>) -> Json<Health> {
    let stored = state.schedule.get();
    let last = stored.last_result.map(|mut run| {
        run.error = run.error.map(|e| state.redactor.redact(&e));
        run
    });
    let degraded = last.as_ref().is_some_and(|r| !r.ok);
    Json(Health {
        status: if degraded { "degraded" } else { "ok" }.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        last_scheduled_run: last,
        schedule: HealthSchedule {
            enabled: stored.config.enabled,
            next_run_at: stored.config.next_run_at,
        },
    })
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "health",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object))
)]
pub async fn openapi_json(State(state): State<AppState>) -> impl IntoResponse {
    let json = state
        .openapi_json
        .get()
        .cloned()
        .unwrap_or_else(|| "{}".into());
    ([(header::CONTENT_TYPE, "application/json")], json)
}
