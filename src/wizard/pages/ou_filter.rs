//! Domain and OU filtering: per directory, "Sync all domains and OUs" (scope = domains) or "Sync selected
//! domains and OUs" (scope = selected, the checked containers go to `ous`). The tree is loaded live, one level at
//! a time with paged searches, and only the rows on screen are drawn, so thousands of OUs stay fluid.

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::{PageLogic, nav_buttons};
use crate::answers::Scope;
use crate::error::Error;
use crate::wizard::data::OuEntry;
use crate::wizard::field::TextField;
use crate::wizard::keys::{self, Hint};
use crate::wizard::tree::{self, NodeId, OuTree};
use crate::wizard::{Button, Effect, Model, Page, Target, goto};

/// Rows of the OU page that are not tree rows (header, radio buttons, search line, count, borders, buttons,
/// status and key hints); the view lays the page out with the same numbers.
pub const TREE_CHROME: u16 = 11;

#[derive(Debug, Default)]
pub struct State {
    /// The directory shown (index into the answers' directories).
    pub dir: usize,
    pub trees: Vec<Option<OuTree>>,
    /// The OUs checked before switching to "Sync all", restored when switching back.
    pub parked: Vec<Vec<String>>,
    /// The `/` search line while it is open.
    pub search: Option<TextField>,
    pub last_search: String,
    /// A note under the tree (a covered OU, no match, ...).
    pub note: Option<String>,
    pub error: Option<String>,
    generation: u64,
}

impl State {
    pub fn tree(&self) -> Option<&OuTree> {
        self.trees.get(self.dir).and_then(Option::as_ref)
    }

    pub fn tree_mut(&mut self) -> Option<&mut OuTree> {
        self.trees.get_mut(self.dir).and_then(Option::as_mut)
    }

    pub fn busy(&self) -> bool {
        self.trees.iter().flatten().any(OuTree::any_loading)
    }

    /// Drops the tree of directory `i` (it was validated again, perhaps against another forest).
    pub fn reset(&mut self, i: usize) {
        if let Some(t) = self.trees.get_mut(i) {
            *t = None;
        }
    }

    pub fn remove(&mut self, i: usize) {
        if i < self.trees.len() {
            self.trees.remove(i);
        }
        if i < self.parked.len() {
            self.parked.remove(i);
        }
        self.dir = self
            .dir
            .saturating_sub(usize::from(self.dir >= i && self.dir > 0));
    }
}

pub struct OuFilter;

fn selected_scope(m: &Model) -> bool {
    m.answers
        .directories
        .get(m.ous.dir)
        .is_some_and(|d| d.scope == Scope::Selected)
}

/// Opens the tree of the current directory (its domains, each opened one level) when it is not there yet.
fn open_tree(m: &mut Model) -> Vec<Effect> {
    let i = m.ous.dir;
    if m.ous.trees.len() < m.answers.directories.len() {
        m.ous
            .trees
            .resize_with(m.answers.directories.len(), || None);
    }
    if m.ous.tree().is_some() {
        return Vec::new();
    }
    let Some(info) = m.dirs.info(i).cloned() else {
        m.ous.error = Some(
            "this directory has not been validated: go back to Connect your directories and press Next"
                .into(),
        );
        return Vec::new();
    };
    m.ous.generation += 1;
    let mut t = OuTree::new(&info.domains, m.ous.generation);
    let roots: Vec<NodeId> = t.roots().to_vec();
    let mut effects = Vec::new();
    for r in roots {
        if let Some(node) = t.expand(r) {
            effects.extend(load(m, i, &t, node));
        }
    }
    m.ous.trees[i] = Some(t);
    effects
}

fn load(m: &Model, dir: usize, t: &OuTree, node: NodeId) -> Option<Effect> {
    Some(Effect::LoadChildren {
        dir,
        directory: m.runtime_directory(dir)?,
        node,
        dn: t.node(node)?.dn.to_string(),
        generation: t.generation,
    })
}

fn ous_mut(m: &mut Model) -> Option<&mut Vec<String>> {
    m.answers.directories.get_mut(m.ous.dir).map(|d| &mut d.ous)
}

