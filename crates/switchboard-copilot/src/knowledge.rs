//! The knowledge file the admin uploads: Markdown, where each heading's section is one
//! document, or an FAQ in YAML, a list of questions and answers. Parsed once when it is
//! uploaded; a file that cannot be used is refused with the line to fix, as the flow is.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use switchboard_bot::yaml::{self, Node};

use crate::bm25::Index;

/// Larger files are refused: the workspace searches the whole file on every query.
pub const MAX_KNOWLEDGE_BYTES: usize = 2 * 1024 * 1024;

/// The admin's knowledge file, split into documents.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Knowledge {
    docs: Vec<KnowledgeDoc>,
    /// Built once here, not at every search.
    index: Index,
}

/// One section of the Markdown file, or one question of the FAQ.
#[derive(Debug, Clone, PartialEq)]
pub struct KnowledgeDoc {
    /// The heading, or the question.
    pub title: String,
    /// The section's text (Markdown markup removed), or the answer.
    pub text: String,
    /// "knowledge file § Returns", "knowledge file, question 3".
    pub source: String,
    /// Where it starts in the file (1-based).
    pub line: usize,
}

impl Knowledge {
    /// A Markdown file or an FAQ in YAML. A file whose first line that is not blank, a
    /// comment or `---` starts a YAML list (`- q: …`) or reads `faq:` / `questions:` is
    /// the FAQ; anything else is Markdown.
    pub fn parse(text: &str) -> Result<Knowledge, String> {
        if text.len() > MAX_KNOWLEDGE_BYTES {
            return Err(format!(
                "The knowledge file is {} KB; it may be at most {} KB. Split it or keep the sections agents need.",
                text.len() / 1024,
                MAX_KNOWLEDGE_BYTES / 1024
            ));
        }
        if text.trim().is_empty() {
            return Err("The knowledge file is empty. Upload Markdown with a heading per topic (# Returns …) or an FAQ in YAML (- q: … a: …).".into());
        }
        if looks_like_faq(text) {
            Self::parse_faq(text)
        } else {
            Self::parse_markdown(text)
        }
    }

    /// Markdown: every heading starts a document holding the text up to the next heading.
    /// Headings with nothing under them (a title above its sub-sections) are no document.
    pub fn parse_markdown(text: &str) -> Result<Knowledge, String> {
        let line_starts: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let line_of = |offset: usize| line_starts.partition_point(|&s| s <= offset);
        let mut docs = Vec::new();
        let mut current: Option<(String, usize)> = None; // heading, line
        let mut heading: Option<(String, usize)> = None; // being read
        let mut body = String::new();
        let mut before_first_heading = String::new();
        let mut first_heading_line = None;
        let finish =
            |current: &Option<(String, usize)>, body: &mut String, docs: &mut Vec<KnowledgeDoc>| {
                let text = tidy(body);
                body.clear();
                if let Some((title, line)) = current {
                    if !text.is_empty() {
                        docs.push(KnowledgeDoc {
                            source: format!("knowledge file § {title}"),
                            title: title.clone(),
                            text,
                            line: *line,
                        });
                    }
                }
            };
        for (event, range) in Parser::new_ext(text, Options::ENABLE_TABLES).into_offset_iter() {
            match event {
                Event::Start(Tag::Heading { .. }) => {
                    finish(&current, &mut body, &mut docs);
                    heading = Some((String::new(), line_of(range.start)));
                    first_heading_line.get_or_insert(line_of(range.start));
                }
                Event::End(TagEnd::Heading(_)) => {
                    if let Some((title, line)) = heading.take() {
                        let title = tidy(&title);
                        current = Some((
                            if title.is_empty() {
                                format!("untitled section at line {line}")
                            } else {
                                title
                            },
                            line,
                        ));
                    }
                }
                Event::Text(t) | Event::Code(t) | Event::InlineHtml(t) | Event::Html(t) => {
                    match (&mut heading, &current) {
                        (Some((title, _)), _) => title.push_str(&t),
                        (None, Some(_)) => body.push_str(&t),
                        (None, None) => before_first_heading.push_str(&t),
                    }
                }
                Event::SoftBreak | Event::HardBreak => body.push(' '),
                Event::End(
                    TagEnd::Paragraph | TagEnd::Item | TagEnd::CodeBlock | TagEnd::TableRow,
                ) => body.push('\n'),
                Event::End(TagEnd::TableCell) => body.push_str(" | "),
                _ => {}
            }
        }
        finish(&current, &mut body, &mut docs);
        let Some(first) = first_heading_line else {
            return Err("line 1: the Markdown knowledge file has no heading. Start each topic with a heading line such as \"# Returns\"; its text follows under it. (An FAQ in YAML starts with \"- q: …\".)".into());
        };
        if docs.is_empty() {
            return Err(format!(
                "line {first}: the knowledge file has headings but no text under any of them. Write each topic's answer under its heading."
            ));
        }
        // Text above the first heading is kept, under the file's name for it.
        let intro = tidy(&before_first_heading);
        if !intro.is_empty() {
            docs.insert(
                0,
                KnowledgeDoc {
                    title: "Introduction".into(),
                    text: intro,
                    source: "knowledge file, before the first heading".into(),
                    line: 1,
                },
            );
        }
        Ok(Knowledge::of(docs))
    }

