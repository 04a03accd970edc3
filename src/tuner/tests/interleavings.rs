//! Random interleavings of edits, answers, reloads and jobs keep the rules.

use super::*;

/// What can happen to the tuner, in any order.
#[derive(Debug, Clone)]
enum Event {
    Edit {
        slider: usize,
        steps: i32,
    },
    Wait(u64),
    Tick,
    Succeed,
    /// Refused before Studio saw it.
    Fail,
    /// No answer: Studio applied it now, or will later (after later calls, before reads).
    Lose {
        applied_now: bool,
    },
    /// Refused because a job runs.
    Blocked,
    LateAnswer,
    /// `r`, or the terminal regaining focus: thresholds read again.
    Reload,
    Focus,
    /// The oldest load answers, or fails.
    LoadAnswer {
        ok: bool,
    },
    /// The job's poll answers: still running, finished, or failed (a 502).
    Poll {
        finished: bool,
        failed: bool,
    },
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        4 => (0usize..2, -3i32..=3).prop_map(|(slider, steps)| Event::Edit { slider, steps }),
        3 => (1u64..400).prop_map(Event::Wait),
        2 => Just(Event::Tick),
        2 => Just(Event::Succeed),
        1 => Just(Event::Fail),
        1 => any::<bool>().prop_map(|applied_now| Event::Lose { applied_now }),
        1 => Just(Event::Blocked),
        1 => Just(Event::LateAnswer),
        1 => Just(Event::Reload),
        1 => Just(Event::Focus),
        2 => any::<bool>().prop_map(|ok| Event::LoadAnswer { ok }),
        1 => (any::<bool>(), any::<bool>()).prop_map(|(finished, failed)| Event::Poll { finished, failed }),
    ]
}

/// A simulated Studio for the property below: what it holds, and what is outstanding.
#[derive(Default)]
struct World {
    server: Vec<ThresholdValue>,
    in_flight: Option<(u64, SetImpulseThresholdsRequest)>,
    /// Calls whose answer was lost: Studio applies them late, after any later call, before
    /// the next read (the case a read-back exists for).
    limbo: Vec<SetImpulseThresholdsRequest>,
    loads: VecDeque<u64>,
    poll: Option<u64>,
    calls: usize,
    /// A window opens with an edit when none is open, and a call closes it. Every call
    /// closes a window or resends after a failure: calls <= windows + failures.
    windows: usize,
    failures: usize,
    open: bool,
}

impl World {
    fn apply(&mut self, t: &Tuner, request: &SetImpulseThresholdsRequest) {
        for u in &request.thresholds {
            if let Some(i) = t
                .sliders
                .iter()
                .position(|s| s.block_id == u.block_id && s.key == u.key)
            {
                self.server[i] = u.value.clone();
            }
        }
    }

    fn land_late_calls(&mut self, t: &Tuner) {
        for request in std::mem::take(&mut self.limbo) {
            self.apply(t, &request);
        }
    }

    fn studio_view(&self) -> Loaded {
        let mut l = loaded(0);
        l.blocks[0].thresholds[0].value = self.server[0].clone();
        l.blocks[1].thresholds[0].value = self.server[1].clone();
        l
    }

    fn run(&mut self, t: &mut Tuner, msg: Msg, now: Instant) -> Result<(), TestCaseError> {
        for cmd in t.update(msg, now) {
            match cmd {
                Cmd::SetThresholds {
                    request_id,
                    request,
                    ..
                } => {
                    prop_assert!(self.in_flight.is_none(), "two calls in flight");
                    prop_assert!(!request.allow_creating_regenerate_model_testing_jobs);
                    self.calls += 1;
                    self.open = false;
                    self.in_flight = Some((request_id, request));
                }
                Cmd::LoadImpulse { load, .. } => self.loads.push_back(load),
                Cmd::PollJob { job_id, .. } => self.poll = Some(job_id),
                _ => {}
            }
        }
        Ok(())
    }

    /// The call in flight answers.
    fn answer(
        &mut self,
        t: &mut Tuner,
        now: Instant,
        result: Result<SetImpulseThresholdsResponse, ApiError>,
    ) -> Result<(), TestCaseError> {
        let Some((id, request)) = self.in_flight.take() else {
            return Ok(());
        };
        match &result {
            Ok(_) => self.apply(t, &request),
            Err(e) if e.outcome_unknown() => {
                // Landing late, it may cost one more call: the read-back's resend.
                self.failures += 1;
                self.limbo.push(request);
            }
            Err(_) => {}
        }
        if result.is_err() {
            self.failures += 1;
        }
        self.run(
            t,
            Msg::SetDone {
                request_id: id,
                outcome: Outcome::from(result),
            },
            now,
        )
    }

    fn answer_load(&mut self, t: &mut Tuner, now: Instant, ok: bool) -> Result<(), TestCaseError> {
        let Some(load) = self.loads.pop_front() else {
            return Ok(());
        };
        self.land_late_calls(t);
        let result = if ok {
            Ok(self.studio_view())
        } else {
            Err(busy())
        };
        self.run(t, Msg::Loaded { load, result }, now)
    }

    fn answer_poll(
        &mut self,
        t: &mut Tuner,
        now: Instant,
        finished: bool,
        failed: bool,
    ) -> Result<(), TestCaseError> {
        let Some(job_id) = self.poll.take() else {
            return Ok(());
        };
        let result = if failed {
            Err(busy())
        } else {
            Ok(job(job_id, finished, finished.then_some(true)))
        };
        self.run(t, Msg::JobPolled { job_id, result }, now)
    }
}

