// The UI's language: the current one, its texts, and dates as Vietnam shows them.
// Vietnamese first (vi.ts is the reference table, its keys are `Key`); en.ts must have
// the same keys, which tsc checks. A unit test checks no text is empty, Vietnamese keeps
// its diacritics, and both languages use the same placeholders.
// Error messages and hints come from the Rust catalogue (bhxh-protocol) through IPC.

import { en } from "./en";
import { vi, type Key } from "./vi";

export type { Key };
export type Lang = "vi" | "en";

export const catalogue: Record<Lang, Record<Key, string>> = { vi, en };

let current: Lang = "vi";

export function setLang(lang: Lang): void {
  current = lang;
  document.documentElement.lang = lang;
}

export function lang(): Lang {
  return current;
}

/** The text of `key` in the current language, with `{name}` placeholders filled. */
export function t(key: Key, params: Record<string, string | number> = {}): string {
  return catalogue[current][key].replace(/\{(\w+)\}/g, (_, name: string) => String(params[name] ?? `{${name}}`));
}

/** A date from Unix seconds or RFC 3339, in Vietnam time: dd/mm/yyyy HH:MM. */
export function vnDate(value: number | string): string {
  const d = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: "Asia/Ho_Chi_Minh",
    day: "2-digit",
    month: "2-digit",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(d);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${get("day")}/${get("month")}/${get("year")} ${get("hour")}:${get("minute")}`;
}
