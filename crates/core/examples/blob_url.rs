//! Benchmark helper (bench/run.sh): prints the URL of a blob with a read-only account SAS,
//! for fetching it with a plain HTTP client (curl) as a baseline.
//!
//!     AZURE_STORAGE_CONNECTION_STRING=... cargo run --release -p rythm-backup-core \
//!         --example blob_url -- CONTAINER BLOB_NAME
//!
//! The engine's SAS signer (`connection::account_sas`) is crate-private, so this signs its
//! own account SAS (services b, resource type o, permission r, valid one hour) from the
//! connection string's AccountKey, following the documented string-to-sign for 2020-12-06+.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rythm_backup_core::storage::azure::AzureConnection;
use sha2::Sha256;
use time::OffsetDateTime;

const SAS_VERSION: &str = "2022-11-02";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [container, blob] = args.as_slice() else {
        return Err("usage: blob_url CONTAINER BLOB_NAME".into());
    };
    let conn = std::env::var("AZURE_STORAGE_CONNECTION_STRING")
        .map_err(|_| "AZURE_STORAGE_CONNECTION_STRING is not set")?;
    let parsed = AzureConnection::parse(&conn)?;
    let key = conn
        .split(';')
        .filter_map(|part| part.trim().split_once('='))
        .filter(|(k, _)| k.trim().eq_ignore_ascii_case("AccountKey"))
        .map(|(_, v)| v.trim().to_owned())
        .last()
        .ok_or("the connection string has no AccountKey to sign a SAS with")?;
    let key = BASE64.decode(key)?;

    let expiry = OffsetDateTime::now_utc() + time::Duration::hours(1);
    let expiry = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        expiry.year(),
        u8::from(expiry.month()),
        expiry.day(),
        expiry.hour(),
        expiry.minute(),
        expiry.second()
    );
    let (permissions, services, resource_types, protocol) = ("r", "b", "o", "https,http");
    let string_to_sign = [
        parsed.account(),
        permissions,
        services,
        resource_types,
        "", // start
        &expiry,
        "", // ip
        protocol,
        SAS_VERSION,
        "", // encryption scope
        "",
    ]
    .join("\n");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key)?;
    mac.update(string_to_sign.as_bytes());
    let signature = BASE64.encode(mac.finalize().into_bytes());
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("sv", SAS_VERSION)
        .append_pair("ss", services)
        .append_pair("srt", resource_types)
        .append_pair("sp", permissions)
        .append_pair("se", &expiry)
        .append_pair("spr", protocol)
        .append_pair("sig", &signature)
        .finish();
    let mut url = url::Url::parse(&parsed.service_url())?;
    url.path_segments_mut()
        .map_err(|()| "the blob endpoint cannot hold a path")?
        .pop_if_empty()
        .push(container)
        .push(blob);
    url.set_query(Some(&query));
    println!("{url}");
    Ok(())
}