fn busy() -> ApiError {
    ApiError::Status {
        operation: "getImpulse",
        status: 502,
        message: "bad gateway".into(),
        retry_after: None,
    }
}

fn blocked() -> Result<SetImpulseThresholdsResponse, ApiError> {
    Err(ApiError::BlockedByJob {
        operation: "setImpulseThresholds",
        message: "a job runs".into(),
        job_id: 9,
        category: "Regenerating model testing summary".into(),
    })
}

/// Plays `events` against the tuner and the simulated Studio, then heals the network and
/// checks that nothing was lost, stranded or sent twice.
impl World {
    /// One event, as it happens to the tuner and the simulated Studio.
    fn happen(&mut self, t: &mut Tuner, e: Event, now: &mut Instant) -> Result<(), TestCaseError> {
        match e {
            Event::Edit { slider, steps } => {
                if !self.open {
                    self.windows += 1;
                    self.open = true;
                }
                t.selected = slider;
                let action = if steps >= 0 {
                    Action::StepUp
                } else {
                    Action::StepDown
                };
                for _ in 0..steps.unsigned_abs().max(1) {
                    self.run(t, Msg::Action(action), *now)?;
                }
            }
            Event::Wait(ms) => {
                *now += Duration::from_millis(ms);
                if t.next_deadline().is_some_and(|d| d <= *now) {
                    self.run(t, Msg::Tick, *now)?;
                }
            }
            Event::Tick => self.run(t, Msg::Tick, *now)?,
            Event::Succeed => self.answer(t, *now, ok(RegenerateStatus::Regenerated))?,
            Event::Fail => self.answer(t, *now, refused())?,
            Event::Lose { applied_now } => {
                if applied_now && let Some((_, request)) = &self.in_flight {
                    let request = request.clone();
                    self.apply(t, &request);
                }
                self.answer(t, *now, lost_answer())?;
                if applied_now {
                    self.limbo.clear();
                }
            }
            Event::Blocked => self.answer(t, *now, blocked())?,
            Event::LateAnswer => {
                self.run(
                    t,
                    Msg::SetDone {
                        request_id: 10_000,
                        outcome: Outcome::from(ok(RegenerateStatus::Regenerated)),
                    },
                    *now,
                )?;
            }
            Event::Reload => self.run(t, Msg::Action(Action::Reload), *now)?,
            Event::Focus => self.run(t, Msg::FocusGained, *now)?,
            Event::LoadAnswer { ok } => self.answer_load(t, *now, ok)?,
            Event::Poll { finished, failed } => self.answer_poll(t, *now, finished, failed)?,
        }
        Ok(())
    }

    /// The network heals: every call, read and poll succeeds; failed values are resent by
    /// `r`. Calls whose answer was lost land first.
    fn heal(&mut self, t: &mut Tuner, now: &mut Instant) -> Result<(), TestCaseError> {
        self.land_late_calls(t);
        for _ in 0..60 {
            *now += Duration::from_secs(5);
            self.answer(t, *now, ok(RegenerateStatus::Regenerated))?;
            while !self.loads.is_empty() {
                self.answer_load(t, *now, true)?;
            }
            self.answer_poll(t, *now, true, false)?;
            self.run(t, Msg::Tick, *now)?;
            if self.in_flight.is_none()
                && t.sliders
                    .iter()
                    .any(|s| matches!(s.sync, SyncState::Failed(_)))
            {
                self.run(t, Msg::Action(Action::Reload), *now)?;
            }
        }
        Ok(())
    }

    /// Nothing is left stranded: Studio holds every value shown, and no more calls were
    /// made than quiet-time windows and failures ask for.
    fn holds_the_rules(&self, t: &Tuner) -> Result<(), TestCaseError> {
        prop_assert!(self.in_flight.is_none());
        prop_assert!(self.loads.is_empty());
        prop_assert!(t.job.is_none(), "a job still followed");
        prop_assert!(!t.save.answer_lost(), "a read-back still owed");
        for (i, slider) in t.sliders.iter().enumerate() {
            prop_assert_eq!(
                &self.server[i],
                &slider.value,
                "Studio differs for {}",
                slider.id()
            );
            prop_assert_eq!(&slider.sync, &SyncState::Saved);
        }
        prop_assert!(
            self.calls <= self.windows + self.failures,
            "{} calls for {} windows and {} failures",
            self.calls,
            self.windows,
            self.failures
        );
        Ok(())
    }
}

fn check_interleaving(events: Vec<Event>) -> Result<(), TestCaseError> {
    let t0 = Instant::now();
    let mut now = t0;
    let mut t = tuner(t0);
    let mut w = World {
        server: t.sliders.iter().map(|s| s.value.clone()).collect(),
        ..World::default()
    };
    for e in events {
        w.happen(&mut t, e, &mut now)?;
    }
    // The network heals: every call, read and poll succeeds; failed values are resent
    // by `r`. Nothing may be left stranded. Calls whose answer was lost land first.
    w.heal(&mut t, &mut now)?;
    w.holds_the_rules(&t)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_interleavings_keep_the_rules(events in proptest::collection::vec(event(), 1..80)) {
        check_interleaving(events)?;
    }
}

#[test]
fn a_call_landing_late_after_a_failed_read_back_is_still_undone() {
    use Event::*;
    check_interleaving(vec![
        Edit {
            slider: 0,
            steps: 1,
        },
        Wait(300),
        Lose { applied_now: false },
        Edit {
            slider: 0,
            steps: 1,
        },
        Wait(300),
        Wait(3000),
        Succeed,
        LoadAnswer { ok: false },
    ])
    .unwrap();
}
