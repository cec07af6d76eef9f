//! Writing lines to stdout and stderr without panicking when the reader has gone away: a
//! closed stdout (`rythm-backup list | head -1`) ends the process quietly with success, as
//! the command's work is done; a closed stderr drops the line.

use std::fmt;
use std::io::{self, Write};

/// One line on stdout.
pub fn out(line: fmt::Arguments) {
    let written = writeln!(io::stdout().lock(), "{line}");
    if let Err(e) = written {
        if e.kind() == io::ErrorKind::BrokenPipe {
            // Nobody reads on: stop here, as `ls | head` does, but without a panic.
            std::process::exit(0);
        }
    }
}

/// One line on stderr; lost if stderr is closed (there is nowhere left to say it).
pub fn err(line: fmt::Arguments) {
    let _ = writeln!(io::stderr().lock(), "{line}");
}
