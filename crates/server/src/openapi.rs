//! The OpenAPI document's frame: title, the bearer scheme and the tags. The paths and
//! schemas come from the handlers' `#[utoipa::path]` annotations (see `routes`), so the
//! document served at `/api/openapi.json` is the implementation's.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "RYTHM Backup Admin",
        description = "PostgreSQL backups in Azure Blob Storage or a local folder: the RYTHM \
                       platform's backup API, a compatible superset. Every backup route needs \
                       `Authorization: Bearer TOKEN` of a `system_admin` (see /api/auth/login). \
                       A credential in the query string (`?token=`, `?access_token=`, \
                       `?jwt=`, ...) is refused with 401 on every route."
    ),
    modifiers(&BearerScheme),
    tags(
        (name = "auth", description = "Logging in"),
        (name = "backups", description = "Creating, listing, downloading, restoring and deleting backups"),
        (name = "schedule", description = "The daily scheduled backup"),
        (name = "health", description = "Health and this document"),
    )
)]
pub struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}
