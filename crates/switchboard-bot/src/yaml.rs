//! A YAML document as a tree whose every node remembers where it starts, so that the
//! flow parser can say "line 12, column 7" about a bad regex or an empty reply, not just
//! about a syntax error. yaml-rust2 does the YAML; this only keeps its positions.

use yaml_rust2::{
    parser::{Event, MarkedEventReceiver, Parser},
    scanner::{Marker, TScalarStyle},
};

/// 1-based line and column, as an editor shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    fn of(mark: Marker) -> Self {
        // yaml-rust2 counts lines from 1 and columns from 0.
        Self {
            line: mark.line().max(1),
            column: mark.col() + 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// `quoted` tells `"null"` (text) from `null` (nothing).
    Scalar {
        value: String,
        quoted: bool,
        at: Pos,
    },
    Seq {
        items: Vec<Node>,
        at: Pos,
    },
    Map {
        entries: Vec<(Node, Node)>,
        at: Pos,
    },
}

impl Node {
    pub fn at(&self) -> Pos {
        match self {
            Node::Scalar { at, .. } | Node::Seq { at, .. } | Node::Map { at, .. } => *at,
        }
    }

    /// A plain `~`, `null` or nothing at all, as in `reply:` with no value.
    pub fn is_null(&self) -> bool {
        matches!(self, Node::Scalar { value, quoted: false, .. }
            if value.is_empty() || value == "~" || value == "null" || value == "Null" || value == "NULL")
    }

    /// What the admin would call this node, for "expected a list, found a mapping".
    pub fn describe(&self) -> &'static str {
        match self {
            _ if self.is_null() => "nothing",
            Node::Scalar { .. } => "a text",
            Node::Seq { .. } => "a list",
            Node::Map { .. } => "a mapping (key: value lines)",
        }
    }
}

/// A YAML error with where the parser gave up.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub at: Pos,
    pub message: String,
}

/// Parses one YAML document. `Ok(None)` for a text with no document (empty or comments).
pub fn parse(text: &str) -> Result<Option<Node>, SyntaxError> {
    let mut builder = Builder::default();
    Parser::new_from_str(text)
        .load(&mut builder, false)
        .map_err(|e| SyntaxError {
            at: Pos::of(*e.marker()),
            message: e.info().to_string(),
        })?;
    if let Some(error) = builder.error {
        return Err(error);
    }
    Ok(builder.root)
}

#[derive(Default)]
struct Builder {
    /// Open sequences and mappings; a mapping's pending key waits in `key`.
    stack: Vec<Open>,
    root: Option<Node>,
    error: Option<SyntaxError>,
}

enum Open {
    Seq(Vec<Node>, Pos),
    Map(Vec<(Node, Node)>, Option<Node>, Pos),
}

impl Builder {
    fn push(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Open::Seq(items, _)) => items.push(node),
            Some(Open::Map(entries, key, _)) => match key.take() {
                None => *key = Some(node),
                Some(k) => entries.push((k, node)),
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let at = Pos::of(mark);
        match ev {
            Event::Scalar(value, style, _, _) => self.push(Node::Scalar {
                value,
                quoted: style != TScalarStyle::Plain,
                at,
            }),
            Event::SequenceStart(..) => self.stack.push(Open::Seq(Vec::new(), at)),
            Event::MappingStart(..) => self.stack.push(Open::Map(Vec::new(), None, at)),
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match self.stack.pop() {
                    Some(Open::Seq(items, at)) => Node::Seq { items, at },
                    // A block mapping's start mark falls after its first key; the first
                    // key is where the admin sees the mapping begin.
                    Some(Open::Map(entries, _, at)) => Node::Map {
                        at: entries.first().map_or(at, |(key, _)| key.at()),
                        entries,
                    },
                    None => return,
                };
                self.push(node);
            }
            // Anchors would let one reply stand for many, but they make a flow hard to
            // read for the admin who did not write it; one way to say a thing is enough.
            Event::Alias(_) => {
                self.error = Some(SyntaxError {
                    at,
                    message: "aliases (*name) are not supported in a flow; write the value out"
                        .into(),
                })
            }
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart
            | Event::DocumentEnd => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(line: usize, column: usize) -> Pos {
        Pos { line, column }
    }

    #[test]
    fn nodes_know_where_they_start() {
        let root = parse("# c\na: x\nlist:\n  - 'y'\n  - [1, 2]\n")
            .unwrap()
            .unwrap();
        let Node::Map { entries, .. } = root else {
            panic!("a mapping")
        };
        assert_eq!(entries[0].0.at(), pos(2, 1));
        assert_eq!(entries[0].1.at(), pos(2, 4));
        let Node::Seq { items, .. } = &entries[1].1 else {
            panic!("a list")
        };
        assert_eq!(
            items[0],
            Node::Scalar {
                value: "y".into(),
                quoted: true,
                at: pos(4, 5)
            }
        );
        assert_eq!(items[1].at(), pos(5, 5));
    }

    #[test]
    fn empty_values_are_null_but_quoted_ones_are_text() {
        let root = parse("a:\nb: ''\nc: ~\n").unwrap().unwrap();
        let Node::Map { entries, .. } = root else {
            panic!("a mapping")
        };
        assert!(entries[0].1.is_null());
        assert!(!entries[1].1.is_null());
        assert!(entries[2].1.is_null());
    }

    #[test]
    fn syntax_errors_and_aliases_say_where() {
        let e = parse("a: [1,\nb: 2\n").unwrap_err();
        assert_eq!(e.at.line, 2, "{e:?}");
        let e = parse("a: &x hi\nb: *x\n").unwrap_err();
        assert_eq!(e.at, pos(2, 4));
        assert!(e.message.contains("aliases"));
        assert_eq!(parse("# only a comment\n").unwrap(), None);
    }
}
