//! Names, words and ids for the seeded conversations, from a small deterministic
//! generator (SplitMix64): the same seed gives the same database on every machine.

use serde_json::{json, Value};

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// 0 ≤ n < `bound` (0 when `bound` is 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 {
            0
        } else {
            self.next() % bound
        }
    }

    /// In [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const FIRST: &[&str] = &[
    "Anna", "Ben", "Carla", "David", "Elif", "Femi", "Grace", "Hugo", "Ines", "Jonas", "Kaito",
    "Lena", "Mateo", "Nora", "Oskar", "Priya", "Quentin", "Rosa", "Sven", "Tanvi", "Uma", "Victor",
    "Wen", "Ximena", "Yusuf", "Zoë", "Aoife", "Bjørn", "Chloé", "Dmitri", "Emma", "Farid",
    "Gabriel", "Hana", "Ivan", "Julia", "Kofi", "Lucía", "Marek", "Nadia", "Omar", "Paula",
    "Rahul", "Sofia", "Tomás", "Ulla", "Vera", "Willem", "Yara", "Zeynep",
];

const LAST: &[&str] = &[
    "Smith",
    "Müller",
    "García",
    "Rossi",
    "Nowak",
    "Dubois",
    "Jansen",
    "Silva",
    "Kowalski",
    "Novák",
    "Andersson",
    "O'Brien",
    "Papadopoulos",
    "Yılmaz",
    "Ivanova",
    "Nguyen",
    "Kim",
    "Tanaka",
    "Okafor",
    "Haddad",
    "Cohen",
    "Fischer",
    "Martin",
    "Lopez",
    "Bianchi",
    "Horvat",
    "Petrov",
    "Larsen",
    "Virtanen",
    "Schmidt",
    "Wójcik",
    "Costa",
    "Moreau",
    "Bakker",
    "Ødegaard",
    "Kaya",
    "Sato",
    "Chen",
    "Singh",
    "Patel",
    "Mensah",
    "Abubakar",
    "Walsh",
    "Keller",
    "Brown",
    "Taylor",
    "Weber",
    "Romero",
    "Lindqvist",
    "Castillo",
];

/// Occurs in about one conversation in fifty.
pub const SEARCHED_SURNAME: &str = "Lindqvist";

const LANGUAGES: &[&str] = &["en", "en", "en", "en", "de", "fr", "es", "nl", "sv"];
const DOMAINS: &[&str] = &["example.com", "example.org", "example.net", "mail.example"];

pub fn user(rng: &mut Rng, index: usize) -> Value {
    let first = rng.pick(FIRST);
    let last = rng.pick(LAST);
    let language = rng.pick(LANGUAGES);
    let name = format!("{first} {last}");
    // Some customers give no email; some give a phone number.
    let email = (rng.below(5) != 0).then(|| {
        let local: String = format!("{first}.{last}{}", index % 97)
            .to_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
            .collect();
        format!("{local}@{}", rng.pick(DOMAINS))
    });
    let phone = (rng.below(10) < 3)
        .then(|| format!("+44 20 {:04} {:04}", rng.below(10_000), rng.below(10_000)));
    json!({ "name": name, "email": email, "language": language, "phone": phone })
}

pub fn uuid(rng: &mut Rng) -> String {
    let a = rng.next();
    let b = rng.next();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48) & 0x3fff,
        b & 0xffff_ffff_ffff
    )
}

/// base64url characters, like the relay's own tokens.
pub fn token(rng: &mut Rng, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (0..len)
        .map(|_| ALPHABET[rng.below(64) as usize] as char)
        .collect()
}

pub fn queue(rng: &mut Rng) -> (&'static str, &'static str) {
    const QUEUES: &[(&str, &str)] = &[
        ("queue-support", "Support"),
        ("queue-billing", "Billing"),
        ("queue-sales", "Sales"),
        ("queue-returns", "Returns"),
    ];
    QUEUES[rng.below(QUEUES.len() as u64) as usize]
}

const USER_SAYS: &[&str] = &[
    "Hi",
    "Hello, I have a question about my order",
    "Where is my parcel? It should have arrived on Monday.",
    "What are your opening hours on Saturday?",
    "I was charged twice for the same invoice",
    "Can I talk to a person please",
    "The tracking link in the email does not work",
    "ok",
    "Thanks!",
    "I need a refund for order",
    "My address changed, can you update the delivery?",
    "Is the shop open on public holidays?",
    "The product arrived damaged, the box was open and one of the glasses is broken",
    "How long does a refund take?",
    "yes",
    "no, something else",
    "I already tried that twice and it still says payment failed",
    "Could you send me a copy of the invoice by email?",
];

const BOT_SAYS: &[(&str, &[(&str, &str)])] = &[
    (
        "Hello! I am the virtual assistant. I can help with our opening hours, your order or a billing question, or put you through to a person.",
        &[("Opening hours", "opening_hours"), ("Where is my order?", "order_status"), ("Billing", "billing"), ("Talk to a person", "agent")],
    ),
    (
        "We are open Monday to Friday from 9:00 to 18:00, and on Saturday from 10:00 to 14:00. We are closed on Sundays and public holidays.",
        &[],
    ),
    (
        "You can follow your order with the tracking link in your confirmation email. If it has not arrived within 5 working days, an agent can look into it for you.",
        &[("Talk to a person", "agent"), ("Something else", "menu")],
    ),
    (
        "Invoices are in your account under \"Billing\". Refunds reach your account within 5 to 10 working days. For anything else about a payment, an agent can help.",
        &[("Talk to a person", "agent"), ("Something else", "menu")],
    ),
    ("I can help with:", &[("Opening hours", "opening_hours"), ("Where is my order?", "order_status"), ("Billing", "billing")]),
    ("Sorry, I did not understand that. Could you say it in other words?", &[]),
];

const AGENT_SAYS: &[&str] = &[
    "Hello, this is the support team. How can I help?",
    "Let me look into that for you, one moment please.",
    "I can see the order here. It left our warehouse yesterday and should arrive tomorrow.",
    "I have issued the refund; you will see it on your statement within 5 working days.",
    "Could you give me the order number, please?",
    "Thanks for waiting.",
    "Is there anything else I can help with?",
    "I have updated the delivery address.",
    "I am sorry about that. I will send a replacement today, free of charge.",
    "I am transferring you to a colleague in billing who can help with this.",
];

pub fn user_words(rng: &mut Rng) -> String {
    let base = rng.pick(USER_SAYS);
    match rng.below(6) {
        0 => format!("{base} {}", 1_000_000 + rng.below(9_000_000)),
        1 => format!("{base}. {}", rng.pick(USER_SAYS)),
        _ => base.to_string(),
    }
}

pub fn bot(rng: &mut Rng) -> (String, Vec<Value>) {
    let (text, quick) = BOT_SAYS[rng.below(BOT_SAYS.len() as u64) as usize];
    let quick: Vec<Value> = quick
        .iter()
        .map(|(title, payload)| json!({ "title": title, "payload": payload }))
        .collect();
    (text.to_string(), quick)
}

pub fn agent(rng: &mut Rng) -> String {
    rng.pick(AGENT_SAYS).to_string()
}
