//! The built-in flow's answers as the Copilot uses them: each rule's reply with the words
//! that pick it, indexed for the next best answer and the knowledge search. Built once
//! per flow (the relay keeps it with the settings), from the flow the bot runs and its
//! YAML, which still has the keywords as typed (the flow holds them compiled).

use switchboard_bot::flow::{self, Flow, Matcher};
use switchboard_bot::yaml::{self, Node};

use crate::bm25::{Index, StopWords};

#[derive(Debug, Clone)]
pub struct FlowAnswers {
    answers: Vec<FlowAnswer>,
    /// The flow's handover words: a message asking for a person is no question to answer.
    handover: Option<Matcher>,
    index: Index,
}

/// One rule with a reply.
#[derive(Debug, Clone)]
pub struct FlowAnswer {
    /// The rule's name, or "rule at line N".
    pub title: String,
    /// "flow rule billing", "flow rule at line 12".
    pub source: String,
    /// The text the bot says, for the agent to copy.
    pub reply: String,
    /// The rule's keywords as typed.
    pub keywords: Vec<String>,
    matcher: Matcher,
}

impl FlowAnswer {
    /// Whether the bot would pick this rule for `text` (keywords or regex match).
    pub fn matches(&self, text: &str) -> bool {
        self.matcher.matches(text)
    }
}

impl FlowAnswers {
    /// From the flow's YAML as the settings hold it; the flow's own error otherwise.
    pub fn parse(flow_text: &str) -> Result<FlowAnswers, String> {
        let flow = flow::parse(flow_text).map_err(|e| e.to_string())?;
        Ok(Self::from_flow(&flow, flow_text))
    }

    /// From a flow already parsed and the text it was parsed from (for the keywords).
    pub fn from_flow(flow: &Flow, flow_text: &str) -> FlowAnswers {
        let items = rule_nodes(flow_text);
        let answers: Vec<FlowAnswer> = flow
            .rules
            .iter()
            .filter_map(|rule| {
                let reply = rule.reply.as_ref()?.text.clone();
                let (title, source) = match &rule.name {
                    Some(name) => (name.clone(), format!("flow rule {name}")),
                    None => (
                        format!("rule at line {}", rule.line),
                        format!("flow rule at line {}", rule.line),
                    ),
                };
                let keywords = items
                    .iter()
                    .find(|n| n.at().line == rule.line)
                    .map(keywords_of)
                    .unwrap_or_default();
                Some(FlowAnswer {
                    title,
                    source,
                    reply,
                    keywords,
                    matcher: rule.matcher.clone(),
                })
            })
            .collect();
        let texts: Vec<String> = answers.iter().map(searchable).collect();
        let index = Index::new(texts.iter().map(String::as_str));
        FlowAnswers {
            answers,
            handover: flow.handover.matcher.clone(),
            index,
        }
    }

    pub fn answers(&self) -> &[FlowAnswer] {
        &self.answers
    }

    /// Whether `text` is the customer asking for a person (the flow's handover words).
    pub fn asks_for_agent(&self, text: &str) -> bool {
        self.handover.as_ref().is_some_and(|m| m.matches(text))
    }

    /// Each answer's BM25 score for `text` (in `language`, for its stop words) over its
    /// name, keywords and reply.
    pub(crate) fn scores(&self, text: &str, language: Option<&str>) -> Vec<f64> {
        self.index.scores(text, StopWords::for_language(language))
    }

    pub(crate) fn index(&self) -> &Index {
        &self.index
    }
}

/// What the search reads of an answer: its name (words, not underscores), keywords, reply.
pub(crate) fn searchable(a: &FlowAnswer) -> String {
    format!(
        "{}\n{}\n{}",
        a.title.replace(['_', '-'], " "),
        a.keywords.join(", "),
        a.reply
    )
}

/// The flow's `rules:` items, with their positions.
fn rule_nodes(flow_text: &str) -> Vec<Node> {
    let Ok(Some(Node::Map { entries, .. })) = yaml::parse(flow_text) else {
        return Vec::new();
    };
    entries
        .into_iter()
        .find(|(k, _)| matches!(k, Node::Scalar { value, .. } if value == "rules"))
        .and_then(|(_, v)| match v {
            Node::Seq { items, .. } => Some(items),
            _ => None,
        })
        .unwrap_or_default()
}

fn keywords_of(rule: &Node) -> Vec<String> {
    let Node::Map { entries, .. } = rule else {
        return Vec::new();
    };
    let value = entries
        .iter()
        .find(|(k, _)| matches!(k, Node::Scalar { value, .. } if value == "keywords"))
        .map(|(_, v)| v);
    match value {
        Some(Node::Scalar { value, .. }) => vec![value.clone()],
        Some(Node::Seq { items, .. }) => items
            .iter()
            .filter_map(|i| match i {
                Node::Scalar { value, .. } => Some(value.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}