    /// An FAQ: a list of `{q | question, a | answer}` (also under `faq:` or `questions:`).
    pub fn parse_faq(text: &str) -> Result<Knowledge, String> {
        let root = yaml::parse(text)
            .map_err(|e| {
                format!(
                    "line {}, column {}: the FAQ is not valid YAML: {}",
                    e.at.line, e.at.column, e.message
                )
            })?
            .ok_or("line 1: the FAQ has no questions. Write a list: \"- q: How do I return an item?\" with \"a: …\" under it.")?;
        let list = match &root {
            Node::Seq { items, .. } => items,
            Node::Map { entries, .. } => match entries.as_slice() {
                [(key, Node::Seq { items, .. })] if matches!(scalar(key), Some("faq" | "questions")) => items,
                _ => {
                    return Err(at(
                        &root,
                        "the FAQ must be a list of questions (\"- q: …\" with \"a: …\"), or such a list under \"faq:\"",
                    ))
                }
            },
            Node::Scalar { .. } => {
                return Err(at(
                    &root,
                    "the FAQ must be a list of questions (\"- q: …\" with \"a: …\")",
                ))
            }
        };
        if list.is_empty() {
            return Err(at(&root, "the FAQ's list of questions is empty"));
        }
        let mut docs = Vec::with_capacity(list.len());
        for (i, item) in list.iter().enumerate() {
            let Node::Map { entries, .. } = item else {
                return Err(at(
                    item,
                    format!(
                        "question {} is {}; each question is a mapping with \"q:\" and \"a:\"",
                        i + 1,
                        item.describe()
                    ),
                ));
            };
            let (mut question, mut answer) = (None, None);
            for (key, value) in entries {
                let slot = match scalar(key) {
                    Some("q" | "question") => &mut question,
                    Some("a" | "answer") => &mut answer,
                    other => {
                        return Err(at(
                            key,
                            format!(
                                "unknown key \"{}\" in question {}; use q (or question) and a (or answer)",
                                other.unwrap_or("?"),
                                i + 1
                            ),
                        ))
                    }
                };
                if slot.is_some() {
                    return Err(at(key, format!("question {} has two of this key", i + 1)));
                }
                // A key with nothing after it is pointed at by the key.
                let point = if value.is_null() { key } else { value };
                let text = match value {
                    Node::Scalar { value: v, .. } if !value.is_null() && !v.trim().is_empty() => {
                        v.trim().to_string()
                    }
                    _ => {
                        return Err(at(
                            point,
                            format!(
                                "in question {}, \"{}\" needs a text, not {}",
                                i + 1,
                                scalar(key).unwrap_or("?"),
                                value.describe()
                            ),
                        ))
                    }
                };
                *slot = Some(text);
            }
            let (Some(title), Some(text)) = (question, answer) else {
                return Err(at(
                    item,
                    format!(
                        "question {} needs both \"q:\" (the question) and \"a:\" (its answer)",
                        i + 1
                    ),
                ));
            };
            docs.push(KnowledgeDoc {
                title,
                text,
                source: format!("knowledge file, question {}", i + 1),
                line: item.at().line,
            });
        }
        Ok(Knowledge::of(docs))
    }

    fn of(docs: Vec<KnowledgeDoc>) -> Knowledge {
        let texts: Vec<String> = docs
            .iter()
            .map(|d| format!("{}\n{}", d.title, d.text))
            .collect();
        let index = Index::new(texts.iter().map(String::as_str));
        Knowledge { docs, index }
    }

