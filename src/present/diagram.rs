//! Sequence diagrams of a [`Story`]: Mermaid (for Markdown, which GitHub renders) and a
//! standalone SVG. Lanes: the tickets service, NATS, each orders replica, the orders database.
//! Arrows follow each other in simulated time, each labelled with its time; a long quiet
//! stretch (NATS's ack wait) is shown as a gap. The stale write and the refused events are
//! marked in colour and named in words, so the marks survive a black-and-white print.

use crate::present::story::{format_ms, Arrow, Lane, Line, Mark, Step, Story};
use std::fmt::Write as _;

/// A quiet stretch longer than this is drawn as a gap.
const GAP_US: u64 = 1_000_000;

fn lanes(story: &Story) -> Vec<Lane> {
    let mut lanes = vec![Lane::Tickets, Lane::Bus];
    lanes.extend((1..=story.replicas).map(Lane::Replica));
    lanes.push(Lane::OrdersDb);
    // The later services' lanes only when the story has a step of theirs.
    for later in [Lane::Expiration, Lane::Payments] {
        let acts = story.steps.iter().any(|s| {
            s.actor == later
                || matches!(s.arrow, Arrow::Message { from, to, .. } if from == later || to == later)
        });
        if acts {
            lanes.push(later);
        }
    }
    lanes
}

fn mermaid_id(lane: Lane) -> String {
    match lane {
        Lane::Tickets => "T".to_owned(),
        Lane::Bus => "N".to_owned(),
        Lane::Replica(n) => format!("O{n}"),
        Lane::OrdersDb => "DB".to_owned(),
        Lane::Expiration => "X".to_owned(),
        Lane::Payments => "P".to_owned(),
    }
}

/// Mermaid reads `#…;` as a character entity and `;` as the end of a statement.
fn mermaid_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '#' => out.push_str("#35;"),
            ';' => out.push_str("#59;"),
            c => out.push(c),
        }
    }
    out
}

/// The words a mark adds to a label.
fn tag(mark: Mark) -> &'static str {
    match mark {
        Mark::Stale => " ⚠ stale write",
        Mark::Refused => " ✗ refused",
        Mark::Applied => " ✓ in order",
        Mark::Fault | Mark::Plain => "",
    }
}

/// The story as a Mermaid `sequenceDiagram`.
pub fn mermaid(story: &Story) -> String {
    let mut out = String::from("sequenceDiagram\n");
    let all = lanes(story);
    for &lane in &all {
        let _ = writeln!(
            out,
            "    participant {} as {}",
            mermaid_id(lane),
            lane.title()
        );
    }
    let (first, last) = (mermaid_id(all[0]), mermaid_id(*all.last().expect("lanes")));
    let mut previous: Option<u64> = None;
    for step in &story.steps {
        if let Some(p) = previous {
            if step.t_us - p > GAP_US {
                let _ = writeln!(
                    out,
                    "    Note over {first},{last}: ⋯ {} later ⋯",
                    format_ms(step.t_us - p)
                );
            }
        }
        previous = Some(step.t_us);
        let label = mermaid_text(&format!(
            "{} · {}{}",
            format_ms(step.t_us),
            step.label,
            tag(step.mark)
        ));
        let colour = match step.mark {
            Mark::Stale => Some("rgb(255, 205, 210)"),
            Mark::Refused => Some("rgb(255, 236, 179)"),
            Mark::Applied => Some("rgb(200, 230, 201)"),
            Mark::Fault => Some("rgb(225, 190, 231)"),
            Mark::Plain => None,
        };
        if let Some(c) = colour {
            let _ = writeln!(out, "    rect {c}");
        }
        match step.arrow {
            Arrow::Note(lane) => {
                let _ = writeln!(out, "    Note over {}: {label}", mermaid_id(lane));
            }
            Arrow::Message { from, to, style } => {
                let arrow = match style {
                    Line::Solid => "->>",
                    Line::Dashed => "-->>",
                    Line::Cross => "-x",
                };
                let _ = writeln!(
                    out,
                    "    {}{arrow}{}: {label}",
                    mermaid_id(from),
                    mermaid_id(to)
                );
            }
        }
        if colour.is_some() {
            out.push_str("    end\n");
        }
    }
    out
}

/// Escape text for SVG (XML) content and attributes.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

const LANE_W: u32 = 190;
const LEFT: u32 = 110;
const ROW_H: u32 = 30;
const HEAD_H: u32 = 44;
const TITLE_H: u32 = 34;

/// One panel of an SVG: a titled story.
pub struct Panel<'a> {
    /// The panel's heading.
    pub title: String,
    /// Its story.
    pub story: &'a Story,
}

/// Rows of a panel: steps, with gaps before long quiet stretches.
enum Row<'a> {
    Step(&'a Step),
    Gap(u64),
}

fn rows(story: &Story) -> Vec<Row<'_>> {
    let mut rows = Vec::new();
    let mut previous: Option<u64> = None;
    for step in &story.steps {
        if let Some(p) = previous {
            if step.t_us - p > GAP_US {
                rows.push(Row::Gap(step.t_us - p));
            }
        }
        previous = Some(step.t_us);
        rows.push(Row::Step(step));
    }
    rows
}

fn panel_height(story: &Story) -> u32 {
    TITLE_H + HEAD_H + rows(story).len() as u32 * ROW_H + 20
}

