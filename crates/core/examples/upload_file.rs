//! Benchmark helper (bench/run.sh): uploads a local file as one block blob through
//! `AzureStore`, in 4 MiB blocks, uncompressed, the way the seed stored its dumps.
//!
//!     AZURE_STORAGE_CONNECTION_STRING=... cargo run --release -p rythm-backup-core \
//!         --example upload_file -- CONTAINER FILE BLOB_NAME
//!
//! Prints the stored size in bytes on stdout.

use std::collections::BTreeMap;
use std::io::Read;

use bytes::Bytes;
use rythm_backup_core::storage::azure::AzureStore;
use rythm_backup_core::storage::BlobStore;
use rythm_backup_core::BackupName;

const BLOCK: usize = 4 * 1024 * 1024;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [container, file, blob] = args.as_slice() else {
        return Err("usage: upload_file CONTAINER FILE BLOB_NAME".into());
    };
    let conn = std::env::var("AZURE_STORAGE_CONNECTION_STRING")
        .map_err(|_| "AZURE_STORAGE_CONNECTION_STRING is not set")?;
    let store = AzureStore::from_connection_string(&conn, container)?;
    let name = BackupName::parse(blob)?;
    store.ensure_ready().await?;
    let mut upload = store.begin_upload(&name).await?;
    let mut input = std::fs::File::open(file)?;
    loop {
        // A fresh buffer per block: put_block keeps a few in flight.
        let mut block = vec![0u8; BLOCK];
        let mut filled = 0;
        while filled < BLOCK {
            match input.read(&mut block[filled..])? {
                0 => break,
                n => filled += n,
            }
        }
        if filled == 0 {
            break;
        }
        block.truncate(filled);
        upload.put_block(Bytes::from(block)).await?;
        if filled < BLOCK {
            break;
        }
    }
    let info = upload.commit(BTreeMap::new()).await?;
    println!("{}", info.size);
    Ok(())
}
