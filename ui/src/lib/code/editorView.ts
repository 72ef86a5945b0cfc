// The code editor itself (CodeMirror 6), loaded on demand so the main bundle stays as it
// was: the pages show the plain text in a textarea until this chunk arrives. Only the
// pieces the settings need: line numbers, highlighting, undo/redo, the server's error as
// a lint diagnostic. Tab is left to the browser (it moves the focus), so keyboard users
// are never trapped; indenting is Ctrl-] / Ctrl-[ and Enter keeps the indentation.

import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { HighlightStyle, indentOnInput, syntaxHighlighting, bracketMatching, type LanguageSupport } from "@codemirror/language";
import { lintGutter, setDiagnostics, type Diagnostic } from "@codemirror/lint";
import { Compartment, EditorState, RangeSet, StateEffect, StateField, Transaction } from "@codemirror/state";
import {
  Decoration,
  EditorView,
  GutterMarker,
  drawSelection,
  highlightActiveLine,
  keymap,
  lineNumberMarkers,
  lineNumbers,
} from "@codemirror/view";
import { tags } from "@lezer/highlight";

export type Language = "yaml" | "json";

/** Where the server's message points: a 1-based line and, when it says so, column. */
export interface ErrorMark {
  line: number;
  column: number | null;
  message: string;
}

export interface EditorOptions {
  parent: HTMLElement;
  text: string;
  language: Language;
  /** Attributes for the editable element: id, aria-*, data-testid. */
  attributes: Record<string, string>;
  /** The data-testid given to the error line's band, for the tests. */
  errorLineTestId?: string;
  onChange: (text: string) => void;
}

export interface EditorHandle {
  view: EditorView;
  setText(text: string): void;
  setAttributes(attributes: Record<string, string>): void;
  setError(error: ErrorMark | null): void;
  focus(at?: number): void;
  destroy(): void;
}

async function languageSupport(language: Language): Promise<LanguageSupport> {
  // Each grammar is its own small chunk; the JSON field never loads the YAML one.
  if (language === "yaml") return (await import("@codemirror/lang-yaml")).yaml();
  return (await import("@codemirror/lang-json")).json();
}

// The app's colours (ui/src/app.css), so light and dark follow the system like the rest.
const theme = EditorView.theme({
  "&": {
    color: "var(--fg)",
    backgroundColor: "var(--bg)",
    border: "1px solid var(--line)",
    borderRadius: "6px",
    height: "100%",
  },
  "&.cm-focused": { outline: "2px solid var(--accent)", outlineOffset: "1px" },
  ".cm-scroller": { fontFamily: "monospace, monospace", lineHeight: "1.45" },
  ".cm-content": { padding: "0.45rem 0", caretColor: "var(--fg)" },
  ".cm-cursor, .cm-dropCursor": { borderLeftColor: "var(--fg)" },
  "&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground":
    { backgroundColor: "color-mix(in srgb, var(--accent) 28%, transparent)" },
  ".cm-activeLine": { backgroundColor: "color-mix(in srgb, var(--accent) 6%, transparent)" },
  ".cm-gutters": { backgroundColor: "var(--panel)", color: "var(--muted)", borderRight: "1px solid var(--line)" },
  ".cm-lineNumbers .cm-gutterElement": { minWidth: "2.2rem", padding: "0 0.5rem 0 0.4rem" },
  ".cm-lineNumbers .cm-gutterElement.cm-error-line-number": { color: "var(--bad)", fontWeight: "700" },
  ".cm-line.cm-error-line": { backgroundColor: "color-mix(in srgb, var(--bad) 16%, transparent)" },
  ".cm-lintRange-error": { backgroundImage: "none", textDecoration: "underline wavy var(--bad)", textUnderlineOffset: "3px" },
  ".cm-tooltip": { backgroundColor: "var(--panel)", color: "var(--fg)", border: "1px solid var(--line)", borderRadius: "6px" },
  ".cm-diagnostic-error": { borderLeftColor: "var(--bad)" },
  ".cm-matchingBracket": { backgroundColor: "color-mix(in srgb, var(--ok) 25%, transparent)" },
});

const highlight = HighlightStyle.define([
  { tag: [tags.propertyName, tags.definition(tags.propertyName)], color: "var(--accent)" },
  { tag: [tags.string, tags.special(tags.string)], color: "var(--ok)" },
  { tag: [tags.number, tags.bool, tags.null, tags.atom], color: "var(--warn)" },
  { tag: [tags.comment, tags.meta], color: "var(--muted)", fontStyle: "italic" },
  { tag: [tags.punctuation, tags.separator, tags.bracket], color: "var(--muted)" },
  { tag: [tags.keyword, tags.typeName, tags.labelName], color: "var(--accent)", fontWeight: "600" },
  { tag: tags.invalid, color: "var(--bad)" },
]);