fn set_scope(m: &mut Model, selected: bool) {
    let i = m.ous.dir;
    if m.ous.parked.len() < m.answers.directories.len() {
        m.ous
            .parked
            .resize_with(m.answers.directories.len(), Vec::new);
    }
    let Some(d) = m.answers.directories.get_mut(i) else {
        return;
    };
    match (d.scope, selected) {
        (Scope::Domains, true) => {
            d.scope = Scope::Selected;
            d.ous = std::mem::take(&mut m.ous.parked[i]);
        }
        (Scope::Selected, false) => {
            d.scope = Scope::Domains;
            m.ous.parked[i] = std::mem::take(&mut d.ous);
        }
        _ => {}
    }
    m.ous.error = None;
}

fn toggle_cursor(m: &mut Model) {
    let Some(dn) = m
        .ous
        .tree()
        .and_then(|t| t.cursor_node().and_then(|id| t.node(id)))
        .map(|n| n.dn.to_string())
    else {
        return;
    };
    if !selected_scope(m) {
        set_scope(m, true);
    }
    let result = ous_mut(m).map(|ous| tree::toggle(&dn, ous));
    m.ous.note = match result {
        Some(Err(e)) => Some(e),
        _ => None,
    };
    m.ous.error = None;
}

fn tree_key(m: &mut Model, k: KeyEvent) -> Option<Vec<Effect>> {
    let rows = m.tree_rows();
    if let Some(search) = m.ous.search.as_mut() {
        match k.code {
            KeyCode::Esc => m.ous.search = None,
            KeyCode::Enter => {
                let q = search.text().to_string();
                m.ous.last_search = q.clone();
                m.ous.search = None;
                let found = m.ous.tree_mut().is_some_and(|t| t.search(&q, rows));
                m.ous.note = (!found).then(|| format!("no loaded OU matches {q:?}"));
            }
            _ => {
                search.key(k);
            }
        }
        return Some(Vec::new());
    }
    let dir = m.ous.dir;
    let t = m.ous.tree_mut()?;
    let cur = t.cursor_node();
    match k.code {
        KeyCode::Up => t.move_cursor(-1, rows),
        KeyCode::Down => t.move_cursor(1, rows),
        KeyCode::PageUp => t.move_cursor(-(rows as isize), rows),
        KeyCode::PageDown => t.move_cursor(rows as isize, rows),
        KeyCode::Home => t.set_cursor(0, rows),
        KeyCode::End => t.set_cursor(usize::MAX, rows),
        KeyCode::Right | KeyCode::Enter => {
            let id = cur?;
            let expanded = t.node(id).is_some_and(|n| n.expanded);
            if expanded && k.code == KeyCode::Right {
                t.move_cursor(1, rows);
            } else if expanded {
                t.collapse(id);
            } else if let Some(node) = t.expand(id) {
                let t = m.ous.tree()?;
                return Some(load(m, dir, t, node).into_iter().collect());
            }
        }
        KeyCode::Left => {
            let id = cur?;
            let node = t.node(id)?;
            if node.expanded {
                t.collapse(id);
            } else if let Some(parent) = node.parent
                && let Some(row) = t.visible().iter().position(|&v| v == parent)
            {
                t.set_cursor(row, rows);
            }
        }
        KeyCode::Char(' ') => toggle_cursor(m),
        KeyCode::Char('/') => m.ous.search = Some(TextField::new("")),
        KeyCode::Char('n') => {
            let q = m.ous.last_search.clone();
            let found = m.ous.tree_mut().is_some_and(|t| t.search(&q, rows));
            m.ous.note = (!found).then(|| format!("no loaded OU matches {q:?}"));
        }
        _ => return None,
    }
    Some(Vec::new())
}

fn refresh(m: &mut Model) -> Vec<Effect> {
    let i = m.ous.dir;
    m.ous.reset(i);
    m.ous.note = None;
    open_tree(m)
}

impl PageLogic for OuFilter {
    fn enter(&self, m: &mut Model) -> Vec<Effect> {
        m.ous.dir = m.ous.dir.min(m.answers.directories.len().saturating_sub(1));
        m.ous.error = None;
        open_tree(m)
    }

    fn focusables(&self, m: &Model) -> Vec<Target> {
        let mut v = Vec::new();
        if m.answers.directories.len() > 1 {
            v.push(Target::DirectoryPicker);
        }
        v.push(Target::Scope);
        v.push(Target::Tree);
        v.push(Target::Button(Button::Refresh));
        v.extend(nav_buttons(m, Button::Next));
        v
    }

