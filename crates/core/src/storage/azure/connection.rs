//! Azure connection strings: parsing every usual form of `AZURE_STORAGE_CONNECTION_STRING`
//! into a blob service URL plus credentials, and signing account SAS tokens from an account
//! key (the SDK accepts only a SAS in the URL or an Entra ID token, not shared keys).

use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::OffsetDateTime;
use url::Url;

use crate::storage::StorageError;

/// The account of the storage emulator (Azurite) and its published, well-known key.
const DEV_ACCOUNT: &str = "devstoreaccount1";
const DEV_ACCOUNT_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const DEV_BLOB_ENDPOINT: &str = "http://127.0.0.1:10000/devstoreaccount1";
const DEV_BLOB_PORT: u16 = 10000;

/// The SAS version we sign. From 2020-12-06 on, the account-SAS string-to-sign carries an
/// encryption-scope line; Azure and Azurite both accept this version.
pub(crate) const SAS_VERSION: &str = "2022-11-02";

/// A secret string (account key, SAS token) that never shows up in Debug output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// How requests are authorised.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// A SAS token given in the connection string, used as-is (query string without `?`).
    Sas(Secret),
    /// The account key (base64, as Azure shows it): an account SAS is signed from it.
    AccountKey(Secret),
}

/// A parsed connection string: where the blob service is and how to authorise.
#[derive(Debug, Clone)]
pub struct AzureConnection {
    account: String,
    endpoint: Url,
    credentials: Credentials,
}

impl AzureConnection {
    /// Parses a connection string in any of the usual forms: account name and key (with
    /// optional protocol and endpoint suffix), `BlobEndpoint` with a SAS or with an account
    /// name and key, and `UseDevelopmentStorage=true` (optionally with
    /// `DevelopmentStorageProxyUri`).
    pub fn parse(conn: &str) -> Result<Self, StorageError> {
        let fields = Fields::parse(conn)?;

        if let Some(dev) = fields.get("usedevelopmentstorage") {
            if !dev.eq_ignore_ascii_case("true") {
                return Err(config(format!(
                    "UseDevelopmentStorage must be \"true\" when present, not {dev:?}"
                )));
            }
            let endpoint = match fields.get("developmentstorageproxyuri") {
                None => parse_endpoint(DEV_BLOB_ENDPOINT, "the development storage endpoint")?,
                Some(proxy) => {
                    let mut url = parse_endpoint(proxy, "DevelopmentStorageProxyUri")?;
                    url.set_port(Some(DEV_BLOB_PORT))
                        .map_err(|()| config("DevelopmentStorageProxyUri cannot take a port"))?;
                    url.set_path(DEV_ACCOUNT);
                    url
                }
            };
            return Ok(AzureConnection {
                account: DEV_ACCOUNT.to_owned(),
                endpoint,
                credentials: Credentials::AccountKey(Secret::new(DEV_ACCOUNT_KEY)),
            });
        }

        let account_name = fields.get("accountname").filter(|a| !a.is_empty());
        let endpoint = match fields.get("blobendpoint") {
            Some(endpoint) => parse_endpoint(endpoint, "BlobEndpoint")?,
            None => {
                let Some(account) = account_name else {
                    return Err(config(
                        "the connection string names neither AccountName nor BlobEndpoint",
                    ));
                };
                let protocol = fields.get("defaultendpointsprotocol").unwrap_or("https");
                if !protocol.eq_ignore_ascii_case("https") && !protocol.eq_ignore_ascii_case("http")
                {
                    return Err(config(format!(
                        "DefaultEndpointsProtocol must be https or http, not {protocol:?}"
                    )));
                }
                let suffix = fields.get("endpointsuffix").unwrap_or("core.windows.net");
                let raw = format!(
                    "{}://{account}.blob.{suffix}",
                    protocol.to_ascii_lowercase()
                );
                parse_endpoint(
                    &raw,
                    "the endpoint built from AccountName and EndpointSuffix",
                )?
            }
        };

        let credentials = if let Some(sas) = fields.get("sharedaccesssignature") {
            let sas = sas.trim_start_matches('?');
            if sas.is_empty() {
                return Err(config("SharedAccessSignature is empty"));
            }
            Credentials::Sas(Secret::new(sas))
        } else if let Some(key) = fields.get("accountkey") {
            if account_name.is_none() {
                return Err(config(
                    "the connection string has an AccountKey but no AccountName",
                ));
            }
            decode_key(key)?;
            Credentials::AccountKey(Secret::new(key))
        } else {
            return Err(config(
                "the connection string has no credentials: add AccountKey (with AccountName) \
                 or SharedAccessSignature",
            ));
        };

        let account = match account_name {
            Some(account) => account.to_owned(),
            None => account_from_endpoint(&endpoint),
        };
        Ok(AzureConnection {
            account,
            endpoint,
            credentials,
        })
    }

