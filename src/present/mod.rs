//! What people read: a run's [`report`] (JSON with stable field names) and its terminal
//! [`summary`], the [`story`] of one ticket in words, [`diagram`]s of it (Mermaid and SVG), the
//! [`html`] page that steps through a race and its cure, and the terminal colours ([`paint`]).
//!
//! Everything here is read from a run's findings and its trace, never from a live world.

pub mod diagram;
pub mod html;
pub mod paint;
pub mod report;
pub mod story;
pub mod summary;
