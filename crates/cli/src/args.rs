//! The command line: subcommands and flags, parsed by clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use rythm_backup_core::jobs::partial::SelectionText;
use rythm_backup_core::{Compression, DumpFormat};

/// Back up, list, download, restore, verify and prune PostgreSQL backups kept in Azure Blob
/// Storage or a local folder, directly or through a backup REST API.
///
/// Without --profile, configuration comes from the environment: DATABASE_URL,
/// AZURE_STORAGE_CONNECTION_STRING, AZURE_BACKUP_CONTAINER (default database-backups),
/// BACKUP_DIR (local folder when no Azure connection string is set), RETENTION_DAYS (default
/// 10), BACKUP_SHARED_WITH_PLATFORM (the Azure container is the RYTHM platform's too: plain,
/// uncompressed .sql it lists and restores), LOG_LEVEL; or, for a REST API, BACKUP_API_URL
/// with BACKUP_API_TOKEN or BACKUP_API_EMAIL and BACKUP_API_PASSWORD.
#[derive(Debug, Parser)]
#[command(name = "rythm-backup", version, propagate_version = true)]
pub struct Cli {
    /// Print machine-readable JSON on stdout (errors as {"code","message"} on stderr).
    #[arg(long, global = true)]
    pub json: bool,

    /// Use a saved connection profile (see `rythm-backup profile`).
    #[arg(long, global = true, env = "RYTHM_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Dump the database into storage, then apply retention.
    Backup {
        /// plain (SQL, the default) or custom (pg_dump -Fc). Direct mode only; a container
        /// shared with the RYTHM platform takes plain only.
        #[arg(long, value_parser = parse_format)]
        format: Option<DumpFormat>,
        /// zstd (default), gzip or none. Direct mode only; a container shared with the RYTHM
        /// platform takes none only.
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
    /// Restore a backup into a database, replacing its contents, in one transaction; or only
    /// chosen tables (--table) or one tenant's rows (--tenant), or copies (--into-schema).
    #[command(group(clap::ArgGroup::new("source").required(true).args(["name", "file"])))]
    Restore(RestoreArgs),
    /// List what a backup holds: schemas, tables with exact row counts and data sizes,
    /// sequences, views, materialized views, functions, types, extensions, and rows per
    /// tenant. Reads the backup once; needs no database.
    #[command(group(clap::ArgGroup::new("source").required(true).args(["name", "file"])))]
    Contents {
        /// A stored backup's name.
        name: Option<String>,
        /// A local backup file instead (works offline). Direct mode.
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
        /// Count each tenant's rows by this column.
        #[arg(long, value_name = "COLUMN", default_value = "tenant_id")]
        tenant_column: String,
    },
    /// Delete a backup.
    Delete {
        name: String,
        /// Confirm the deletion.
        #[arg(long, required = true)]
        yes: bool,
    },
    /// Delete backups older than the retention period (never the newest). Direct mode.
    Prune {
        /// Only show what would be deleted.
        #[arg(long)]
        dry_run: bool,
    },
    /// Rehearse a restore: restore a backup into a scratch database (VERIFY_DATABASE_URL's
    /// server, else a temporary database on the backed-up one), compare every table's rows
    /// with those recorded at backup time, record the result. Exit 1 when it fails.
    #[command(group(clap::ArgGroup::new("which").required(true).args(["name", "latest"])))]
    Verify {
        name: Option<String>,
        /// Verify the newest backup (for cron).
        #[arg(long)]
        latest: bool,
    },
    /// Last backup and its age, last successful verification, and whether backups are stale
    /// (none for STALE_AFTER_HOURS, default 26). Exit 1 when stale (for monitoring).
    Status,
    /// Notifications (e-mail through SMTP or Azure Communication Services, a webhook).
    Notify {
        #[command(subcommand)]
        action: NotifyAction,
    },
    /// Show or change the server's daily backup schedule (API mode).
    Schedule {
        #[command(subcommand)]
        action: ScheduleAction,
    },
    /// Manage connection profiles (secrets go to the OS keychain, or the encrypted file).
    Profile {
        #[command(subcommand)]
        action: ProfileAction,
    },
    /// Where the profiles' secrets are kept (the OS keychain, or an encrypted file when none
    /// is reachable); move them into the OS keychain; change the file's master password.
    Secrets {
        #[command(subcommand)]
        action: SecretsAction,
    },
    /// Sign in to an API profile's server; the token is kept in the OS keychain.
    Login {
        /// Read the password from stdin instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Forget an API profile's sign-in.
    Logout,
    /// Run the backup REST API server.
    Serve {
        /// Address to listen on (default 127.0.0.1:8080, or LISTEN_ADDR).
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Manage the server's administrators (an argon2 file; ADMINS_FILE overrides its path).
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A stored backup's name.
    pub name: Option<String>,
    /// A local backup file instead (works offline, without storage). Direct mode.
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// The database to restore into: a name on the configured server, or a postgresql://
    /// URL (the configured password is reused for the same server and user). Direct mode.
    #[arg(
        long,
        value_name = "URL|NAME",
        env = "TARGET_DATABASE_URL",
        hide_env_values = true
    )]
    pub target_db: Option<String>,
    /// Create the target database when it does not exist. Direct mode.
    #[arg(long)]
    pub create: bool,
    /// The target database's name, repeated to confirm that its contents will be replaced.
    /// In API mode, when the server has not said which database it restores into (the RYTHM
    /// platform names it only when it creates a backup, which a profile then remembers), the
    /// backup's own name instead. Checked here before anything is sent. Not needed with
    /// --dry-run.
    #[arg(long, value_name = "DBNAME|NAME", required_unless_present = "dry_run")]
    pub confirm: Option<String>,
    /// Do not take a safety backup of the target first. (A server that takes none, such as
    /// the RYTHM platform, takes none anyway: download a backup of the current state first.)
    #[arg(long)]
    pub no_safety_backup: bool,
    /// End other sessions connected to the target instead of refusing. In API mode the
    /// server must offer it (ours does; the RYTHM platform does not). A partial restore runs
    /// beside other sessions and needs none ended.
    #[arg(long)]
    pub terminate_connections: bool,
    /// Restore only this table (SCHEMA.TABLE; repeat for more): its rows are replaced with
    /// the backup's, in foreign-key order; it is created (with its types, indexes,
    /// constraints, triggers, policies and grants) when missing. Rows of other tables that
    /// would reference removed rows make the restore fail (see --cascade-to-referencing).
    #[arg(long = "table", value_name = "SCHEMA.TABLE")]
    pub tables: Vec<String>,
    /// Beside --tenant or --where: restore this table whole (SCHEMA.TABLE; repeat for more),
    /// every row, while the others get only the tenant's or the condition's rows. A partial
    /// restore's roll back uses it for the tables --cascade-to-referencing changed.
    #[arg(long = "whole-table", value_name = "SCHEMA.TABLE")]
    pub whole_tables: Vec<String>,
    /// Restore only this tenant's rows, in every table with the tenant column (or only the
    /// --table ones). Other tenants' rows are untouched.
    #[arg(long, value_name = "ID")]
    pub tenant: Option<String>,
    /// The tenant column (default tenant_id).
    #[arg(long, value_name = "COLUMN", requires = "tenant")]
    pub tenant_column: Option<String>,
    /// Restore only the rows of the --table(s) that match this SQL condition (one
    /// expression; checked by PostgreSQL against each table, and refused with a `;`, a
    /// volatile function or a function of the database's own, before anything changes).
    #[arg(
        long = "where",
        value_name = "SQL",
        requires = "tables",
        conflicts_with = "tenant"
    )]
    pub where_sql: Option<String>,
    /// Put copies of the chosen tables (or of the whole backup) into this new schema
    /// instead; the originals are untouched.
    #[arg(long, value_name = "SCHEMA")]
    pub into_schema: Option<String>,
    /// Report per table what a partial restore would delete, insert and leave as it is;
    /// change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Delete rows of other tables that would reference rows the restore removes (and
    /// count them) instead of failing.
    #[arg(long)]
    pub cascade_to_referencing: bool,
}