    /// The storage account's name (for display; never a secret).
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The blob service URL without credentials and without a trailing `/`.
    pub fn service_url(&self) -> String {
        self.endpoint.as_str().trim_end_matches('/').to_owned()
    }

    /// Whether the credentials are a key from which fresh SAS tokens can be signed.
    pub fn signs_its_own_sas(&self) -> bool {
        matches!(self.credentials, Credentials::AccountKey(_))
    }

    /// The URL of `container` carrying a SAS: the given one, or one signed now from the key
    /// and valid until `expiry`.
    pub(crate) fn container_url(
        &self,
        container: &str,
        expiry: OffsetDateTime,
    ) -> Result<Url, StorageError> {
        let mut url = self.endpoint.clone();
        url.path_segments_mut()
            .map_err(|()| config("the blob endpoint cannot hold a container path"))?
            .pop_if_empty()
            .push(container);
        let sas = match &self.credentials {
            Credentials::Sas(sas) => sas.expose().to_owned(),
            Credentials::AccountKey(key) => {
                let https_only = self.endpoint.scheme() == "https";
                account_sas(
                    &self.account,
                    &decode_key(key.expose())?,
                    expiry,
                    https_only,
                )
            }
        };
        url.set_query(Some(&sas));
        Ok(url)
    }
}

impl AzureConnection {
    /// The URL of one blob carrying a SAS valid until `expiry` (for tools such as curl).
    /// The URL is a credential: never log or show it.
    pub fn blob_url_with_sas(
        &self,
        container: &str,
        blob: &str,
        expiry: OffsetDateTime,
    ) -> Result<Secret, StorageError> {
        let mut url = self.container_url(container, expiry)?;
        url.path_segments_mut()
            .map_err(|()| config("the blob endpoint cannot hold a blob path"))?
            .push(blob);
        Ok(Secret::new(url.to_string()))
    }
}

/// Signs an account SAS for the blob service (services `b`, resource types `sco`,
/// permissions `rwdlac`) and returns it as a query string without `?`.
pub(crate) fn account_sas(
    account: &str,
    key: &[u8],
    expiry: OffsetDateTime,
    https_only: bool,
) -> String {
    let expiry = format_sas_time(expiry);
    let protocol = if https_only { "https" } else { "https,http" };
    let (permissions, services, resource_types) = ("rwdlac", "b", "sco");
    // No start time: a start in the future (clock skew) would make the SAS fail at first.
    let string_to_sign = account_sas_string_to_sign(&SasFields {
        account,
        permissions,
        services,
        resource_types,
        start: "",
        expiry: &expiry,
        ip: "",
        protocol,
        version: SAS_VERSION,
        encryption_scope: "",
    });
    let signature = sign(key, &string_to_sign);
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("sv", SAS_VERSION)
        .append_pair("ss", services)
        .append_pair("srt", resource_types)
        .append_pair("sp", permissions)
        .append_pair("se", &expiry)
        .append_pair("spr", protocol)
        .append_pair("sig", &signature)
        .finish()
}

/// The fields of an account SAS, in the order the string-to-sign lists them.
pub(crate) struct SasFields<'a> {
    pub account: &'a str,
    pub permissions: &'a str,
    pub services: &'a str,
    pub resource_types: &'a str,
    pub start: &'a str,
    pub expiry: &'a str,
    pub ip: &'a str,
    pub protocol: &'a str,
    pub version: &'a str,
    pub encryption_scope: &'a str,
}

