//! The input: scenario files (`scenarios/*.toml`), what a run simulates and what it must show.
//!
//! [`schema`] is the file's shape with its defaults, [`expect`] the claims a scenario makes per
//! OCC mode, [`cure`] what cures its race, [`explore`] the small scope whose every schedule it claims something of,
//! [`limits`] every range a value must fall in, and [`parse`] reading a file with
//! errors that name the file, line and key ([`input`] refuses what is not a small regular file). The scenario types know the model's vocabulary
//! (modes, prices, nodes) and nothing of the runtime or the checks.

pub mod cure;
pub mod expect;
pub mod explore;
pub mod input;
pub mod limits;
pub mod parse;
pub mod schema;

pub use parse::ScenarioError;
pub use schema::Scenario;