/// Panels stacked one above the other in one standalone SVG document.
pub fn svg(title: &str, panels: &[Panel<'_>]) -> String {
    let lane_count = panels
        .iter()
        .map(|p| lanes(p.story).len())
        .max()
        .unwrap_or(4) as u32;
    let width = LEFT + lane_count * LANE_W + 20;
    let height = 40 + panels.iter().map(|p| panel_height(p.story)).sum::<u32>();
    let mut out = String::new();
    let _ = writeln!(
        out,
        r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" font-size="12">
<title>{}</title>
<defs>
  <marker id="head" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#333"/></marker>
</defs>
<rect width="100%" height="100%" fill="white"/>
<text x="16" y="26" font-size="16" font-weight="bold">{}</text>"##,
        xml(title),
        xml(title)
    );
    let mut y = 40;
    for panel in panels {
        draw_panel(&mut out, panel, y, width);
        y += panel_height(panel.story);
    }
    out.push_str("</svg>\n");
    out
}

fn draw_panel(out: &mut String, panel: &Panel<'_>, top: u32, width: u32) {
    let all = lanes(panel.story);
    let x_of = |lane: Lane| {
        let i = all.iter().position(|&l| l == lane).unwrap_or(0) as u32;
        LEFT + i * LANE_W + LANE_W / 2
    };
    let rows = rows(panel.story);
    let body_top = top + TITLE_H + HEAD_H;
    let bottom = body_top + rows.len() as u32 * ROW_H;
    let _ = writeln!(
        out,
        r#"<text x="16" y="{}" font-size="14" font-weight="bold">{}</text>"#,
        top + 22,
        xml(&panel.title)
    );
    for &lane in &all {
        let x = x_of(lane);
        let head = top + TITLE_H;
        let _ = writeln!(
            out,
            r##"<rect x="{}" y="{head}" width="{}" height="28" rx="4" fill="#eef3fb" stroke="#4a6fa5"/><text x="{x}" y="{}" text-anchor="middle" font-weight="bold">{}</text><line x1="{x}" y1="{}" x2="{x}" y2="{bottom}" stroke="#9aa9bd" stroke-dasharray="4 4"/>"##,
            x - LANE_W / 2 + 10,
            LANE_W - 20,
            head + 18,
            xml(&lane.title()),
            head + 28
        );
    }
    for (i, row) in rows.iter().enumerate() {
        let y = body_top + i as u32 * ROW_H + ROW_H / 2;
        match row {
            Row::Gap(us) => {
                let _ = writeln!(
                    out,
                    r##"<text x="{}" y="{}" text-anchor="middle" fill="#666" font-style="italic">⋯ {} later ⋯</text>"##,
                    width / 2,
                    y + 4,
                    xml(&format_ms(*us))
                );
            }
            Row::Step(step) => draw_step(out, step, y, width, &x_of),
        }
    }
}

fn draw_step(out: &mut String, step: &Step, y: u32, width: u32, x_of: &dyn Fn(Lane) -> u32) {
    let (fill, stroke) = match step.mark {
        Mark::Stale => (Some("#ffcdd2"), "#c62828"),
        Mark::Refused => (Some("#ffecb3"), "#b26a00"),
        Mark::Applied => (Some("#c8e6c9"), "#2e7d32"),
        Mark::Fault => (Some("#e1bee7"), "#6a1b9a"),
        Mark::Plain => (None, "#333"),
    };
    if let Some(fill) = fill {
        let _ = writeln!(
            out,
            r#"<rect x="8" y="{}" width="{}" height="{}" fill="{fill}" opacity="0.6"/>"#,
            y - ROW_H / 2 + 1,
            width - 16,
            ROW_H - 2
        );
    }
    let _ = writeln!(
        out,
        r##"<text x="{}" y="{}" text-anchor="end" fill="#555">{}</text>"##,
        LEFT - 8,
        y + 4,
        xml(&format_ms(step.t_us))
    );
    let label = format!("{}{}", step.label, tag(step.mark));
    match step.arrow {
        Arrow::Note(lane) => {
            let x = x_of(lane);
            let w = LANE_W - 16;
            let _ = writeln!(
                out,
                r##"<rect x="{}" y="{}" width="{w}" height="{}" rx="3" fill="#fffde7" stroke="{stroke}"/><text x="{x}" y="{}" text-anchor="middle" fill="{stroke}">{}</text>"##,
                x - w / 2,
                y - 10,
                20,
                y + 4,
                xml(&label)
            );
        }
        Arrow::Message { from, to, style } => {
            let (x1, x2) = (x_of(from), x_of(to));
            let dash = if style == Line::Dashed {
                r#" stroke-dasharray="6 4""#
            } else {
                ""
            };
            let end = if style == Line::Cross {
                String::new()
            } else {
                r#" marker-end="url(#head)""#.to_owned()
            };
            let _ = writeln!(
                out,
                r#"<line x1="{x1}" y1="{}" x2="{x2}" y2="{}" stroke="{stroke}" stroke-width="1.5"{dash}{end}/>"#,
                y + 6,
                y + 6
            );
            if style == Line::Cross {
                let _ = writeln!(
                    out,
                    r#"<path d="M {} {} l 10 10 M {} {} l -10 10" stroke="{stroke}" stroke-width="2"/>"#,
                    x2 - 5,
                    y + 1,
                    x2 + 5,
                    y + 1
                );
            }
            let _ = writeln!(
                out,
                r#"<text x="{}" y="{}" text-anchor="middle" fill="{stroke}" stroke="white" stroke-width="3" paint-order="stroke">{}</text>"#,
                (x1 + x2) / 2,
                y + 1,
                xml(&label)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_markup_characters() {
        assert_eq!(
            xml(r#"a<b & "c">'d'"#),
            "a&lt;b &amp; &quot;c&quot;&gt;&apos;d&apos;"
        );
    }

    #[test]
    fn mermaid_text_escapes_entities_and_statement_ends() {
        assert_eq!(mermaid_text("#166; ok"), "#35;166#59; ok");
    }
}
