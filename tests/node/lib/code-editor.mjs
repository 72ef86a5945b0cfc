// The settings' code fields (the bot's YAML flow, the handover's JSON properties) are a
// CodeMirror editor inside a box with the field's data-testid; until the editor's chunk
// has loaded the box holds a plain textarea. These helpers wait for the editor and read
// and write its text the way a person does: by copying it and by typing into it.

/** The box (by data-testid) and its editable element once the editor is there. */
export async function codeEditor(page, testid) {
  const box = page.getByTestId(testid);
  const textbox = box.locator(".cm-content[contenteditable=true]");
  await textbox.waitFor();
  return {
    box,
    textbox,
    /** The whole text, as a person would take it: select all and copy (the editor draws
     *  only the lines in view, so the page's DOM may not hold all of it). Needs the
     *  clipboard permissions openAdmin grants. */
    text: async () => {
      await textbox.focus();
      await page.keyboard.press("ControlOrMeta+A");
      await page.keyboard.press("ControlOrMeta+C");
      return page.evaluate(() => navigator.clipboard.readText());
    },
    /** Replaces the whole text as typing would (select all, insert). */
    fill: (text) => textbox.fill(text),
  };
}