// The error line: a band behind the text and the number in the gutter in red, besides the
// lint mark (the wavy underline and the gutter's marker, whose hover shows the message).
const setErrorLine = StateEffect.define<number | null>({ map: (at, mapping) => (at === null ? null : mapping.mapPos(at)) });
const errorLineNumber = new (class extends GutterMarker {
  elementClass = "cm-error-line-number";
})();

function errorLineField(testid: string | undefined) {
  const band = Decoration.line({ class: "cm-error-line", attributes: testid ? { "data-testid": testid } : {} });
  // The start of the marked line, carried along as the text is edited (like the lint mark),
  // until the next verdict replaces it.
  return StateField.define<number | null>({
    create: () => null,
    update(at, tr) {
      for (const e of tr.effects) if (e.is(setErrorLine)) return e.value;
      return at === null || !tr.docChanged ? at : tr.changes.mapPos(at);
    },
    provide: (field) => [
      EditorView.decorations.compute([field], (state) => {
        const at = state.field(field);
        return at === null ? Decoration.none : Decoration.set([band.range(state.doc.lineAt(at).from)]);
      }),
      lineNumberMarkers.compute([field], (state) => {
        const at = state.field(field);
        return at === null ? RangeSet.empty : RangeSet.of([errorLineNumber.range(state.doc.lineAt(at).from)]);
      }),
    ],
  });
}

/** Whether the line starting at `pos` is wholly inside the editor's visible part. */
function inView(view: EditorView, pos: number): boolean {
  const line = view.coordsAtPos(pos);
  const box = view.scrollDOM.getBoundingClientRect();
  return !!line && line.top >= box.top && line.bottom <= box.bottom;
}

export async function createEditor(options: EditorOptions): Promise<EditorHandle> {
  const language = await languageSupport(options.language);
  const attributes = new Compartment();
  let silent = false;

  const view = new EditorView({
    parent: options.parent,
    state: EditorState.create({
      doc: options.text,
      extensions: [
        lineNumbers(),
        lintGutter(),
        history(),
        drawSelection(),
        highlightActiveLine(),
        indentOnInput(),
        bracketMatching(),
        language,
        syntaxHighlighting(highlight),
        theme,
        errorLineField(options.errorLineTestId),
        keymap.of([...defaultKeymap, ...historyKeymap]),
        EditorState.tabSize.of(2),
        attributes.of(EditorView.contentAttributes.of(options.attributes)),
        EditorView.contentAttributes.of({ spellcheck: "false", autocapitalize: "off", autocorrect: "off" }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged && !silent) options.onChange(update.state.doc.toString());
        }),
      ],
    }),
  });

  return {
    view,
    setText(text) {
      if (text === view.state.doc.toString()) return;
      // A load or a discard from outside: not the user's typing, so not undone by Ctrl-Z,
      // and a mark on the old text means nothing on the new one.
      silent = true;
      try {
        view.dispatch(setDiagnostics(view.state, []), {
          changes: { from: 0, to: view.state.doc.length, insert: text },
          effects: setErrorLine.of(null),
          annotations: Transaction.addToHistory.of(false),
        });
      } finally {
        silent = false;
      }
    },
    setAttributes(next) {
      view.dispatch({ effects: attributes.reconfigure(EditorView.contentAttributes.of(next)) });
    },
    setError(error) {
      const doc = view.state.doc;
      if (!error || error.line < 1) {
        view.dispatch(setDiagnostics(view.state, []), { effects: setErrorLine.of(null) });
        return;
      }
      // A parser that ran off the end names the line after the last; that is the end.
      const line = doc.line(Math.min(error.line, doc.lines));
      // The underline runs from the column named (or the line's start) to the line's end; an
      // empty line still gets a mark the width of one character.
      const from = error.column ? Math.min(line.from + error.column - 1, line.to) : line.from;
      const diagnostic: Diagnostic = { from, to: Math.max(line.to, from), severity: "error", message: error.message };
      // Scrolled to (a third from the top) only when out of sight, so a verdict that comes
      // while the person types on that line does not move the text under them.
      const effects: StateEffect<unknown>[] = [setErrorLine.of(line.from)];
      if (!inView(view, line.from)) effects.push(EditorView.scrollIntoView(line.from, { y: "start", yMargin: view.scrollDOM.clientHeight / 3 }));
      view.dispatch(setDiagnostics(view.state, [diagnostic]), { effects });
    },
    focus(at) {
      view.focus();
      if (at !== undefined) view.dispatch({ selection: { anchor: Math.min(at, view.state.doc.length) }, scrollIntoView: true });
    },
    destroy() {
      view.destroy();
    },
  };
}
