// Plausible, varied identities for simulated users: first and last names common where
// each language is spoken, with an email made from the name. A built-in list rather than
// a faker library: ~250 words cover what the tester needs, where faker's smallest
// locale bundle is hundreds of kilobytes for the desktop app to carry.

import type { NewTestUser } from "../types";

export const LANGUAGES = [
  ["en", "English"],
  ["de", "German"],
  ["fr", "French"],
  ["es", "Spanish"],
  ["it", "Italian"],
  ["nl", "Dutch"],
] as const;

export type Language = (typeof LANGUAGES)[number][0];

const NAMES: Record<Language, { first: string[]; last: string[] }> = {
  en: {
    first: ["Olivia", "Liam", "Amelia", "Noah", "Isla", "Oliver", "Ava", "Jack", "Mia", "Harry", "Grace", "Ethan", "Chloe", "Samuel", "Ruby", "Daniel", "Zoë", "Owen", "Priya", "Marcus", "Hannah", "Leo", "Aisha", "Connor"],
    last: ["Smith", "Johnson", "Williams", "Brown", "Taylor", "Walker", "Wright", "Thompson", "Evans", "Hughes", "Patel", "Murphy", "O'Brien", "Campbell", "Clarke", "Robinson", "Khan", "Bennett", "Foster", "Reid", "Morgan", "Shaw", "Ellis", "Hayes"],
  },
  de: {
    first: ["Lena", "Lukas", "Mia", "Jonas", "Emma", "Finn", "Hannah", "Paul", "Sophie", "Felix", "Marie", "Maximilian", "Anna", "Leon", "Laura", "Tobias", "Jana", "Matthias", "Katrin", "Jürgen"],
    last: ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Braun", "Zimmermann", "Krüger", "Hartmann"],
  },
  fr: {
    first: ["Camille", "Louis", "Chloé", "Hugo", "Léa", "Gabriel", "Manon", "Arthur", "Inès", "Jules", "Élodie", "Théo", "Margaux", "Antoine", "Juliette", "Mathis", "Amélie", "Nicolas", "Céline", "Étienne"],
    last: ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "Fournier", "Girard", "Bonnet", "Rousseau", "Lambert"],
  },
  es: {
    first: ["Lucía", "Hugo", "Sofía", "Martín", "María", "Pablo", "Carmen", "Alejandro", "Paula", "Diego", "Elena", "Javier", "Marta", "Sergio", "Laura", "Andrés", "Nuria", "Álvaro", "Irene", "Raúl"],
    last: ["García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Díaz", "Moreno", "Muñoz", "Romero", "Navarro", "Torres", "Ruiz", "Ramos", "Castillo", "Ortega", "Vidal"],
  },
  it: {
    first: ["Giulia", "Leonardo", "Sofia", "Francesco", "Aurora", "Alessandro", "Chiara", "Lorenzo", "Martina", "Matteo", "Francesca", "Davide", "Elisa", "Riccardo", "Alessia", "Marco", "Federica", "Giorgio", "Silvia", "Niccolò"],
    last: ["Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Costa", "Giordano", "Mancini", "Rizzo", "Lombardi", "Moretti"],
  },
  nl: {
    first: ["Emma", "Daan", "Julia", "Sem", "Tess", "Lucas", "Sanne", "Bram", "Fleur", "Thijs", "Lotte", "Ruben", "Femke", "Jesse", "Anouk", "Milan", "Eva", "Joris", "Ilse", "Sven"],
    last: ["de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker", "Brouwer"],
  },
};

/** A name as an email's local part: accents dropped, lower case, words joined by dots. */
export function emailFor(name: string): string {
  const local = name
    .normalize("NFD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ".")
    .replace(/^\.|\.$/g, "");
  return `${local || "user"}@example.com`;
}

function pick<T>(list: readonly T[], avoid: Set<T>): T {
  const fresh = list.filter((x) => !avoid.has(x));
  const from = fresh.length > 0 ? fresh : list;
  return from[Math.floor(Math.random() * from.length)]!;
}

/**
 * A new user speaking `language`, whose first name, last name and full name differ
 * from those in `taken` while the lists allow (the users on screen and the recent ones),
 * so the Conversations list does not fill with look-alikes.
 */
export function generateUser(language: Language, taken: readonly string[]): NewTestUser {
  const { first, last } = NAMES[language];
  const takenFirst = new Set(taken.map((n) => n.split(" ")[0]!));
  const takenLast = new Set(taken.map((n) => n.split(" ").slice(1).join(" ")));
  const takenFull = new Set(taken);
  let name = "";
  for (let attempt = 0; attempt < 20; attempt++) {
    name = `${pick(first, takenFirst)} ${pick(last, takenLast)}`;
    if (!takenFull.has(name)) break;
  }
  return { name, email: emailFor(name), language };
}

/** A random language of the list, for "varied". */
export function someLanguage(): Language {
  return LANGUAGES[Math.floor(Math.random() * LANGUAGES.length)]![0];
}
