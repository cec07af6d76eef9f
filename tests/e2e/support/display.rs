//! The X display the app window opens on: a private Xvfb per test (it picks a free display
//! number itself), or the one `RYTHM_E2E_DISPLAY` names (e.g. `:0`, to watch a test run).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

pub struct Display {
    pub name: String,
    xvfb: Option<Child>,
}

impl Display {
    pub fn start() -> Display {
        if let Some(name) = std::env::var("RYTHM_E2E_DISPLAY")
            .ok()
            .filter(|d| !d.is_empty())
        {
            return Display { name, xvfb: None };
        }
        // -displayfd: Xvfb picks an unused display and writes its number to that descriptor
        // (its stdout, a pipe here) once it accepts connections.
        let (reader, writer) = std::io::pipe().expect("a pipe");
        let mut xvfb = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x860x24",
                "-nolisten",
                "tcp",
            ])
            .stdin(Stdio::null())
            .stdout(writer)
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start Xvfb ({e}): install the xvfb package (scripts/test.sh does)")
            });
        let mut line = String::new();
        BufReader::new(reader)
            .read_line(&mut line)
            .expect("Xvfb's display number");
        let number = line.trim();
        if number.is_empty() {
            let status = xvfb.wait().ok();
            panic!("Xvfb did not start (exit {status:?})");
        }
        Display {
            name: format!(":{number}"),
            xvfb: Some(xvfb),
        }
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        if let Some(xvfb) = &mut self.xvfb {
            let _ = xvfb.kill();
            let _ = xvfb.wait();
        }
    }
}
