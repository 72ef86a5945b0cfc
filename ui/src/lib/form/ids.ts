// One naming rule ties a field's id to the server's field path, so a 422 message, the
// focus after a failed save and the tests all find the same element.

export const fieldId = (field: string) => "f-" + field.replace(/\./g, "-");

/** The attributes every input spreads: its id and the links to its hint and error. */
export interface InputAttrs {
  id: string;
  "aria-invalid": "true" | undefined;
  "aria-describedby": string | undefined;
}

export function inputAttrs(field: string, hasHint: boolean, error: string | undefined): InputAttrs {
  const id = fieldId(field);
  const described = [hasHint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ");
  return { id, "aria-invalid": error ? "true" : undefined, "aria-describedby": described || undefined };
}