impl RestoreArgs {
    /// The partial restore's choice, as typed (the engine reads and checks it).
    pub fn selection_text(&self) -> SelectionText {
        SelectionText {
            tables: self.tables.clone(),
            whole_tables: self.whole_tables.clone(),
            tenant: self.tenant.clone(),
            tenant_column: self.tenant_column.clone(),
            where_sql: self.where_sql.clone(),
            into_schema: self.into_schema.clone(),
            cascade_to_referencing: self.cascade_to_referencing,
            dry_run: self.dry_run,
        }
    }

    /// Whether a partial restore is asked for.
    pub fn is_partial(&self) -> bool {
        self.selection_text().is_partial()
    }
}

#[derive(Debug, Subcommand)]
pub enum NotifyAction {
    /// Send a test message through every configured channel and report each one's result;
    /// exit 1 when any failed.
    Test,
}

#[derive(Debug, Subcommand)]
pub enum ScheduleAction {
    /// Show the schedule.
    Show,
    /// Change the schedule.
    Set {
        /// Turn the daily backup on or off.
        #[arg(long, required = true, action = clap::ArgAction::Set, value_name = "true|false")]
        enabled: bool,
        /// Time of day in UTC, HH:MM or HH:MM:SS (sent as HH:MM:SS, which every server takes).
        #[arg(long, value_name = "HH:MM")]
        time: Option<String>,
        /// Days to keep backups (1-90). Checked before anything is sent.
        #[arg(long, value_name = "DAYS")]
        retention_days: Option<u32>,
        /// Rehearse a restore of each scheduled backup (our server).
        #[arg(long, action = clap::ArgAction::Set, value_name = "true|false")]
        verify_after_backup: Option<bool>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProfileAction {
    /// Add or replace a profile. API mode: --api-url and --email (then `login`). Direct
    /// mode: --database-url without a password (it is asked for and kept in the keychain)
    /// and --backup-dir or --azure-container (the connection string is taken from
    /// AZURE_STORAGE_CONNECTION_STRING or asked for).
    Add(ProfileAddArgs),
    /// List profiles.
    List,
    /// Show one profile (never its secrets).
    Show { name: String },
    /// Remove a profile and its keychain entries.
    Remove { name: String },
    /// Set where a profile's notifications go (instead of the environment's SMTP_*,
    /// ACS_*, NOTIFY_* variables). Secrets are read from stdin or the environment and kept
    /// in the keychain.
    Notify(ProfileNotifyArgs),
}

#[derive(Debug, Args)]
pub struct ProfileNotifyArgs {
    pub name: String,
    /// Remove the profile's notification settings (and their secrets).
    #[arg(long, conflicts_with_all = ["on", "email_to", "smtp_host", "acs_sender", "webhook", "webhook_url_stdin"])]
    pub off: bool,
    /// failure (default), all or never.
    #[arg(long, value_name = "WHEN")]
    pub on: Option<String>,
    /// Recipients of e-mail, comma separated.
    #[arg(long, value_name = "ADDRESSES")]
    pub email_to: Option<String>,
    #[arg(long)]
    pub smtp_host: Option<String>,
    #[arg(long)]
    pub smtp_port: Option<u16>,
    /// starttls (default), tls, or none (only to this machine).
    #[arg(long)]
    pub smtp_tls: Option<String>,
    #[arg(long)]
    pub smtp_username: Option<String>,
    #[arg(long, value_name = "ADDRESS")]
    pub smtp_from: Option<String>,
    /// A PEM file of CAs to trust for the SMTP server besides the system's.
    #[arg(long, value_name = "PEM")]
    pub smtp_ca_file: Option<PathBuf>,
    /// Read the SMTP password from stdin (else SMTP_PASSWORD, else the stored one).
    #[arg(long)]
    pub smtp_password_stdin: bool,
    /// Azure Communication Services' sender address; the connection string comes from
    /// ACS_CONNECTION_STRING (kept in the keychain).
    #[arg(long, value_name = "ADDRESS")]
    pub acs_sender: Option<String>,
    /// Set up a webhook. Its URL is a secret (Slack's and Teams' carry their key in the
    /// path): it is taken from NOTIFY_WEBHOOK_URL, else asked for without echo (or read
    /// from stdin), kept in the keychain and never printed whole. NOTIFY_WEBHOOK_SECRET,
    /// if set, signs the bodies.
    #[arg(long)]
    pub webhook: bool,
    /// Read the webhook's URL from stdin (implies --webhook).
    #[arg(long, conflicts_with = "smtp_password_stdin")]
    pub webhook_url_stdin: bool,
    /// Refused: a URL on the command line ends up in the shell's history and the process
    /// list. Use --webhook.
    #[arg(long, value_name = "URL", hide = true)]
    pub webhook_url: Option<String>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("mode").required(true).args(["api_url", "database_url"])))]
