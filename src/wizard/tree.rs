//! The OU tree of one directory: compact node storage (one arena, children as index lists), loaded lazily one
//! level at a time, with a cache of the visible rows so a view draws only the rows on screen however many
//! OUs there are. The check state is derived from the answers' `ous` list, never stored twice.

use super::data::OuEntry;

pub type NodeId = u32;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Load {
    NotLoaded,
    /// Children are arriving (a paged search is running).
    Loading,
    Loaded,
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct Node {
    pub dn: Box<str>,
    pub name: Box<str>,
    pub parent: Option<NodeId>,
    pub depth: u16,
    pub children: Vec<NodeId>,
    pub load: Load,
    pub expanded: bool,
    /// Dropped with a level that is read again (it failed part-way): no longer in the tree.
    pub dropped: bool,
}

/// How a row is drawn: `[x]` selected (or covered by a selected parent), `[-]` something below is selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    Selected,
    /// A selected ancestor covers it: the rights reach it through inheritance.
    Covered,
    Partial,
    Clear,
}

#[derive(Debug, Clone, Default)]
pub struct OuTree {
    nodes: Vec<Node>,
    roots: Vec<NodeId>,
    visible: Vec<NodeId>,
    pub cursor: usize,
    pub offset: usize,
    /// The number of rows the view showed last (for revealing opened nodes' children).
    rows: usize,
    /// Bumped by Refresh: results of an older load are dropped.
    pub generation: u64,
}

impl OuTree {
    /// A tree whose top level is the forest's domains: (naming context, DNS name).
    pub fn new(domains: &[(String, String)], generation: u64) -> Self {
        let mut tree = Self {
            generation,
            ..Self::default()
        };
        for (nc, dns) in domains {
            let id = tree.push(nc, dns, None);
            tree.roots.push(id);
        }
        tree.rebuild();
        tree
    }

    fn push(&mut self, dn: &str, name: &str, parent: Option<NodeId>) -> NodeId {
        let id = self.nodes.len() as NodeId;
        let depth = parent.map_or(0, |p| self.node(p).map_or(0, |n| n.depth + 1));
        self.nodes.push(Node {
            dn: dn.into(),
            name: name.into(),
            parent,
            depth,
            children: Vec::new(),
            load: Load::NotLoaded,
            expanded: false,
            dropped: false,
        });
        id
    }

