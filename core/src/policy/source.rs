//! Where each node of a policy file stands, so that errors found after deserialization
//! (a bad glob, a duplicate rule id, an undeclared resource) can name a line and column.
//!
//! serde gives locations only for syntax and shape errors. For the checks that come later we
//! walk the file once more with `saphyr-parser`'s event stream (JSON is YAML flow syntax, so the
//! same walk serves both formats) and record the start of every node under its path
//! (`rules`, 3, `when`, `resources`, 0).

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

/// Node positions of one file, by path.
#[derive(Debug, Default)]
pub(crate) struct SourceMap {
    nodes: HashMap<Vec<Seg>, Position>,
}

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Root,
    Key,
    Value,
    Item,
}

enum Frame {
    Map { expecting_key: bool, key: Option<String> },
    Seq { next: usize },
}

impl SourceMap {
    /// Index `text`. A text the event parser rejects yields a partial map; lookups then fall back
    /// to the nearest indexed ancestor, or to line 1, column 1.
    pub(crate) fn index(text: &str) -> SourceMap {
        let mut nodes = HashMap::new();
        let mut frames: Vec<(Frame, Role)> = Vec::new();
        let mut path: Vec<Seg> = Vec::new();
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
                    let (role, seg) = match frames.last_mut() {
                        None => (Role::Root, None),
                        Some((Frame::Map { expecting_key, key }, _)) => {
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
                        Some((Frame::Seq { next }, _)) => {
                            let seg = Seg::Index(*next);
                            *next += 1;
                            (Role::Item, Some(seg))
                        }
                    };
                    if role != Role::Key {
                        if let Some(seg) = seg.clone() {
                            path.push(seg);
                        }
                        nodes.entry(path.clone()).or_insert(position);
                        if !is_collection && role != Role::Root {
                            path.pop();
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
        SourceMap { nodes }
    }

    /// The position of the node at `path`, or of its nearest indexed ancestor.
    pub(crate) fn locate(&self, path: &[Seg]) -> Position {
        let mut len = path.len();
        loop {
            if let Some(found) = path.get(..len).and_then(|p| self.nodes.get(p)) {
                return *found;
            }
            if len == 0 {
                return Position { line: 1, column: 1 };
            }
            len -= 1;
        }
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
}
