//! The CLI's progress (not part of the library): a bar redrawn in place on a terminal, one
//! plain line per finished step otherwise (logs, pipes, tests).
//!
//! Writes that fail are let go: a reader that went away (`apply --yes | head`) must not stop
//! an apply halfway, as a panic would (without undoing its steps).

use std::io::{IsTerminal, Write};

use impermanence_layout::{Step, StepDone};

/// Progress over `total` steps.
pub struct Progress {
    total: usize,
    done: usize,
    terminal: bool,
}

impl Progress {
    pub fn new(total: usize) -> Progress {
        Progress {
            total,
            done: 0,
            terminal: std::io::stdout().is_terminal(),
        }
    }

    /// A step starts: on a terminal, the bar shows it.
    pub fn start(&mut self, number: usize, step: &Step) {
        if self.terminal {
            self.draw(&format!("[{number}/{}] {}", self.total, step.to_command()));
        }
    }

    /// A step is done: a line with its duration (on a terminal, above the bar).
    pub fn done(&mut self, done: &StepDone<'_>) {
        self.done = self.done.max(done.number);
        let took = match done.batch {
            Some((first, last)) => format!(
                "steps {first}-{last} together: {:.2}s",
                done.took.as_secs_f64()
            ),
            None => format!("{:.2}s", done.took.as_secs_f64()),
        };
        let line = format!(
            "[{}/{}] {} ({took})",
            done.number,
            self.total,
            done.step.to_command()
        );
        if self.terminal {
            let _ = write!(std::io::stdout().lock(), "\r\x1b[2K{line}\n");
            self.draw("");
        } else {
            let _ = writeln!(std::io::stdout().lock(), "{line}");
        }
    }

    /// Clears the bar.
    pub fn finish(&mut self) {
        if self.terminal {
            let mut out = std::io::stdout().lock();
            let _ = write!(out, "\r\x1b[2K");
            let _ = out.flush();
        }
    }

    fn draw(&self, what: &str) {
        const WIDTH: usize = 24;
        let filled = WIDTH * self.done / self.total.max(1);
        let mut line = format!(
            "\r\x1b[2K[{}{}] {}/{} {what}",
            "#".repeat(filled),
            "-".repeat(WIDTH - filled),
            self.done,
            self.total
        );
        // One terminal line: long commands are cut.
        line.truncate(line.char_indices().nth(160).map_or(line.len(), |(i, _)| i));
        let mut out = std::io::stdout().lock();
        let _ = write!(out, "{line}");
        let _ = out.flush();
    }
}
