//! Reading a secret from the person at the terminal (without echo) or from stdin, so
//! passwords never appear in argv or the shell's history.

use std::io::{BufRead, IsTerminal};

use rythm_backup_core::secrets::Sensitive;
use rythm_backup_core::Error;

/// Asks for a secret: a hidden prompt on a terminal, else (or with `from_stdin`) the first
/// line of stdin.
pub fn read_secret(prompt: &str, from_stdin: bool) -> Result<Sensitive<String>, Error> {
    let secret = if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Error::InvalidInput(format!("cannot read the secret from stdin: {e}")))?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        rpassword::prompt_password(prompt)
            .map_err(|e| Error::InvalidInput(format!("cannot read the secret: {e}")))?
    };
    if secret.is_empty() {
        return Err(Error::InvalidInput("no secret was given".into()));
    }
    Ok(Sensitive::new(secret))
}
