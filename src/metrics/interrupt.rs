//! A long computation stopped from outside: the event loop raises it while input waits, so
//! that a sweep or a map over a large test set yields to a key or a signal instead of
//! holding them back; the work is done again, for what the input changed, once it is read.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Inputs waiting to be read: raised while there are any. [`Interrupt::never`] (the
/// default) is never raised, for commands and tests.
#[derive(Debug, Clone, Default)]
pub struct Interrupt(Option<Arc<AtomicUsize>>);

impl Interrupt {
    /// One that [`Interrupt::arrived`] raises and [`Interrupt::taken`] lowers.
    pub fn new() -> Self {
        Self(Some(Arc::new(AtomicUsize::new(0))))
    }

    pub fn never() -> Self {
        Self(None)
    }

    /// One raised for good: a computation given it stops at its first look.
    pub fn raised() -> Self {
        Self(Some(Arc::new(AtomicUsize::new(1))))
    }

    /// Whether it can be raised (not [`Interrupt::never`]).
    pub fn is_live(&self) -> bool {
        self.0.is_some()
    }

    /// An input is about to be queued (counted before, so that a read never comes first).
    pub fn arrived(&self) {
        if let Some(waiting) = &self.0 {
            waiting.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// An input was read from the queue.
    pub fn taken(&self) {
        if let Some(waiting) = &self.0 {
            let _ = waiting.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        }
    }

    /// Whether a computation should stop now.
    #[inline]
    pub fn is_raised(&self) -> bool {
        self.0
            .as_ref()
            .is_some_and(|waiting| waiting.load(Ordering::Relaxed) > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raised_while_inputs_wait() {
        let interrupt = Interrupt::new();
        let seen_by_the_loop = interrupt.clone();
        assert!(!seen_by_the_loop.is_raised());
        interrupt.arrived();
        interrupt.arrived();
        assert!(seen_by_the_loop.is_raised());
        seen_by_the_loop.taken();
        assert!(seen_by_the_loop.is_raised(), "one still waits");
        seen_by_the_loop.taken();
        seen_by_the_loop.taken();
        assert!(!seen_by_the_loop.is_raised(), "never below none");
        let never = Interrupt::never();
        never.arrived();
        assert!(!never.is_raised());
    }
}
