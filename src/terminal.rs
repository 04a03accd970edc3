//! The terminal's lifecycle: raw mode, alternate screen and mouse capture on the way in,
//! all undone on the way out, whether by return, error or panic.

use std::io::{self, stdout};

use crossterm::cursor::Show;
use crossterm::event::{
    DisableFocusChange, DisableMouseCapture, EnableFocusChange, EnableMouseCapture,
};
use crossterm::execute;
use ratatui::DefaultTerminal;

/// The terminal while the TUI owns it; dropping it restores the terminal.
pub struct TerminalGuard {
    pub terminal: DefaultTerminal,
}

impl TerminalGuard {
    /// Takes over the terminal. A panic from here on restores it before the message prints.
    pub fn enter() -> io::Result<Self> {
        // ratatui's hook leaves raw mode and the alternate screen; ours, run first, also
        // releases the mouse and shows the cursor.
        let terminal = ratatui::try_init()?;
        let ratatui_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = execute!(stdout(), DisableMouseCapture, DisableFocusChange, Show);
            ratatui_hook(info);
        }));
        // Focus reports tell when the user comes back, when thresholds are read again.
        if let Err(e) = execute!(stdout(), EnableMouseCapture, EnableFocusChange) {
            restore();
            return Err(e);
        }
        Ok(Self { terminal })
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Gives the terminal back as it was: mouse released, cursor shown, main screen, cooked mode.
pub fn restore() {
    let _ = execute!(stdout(), DisableMouseCapture, DisableFocusChange, Show);
    ratatui::restore();
}

/// Ctrl-Z: gives the terminal back, stops the process as a shell expects, and takes the
/// terminal again when the shell resumes it (`fg`).
#[cfg(unix)]
pub fn suspend() -> io::Result<()> {
    restore();
    // SAFETY: raise only sends a signal to this process; SIGTSTP's default action stops it
    // until SIGCONT, after which raise returns.
    let rc = unsafe { libc::raise(libc::SIGTSTP) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    crossterm::terminal::enable_raw_mode()?;
    execute!(
        stdout(),
        crossterm::terminal::EnterAlternateScreen,
        EnableMouseCapture,
        EnableFocusChange
    )?;
    Ok(())
}

#[cfg(not(unix))]
pub fn suspend() -> io::Result<()> {
    Ok(())
}
