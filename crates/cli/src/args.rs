//! The command line: subcommands and flags, parsed by clap.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use rythm_backup_core::{Compression, DumpFormat};

/// Back up, list, download, restore, verify and prune PostgreSQL backups kept in Azure Blob
/// Storage or a local folder.
///
/// Configuration comes from the environment: DATABASE_URL, AZURE_STORAGE_CONNECTION_STRING,
/// AZURE_BACKUP_CONTAINER (default database-backups), BACKUP_DIR (local folder when no Azure
/// connection string is set), RETENTION_DAYS (default 10), LOG_LEVEL.
#[derive(Debug, Parser)]
#[command(name = "rythm-backup", version, propagate_version = true)]
pub struct Cli {
    /// Print machine-readable JSON on stdout (errors as {"code","message"} on stderr).
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Dump the database into storage, then apply retention.
    Backup {
        /// plain (SQL, the default) or custom (pg_dump -Fc).
        #[arg(long, value_parser = parse_format)]
        format: Option<DumpFormat>,
        /// zstd (default), gzip or none.
        #[arg(long, value_parser = parse_compression)]
        compression: Option<Compression>,
    },
    /// List backups, newest first.
    List,
    /// Download a backup to a local file, verifying its checksum.
    Download {
        name: String,
        /// The file to write, or a folder to write it into under its own name (default: the
        /// current folder).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Restore a backup into a database, replacing its contents, in one transaction.
    #[command(group(clap::ArgGroup::new("source").required(true).args(["name", "file"])))]
    Restore {
        /// A stored backup's name.
        name: Option<String>,
        /// A local backup file instead (works offline, without storage).
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
        /// The database to restore into: a name on the configured server, or a
        /// postgresql:// URL (prefer no password in it: the configured one is reused for the
        /// same server and user, else set PGPASSWORD-free TARGET_DATABASE_URL).
        #[arg(
            long,
            value_name = "URL|NAME",
            env = "TARGET_DATABASE_URL",
            hide_env_values = true
        )]
        target_db: Option<String>,
        /// Create the target database when it does not exist.
        #[arg(long)]
        create: bool,
        /// The target database's name, repeated to confirm that its contents will be replaced.
        #[arg(long, value_name = "DBNAME", required = true)]
        confirm: String,
        /// Do not take a safety backup of the target first.
        #[arg(long)]
        no_safety_backup: bool,
        /// End other sessions connected to the target instead of refusing.
        #[arg(long)]
        terminate_connections: bool,
    },
    /// Delete a backup.
    Delete {
        name: String,
        /// Confirm the deletion.
        #[arg(long, required = true)]
        yes: bool,
    },
    /// Delete backups older than RETENTION_DAYS (never the newest).
    Prune {
        /// Only show what would be deleted.
        #[arg(long)]
        dry_run: bool,
    },
    /// Restore a backup into a temporary database and report its tables' row counts.
    Verify { name: String },
}

fn parse_format(s: &str) -> Result<DumpFormat, String> {
    s.parse()
}

fn parse_compression(s: &str) -> Result<Compression, String> {
    s.parse()
}
