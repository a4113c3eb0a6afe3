//! Many runs, and one judged: [`run`] (a run with its checks and report), [`sweep`] (seed
//! ranges on worker threads, baselines, shards and their merge), [`shrink`] (the smallest run
//! that fails the same way, its [`seeds`] searched within a budget), [`explore`] (every schedule
//! of a small scope) and [`demo`] (a race and its cure, told and drawn, and its scope's first
//! failing schedule), [`view`] (a race and its cure as a page to step through in a browser),
//! and the [`catalogue`] of races it draws them from; with the [`error`]s that end a command and the [`files`] they write.

pub mod catalogue;
pub mod demo;
pub mod error;
pub mod explore;
pub mod failure;
pub mod files;
pub mod run;
pub mod seeds;
pub mod shrink;
pub mod sweep;
pub mod view;
