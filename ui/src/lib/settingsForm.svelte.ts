// The state behind a settings page: the last saved view, the admin's draft, pending key
// changes and the problems to show. Both settings pages edit the same settings document;
// a save sends all of it (and any key change) in one request, so the server either
// keeps everything or nothing.

import { tick } from "svelte";
import { ApiError, getSettings, importSettings, regenerateToken, saveSettings } from "./api";
import type { KeyChange, KeyChanges, Settings, SettingsView } from "./types";
import { fieldId } from "./form/ids";
import { validateSettings, type FieldErrors } from "./validate";

/** A keychain entry a save may change: the 8x8 keys of both roles, the Copilot model's key. */
export type KeyName = keyof KeyChanges;

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** Value at a dotted field path ("handover.connection.tenant"), for matching server errors. */
function valueAt(root: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined), root);
}

export class SettingsForm {
  view = $state<SettingsView | null>(null);
  draft = $state<Settings | null>(null);
  keys = $state<Partial<Record<KeyName, KeyChange>>>({});
  loadError = $state<ApiError | null>(null);
  #problem = $state<string | null>(null);
  /** What the problem line is about: fields still invalid keep it; fixed, it goes. */
  #problemFrom = $state<"client-fields" | "server-fields" | "other">("other");
  /** Bumped when the draft is replaced wholesale (discard, reload, import): results of
   *  actions on the old values (a connection test) no longer describe what is shown. */
  epoch = $state(0);
  saving = $state(false);
  /** Another window or an import changed the settings while this draft was dirty. */
  changedElsewhere = $state(false);
  /** After a save attempt every field shows its problem, not only the ones visited. */
  attempted = $state(false);
  touched = $state<Record<string, boolean>>({});
  /** A problem the page knows about that the generic checks cannot see (e.g. JSON syntax from the server). */
  extraErrors = $state<FieldErrors>({});
  #server = $state<Record<string, { message: string; sent: unknown }>>({});

  dirty = $derived(
    this.view !== null &&
      this.draft !== null &&
      (JSON.stringify(this.draft) !== JSON.stringify(this.view.settings) || Object.keys(this.keys).length > 0),
  );

  #clientErrors = $derived(
    this.draft
      ? {
          ...validateSettings(this.draft, this.keys, {
            endpoint: this.view?.keys.endpoint.set ?? false,
            handover: this.view?.keys.handover.set ?? false,
          }),
          ...this.extraErrors,
        }
      : {},
  );

  /** Why the last save, import or regeneration failed, beyond per-field messages; a
   *  problem about fields lasts only while one of them is still wrong. */
  get problem(): string | null {
    if (this.#problem === null) return null;
    if (this.#problemFrom === "client-fields") {
      const onPage = Object.keys(this.#clientErrors).some((f) => document.getElementById(fieldId(f)));
      return onPage ? this.#problem : null;
    }
    if (this.#problemFrom === "server-fields") {
      const stands = Object.entries(this.#server).some(([f, v]) => JSON.stringify(v.sent) === JSON.stringify(this.#current(f)));
      return stands ? this.#problem : null;
    }
    return this.#problem;
  }

  set problem(message: string | null) {
    this.#problem = message;
    this.#problemFrom = "other";
  }

  #current(field: string): unknown {
    return field.startsWith("keys.") ? JSON.stringify(this.keys[field.slice(5) as KeyName] ?? null) : valueAt(this.draft, field);
  }

  /** The message to show beside a field, or undefined. */
  error(field: string): string | undefined {
    const server = this.#server[field];
    // A server verdict holds until the admin changes that field.
    if (server && JSON.stringify(server.sent) === JSON.stringify(this.#current(field))) return server.message;
    if (this.attempted || this.touched[field]) return this.#clientErrors[field];
    return undefined;
  }

  touch = (field: string) => {
    this.touched[field] = true;
  };

  async load() {
    try {
      this.#accept(await getSettings());
      this.epoch += 1;
      this.loadError = null;
    } catch (e) {
      this.loadError = e instanceof ApiError ? e : new ApiError(0, "unknown", String(e));
    }
  }

  #accept(view: SettingsView) {
    this.view = view;
    this.draft = clone(view.settings);
    this.keys = {};
    this.#server = {};
    this.extraErrors = {};
    this.attempted = false;
    this.touched = {};
    this.problem = null;
    this.changedElsewhere = false;
  }

  /** A live "settingsChanged": follow it unless that would throw away the admin's edits. */
  onChangedElsewhere() {
    if (this.saving) return;
    if (this.dirty) this.changedElsewhere = true;
    else void this.load();
  }

  discard() {
    if (this.view) this.#accept(this.view);
    this.epoch += 1;
  }

  setKey(role: KeyName, action: KeyChange | undefined) {
    if (action) this.keys[role] = action;
    else delete this.keys[role];
  }

  /** Returns true when saved. On failure the first invalid field gets the focus. */
  async save(): Promise<boolean> {
    if (!this.draft || this.saving) return false;
    this.attempted = true;
    this.problem = null;
    // Only fields on this page block: their message is beside them. For the rest the
    // server's verdict (shown in the problem line) is the one that counts.
    const blocking = Object.keys(this.#clientErrors).filter((f) => document.getElementById(fieldId(f)));
    if (blocking.length > 0) {
      this.problem = "Some fields need attention before saving; nothing was saved.";
      this.#problemFrom = "client-fields";
      await this.#focusFirstInvalid();
      return false;
    }
    this.saving = true;
    const sent = clone(this.draft);
    const sentKeys = clone(this.keys);
    try {
      this.#accept(await saveSettings(sent, sentKeys));
      return true;
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError(0, "unknown", String(e));
      const server: Record<string, { message: string; sent: unknown }> = {};
      for (const f of err.fields) {
        const sentValue = f.field.startsWith("keys.")
          ? JSON.stringify(sentKeys[f.field.slice(5) as KeyName] ?? null)
          : valueAt(sent, f.field);
        server[f.field] = { message: f.message, sent: sentValue };
      }
      this.#server = server;
      // Fields of the other settings page (or none at all) cannot show their message: say it here.
      const elsewhere = err.fields.filter((f) => !document.getElementById(fieldId(f.field)));
      this.problem =
        `Nothing was saved: ${err.message}` +
        (elsewhere.length > 0 ? ` (${elsewhere.map((f) => `${f.field}: ${f.message}`).join("; ")})` : "");
      // Every field named beside its input: the line goes when they are fixed.
      if (err.fields.length > 0 && elsewhere.length === 0) this.#problemFrom = "server-fields";
      await this.#focusFirstInvalid();
      return false;
    } finally {
      this.saving = false;
    }
  }

  async #focusFirstInvalid() {
    await tick();
    const first = document.querySelector<HTMLElement>('main [aria-invalid="true"]');
    first?.focus();
  }

  async regenerate(): Promise<boolean> {
    try {
      const view = await regenerateToken();
      if (this.dirty && this.draft) {
        // Keep the admin's edits; only the token (which a save ignores) moves on.
        this.view = view;
        this.draft.endpoint.token = view.settings.endpoint.token;
      } else {
        this.#accept(view);
      }
      return true;
    } catch (e) {
      this.problem = `The token was not regenerated: ${e instanceof Error ? e.message : String(e)}`;
      return false;
    }
  }

  /** Applies an import the admin has seen previewed; throws what the server refused. */
  async import(text: string): Promise<void> {
    this.#accept(await importSettings(text));
    this.epoch += 1;
  }
}
