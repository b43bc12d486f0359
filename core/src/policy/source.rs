//! Where each node of a policy file stands, so that errors found after deserialization
//! (a bad glob, a duplicate rule id, an undeclared resource) can name a line and column.
//!
//! serde gives locations only for syntax and shape errors. For the checks that come later we
//! walk the file once more with `saphyr-parser`'s event stream (JSON is YAML flow syntax, so the
//! same walk serves both formats) and record the start of every node under its path
//! (`rules`, 3, `when`, `resources`, 0).
//!
//! The paths form a trie: a node is recorded once, under its parent, the first time its path
//! is seen (a later node at the same path, as with a repeated key, keeps the first position but
//! adds its children under it), so the recorded paths are closed under prefixes and a lookup
//! walks down from the root as far as the path goes. Every compile indexes its documents, so
//! this is built for speed: one hash-map entry per node keyed by the parent's number and the
//! step (a sequence index, or a key interned once per distinct key), no path copies.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser};

/// One step of a path into a document.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Seg {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1, in characters.
    pub column: usize,
}

/// A step from a node to a child, as stored: a sequence index, or an interned key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Step {
    Index(usize),
    Key(usize),
}

impl Step {
    /// The step from `parent` packed in one integer: the parent's number in the high half, the
    /// step in the low half (index or key number, then one bit for which). `None` past 2^32
    /// nodes or 2^31 items, which no document held in memory reaches.
    fn packed(self, parent: usize) -> Option<u64> {
        let (n, tag) = match self {
            Step::Index(i) => (i, 0),
            Step::Key(k) => (k, 1),
        };
        let low = u32::try_from(n).ok()?.checked_mul(2)? | tag;
        Some(u64::from(u32::try_from(parent).ok()?) << 32 | u64::from(low))
    }
}

/// Hashes the packed steps: they are small integers the parser numbers, never text, so a
/// multiply-and-fold (as `foldhash` does) spreads them well enough, for a fraction of SipHash.
#[derive(Default)]
struct StepHasher(u64);

impl std::hash::Hasher for StepHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        let product = u128::from(self.0 ^ n) * 0x9e37_79b9_7f4a_7c15;
        self.0 = (product as u64) ^ ((product >> 64) as u64);
    }
}

/// Node positions of one file, by path.
#[derive(Debug, Default)]
pub(crate) struct SourceMap {
    /// Position of each node, by node number; node 0 is the root once anything is indexed.
    positions: Vec<Position>,
    /// The child of a node through a step (see [`Step::packed`]).
    children: HashMap<u64, u32, std::hash::BuildHasherDefault<StepHasher>>,
    /// Key texts, numbered in order of first appearance.
    keys: HashMap<Box<str>, usize>,
}

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Root,
    Key,
    Value,
    Item,
}

enum Frame<'t> {
    Map { expecting_key: bool, key: Option<std::borrow::Cow<'t, str>> },
    Seq { next: usize },
}

