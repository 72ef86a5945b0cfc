//! What the customer wrote that an agent looks up: order numbers, invoice ids, email
//! addresses, phone numbers and amounts. Patterns find the candidates; phone numbers are
//! then checked with `phonenumber` (libphonenumber's rules and metadata), so that an order
//! number or a date is not taken for one.

use std::sync::OnceLock;

use phonenumber::country;
use regex::Regex;

use crate::types::EntityKind;

/// One thing found in one text: its kind, its value and where it was (byte range).
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub kind: EntityKind,
    pub value: String,
    pub start: usize,
    pub end: usize,
}

struct Patterns {
    email: Regex,
    invoice: Regex,
    invoice_word: Regex,
    order_word: Regex,
    hash_id: Regex,
    amounts: Vec<Regex>,
    phone: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        let re = |s: &str| Regex::new(s).expect("a fixed pattern compiles");
        // 1,234.56 / 1.234,56 / 12,50 / 30 — the separators as people type them.
        let num = r"\d{1,3}(?:[.,\u{a0} ]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?";
        let sym = r"[$€£¥₹]";
        let code = r"(?:USD|EUR|GBP|CHF|JPY|CAD|AUD|NZD|SEK|NOK|DKK|PLN|CZK|HUF|INR|SGD|HKD|ZAR|BRL|MXN)";
        Patterns {
            email: re(r"(?i)\b[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b"),
            invoice: re(r"(?i)\bINV[- ]?\d[A-Z0-9-]*\b"),
            invoice_word: re(
                r"(?i)\binvoice\s*(?:no\.?|number|nr\.?|id|#)?\s*[:#]?\s*#?([A-Z0-9]*\d[A-Z0-9-]*)\b",
            ),
            // "order 12345", "my order is #A-1234", "Bestellung Nr. 778899", "commande 5512".
            order_word: re(
                r"(?i)\b(?:order|bestellung|auftrag|commande|pedido|ordine|bestelling)\s*(?:is|was)?\s*(?:no\.?|number|nr\.?|n°|id|#)?\s*[:#]?\s*#?([A-Z0-9]*\d[A-Z0-9-]*)\b",
            ),
            hash_id: re(r"(?i)#([A-Z]{0,4}-?\d{3,}[A-Z0-9-]*)\b"),
            amounts: vec![
                re(&format!(r"{sym}\s?(?:{num})")),
                re(&format!(r"(?:{num})\s?{sym}")),
                re(&format!(r"\b{code}\s?(?:{num})")),
                re(&format!(r"(?:{num})\s?{code}\b")),
            ],
            // Seven to fifteen digits with the usual separators; checked by phonenumber.
            phone: re(r"\+?\(?\d[\d ()./-]{5,20}\d"),
        }
    })
}

/// The entities of one text, in order of where they start; a span is claimed once, by
/// the most specific kind (email, invoice, order, amount, then phone).
pub fn find(text: &str, region: Option<country::Id>) -> Vec<Found> {
    let p = patterns();
    let mut found: Vec<Found> = Vec::new();
    let free =
        |found: &[Found], s: usize, e: usize| found.iter().all(|f| e <= f.start || s >= f.end);
    let add = |found: &mut Vec<Found>, kind, value: String, s: usize, e: usize| {
        if free(found, s, e) {
            found.push(Found {
                kind,
                value,
                start: s,
                end: e,
            });
        }
    };
    for m in p.email.find_iter(text) {
        add(
            &mut found,
            EntityKind::Email,
            m.as_str().to_string(),
            m.start(),
            m.end(),
        );
    }
    for m in p.invoice.find_iter(text) {
        let value = m.as_str().to_uppercase().replace(' ', "-");
        add(&mut found, EntityKind::Invoice, value, m.start(), m.end());
    }
    for c in p.invoice_word.captures_iter(text) {
        let (whole, id) = (c.get(0).expect("match"), c.get(1).expect("group"));
        add(
            &mut found,
            EntityKind::Invoice,
            id.as_str().to_string(),
            whole.start(),
            whole.end(),
        );
    }
    for c in p.order_word.captures_iter(text) {
        let (whole, id) = (c.get(0).expect("match"), c.get(1).expect("group"));
        // "order 2 items" or "order 100 pieces" name no order.
        if id.as_str().len() >= 4 {
            add(
                &mut found,
                EntityKind::Order,
                id.as_str().to_string(),
                whole.start(),
                whole.end(),
            );
        }
    }
    for c in p.hash_id.captures_iter(text) {
        let whole = c.get(0).expect("match");
        add(
            &mut found,
            EntityKind::Order,
            c[1].to_string(),
            whole.start(),
            whole.end(),
        );
    }
    for re in &p.amounts {
        for m in re.find_iter(text) {
            add(
                &mut found,
                EntityKind::Amount,
                m.as_str().trim().to_string(),
                m.start(),
                m.end(),
            );
        }
    }
    for m in p.phone.find_iter(text) {
        let digits = m.as_str().chars().filter(char::is_ascii_digit).count();
        if !(7..=15).contains(&digits) || !free(&found, m.start(), m.end()) {
            continue;
        }
        if let Some(e164) = phone(m.as_str(), region) {
            add(&mut found, EntityKind::Phone, e164, m.start(), m.end());
        }
    }
    found.sort_by_key(|f| f.start);
    found
}

