//! `GET /api/health` (no token: for load balancers and monitoring; says whether the last
//! scheduled run failed, whether backups are stale, the last verification and each
//! notification channel's last delivery) and `GET /api/openapi.json`, the contract
//! generated from the code.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;

use rythm_backup_core::freshness::is_stale;

use crate::schedule::store::VerificationRun;
use crate::schedule::RunRecord;
use crate::state::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// `ok`; `degraded` when the last scheduled run or verification failed; `stale` when,
    /// with the schedule on, no backup succeeded for `staleAfterHours`.
    pub status: String,
    pub version: String,
    /// The last scheduled run, if any (kept across restarts).
    pub last_scheduled_run: Option<RunRecord>,
    pub schedule: HealthSchedule,
    /// When the last successful backup was taken (ISO 8601).
    pub last_success_at: Option<String>,
    pub stale: bool,
    pub stale_after_hours: u32,
    /// The last restore rehearsal the server ran.
    pub last_verification: Option<VerificationRun>,
    /// Each notification channel's last delivery.
    pub notifications: Vec<ChannelDelivery>,
}

/// A notification channel's last delivery.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChannelDelivery {
    pub channel: String,
    pub target: String,
    pub event: String,
    pub ok: bool,
    pub attempts: u32,
    pub error: Option<String>,
    pub at: String,
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
    let now = state.schedule.clock().now();
    let since = stored
        .last_success_at
        .as_deref()
        .or(stored.config.updated_at.as_deref())
        .and_then(|t| {
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
        });
    let stale = stored.config.enabled && is_stale(since, now, state.stale_after_hours);
    let last_verification = stored.last_verification.map(|mut run| {
        run.verification.error = run.verification.error.map(|e| state.redactor.redact(&e));
        run
    });
    let degraded = last.as_ref().is_some_and(|r| !r.ok)
        || last_verification
            .as_ref()
            .is_some_and(|v| !v.verification.ok);
    let notifications = state
        .notifier
        .last_deliveries()
        .into_iter()
        .map(|d| ChannelDelivery {
            channel: d.channel,
            target: d.target,
            event: d.event,
            ok: d.ok,
            attempts: d.attempts,
            error: d.error.map(|e| state.redactor.redact(&e)),
            at: crate::convert::iso_millis(d.at),
        })
        .collect();
    let status = match (stale, degraded) {
        (true, _) => "stale",
        (false, true) => "degraded",
        (false, false) => "ok",
    };
    Json(Health {
        status: status.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        last_scheduled_run: last,
        schedule: HealthSchedule {
            enabled: stored.config.enabled,
            next_run_at: stored.config.next_run_at,
        },
        last_success_at: stored.last_success_at,
        stale,
        stale_after_hours: state.stale_after_hours,
        last_verification,
        notifications,
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