impl SourceMap {
    /// Index `text`. A text the event parser rejects yields a partial map; lookups then fall back
    /// to the nearest indexed ancestor, or to line 1, column 1.
    pub(crate) fn index(text: &str) -> SourceMap {
        let mut map = SourceMap::default();
        // About one node per 16 bytes of a policy; reserving saves the rehashing as it grows.
        map.positions.reserve(text.len() / 16);
        map.children.reserve(text.len() / 16);
        let mut frames: Vec<(Frame<'_>, Role)> = Vec::new();
        // The node of each step of the current path; the root's is first. A node is pushed
        // with every step, so this mirrors the path.
        let mut path: Vec<usize> = Vec::new();
        let parser = Parser::new_from_str(text);
        for item in parser {
            let Ok((event, span)) = item else { break };
            let position = Position { line: span.start.line(), column: span.start.col() + 1 };
            match event {
                Event::Scalar(..)
                | Event::Alias(..)
                | Event::MappingStart(..)
                | Event::SequenceStart(..) => {
                    let is_collection =
                        matches!(event, Event::MappingStart(..) | Event::SequenceStart(..));
                    let (role, step) = match frames.last_mut() {
                        None => (Role::Root, None),
                        Some((Frame::Map { expecting_key, key }, _)) => {
                            if *expecting_key {
                                *expecting_key = false;
                                *key = match event {
                                    Event::Scalar(ref value, ..) => Some(value.clone()),
                                    _ => None,
                                };
                                (Role::Key, None)
                            } else {
                                *expecting_key = true;
                                let name = key.as_deref().unwrap_or_default();
                                (Role::Value, Some(Step::Key(map.intern(name))))
                            }
                        }
                        Some((Frame::Seq { next }, _)) => {
                            let step = Step::Index(*next);
                            *next += 1;
                            (Role::Item, Some(step))
                        }
                    };
                    if role != Role::Key {
                        let node = match (step, path.last()) {
                            (Some(step), Some(&parent)) => {
                                Some(map.child_or_insert(parent, step, position))
                            }
                            // A step with no node above it cannot happen (the root is pushed
                            // first); record nothing for it.
                            (Some(_), None) => None,
                            (None, _) => Some(map.root_or_insert(position)),
                        };
                        if let Some(node) = node {
                            if step.is_some() || path.is_empty() {
                                path.push(node);
                            }
                            if !is_collection && role != Role::Root {
                                path.pop();
                            }
                        }
                    }
                    if is_collection {
                        let frame = if matches!(event, Event::MappingStart(..)) {
                            Frame::Map { expecting_key: true, key: None }
                        } else {
                            Frame::Seq { next: 0 }
                        };
                        frames.push((frame, role));
                    }
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    if let Some((_, role)) = frames.pop() {
                        match role {
                            Role::Value | Role::Item => {
                                path.pop();
                            }
                            Role::Key => {
                                // A collection used as a key: its value comes next.
                                if let Some((Frame::Map { expecting_key, key }, _)) =
                                    frames.last_mut()
                                {
                                    *expecting_key = false;
                                    *key = None;
                                }
                            }
                            Role::Root => {}
                        }
                    }
                }
                Event::StreamStart
                | Event::StreamEnd
                | Event::DocumentStart(_)
                | Event::DocumentEnd
                | Event::Nothing => {}
            }
        }
        map
    }

    /// The number of key text `name`, given one if it has none yet.
    fn intern(&mut self, name: &str) -> usize {
        if let Some(&n) = self.keys.get(name) {
            return n;
        }
        let n = self.keys.len();
        self.keys.insert(name.into(), n);
        n
    }

    /// The root node, recorded at `position` if there is none yet.
    fn root_or_insert(&mut self, position: Position) -> usize {
        if self.positions.is_empty() {
            self.positions.push(position);
        }
        0
    }

    /// The child of `parent` through `step`, recorded at `position` if there is none yet. (Past
    /// the limits of [`Step::packed`] nothing more is recorded and the parent stands for its
    /// children.)
    fn child_or_insert(&mut self, parent: usize, step: Step, position: Position) -> usize {
        let (Some(key), Ok(next)) = (step.packed(parent), u32::try_from(self.positions.len()))
        else {
            return parent;
        };
        let node = *self.children.entry(key).or_insert(next);
        if node == next {
            self.positions.push(position);
        }
        usize::try_from(node).unwrap_or(parent)
    }

    /// The position of the node at `path`, or of its nearest indexed ancestor.
    pub(crate) fn locate(&self, path: &[Seg]) -> Position {
        let Some(&root) = self.positions.first() else {
            return Position { line: 1, column: 1 };
        };
        let mut node = 0;
        let mut found = root;
        for seg in path {
            let step = match seg {
                Seg::Index(i) => Some(Step::Index(*i)),
                Seg::Key(k) => self.keys.get(k.as_str()).map(|&n| Step::Key(n)),
            };
            let child = step.and_then(|step| step.packed(node)).and_then(|k| self.children.get(&k));
            let Some(child) = child.and_then(|&c| usize::try_from(c).ok()) else { break };
            let Some(&position) = self.positions.get(child) else { break };
            node = child;
            found = position;
        }
        found
    }
}

/// Build a path from a list of keys and indexes: `at_path!["rules", 2, "id"]`.
macro_rules! at_path {
    ($($seg:expr),* $(,)?) => {
        [$($crate::policy::source::IntoSeg::into_seg($seg)),*]
    };
}
pub(crate) use at_path;

/// Conversion used by [`at_path!`].
pub(crate) trait IntoSeg {
    fn into_seg(self) -> Seg;
}
impl IntoSeg for &str {
    fn into_seg(self) -> Seg {
        Seg::Key(self.to_owned())
    }
}
impl IntoSeg for usize {
    fn into_seg(self) -> Seg {
        Seg::Index(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_paths_point_at_values() {
        let text = "version: 1\nrules:\n  - id: a\n    effect: allow\n  - id: b\n    when:\n      resources: [x, \"y\"]\n";
        let map = SourceMap::index(text);
        assert_eq!(map.locate(&at_path!["rules", 1, "id"]), Position { line: 5, column: 9 });
        assert_eq!(
            map.locate(&at_path!["rules", 1, "when", "resources", 1]),
            Position { line: 7, column: 22 }
        );
        assert_eq!(map.locate(&at_path!["version"]), Position { line: 1, column: 10 });
    }

    #[test]
    fn json_paths_point_at_values() {
        let text = "{\n  \"version\": 1,\n  \"rules\": [\n    {\"id\": \"a\", \"effect\": \"deny\"}\n  ]\n}\n";
        let map = SourceMap::index(text);
        assert_eq!(map.locate(&at_path!["rules", 0, "effect"]), Position { line: 4, column: 27 });
    }

    #[test]
    fn missing_paths_fall_back_to_the_nearest_ancestor() {
        let map = SourceMap::index("version: 1\nrules: []\n");
        assert_eq!(map.locate(&at_path!["rules", 4, "id"]), Position { line: 2, column: 8 });
        assert_eq!(SourceMap::index("").locate(&at_path!["x"]), Position { line: 1, column: 1 });
    }

    /// A frame of the reference walk: a mapping (expecting a key, the last key) or a sequence.
    type ReferenceFrame = (Option<(bool, Option<String>)>, Role);

    /// The first implementation: every node's full path in a hash map, the first node at a
    /// path winning. The trie must answer every lookup as it did.
    fn reference_index(text: &str) -> HashMap<Vec<Seg>, Position> {
        let mut nodes = HashMap::new();
        let mut frames: Vec<ReferenceFrame> = Vec::new();
        let mut path: Vec<Seg> = Vec::new();
        let mut next_item: Vec<usize> = Vec::new();
        for item in Parser::new_from_str(text) {
            let Ok((event, span)) = item else { break };
            let position = Position { line: span.start.line(), column: span.start.col() + 1 };
            match event {
                Event::Scalar(..)
                | Event::Alias(..)
                | Event::MappingStart(..)
                | Event::SequenceStart(..) => {
                    let is_collection =
                        matches!(event, Event::MappingStart(..) | Event::SequenceStart(..));
                    let (role, seg) = match frames.last_mut() {
                        None => (Role::Root, None),
                        Some((Some((expecting_key, key)), _)) => {
                            if *expecting_key {
                                *expecting_key = false;
                                *key = match &event {
                                    Event::Scalar(value, ..) => Some(value.to_string()),
                                    _ => None,
                                };
                                (Role::Key, None)
                            } else {
                                *expecting_key = true;
                                (Role::Value, Some(Seg::Key(key.clone().unwrap_or_default())))
                            }
                        }
                        Some((None, _)) => {
                            let next = next_item.last_mut().unwrap();
                            let seg = Seg::Index(*next);
                            *next += 1;
                            (Role::Item, Some(seg))
                        }
                    };
                    if role != Role::Key {
                        if let Some(seg) = seg {
                            path.push(seg);
                        }
                        nodes.entry(path.clone()).or_insert(position);
                        if !is_collection && role != Role::Root {
                            path.pop();
                        }
                    }
                    if matches!(event, Event::MappingStart(..)) {
                        frames.push((Some((true, None)), role));
                    } else if is_collection {
                        frames.push((None, role));
                        next_item.push(0);
                    }
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    if matches!(event, Event::SequenceEnd) {
                        next_item.pop();
                    }
                    if let Some((_, role)) = frames.pop() {
                        match role {
                            Role::Value | Role::Item => {
                                path.pop();
                            }
                            Role::Key => {
                                if let Some((Some((expecting_key, key)), _)) = frames.last_mut() {
                                    *expecting_key = false;
                                    *key = None;
                                }
                            }
                            Role::Root => {}
                        }
                    }
                }
                _ => {}
            }
        }
        nodes
    }

    fn reference_locate(nodes: &HashMap<Vec<Seg>, Position>, path: &[Seg]) -> Position {
        (0..=path.len())
            .rev()
            .find_map(|len| nodes.get(&path[..len]).copied())
            .unwrap_or(Position { line: 1, column: 1 })
    }

    fn assert_same_as_reference(text: &str) {
        let reference = reference_index(text);
        let map = SourceMap::index(text);
        for path in reference.keys() {
            let mut paths = vec![path.clone()];
            for extra in
                [Seg::Index(0), Seg::Index(7), Seg::Key("id".into()), Seg::Key("zz".into())]
            {
                let mut longer = path.clone();
                longer.push(extra);
                paths.push(longer);
            }
            for p in paths {
                assert_eq!(map.locate(&p), reference_locate(&reference, &p), "{p:?} in {text:?}");
            }
        }
        assert_eq!(
            map.locate(&at_path!["nowhere", 3]),
            reference_locate(&reference, &at_path!["nowhere", 3])
        );
    }

    #[test]
    fn the_trie_answers_as_the_full_path_map_did() {
        let texts = [
            "",
            "just a scalar\n",
            "version: 1\nrules:\n  - id: a\n    when: {resources: [x, y], groups: [g]}\n",
            // Repeated keys: the first position wins, later children land under it.
            "a: {x: 1}\na: {y: 2}\nb: [1, 2]\nb: [3, 4, 5]\n",
            // Collections as keys: their children are recorded under the enclosing map.
            "? {a: 1, b: [2, 3]}\n: value\n? [p, q]\n: {a: 4}\nc: 5\n",
            "{[x, y]: 1, {k: v}: [2], plain: 3}\n",
            // Anchors, aliases, several documents, an empty key, a parse error part-way.
            "base: &b {k: 1}\nuse: *b\n*b : 2\n\"\": empty\n---\nsecond: [a]\n---\n- [1, [2, 3]]\n",
            "ok: 1\nlist:\n  - a\n  - b: [\n",
            "{\n  \"version\": 1,\n  \"rules\": [{\"id\": \"a\", \"when\": {\"groups\": [\"g\"]}}]\n}\n",
        ];
        for text in texts {
            assert_same_as_reference(text);
        }
        let packs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
        let mut seen = 0;
        for dir in std::fs::read_dir(packs).unwrap() {
            let dir = dir.unwrap().path();
            if !dir.is_dir() {
                continue;
            }
            for file in std::fs::read_dir(dir).unwrap() {
                let file = file.unwrap().path();
                if let Ok(text) = std::fs::read_to_string(&file) {
                    assert_same_as_reference(&text);
                    seen += 1;
                }
            }
        }
        assert!(seen > 5, "{seen} pack files");
    }
}