    fn initial_focus(&self, m: &Model) -> Target {
        let incomplete = m
            .answers
            .directories
            .iter()
            .any(|d| d.scope == Scope::Selected && d.ous.is_empty());
        if incomplete {
            Target::Tree
        } else {
            Target::Button(Button::Next)
        }
    }

    fn key(&self, m: &mut Model, k: KeyEvent) -> Option<Vec<Effect>> {
        // `r` refreshes wherever the hint bar offers it (not while typing a search).
        if keys::REFRESH.matches(&k) && !m.typing() {
            return Some(refresh(m));
        }
        match m.focus {
            Target::Tree => tree_key(m, k),
            Target::Scope => match k.code {
                KeyCode::Up | KeyCode::Down | KeyCode::Char(' ') => {
                    let sel = selected_scope(m);
                    set_scope(m, !sel);
                    Some(Vec::new())
                }
                _ => None,
            },
            Target::DirectoryPicker => {
                let n = m.answers.directories.len();
                let d = match k.code {
                    KeyCode::Left | KeyCode::Up => (m.ous.dir + n - 1) % n.max(1),
                    KeyCode::Right | KeyCode::Down | KeyCode::Char(' ') => {
                        (m.ous.dir + 1) % n.max(1)
                    }
                    _ => return None,
                };
                m.ous.dir = d;
                m.ous.search = None;
                Some(open_tree(m))
            }
            _ => None,
        }
    }

    fn activate(&self, m: &mut Model, b: Button) -> Vec<Effect> {
        match b {
            Button::Refresh => refresh(m),
            Button::Next => {
                let empty = m
                    .answers
                    .directories
                    .iter()
                    .position(|d| d.scope == Scope::Selected && d.ous.is_empty());
                if let Some(i) = empty {
                    m.ous.dir = i;
                    m.ous.error = Some(
                        "ous: nothing is checked: check at least one domain or OU (Space), or choose Sync all domains and OUs"
                            .into(),
                    );
                    m.focus = Target::Tree;
                    return open_tree(m);
                }
                goto(m, Page::Features)
            }
            _ => Vec::new(),
        }
    }

    fn hints(&self, m: &Model, out: &mut Vec<Hint>) {
        if m.focus == Target::Tree {
            if m.ous.search.is_some() {
                out.push(Hint {
                    key: "Enter",
                    action: "find",
                    enabled: true,
                });
                out.push(Hint {
                    key: "Esc",
                    action: "close search",
                    enabled: true,
                });
                return;
            }
            out.push(keys::UP.hint());
            out.push(Hint {
                key: "←→",
                action: "close/open",
                enabled: true,
            });
            out.push(keys::SPACE.hint());
            out.push(keys::SEARCH.hint());
            out.push(keys::SEARCH_NEXT.hint_if(!m.ous.last_search.is_empty()));
        } else if m.focus == Target::Scope {
            out.push(Hint {
                key: "Space",
                action: "all / selected",
                enabled: true,
            });
        }
        out.push(keys::REFRESH.hint_if(!m.typing()));
    }

    fn select_row(&self, m: &mut Model, t: Target, row: usize, check: bool) -> Vec<Effect> {
        match t {
            Target::Scope => set_scope(m, row == 1),
            Target::Tree => {
                let rows = m.tree_rows();
                let Some(tr) = m.ous.tree_mut() else {
                    return Vec::new();
                };
                let row = tr.offset + row;
                if row >= tr.visible().len() {
                    return Vec::new();
                }
                tr.set_cursor(row, rows);
                if check {
                    toggle_cursor(m);
                }
            }
            _ => {}
        }
        Vec::new()
    }

    fn back(&self, m: &mut Model) -> Option<Vec<Effect>> {
        if m.ous.search.take().is_some() {
            return Some(Vec::new());
        }
        None
    }
}

#[allow(clippy::too_many_arguments)]
pub fn children_loaded(
    m: &mut Model,
    dir: usize,
    node: NodeId,
    generation: u64,
    entries: &[OuEntry],
    done: bool,
    error: Option<Error>,
) -> Vec<Effect> {
    let Some(Some(t)) = m.ous.trees.get_mut(dir) else {
        return Vec::new();
    };
    if t.generation != generation {
        return Vec::new();
    }
    match error {
        Some(e) => t.failed(node, e.to_string()),
        None => t.add_children(node, entries, done),
    }
    Vec::new()
}