    pub fn node(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(id as usize)
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn roots(&self) -> &[NodeId] {
        &self.roots
    }

    /// The rows a view can show, top to bottom.
    pub fn visible(&self) -> &[NodeId] {
        &self.visible
    }

    pub fn cursor_node(&self) -> Option<NodeId> {
        self.visible.get(self.cursor).copied()
    }

    fn rebuild(&mut self) {
        let mut out = Vec::with_capacity(self.visible.len().max(self.roots.len()));
        let mut stack: Vec<NodeId> = self.roots.iter().rev().copied().collect();
        while let Some(id) = stack.pop() {
            out.push(id);
            if let Some(n) = self.nodes.get(id as usize)
                && n.expanded
            {
                stack.extend(n.children.iter().rev().copied());
            }
        }
        self.visible = out;
        self.cursor = self.cursor.min(self.visible.len().saturating_sub(1));
    }

    /// Opens a node; returns it when its children must be loaded first.
    pub fn expand(&mut self, id: NodeId) -> Option<NodeId> {
        let node = self.nodes.get_mut(id as usize)?;
        node.expanded = true;
        let load = matches!(node.load, Load::NotLoaded | Load::Failed(_));
        let partial = matches!(node.load, Load::Failed(_));
        if load {
            node.load = Load::Loading;
        }
        if partial {
            // The level failed part-way: what arrived of it goes, the whole level is read again.
            self.drop_children(id);
        }
        self.rebuild();
        self.reveal_children(id);
        load.then_some(id)
    }

    fn drop_children(&mut self, id: NodeId) {
        let mut stack = self
            .nodes
            .get_mut(id as usize)
            .map(|n| std::mem::take(&mut n.children))
            .unwrap_or_default();
        while let Some(c) = stack.pop() {
            if let Some(n) = self.nodes.get_mut(c as usize) {
                n.dropped = true;
                stack.append(&mut n.children);
            }
        }
    }

    /// When `id` is the cursor's node and open, scrolls so that its first children are on screen too (an
    /// OU opened on the last row would otherwise seem empty).
    fn reveal_children(&mut self, id: NodeId) {
        let Some(node) = self.node(id) else { return };
        if !node.expanded || self.cursor_node() != Some(id) || self.rows == 0 {
            return;
        }
        let shown = node.children.len().min(self.rows.saturating_sub(1));
        let last = self.cursor + shown;
        if last >= self.offset + self.rows {
            self.offset = (last + 1 - self.rows).min(self.cursor);
        }
    }

    pub fn collapse(&mut self, id: NodeId) {
        if let Some(n) = self.nodes.get_mut(id as usize) {
            n.expanded = false;
        }
        self.rebuild();
    }

    /// A page of children arrived; `done` closes the level.
    pub fn add_children(&mut self, parent: NodeId, batch: &[OuEntry], done: bool) {
        if self.node(parent).is_none() {
            return;
        }
        for e in batch {
            let id = self.push(&e.dn, &e.name, Some(parent));
            if let Some(p) = self.nodes.get_mut(parent as usize) {
                p.children.push(id);
            }
        }
        if let Some(p) = self.nodes.get_mut(parent as usize) {
            p.load = if done { Load::Loaded } else { Load::Loading };
            if !batch.is_empty() && !p.expanded {
                return;
            }
        }
        self.rebuild();
        self.reveal_children(parent);
    }

    pub fn failed(&mut self, parent: NodeId, error: String) {
        if let Some(p) = self.nodes.get_mut(parent as usize) {
            p.load = Load::Failed(error);
        }
    }

    pub fn any_loading(&self) -> bool {
        self.nodes
            .iter()
            .any(|n| n.load == Load::Loading && !n.dropped)
    }

    pub fn move_cursor(&mut self, delta: isize, rows: usize) {
        let last = self.visible.len().saturating_sub(1);
        self.cursor = self.cursor.saturating_add_signed(delta).min(last);
        self.scroll_to_cursor(rows);
    }

    pub fn set_cursor(&mut self, row: usize, rows: usize) {
        self.cursor = row.min(self.visible.len().saturating_sub(1));
        self.scroll_to_cursor(rows);
    }

    pub fn scroll_to_cursor(&mut self, rows: usize) {
        let rows = rows.max(1);
        self.rows = rows;
        if self.cursor < self.offset {
            self.offset = self.cursor;
        } else if self.cursor >= self.offset + rows {
            self.offset = self.cursor + 1 - rows;
        }
    }

    /// The next node after the cursor (in tree order, loaded nodes only) whose name contains `query`; its
    /// ancestors are opened and the cursor put on it.
    pub fn search(&mut self, query: &str, rows: usize) -> bool {
        let q = query.to_lowercase();
        if q.is_empty() {
            return false;
        }
        let start = self.cursor_node().map_or(0, |id| id as usize + 1);
        let n = self.nodes.len();
        let found = (0..n).map(|i| ((start + i) % n) as NodeId).find(|&id| {
            self.node(id)
                .is_some_and(|x| !x.dropped && x.name.to_lowercase().contains(&q))
        });
        let Some(id) = found else { return false };
        let mut up = self.node(id).and_then(|n| n.parent);
        while let Some(p) = up {
            if let Some(node) = self.nodes.get_mut(p as usize) {
                node.expanded = true;
                up = node.parent;
            } else {
                break;
            }
        }
        self.rebuild();
        if let Some(row) = self.visible.iter().position(|&v| v == id) {
            self.set_cursor(row, rows);
        }
        true
    }

    pub fn check(&self, id: NodeId, ous: &[String]) -> Check {
        let Some(node) = self.node(id) else {
            return Check::Clear;
        };
        check_of(&node.dn, ous)
    }
}

fn lower(s: &str) -> String {
    s.to_ascii_lowercase().replace(", ", ",")
}

/// `[x]`, covered, `[-]` or `[ ]` for `dn` given the selected DNs.
pub fn check_of(dn: &str, ous: &[String]) -> Check {
    let dn = lower(dn);
    let mut partial = false;
    for ou in ous {
        let ou = lower(ou);
        if ou == dn {
            return Check::Selected;
        }
        if dn.ends_with(&format!(",{ou}")) {
            return Check::Covered;
        }
        partial |= ou.ends_with(&format!(",{dn}"));
    }
    if partial {
        Check::Partial
    } else {
        Check::Clear
    }
}

/// Toggles `dn` in the selection. Selecting drops the selected DNs below it (they are covered now). A covered
/// DN cannot be deselected alone: the answer names the selected parent to uncheck instead.
pub fn toggle(dn: &str, ous: &mut Vec<String>) -> Result<(), String> {
    match check_of(dn, ous) {
        Check::Selected => {
            let key = lower(dn);
            ous.retain(|o| lower(o) != key);
            Ok(())
        }
        Check::Covered => {
            let key = lower(dn);
            let parent = ous
                .iter()
                .find(|o| key.ends_with(&format!(",{}", lower(o))))
                .cloned()
                .unwrap_or_default();
            Err(format!(
                "{parent} is selected and covers everything below it: uncheck it first"
            ))
        }
        Check::Partial | Check::Clear => {
            let key = lower(dn);
            ous.retain(|o| !lower(o).ends_with(&format!(",{key}")));
            ous.push(dn.to_string());
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(dn: &str) -> OuEntry {
        OuEntry {
            dn: dn.into(),
            name: dn
                .split(',')
                .next()
                .unwrap_or_default()
                .trim_start_matches("OU=")
                .into(),
            is_ou: true,
        }
    }

    #[test]
    fn loads_lazily_and_shows_only_expanded_levels() {
        let mut t = OuTree::new(&[("DC=corp,DC=test".into(), "corp.test".into())], 0);
        assert_eq!(t.visible().len(), 1);
        assert_eq!(t.expand(0), Some(0), "first expand asks for the children");
        t.add_children(0, &[entry("OU=A,DC=corp,DC=test")], false);
        assert_eq!(
            t.visible().len(),
            2,
            "a first page shows before the level is complete"
        );
        t.add_children(0, &[entry("OU=B,DC=corp,DC=test")], true);
        assert_eq!(t.visible().len(), 3);
        assert_eq!(t.node(0).unwrap().load, Load::Loaded);
        assert_eq!(t.expand(0), None, "a loaded level is not read again");
        t.collapse(0);
        assert_eq!(t.visible().len(), 1);
    }

    #[test]
    fn an_ou_opened_on_the_last_row_scrolls_to_show_its_children() {
        let mut t = OuTree::new(&[("DC=corp,DC=test".into(), "corp.test".into())], 0);
        t.expand(0);
        let level: Vec<OuEntry> = (0..20)
            .map(|i| entry(&format!("OU=O{i},DC=corp,DC=test")))
            .collect();
        t.add_children(0, &level, true);
        let rows = 5;
        t.set_cursor(20, rows);
        assert_eq!(t.offset, 16, "the last OU is on the last row");
        let last = t.cursor_node().unwrap();
        assert_eq!(t.expand(last), Some(last));
        t.add_children(
            last,
            &[
                entry("OU=In,OU=O19,DC=corp,DC=test"),
                entry("OU=Out,OU=O19,DC=corp,DC=test"),
            ],
            true,
        );
        assert_eq!(
            t.cursor_node(),
            Some(last),
            "the cursor stays on the opened OU"
        );
        assert_eq!(t.offset, 18, "scrolled so both children show below it");
        assert!(t.offset + rows > t.cursor + 2);
    }

    #[test]
    fn tri_state_and_toggle() {
        let mut ous = vec!["OU=In,OU=T,DC=corp,DC=test".to_string()];
        assert_eq!(check_of("OU=T,DC=corp,DC=test", &ous), Check::Partial);
        assert_eq!(
            check_of("ou=in,ou=t,dc=corp,dc=test", &ous),
            Check::Selected
        );
        assert_eq!(
            check_of("OU=Deep,OU=In,OU=T,DC=corp,DC=test", &ous),
            Check::Covered
        );
        assert_eq!(check_of("OU=Out,OU=T,DC=corp,DC=test", &ous), Check::Clear);
        assert!(toggle("OU=Deep,OU=In,OU=T,DC=corp,DC=test", &mut ous).is_err());
        toggle("OU=T,DC=corp,DC=test", &mut ous).unwrap();
        assert_eq!(
            ous,
            vec!["OU=T,DC=corp,DC=test".to_string()],
            "the parent replaces its children"
        );
        toggle("OU=T,DC=corp,DC=test", &mut ous).unwrap();
        assert!(ous.is_empty());
    }

    #[test]
    fn search_opens_the_way_to_a_loaded_match() {
        let mut t = OuTree::new(&[("DC=corp,DC=test".into(), "corp.test".into())], 0);
        t.expand(0);
        t.add_children(0, &[entry("OU=A,DC=corp,DC=test")], true);
        t.expand(1);
        t.add_children(1, &[entry("OU=Needle,OU=A,DC=corp,DC=test")], true);
        t.collapse(1);
        t.collapse(0);
        assert!(t.search("needle", 10));
        assert_eq!(
            t.node(t.cursor_node().unwrap()).unwrap().name.as_ref(),
            "Needle"
        );
        assert!(!t.search("nothing", 10));
    }
}