/// The documented account-SAS string-to-sign for versions 2020-12-06 and later: one line per
/// field, the encryption scope included, and a final newline.
pub(crate) fn account_sas_string_to_sign(f: &SasFields<'_>) -> String {
    [
        f.account,
        f.permissions,
        f.services,
        f.resource_types,
        f.start,
        f.expiry,
        f.ip,
        f.protocol,
        f.version,
        f.encryption_scope,
        "",
    ]
    .join("\n")
}

/// HMAC-SHA256 of `text` under `key`, base64-encoded.
pub(crate) fn sign(key: &[u8], text: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(text.as_bytes());
    BASE64.encode(mac.finalize().into_bytes())
}

/// `YYYY-MM-DDThh:mm:ssZ`, the time format SAS fields use.
fn format_sas_time(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

fn decode_key(key: &str) -> Result<Vec<u8>, StorageError> {
    match BASE64.decode(key.trim()) {
        Ok(bytes) if !bytes.is_empty() => Ok(bytes),
        _ => Err(config("AccountKey is not valid base64")),
    }
}

/// Parses an endpoint URL; rejects anything but a plain http(s) base URL. Errors quote no
/// query string, since a pasted SAS URL would carry its signature there.
fn parse_endpoint(raw: &str, what: &str) -> Result<Url, StorageError> {
    let url = Url::parse(raw.trim()).map_err(|e| config(format!("{what} is not a URL: {e}")))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(config(format!("{what} must be an http or https URL")));
    }
    if url.cannot_be_a_base() || url.host_str().is_none() {
        return Err(config(format!(
            "{what} must be an http or https URL with a host"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(config(format!(
            "{what} must not carry a query string; put a SAS in SharedAccessSignature"
        )));
    }
    let mut url = url;
    let path = url.path().trim_end_matches('/').to_owned();
    url.set_path(&path);
    Ok(url)
}

/// The account name when only an endpoint is given: the first host label of
/// `ACCOUNT.blob.core.windows.net`, or the first path segment of an emulator-style
/// `http://127.0.0.1:10000/ACCOUNT`.
fn account_from_endpoint(endpoint: &Url) -> String {
    if let Some(first) = endpoint.path_segments().and_then(|mut s| s.next()) {
        if !first.is_empty() {
            return first.to_owned();
        }
    }
    let host = endpoint.host_str().unwrap_or_default();
    host.split('.').next().unwrap_or(host).to_owned()
}

fn config(message: impl Into<String>) -> StorageError {
    StorageError::Config(message.into())
}

/// The `key=value` pairs of a connection string; keys are case-insensitive.
struct Fields(Vec<(String, String)>);

impl Fields {
    fn parse(conn: &str) -> Result<Self, StorageError> {
        let mut fields = Vec::new();
        for (index, part) in conn.split(';').enumerate() {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            // Values may contain '=' (base64 keys, SAS tokens): split on the first one only.
            let Some((key, value)) = part.split_once('=') else {
                // The part is not quoted: it could be a stray secret.
                return Err(config(format!(
                    "part {} of the connection string is not KEY=VALUE",
                    index + 1
                )));
            };
            fields.push((key.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
        if fields.is_empty() {
            return Err(config("the Azure connection string is empty"));
        }
        Ok(Fields(fields))
    }

    /// The last value given for `key` (lower case).
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const KEY: &str = DEV_ACCOUNT_KEY;

    fn sas_of(url: &Url) -> Vec<(String, String)> {
        url.query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    fn param<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    const LATER: OffsetDateTime = datetime!(2030-01-02 03:04:05 UTC);

    #[test]
    fn account_key_form_builds_the_public_endpoint_and_signs_a_sas() {
        let conn = AzureConnection::parse(&format!(
            "DefaultEndpointsProtocol=https;AccountName=myacct;AccountKey={KEY};\
             EndpointSuffix=core.windows.net"
        ))
        .unwrap();
        assert_eq!(conn.account(), "myacct");
        assert_eq!(conn.service_url(), "https://myacct.blob.core.windows.net");
        assert!(conn.signs_its_own_sas());
        let url = conn.container_url("backups", LATER).unwrap();
        assert_eq!(url.path(), "/backups");
        let pairs = sas_of(&url);
        assert_eq!(param(&pairs, "sv"), Some(SAS_VERSION));
        assert_eq!(param(&pairs, "ss"), Some("b"));
        assert_eq!(param(&pairs, "srt"), Some("sco"));
        assert_eq!(param(&pairs, "sp"), Some("rwdlac"));
        assert_eq!(param(&pairs, "se"), Some("2030-01-02T03:04:05Z"));
        assert_eq!(param(&pairs, "spr"), Some("https"));
        assert!(param(&pairs, "sig").is_some_and(|s| !s.is_empty()));
    }

    #[test]
    fn defaults_are_https_and_core_windows_net_and_keys_are_case_insensitive() {
        let conn = AzureConnection::parse(&format!("accountname=acct2;ACCOUNTKEY={KEY};")).unwrap();
        assert_eq!(conn.service_url(), "https://acct2.blob.core.windows.net");
        let conn = AzureConnection::parse(&format!(
            "DefaultEndpointsProtocol=http;AccountName=a;AccountKey={KEY};\
             EndpointSuffix=core.chinacloudapi.cn;;"
        ))
        .unwrap();
        assert_eq!(conn.service_url(), "http://a.blob.core.chinacloudapi.cn");
        let pairs = sas_of(&conn.container_url("c", LATER).unwrap());
        assert_eq!(param(&pairs, "spr"), Some("https,http"));
    }

    #[test]
    fn blob_endpoint_with_sas_is_used_as_is() {
        let sas = "sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2030-01-01T00%3A00%3A00Z&sig=abc%2Bdef%3D";
        let conn = AzureConnection::parse(&format!(
            "BlobEndpoint=https://acct3.blob.core.windows.net/;SharedAccessSignature=?{sas}"
        ))
        .unwrap();
        assert_eq!(conn.account(), "acct3");
        assert_eq!(conn.service_url(), "https://acct3.blob.core.windows.net");
        assert!(!conn.signs_its_own_sas());
        let url = conn.container_url("database-backups", LATER).unwrap();
        assert_eq!(url.path(), "/database-backups");
        assert_eq!(url.query(), Some(sas));
        assert_eq!(param(&sas_of(&url), "sig"), Some("abc+def="));
    }

    #[test]
    fn blob_endpoint_with_account_key_keeps_the_path_without_trailing_slash() {
        let conn = AzureConnection::parse(&format!(
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={KEY};\
             BlobEndpoint=http://127.0.0.1:10999/devstoreaccount1/;"
        ))
        .unwrap();
        assert_eq!(conn.account(), "devstoreaccount1");
        assert_eq!(
            conn.service_url(),
            "http://127.0.0.1:10999/devstoreaccount1"
        );
        let url = conn.container_url("conf-1", LATER).unwrap();
        assert_eq!(url.path(), "/devstoreaccount1/conf-1");
        assert_eq!(param(&sas_of(&url), "spr"), Some("https,http"));
    }

    #[test]
    fn development_storage_forms() {
        let conn = AzureConnection::parse("UseDevelopmentStorage=true").unwrap();
        assert_eq!(conn.account(), "devstoreaccount1");
        assert_eq!(
            conn.service_url(),
            "http://127.0.0.1:10000/devstoreaccount1"
        );
        assert!(conn.signs_its_own_sas());

        let conn = AzureConnection::parse(
            "UseDevelopmentStorage=true;DevelopmentStorageProxyUri=http://ipv4.fiddler",
        )
        .unwrap();
        assert_eq!(
            conn.service_url(),
            "http://ipv4.fiddler:10000/devstoreaccount1"
        );

        let err = AzureConnection::parse("UseDevelopmentStorage=false").unwrap_err();
        assert!(matches!(err, StorageError::Config(_)), "{err:?}");
    }

    #[test]
    fn missing_parts_are_clear_config_errors() {
        let key_only = format!("AccountKey={KEY}");
        let endpoint_and_key =
            format!("BlobEndpoint=https://x.blob.core.windows.net;AccountKey={KEY}");
        let cases = [
            ("", "empty"),
            ("   ;  ; ", "empty"),
            ("AccountName=a", "no credentials"),
            (key_only.as_str(), "neither AccountName nor BlobEndpoint"),
            (endpoint_and_key.as_str(), "no AccountName"),
            ("AccountName=a;AccountKey=not base64!!", "not valid base64"),
            (
                "BlobEndpoint=ftp://x;SharedAccessSignature=sig=1",
                "http or https",
            ),
            (
                "BlobEndpoint=nonsense;SharedAccessSignature=sig=1",
                "not a URL",
            ),
            ("AccountName=a;SharedAccessSignature=", "empty"),
            (
                "DefaultEndpointsProtocol=gopher;AccountName=a;SharedAccessSignature=x",
                "https or",
            ),
            ("garbage", "not KEY=VALUE"),
        ];
        for (conn, expected) in cases {
            match AzureConnection::parse(conn) {
                Err(StorageError::Config(message)) => {
                    assert!(message.contains(expected), "{conn:?}: {message}")
                }
                other => panic!("{conn:?}: expected a config error, got {other:?}"),
            }
        }
    }

    #[test]
    fn secrets_never_show_in_debug_or_errors() {
        let key = "c2VjcmV0LWtleS1ieXRlcy0xMjM0NTY3ODkw";
        let conn = AzureConnection::parse(&format!("AccountName=a;AccountKey={key}")).unwrap();
        let debug = format!("{conn:?}");
        assert!(!debug.contains(key), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");

        let sig = "sig=TOPSECRETSIGNATURE";
        let conn = AzureConnection::parse(&format!(
            "BlobEndpoint=https://a.blob.core.windows.net;SharedAccessSignature=sv=1&{sig}"
        ))
        .unwrap();
        assert!(!format!("{conn:?}").contains("TOPSECRET"));

        // Errors about a bad part, a bad key or a SAS pasted into the endpoint quote no secret.
        let bad_key = "TOPSECRET!!notbase64";
        for conn in [
            format!("AccountName=a;AccountKey={bad_key}"),
            format!("BlobEndpoint=https://a.blob.core.windows.net/?{sig};AccountName=a"),
            "AccountName=a;TOPSECRETSIGNATUREWITHOUTANEQUALSSIGN".to_owned(),
        ] {
            let err = AzureConnection::parse(&conn).unwrap_err();
            let text = format!("{err} {err:?}");
            assert!(!text.contains("TOPSECRET"), "{text}");
        }
    }

    /// Known answer: the string-to-sign written out by hand from the documented layout, and
    /// the signature computed independently with `printf '<string>' | openssl dgst -sha256
    /// -mac HMAC -macopt hexkey:<key as hex> -binary | base64`.
    #[test]
    fn account_sas_signature_matches_a_known_answer() {
        let fields = SasFields {
            account: "devstoreaccount1",
            permissions: "rwdlac",
            services: "b",
            resource_types: "sco",
            start: "",
            expiry: "2030-01-02T03:04:05Z",
            ip: "",
            protocol: "https,http",
            version: "2022-11-02",
            encryption_scope: "",
        };
        let expected_string = "devstoreaccount1\nrwdlac\nb\nsco\n\n2030-01-02T03:04:05Z\n\n\
                               https,http\n2022-11-02\n\n";
        assert_eq!(account_sas_string_to_sign(&fields), expected_string);

        let key = BASE64.decode(KEY).unwrap();
        let expected_sig = "Qh3+WzOW1y6ToTeC/kd49AamYMe++VXWL3ppsFGDEEY=";
        assert_eq!(sign(&key, expected_string), expected_sig);

        let query = account_sas("devstoreaccount1", &key, LATER, false);
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        assert_eq!(param(&pairs, "sig"), Some(expected_sig));
    }
}
