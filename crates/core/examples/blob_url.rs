//! Prints the URL of one blob with a SAS valid for an hour, so the benchmark can fetch it
//! with plain `curl` as the baseline for our download.
//!
//!     AZURE_STORAGE_CONNECTION_STRING=... cargo run --example blob_url CONTAINER BLOB_NAME

use rythm_backup_core::storage::azure::connection::AzureConnection;
use time::OffsetDateTime;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [container, blob] = args.as_slice() else {
        return Err("usage: blob_url CONTAINER BLOB_NAME".into());
    };
    let conn = std::env::var("AZURE_STORAGE_CONNECTION_STRING")
        .map_err(|_| "AZURE_STORAGE_CONNECTION_STRING is not set")?;
    let connection = AzureConnection::parse(&conn)?;
    let expiry = OffsetDateTime::now_utc() + time::Duration::hours(1);
    println!(
        "{}",
        connection
            .blob_url_with_sas(container, blob, expiry)?
            .expose()
    );
    Ok(())
}