/// A valid phone number in E.164, read in `region` unless it starts with `+`.
fn phone(candidate: &str, region: Option<country::Id>) -> Option<String> {
    let international = candidate.trim_start().starts_with('+');
    let number = phonenumber::parse(if international { None } else { region }, candidate).ok()?;
    phonenumber::is_valid(&number)
        .then(|| number.format().mode(phonenumber::Mode::E164).to_string())
}

/// The country to read national phone numbers in: the language's region ("en-GB" → GB),
/// else the country of the customer's own international number.
pub fn region(language: Option<&str>, phone_number: Option<&str>) -> Option<country::Id> {
    let from_language = language
        .and_then(|l| l.split(['-', '_']).nth(1))
        .filter(|r| r.len() == 2)
        .and_then(|r| r.to_ascii_uppercase().parse::<country::Id>().ok());
    from_language.or_else(|| {
        let p = phone_number?.trim();
        if !p.starts_with('+') {
            return None;
        }
        phonenumber::parse(None, p).ok()?.country().id()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use EntityKind::*;

    fn kinds(text: &str, region: Option<country::Id>) -> Vec<(EntityKind, String)> {
        find(text, region)
            .into_iter()
            .map(|f| (f.kind, f.value))
            .collect()
    }

    #[test]
    fn orders_invoices_emails_and_amounts() {
        assert_eq!(
            kinds("My order 12345 and order #A-1234 were charged $12.50 on INV-991, mail me at ada@example.com", None),
            [
                (Order, "12345".into()),
                (Order, "A-1234".into()),
                (Amount, "$12.50".into()),
                (Invoice, "INV-991".into()),
                (Email, "ada@example.com".into()),
            ]
        );
        assert_eq!(kinds("order no. 778899", None), [(Order, "778899".into())]);
        assert_eq!(
            kinds("my order is #A-1234", None),
            [(Order, "A-1234".into())]
        );
        assert_eq!(
            kinds("Bestellung Nr. 778899", None),
            [(Order, "778899".into())]
        );
        assert_eq!(kinds("I want to order 100 pieces", None), []);
        assert_eq!(
            kinds("invoice number 2024-17", None),
            [(Invoice, "2024-17".into())]
        );
        assert_eq!(
            kinds("Rechnung #9876 über 12,50 €", None),
            [(Order, "9876".into()), (Amount, "12,50 €".into())]
        );
        assert_eq!(
            kinds("EUR 30 or 1,234.56 USD", None),
            [(Amount, "EUR 30".into()), (Amount, "1,234.56 USD".into())]
        );
    }

    #[test]
    fn phone_numbers_are_checked_not_just_matched() {
        let gb = region(Some("en-GB"), None);
        assert_eq!(gb, Some(country::Id::GB));
        assert_eq!(
            kinds("call me on 020 7946 0958 please", gb),
            [(Phone, "+442079460958".into())]
        );
        assert_eq!(
            kinds("or +1 (415) 555-2671", None),
            [(Phone, "+14155552671".into())]
        );
        // Digits that are no phone number in the region stay out; an order number is an order.
        assert_eq!(kinds("ref 1234567", gb), []);
        assert_eq!(kinds("delivered on 2024-01-15 at 10.30", gb), []);
        assert_eq!(
            kinds("order 4155552671", Some(country::Id::US)),
            [(Order, "4155552671".into())]
        );
        // Without a region only international numbers can be told.
        assert_eq!(kinds("020 7946 0958", None), []);
        assert_eq!(
            region(Some("de"), Some("+49 30 901820")),
            Some(country::Id::DE)
        );
        assert_eq!(region(None, None), None);
    }
}
