//! Draws the engine's `JobEvent`s as an indicatif progress bar on a terminal; draws nothing
//! when stderr is not a terminal or JSON output was asked for.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};
use rythm_backup_core::jobs::Phase;
use rythm_backup_core::{JobEvent, Progress};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A progress sink for the engine and the task drawing it.
pub struct ProgressView {
    pub sink: Progress,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl ProgressView {
    pub fn start(enabled: bool) -> Self {
        let (sender, receiver) = mpsc::unbounded_channel();
        let visible = enabled && std::io::stderr().is_terminal();
        let stop = CancellationToken::new();
        let task = tokio::spawn(draw(receiver, visible, stop.clone()));
        ProgressView {
            sink: Progress::new(sender),
            stop,
            task,
        }
    }

    /// Stops drawing and clears the bar (clones of the sink may outlive the view).
    pub async fn finish(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

fn label(phase: Phase) -> &'static str {
    match phase {
        Phase::Dumping => "Backing up",
        Phase::SafetyBackup => "Safety backup",
        Phase::Verifying => "Checking sha256",
        Phase::Restoring => "Restoring",
        Phase::Downloading => "Downloading",
        Phase::Checking => "Counting rows",
        Phase::Replacing => "Replacing rows",
    }
}

async fn draw(
    mut events: mpsc::UnboundedReceiver<JobEvent>,
    visible: bool,
    stop: CancellationToken,
) {
    let target = if visible {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(None, target);
    bar.enable_steady_tick(Duration::from_millis(200));
    let bytes_style = ProgressStyle::with_template(
        "{prefix:>14} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta} {msg}",
    )
    .expect("valid template")
    .progress_chars("=> ");
    let open_style = ProgressStyle::with_template(
        "{prefix:>14} {spinner} {bytes} {bytes_per_sec} {elapsed} {msg}",
    )
    .expect("valid template");
    loop {
        let event = tokio::select! {
            _ = stop.cancelled() => break,
            event = events.recv() => match event {
                Some(event) => event,
                None => break,
            },
        };
        match event {
            JobEvent::PhaseStarted { phase, total, .. } => {
                bar.reset();
                bar.set_prefix(label(phase));
                bar.set_message("");
                match total {
                    Some(total) => {
                        bar.set_style(bytes_style.clone());
                        bar.set_length(total);
                    }
                    None => bar.set_style(open_style.clone()),
                }
            }
            JobEvent::Progress {
                bytes, raw_bytes, ..
            } => {
                bar.set_position(bytes);
                if let Some(raw) = raw_bytes {
                    bar.set_message(format!("({} dumped)", HumanBytes(raw)));
                }
            }
            JobEvent::Retrying {
                attempt,
                delay_ms,
                reason,
                ..
            } => {
                bar.set_message(format!(
                    "connection lost, retry {attempt} in {} ms: {reason}",
                    delay_ms
                ));
            }
            JobEvent::Note { message } => bar.println(message),
        }
    }
    bar.finish_and_clear();
}
