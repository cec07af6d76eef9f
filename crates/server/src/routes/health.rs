//! `GET /api/health` and `GET /api/openapi.json`, the contract generated from the code.
//!
//! Health answers anyone (load balancers, monitoring) with what watching needs and reveals
//! nothing else: the status, whether backups are stale and since when the last success,
//! whether the last restore rehearsal passed, and each notification channel's last result.
//! The detail (the last scheduled run and its error, the last rehearsal with its tables,
//! each delivery's recipient and error, the schedule) goes only to a system admin's token:
//! recipients are the admins' login names, and errors name tables and hosts.

use std::collections::BTreeMap;

use axum::extract::{FromRequestParts, State};
use axum::http::header::{self, AUTHORIZATION};
use axum::http::request::Parts;
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;

use rythm_backup_core::api::wire::ErrorBody;
use rythm_backup_core::freshness::is_stale;

use crate::auth::AdminUser;
use crate::error::ApiError;
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
    /// When the last successful backup was taken (ISO 8601).
    pub last_success_at: Option<String>,
    pub stale: bool,
    pub stale_after_hours: u32,
    /// Whether the last restore rehearsal the server ran passed; `null` before the first.
    pub last_verification_ok: Option<bool>,
    /// Each notification channel (`smtp`, `acs`, `webhook`): whether all of its last
    /// deliveries (one per recipient) succeeded.
    pub notifications: Vec<ChannelHealth>,
    /// Only with a system admin's token (`Authorization: Bearer TOKEN`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<HealthDetail>,
}

/// A notification channel's last result, without recipients or errors.
#[derive(Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChannelHealth {
    pub channel: String,
    pub ok: bool,
    /// The most attempts one of its last deliveries took.
    pub attempts: u32,
}

/// What only an admin sees.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HealthDetail {
    /// The last scheduled run, if any (kept across restarts), its error redacted.
    pub last_scheduled_run: Option<RunRecord>,
    pub schedule: HealthSchedule,
    /// The last restore rehearsal the server ran, failed ones included.
    pub last_verification: Option<VerificationRun>,
    /// Each delivery target's last delivery.
    pub deliveries: Vec<ChannelDelivery>,
}

/// A notification's last delivery to one target.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChannelDelivery {
    pub channel: String,
    /// The recipient and server, or the webhook's scheme and host.
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

/// A system admin, when the request carries a token. Without an `Authorization` header the
/// request is anonymous; with one, its token is checked as on every other route (401, 403),
/// so a client with a bad token learns it rather than quietly getting less.
pub struct MaybeAdmin(pub Option<AdminUser>);

impl FromRequestParts<AppState> for MaybeAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if !parts.headers.contains_key(AUTHORIZATION) {
            return Ok(MaybeAdmin(None));
        }
        AdminUser::from_request_parts(parts, state)
            .await
            .map(|admin| MaybeAdmin(Some(admin)))
    }
}

/// Liveness and the state of backups; the detail with a system admin's token.
#[utoipa::path(
    get,
    path = "/api/health",
    tag = "health",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The server is up. Without a token: the status, freshness, the last verification's result and each notification channel's; with a system admin's token also `detail`", body = Health),
        (status = 401, description = "A token was sent but is invalid, expired or revoked", body = ErrorBody),
        (status = 403, description = "A token was sent but is not a system_admin's", body = ErrorBody),
    )
)]
pub async fn health(State(state): State<AppState>, MaybeAdmin(admin): MaybeAdmin) -> Json<Health> {
    let stored = state.schedule.get();
    let now = state.schedule.clock().now();
    let since = stored
        .last_success_at
        .as_deref()
        .or(stored.config.updated_at.as_deref())
        .and_then(|t| {
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
        });
    let stale = stored.config.enabled && is_stale(since, now, state.stale_after_hours);
    let degraded = stored.last_result.as_ref().is_some_and(|r| !r.ok)
        || stored
            .last_verification
            .as_ref()
            .is_some_and(|v| !v.verification.ok);
    let status = match (stale, degraded) {
        (true, _) => "stale",
        (false, true) => "degraded",
        (false, false) => "ok",
    };
    let deliveries = state.notifier.last_deliveries();
    let detail = admin.map(|_| HealthDetail {
        last_scheduled_run: stored.last_result.clone().map(|mut run| {
            run.error = run.error.map(|e| state.redactor.redact(&e));
            run
        }),
        schedule: HealthSchedule {
            enabled: stored.config.enabled,
            next_run_at: stored.config.next_run_at.clone(),
        },
        last_verification: stored.last_verification.clone().map(|mut run| {
            run.verification.error = run.verification.error.map(|e| state.redactor.redact(&e));
            run
        }),
        deliveries: deliveries
            .iter()
            .map(|d| ChannelDelivery {
                channel: d.channel.clone(),
                target: d.target.clone(),
                event: d.event.clone(),
                ok: d.ok,
                attempts: d.attempts,
                error: d.error.as_ref().map(|e| state.redactor.redact(e)),
                at: crate::convert::iso_millis(d.at),
            })
            .collect(),
    });
    Json(Health {
        status: status.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        last_success_at: stored.last_success_at,
        stale,
        stale_after_hours: state.stale_after_hours,
        last_verification_ok: stored.last_verification.map(|v| v.verification.ok),
        notifications: by_channel(
            deliveries
                .iter()
                .map(|d| (d.channel.as_str(), d.ok, d.attempts)),
        ),
        detail,
    })
}

/// One entry per channel: ok when every target's last delivery was, the most attempts.
fn by_channel<'a>(deliveries: impl Iterator<Item = (&'a str, bool, u32)>) -> Vec<ChannelHealth> {
    let mut channels: BTreeMap<&str, (bool, u32)> = BTreeMap::new();
    for (channel, ok, attempts) in deliveries {
        let entry = channels.entry(channel).or_insert((true, 0));
        entry.0 &= ok;
        entry.1 = entry.1.max(attempts);
    }
    channels
        .into_iter()
        .map(|(channel, (ok, attempts))| ChannelHealth {
            channel: channel.to_owned(),
            ok,
            attempts,
        })
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_are_summed_up_without_their_targets() {
        let summary =
            by_channel([("smtp", true, 1), ("webhook", true, 2), ("smtp", false, 4)].into_iter());
        assert_eq!(
            summary,
            [
                ChannelHealth {
                    channel: "smtp".into(),
                    ok: false,
                    attempts: 4
                },
                ChannelHealth {
                    channel: "webhook".into(),
                    ok: true,
                    attempts: 2
                },
            ]
        );
    }
}
