//! The SDDL before/after of one planned object, laid out for reading: one ACE per line, the ACEs the plan
//! adds marked, wrapped to the popup's width here (so the model knows how far the popup scrolls and the view
//! draws exactly these rows).

use super::data::TargetSummary;

/// What a row of the popup is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Title,
    Heading,
    /// An owner, group or ACL header (`O:`, `G:`, `D:PAI`, `S:`).
    Part,
    Ace,
    /// An ACE the plan adds.
    Added,
    /// A part of the descriptor before that the descriptor after does not have.
    Removed,
    /// The rest of a row too long for the width.
    More,
    Blank,
}

/// The parts of an SDDL string in order: (is an ACE, text). `O:DAG:DAD:PAI(A;;RP;;;AU)(A;;RC;;;WD)` gives
/// `O:DA`, `G:DA`, `D:PAI`, `(A;;RP;;;AU)`, `(A;;RC;;;WD)`. Parentheses nest (conditional ACEs).
pub fn split(sddl: &str) -> Vec<(bool, String)> {
    let mut out = Vec::new();
    let mut header = String::new();
    let mut ace = String::new();
    let mut depth = 0usize;
    let chars: Vec<char> = sddl.chars().collect();
    let flush = |header: &mut String, out: &mut Vec<(bool, String)>| {
        if !header.trim().is_empty() {
            out.push((false, header.trim().to_string()));
        }
        header.clear();
    };
    for (i, &c) in chars.iter().enumerate() {
        if depth > 0 {
            ace.push(c);
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        out.push((true, std::mem::take(&mut ace)));
                    }
                }
                _ => {}
            }
            continue;
        }
        if c == '(' {
            flush(&mut header, &mut out);
            depth = 1;
            ace.push(c);
            continue;
        }
        // A new part starts at O:, G:, D: or S: (SIDs are written S-1-..., never S:).
        if matches!(c, 'O' | 'G' | 'D' | 'S') && chars.get(i + 1) == Some(&':') {
            flush(&mut header, &mut out);
        }
        header.push(c);
    }
    if !ace.is_empty() {
        out.push((true, ace));
    }
    flush(&mut header, &mut out);
    out
}

/// The rows of the popup for `t` at `width` cells: the descriptor after the change, one part or ACE per row,
/// the ACEs the plan adds marked `+`; anything of the descriptor before that is not kept (never the case for
/// what this tool plans: it only adds) marked `-`. Unchanged rows are the descriptor as it is now.
pub fn lines(t: &TargetSummary, width: u16) -> Vec<(Mark, String)> {
    let before = split(&t.sddl_before);
    let after = split(&t.sddl_after);
    let aces = |parts: &[(bool, String)]| parts.iter().filter(|(a, _)| *a).count();
    // What of before is still to be matched (a multiset: the same ACE may stand twice).
    let mut left: Vec<&(bool, String)> = before.iter().collect();
    let mut rows: Vec<(Mark, String)> = vec![
        (Mark::Title, t.dn.clone()),
        (
            Mark::Title,
            format!("{} · {} ACE(s) to add", t.kind, t.aces_to_add),
        ),
        (
            Mark::Heading,
            format!(
                "Before: {} ACEs · after: {} ACEs · + added by the plan",
                aces(&before),
                aces(&after)
            ),
        ),
        (Mark::Blank, String::new()),
    ];
    for part in &after {
        let (ace, text) = part;
        let pad = if *ace { "  " } else { "" };
        if let Some(i) = left.iter().position(|b| *b == part) {
            left.remove(i);
            rows.push((
                if *ace { Mark::Ace } else { Mark::Part },
                format!("  {pad}{text}"),
            ));
        } else {
            rows.push((Mark::Added, format!("+ {pad}{text}")));
        }
    }
    for (ace, text) in left {
        let pad = if *ace { "  " } else { "" };
        rows.push((Mark::Removed, format!("- {pad}{text}")));
    }
    wrap_rows(rows, usize::from(width.max(8)))
}

/// Cuts rows longer than `width` characters; the rest goes on indented rows.
fn wrap_rows(rows: Vec<(Mark, String)>, width: usize) -> Vec<(Mark, String)> {
    const INDENT: &str = "      ";
    let mut out = Vec::new();
    for (mark, text) in rows {
        let chars: Vec<char> = text.chars().collect();
        if chars.len() <= width {
            out.push((mark, text));
            continue;
        }
        out.push((mark, chars[..width].iter().collect()));
        let room = width.saturating_sub(INDENT.len()).max(1);
        for piece in chars[width..].chunks(room) {
            let rest: String = piece.iter().collect();
            let more = if matches!(mark, Mark::Added | Mark::Removed) {
                mark
            } else {
                Mark::More
            };
            out.push((more, format!("{INDENT}{rest}")));
        }
    }
    out
}

/// The popup's rectangle inside a terminal of `size`: (width, height) of its text rows (without the frame and
/// the button row).
pub fn body_size(size: (u16, u16)) -> (u16, u16) {
    let w = size.0.saturating_sub(4).saturating_sub(2);
    let h = size.1.saturating_sub(2).saturating_sub(2).saturating_sub(2);
    (w, h)
}

/// The furthest the popup scrolls for `t` in a terminal of `size`.
pub fn max_scroll(t: &TargetSummary, size: (u16, u16)) -> usize {
    let (w, h) = body_size(size);
    lines(t, w).len().saturating_sub(usize::from(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_added_aces_are_marked_and_the_rest_shown_once() {
        let t = TargetSummary {
            dn: "OU=In".into(),
            kind: "OU/container".into(),
            aces_to_add: 1,
            writable: true,
            sddl_before: "O:DAD:PAI(A;;RP;;;AU)(A;;RP;;;AU)".into(),
            sddl_after: "O:DAD:PAI(OA;CIIO;CR;x;y;S-1-5-21-1)(A;;RP;;;AU)(A;;RP;;;AU)".into(),
        };
        let rows: Vec<String> = lines(&t, 200).into_iter().map(|(_, s)| s).collect();
        assert_eq!(
            rows[4..],
            [
                "  O:DA",
                "  D:PAI",
                "+   (OA;CIIO;CR;x;y;S-1-5-21-1)",
                "    (A;;RP;;;AU)",
                "    (A;;RP;;;AU)"
            ]
        );
    }

    #[test]
    fn split_gives_one_part_per_line() {
        let parts =
            split("O:DAG:DAD:PAI(A;;RP;;;AU)(XA;;CR;;;WD;(@User.x == 1))S:AI(AU;SA;WP;;;WD)");
        let text: Vec<&str> = parts.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(
            text,
            [
                "O:DA",
                "G:DA",
                "D:PAI",
                "(A;;RP;;;AU)",
                "(XA;;CR;;;WD;(@User.x == 1))",
                "S:AI",
                "(AU;SA;WP;;;WD)"
            ]
        );
        assert_eq!(
            split("O:S-1-5-21-1-2-3-512G:S-1-5-32-544")[1].1,
            "G:S-1-5-32-544"
        );
    }
}
