//! `rythm-backup`: the command-line front end of the engine and of the REST server. It
//! parses arguments and hands the command to `commands`, which opens a profile, an API named
//! by the environment or the direct engine, runs one job with a progress bar and Ctrl-C
//! cancellation, and prints the result. Errors: one line on stderr (or `{code, message}` with --json),
//! exit 1; usage errors exit 2.

// `println!`/`eprintln!` for the whole crate (defined before the modules that use them):
// where std's panic when stdout is closed (`rythm-backup list | head -1`), these end the
// process quietly. Whatever the command did is done; nobody reads the rest of its output.
macro_rules! println {
    () => {
        $crate::console::out(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::console::out(format_args!($($arg)*))
    };
}

macro_rules! eprintln {
    () => {
        $crate::console::err(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::console::err(format_args!($($arg)*))
    };
}

mod args;
mod commands;
mod console;
mod logging;
mod open;
mod output;
mod partial_text;
mod progress;
mod prompt;

use std::process::ExitCode;

use clap::Parser;
use rythm_backup_core::error::ErrorReport;
use rythm_backup_core::Cancel;

use args::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The server logs its audit lines and job progress; other commands print results.
    logging::init(if matches!(cli.command, Command::Serve { .. }) {
        "info"
    } else {
        "error"
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the async runtime starts");
    let json = cli.json;
    let result = runtime.block_on(async {
        let cancel = cancel_on_ctrl_c(json);
        commands::run(cli, cancel).await
    });
    match result {
        Ok(true) => ExitCode::SUCCESS,
        // The command ran, and its result is a failure it has already shown.
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            tracing::debug!(code = ?error.code(), error = ?error, "command failed");
            let report = ErrorReport::from(&error);
            if json {
                eprintln!(
                    "{}",
                    serde_json::to_string(&report).expect("reports serialise")
                );
            } else {
                eprintln!("error: {}", one_line(&report.message));
            }
            ExitCode::FAILURE
        }
    }
}

/// The first Ctrl-C (or SIGTERM, as `kill`, systemd and container runtimes send) cancels the
/// running job cleanly; a second Ctrl-C exits at once.
fn cancel_on_ctrl_c(json: bool) -> Cancel {
    let cancel = Cancel::new();
    let token = cancel.clone();
    tokio::spawn(async move {
        let interrupted = tokio::select! {
            result = tokio::signal::ctrl_c() => result.is_ok(),
            _ = terminated() => true,
        };
        if interrupted {
            if !json {
                eprintln!("\nCancelling… (press Ctrl-C again to quit at once)");
            }
            token.cancel();
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        }
    });
    cancel
}

#[cfg(unix)]
async fn terminated() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            term.recv().await;
        }
        Err(_) => std::future::pending::<()>().await,
    }
}

#[cfg(not(unix))]
async fn terminated() {
    std::future::pending::<()>().await
}

/// A multi-line message (a tool's stderr) as one line for the terminal.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}
