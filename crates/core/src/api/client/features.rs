//! What a backup server does around a restore, read from the OpenAPI document it serves:
//! ours describes a restore body with `skipSafetyBackup`, `terminateConnections`,
//! `confirm` and the partial restore's `tables`, an answer with `safetyBackup`, and
//! `contents` and `restore-role` routes; the RYTHM platform serves no such document, reads
//! no body, takes no safety backup and has none of them. Only a 404 means "no document";
//! any other failure (a proxy's 502 or 503 in front of our server) is an error, so that a
//! server that does take a safety backup is never described as one that does not.
//! Remembered once known.

use reqwest::StatusCode;
use serde_json::Value;

use super::ApiClient;
use crate::api::error::{error_text, from_transport, ApiError};
use crate::backups::RestoreFeatures;
use crate::error::Result;

impl ApiClient {
    /// The server's restore features (cached after the first answer).
    pub async fn restore_features(&self) -> Result<RestoreFeatures> {
        let features = self
            .features
            .get_or_try_init(|| async {
                let url = self.endpoint(&["api", "openapi.json"]);
                let response = self
                    .http
                    .get(url)
                    .send()
                    .await
                    .map_err(|e| from_transport(&self.server, &e))?;
                let status = response.status();
                if status == StatusCode::NOT_FOUND {
                    tracing::debug!(server = %self.server,
                        "no OpenAPI document: a server without restore options");
                    return Ok::<_, crate::Error>(RestoreFeatures::NONE);
                }
                if !status.is_success() {
                    let body = response.bytes().await.unwrap_or_default();
                    let (message, _) = error_text(status, &body);
                    return Err(ApiError::Server {
                        server: self.server.clone(),
                        status: status.as_u16(),
                        message: format!(
                            "its OpenAPI document, which says what a restore does there, could \
                             not be read ({message}); try again"
                        ),
                    }
                    .into());
                }
                let document: Value = response.json().await.unwrap_or(Value::Null);
                Ok(from_openapi(&document))
            })
            .await?;
        Ok(*features)
    }
}

/// Where our server says which role its restores run as.
pub(super) const ROLE_PATH: &str = "/api/backups/restore-role";

/// The contents route, as an OpenAPI document names it.
const CONTENTS_PATH: &str = "/api/backups/{name}/contents";

/// The features an OpenAPI document describes; none for anything else.
pub fn from_openapi(document: &Value) -> RestoreFeatures {
    let schemas = &document["components"]["schemas"];
    let has = |schema: &str, property: &str| {
        schemas[schema]["properties"]
            .as_object()
            .is_some_and(|p| p.contains_key(property))
    };
    RestoreFeatures {
        safety_backup: has("ActionResponse", "safetyBackup"),
        skip_safety_backup: has("RestoreRequestBody", "skipSafetyBackup"),
        terminate_connections: has("RestoreRequestBody", "terminateConnections"),
        checks_confirmation: has("RestoreRequestBody", "confirm"),
        reports_role: document["paths"]
            .as_object()
            .is_some_and(|paths| paths.contains_key(ROLE_PATH)),
        partial_restore: has("RestoreRequestBody", "tables") && has("ActionResponse", "partial"),
        contents: document["paths"]
            .as_object()
            .is_some_and(|paths| paths.contains_key(CONTENTS_PATH)),
        whole_tables: has("RestoreRequestBody", "wholeTables"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn features_come_from_the_documented_bodies() {
        let ours = json!({"paths": {"/api/backups/restore-role": {},
            "/api/backups/{name}/contents": {}},
            "components": {"schemas": {
            "RestoreRequestBody": {"properties": {"confirm": {}, "skipSafetyBackup": {},
                "terminateConnections": {}, "tables": {}, "wholeTables": {}}},
            "ActionResponse": {"properties": {"success": {}, "safetyBackup": {}, "partial": {}}}}}});
        assert_eq!(from_openapi(&ours), RestoreFeatures::ALL);
        let older = json!({"components": {"schemas": {
            "RestoreRequestBody": {"properties": {"confirm": {}}},
            "ActionResponse": {"properties": {"success": {}}}}}});
        let features = from_openapi(&older);
        assert!(features.checks_confirmation && !features.safety_backup);
        assert!(!features.terminate_connections && !features.skip_safety_backup);
        assert!(!features.partial_restore && !features.contents);
        for other in [
            json!(null),
            json!({"openapi": "3.1.0"}),
            json!("Cannot GET"),
        ] {
            assert_eq!(from_openapi(&other), RestoreFeatures::NONE);
        }
    }
}
