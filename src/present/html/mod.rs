//! A race and its cure as one self-contained HTML page, to step through in a browser.
//!
//! A [`Page`] holds one or more [`View`]s (the demo's seed, the smallest failing run, the first
//! failing schedule of the smallest scope), each a pair of runs of the same seed or schedule:
//! the race, and beside it the cure. The page carries, as JSON, the records of each run's
//! trace that concern the ticket followed and the story's sentence for each step, aligned step
//! by step on the same events ([`align`]); its script draws the lanes and arrows, folds the
//! records into each database's copy of the ticket, the bus's pending messages and the checks'
//! status at every step, and recomputes nothing of the model ([`data`] says what is carried).
//!
//! Everything is inline (the style and the scripts are `assets/`, included at build time: the
//! fold of the records into each step's state in `fold.js`, the drawing in `viewer.js`): no
//! server, no network, and the same runs give the same bytes.

mod align;
mod data;
mod page;

pub use crate::present::html::page::{Page, Side, View};

use crate::present::html::data::{PageData, ViewData, COMPARED};

/// The page's style.
const CSS: &str = include_str!("assets/viewer.css");

/// The fold of a run's records into the state at each step: lanes, documents, pending
/// messages, whether the copies agree.
const FOLD: &str = include_str!("assets/fold.js");

/// The page's script: it reads the data and draws everything.
const JS: &str = include_str!("assets/viewer.js");

/// The page as one HTML document.
pub fn render(page: &Page) -> String {
    let data = PageData {
        title: page.title.clone(),
        description: page.description.clone(),
        made_by: page.made_by.clone(),
        compared: COMPARED.to_vec(),
        views: page.views.iter().map(ViewData::of).collect(),
    };
    let json = serde_json::to_string(&data).expect("the page's data serializes");
    let title = escape(&page.title);
    let description = escape(page.description.trim());
    let made_by = escape(&page.made_by);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"color-scheme\" content=\"light dark\">\n\
         <meta name=\"generator\" content=\"ticketsim\">\n\
         <title>{title}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n\
         <a class=\"skip\" href=\"#controls\">Skip to the step controls</a>\n\
         <header>\n<h1>{title}</h1>\n<p class=\"description\">{description}</p>\n\
         <p class=\"made-by\">Made by <code>{made_by}</code>. Every time shown is simulated.</p>\n\
         </header>\n<main id=\"main\">\n<noscript><p>This page draws the run with its script, \
         which is inline and needs no network; turn scripts on to step through it.</p></noscript>\n\
         </main>\n<script type=\"application/json\" id=\"ticketsim-data\">{}</script>\n\
         <script>\n{FOLD}</script>\n<script>\n{JS}</script>\n</body>\n</html>\n",
        script_safe(&json)
    )
}

/// `text` with HTML's special characters escaped, for element content and attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON that cannot end the script element it sits in: every `<` is written `\u003c` (the
/// same string to `JSON.parse`), so no `</script>` or `<!--` can appear.
fn script_safe(json: &str) -> String {
    json.replace('<', "\\u003c")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_data_cannot_break_out_of_their_elements() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        let json = serde_json::to_string("</script><!--").unwrap();
        let safe = script_safe(&json);
        assert!(!safe.contains('<'));
        assert_eq!(
            serde_json::from_str::<String>(&safe).unwrap(),
            "</script><!--"
        );
    }
}