    pub(crate) fn index(&self) -> &Index {
        &self.index
    }

    pub fn docs(&self) -> &[KnowledgeDoc] {
        &self.docs
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }
}

fn scalar(node: &Node) -> Option<&str> {
    match node {
        Node::Scalar { value, .. } => Some(value.as_str()),
        _ => None,
    }
}

fn at(node: &Node, message: impl AsRef<str>) -> String {
    let p = node.at();
    format!("line {}, column {}: {}", p.line, p.column, message.as_ref())
}

/// Whether the first meaningful line starts the FAQ's YAML.
fn looks_like_faq(text: &str) -> bool {
    let first = text
        .lines()
        .map(str::trim_end)
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#') && l.trim() != "---");
    first.is_some_and(|l| {
        let l = l.trim_start();
        l == "-" || l.starts_with("- ") || l.starts_with("faq:") || l.starts_with("questions:")
    })
}

/// Lines trimmed, runs of blank lines and spaces collapsed.
fn tidy(text: &str) -> String {
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_sections_become_documents_with_their_heading_and_line() {
        let k = Knowledge::parse(
            "Shop help for agents.\n\n# Help\n\n## Returns\n\nItems can be returned within **30 days**.\n\n- Keep the receipt\n- Use the [form](https://x)\n\n## Shipping\nWe ship in `2` days.\n\n```\n# not a heading\n```\n",
        )
        .unwrap();
        let docs = k.docs();
        assert_eq!(docs.len(), 3, "{docs:#?}");
        assert_eq!(docs[0].title, "Introduction");
        assert_eq!(docs[0].text, "Shop help for agents.");
        assert_eq!(docs[1].title, "Returns");
        assert_eq!(docs[1].source, "knowledge file § Returns");
        assert_eq!(docs[1].line, 5);
        assert_eq!(
            docs[1].text,
            "Items can be returned within 30 days.\nKeep the receipt\nUse the form"
        );
        assert_eq!(docs[2].title, "Shipping");
        assert_eq!(docs[2].text, "We ship in 2 days.\n# not a heading");
    }

    #[test]
    fn faq_yaml_questions_become_documents() {
        let k = Knowledge::parse(
            "# Shop FAQ\n- q: How do I return an item?\n  a: Use the returns form within 30 days.\n- question: Do you ship abroad?\n  answer: To the EU and the UK.\n",
        )
        .unwrap();
        let docs = k.docs();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].title, "How do I return an item?");
        assert_eq!(docs[0].text, "Use the returns form within 30 days.");
        assert_eq!(docs[0].source, "knowledge file, question 1");
        assert_eq!(docs[1].line, 4);
        let under = Knowledge::parse("faq:\n  - q: A?\n    a: B.\n").unwrap();
        assert_eq!(under.docs()[0].title, "A?");
    }

    #[test]
    fn errors_name_the_line_to_fix() {
        let e = |t: &str| Knowledge::parse(t).unwrap_err();
        assert!(e("").contains("empty"), "{}", e(""));
        let m = e("- q: A?\n  a: B.\n- q: C?\n");
        assert!(
            m.starts_with("line 3, column 3: question 2 needs both"),
            "{m}"
        );
        let m = e("- q: A?\n  a: B.\n- q: C?\n  x: y\n");
        assert!(
            m.starts_with("line 4, column 3: unknown key \"x\" in question 2"),
            "{m}"
        );
        let m = e("- q: A?\n  a: [1, 2]\n");
        assert!(
            m.starts_with("line 2, column 6: in question 1, \"a\" needs a text"),
            "{m}"
        );
        let m = e("- q: A?\n  a: 'unclosed\n");
        assert!(
            m.starts_with("line ") && m.contains("not valid YAML"),
            "{m}"
        );
        let m = e("- just a text\n");
        assert!(
            m.starts_with("line 1, column 3: question 1 is a text"),
            "{m}"
        );
        let m = e("Just some notes\nwithout any heading.\n");
        assert!(
            m.starts_with("line 1: the Markdown knowledge file has no heading"),
            "{m}"
        );
        let m = e("\n\n# Title\n## Empty\n");
        assert!(
            m.starts_with("line 3: the knowledge file has headings but no text"),
            "{m}"
        );
        let big = format!("# T\n{}", "x".repeat(MAX_KNOWLEDGE_BYTES));
        assert!(e(&big).contains("at most 2048 KB"));
    }
}