pub struct ProfileAddArgs {
    pub name: String,
    /// API mode: the server's base URL (e.g. https://rythm.example.com).
    #[arg(long, requires = "email")]
    pub api_url: Option<String>,
    /// API mode: the admin account's email.
    #[arg(long)]
    pub email: Option<String>,
    /// Direct mode: postgresql://USER@HOST:PORT/DB[?sslmode=...], without a password.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Direct mode: keep backups in this local folder.
    #[arg(long, conflicts_with = "azure_container")]
    pub backup_dir: Option<PathBuf>,
    /// Direct mode: keep backups in this Azure container.
    #[arg(long)]
    pub azure_container: Option<String>,
    /// Direct mode: the Azure container is shared with the RYTHM platform. Backups are then
    /// plain, uncompressed .sql that its admin page lists and restores, about three times the
    /// size of compressed ones.
    #[arg(long, requires = "azure_container")]
    pub shared_with_platform: bool,
    /// Read the database password from stdin instead of prompting (direct mode).
    #[arg(long)]
    pub password_stdin: bool,
    #[arg(long)]
    pub retention_days: Option<u32>,
    #[arg(long, value_parser = parse_format)]
    pub format: Option<DumpFormat>,
    #[arg(long, value_parser = parse_compression)]
    pub compression: Option<Compression>,
}

/// The encrypted file's master password comes from `RYTHM_MASTER_PASSWORD_FILE` or a prompt
/// on the terminal.
#[derive(Debug, Subcommand)]
pub enum SecretsAction {
    /// Say which store holds the secrets, and why.
    Status,
    /// Move every secret of the encrypted file into the OS keychain, then delete the file
    /// (all or nothing).
    MoveToKeychain,
    /// Re-encrypt the encrypted file under a new master password (asked twice, or read from
    /// stdin).
    ChangeMasterPassword {
        /// Read the new master password from stdin instead of prompting.
        #[arg(long)]
        new_password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminAction {
    /// Add an administrator, or change their password (asked for, or read from stdin). A new
    /// password ends the admin's earlier tokens on a running server at once.
    Add {
        email: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Remove an administrator; their tokens stop working on a running server at once.
    Remove { email: String },
    /// End every token issued to an administrator so far (they log in again); the password
    /// stays.
    Revoke { email: String },
    /// List administrators' emails.
    List,
}

fn parse_format(s: &str) -> Result<DumpFormat, String> {
    s.parse()
}

fn parse_compression(s: &str) -> Result<Compression, String> {
    s.parse()
}
