//! What a user can ask of the tuner. Keys become actions in `keymap`, at the edge.

/// A user's request. Internal events (API results, timers) are [`super::Msg`]s. What an
/// action does depends on the screen: `Confirm` sets a typed value or opens an impulse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    SelectPrevious,
    SelectNext,
    StepDown,
    StepUp,
    CoarseDown,
    CoarseUp,
    RangeStart,
    RangeEnd,
    /// Jump to a tenth of the range: 0 → 0 %, 9 → 90 %.
    Jump(u8),
    Suggested,
    RevertToSaved,
    /// Enter: type a value, or cycle a dropdown.
    Activate,
    EditValue,
    CycleOption,
    Regenerate,
    Reload,
    /// Move to the value that optimises the objective.
    Optimize,
    CycleObjective,
    /// Send the user's value over one changed elsewhere.
    KeepMine,
    /// Take the value changed elsewhere.
    TakeTheirs,
    ImpulsePicker,
    /// Open the history of set-thresholds calls.
    History,
    /// Open the joint map of two thresholds.
    Map,
    /// On the map: move `min_score` by `dx` steps and `min_anomaly_score` by `dy`.
    MapStep {
        dx: i8,
        dy: i8,
        coarse: bool,
    },
    /// On the map: the next figure for side 0 or 1 of the Pareto front.
    MapFigure(u8),
    Help,
    Quit,
    /// In the editor: set the typed value; in the impulse list: open the impulse.
    Confirm,
    /// Close the editor, the list or the help.
    Cancel,
    /// In the editor: erase the last character, or everything.
    Erase,
    EraseAll,
    /// In the editor: a character typed.
    Type(char),
    /// Ctrl-Z: the event loop hands the terminal back until resumed; the core never sees
    /// it.
    Suspend,
}
