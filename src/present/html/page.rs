//! What a page is made of: its [`View`]s, each a race and its cure ([`Side`]s) told for one
//! ticket; plain types that the harness fills in and the page's data reads.

use crate::model::documents::TicketId;
use crate::present::report::Report;
use crate::sim::trace::Trace;

/// One run of a view.
pub struct Side<'a> {
    /// Its heading: "Without OCC (--occ off)".
    pub title: String,
    /// Its whole trace.
    pub trace: &'a Trace,
    /// Its report.
    pub report: &'a Report,
    /// The scenario's orders replicas (the story's lanes).
    pub replicas: u8,
    /// The command that reproduces it.
    pub reproduce: String,
}

/// A race and its cure, on the same seed or schedule, told for one ticket.
pub struct View<'a> {
    /// A short name for links (`#smallest`): letters, digits and dashes.
    pub id: String,
    /// The name of the button that loads it.
    pub name: String,
    /// Its heading.
    pub heading: String,
    /// Paragraphs that say what it is.
    pub about: Vec<String>,
    /// The ticket followed.
    pub ticket: TicketId,
    /// The race.
    pub race: Side<'a>,
    /// The cure; or why there is none beside the race.
    pub cure: Result<Side<'a>, String>,
    /// A file the view carries as text: its name, a note on it, its text.
    pub attachment: Option<(String, String, String)>,
}

/// A page: its title, what it shows, the command that made it, and its views (the first is
/// shown on opening).
pub struct Page<'a> {
    /// The title.
    pub title: String,
    /// The scenario's description.
    pub description: String,
    /// The command that made the page.
    pub made_by: String,
    /// The views.
    pub views: Vec<View<'a>>,
}
