/**
 * Text from a target, made safe to show (ATN-8.12). A port's name, version, error messages and stderr reach the console,
 * the Markdown and the HTML; an ANSI/OSC escape in them could set the terminal's title, erase a FAIL line and print a
 * green CONFORMS, and a bidi override (U+202E) could reverse a table row. Control characters (C0 but newline and tab,
 * DEL, C1) and bidi controls are shown as visible escapes instead.
 */

/** C0 controls but \t and \n, DEL, C1 controls. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
/** Bidi embedding, override, isolate and mark characters, and the line/paragraph separators. */
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

function hex(c: string): string {
  const n = c.charCodeAt(0);
  return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
}

/** Controls and bidi characters as \xNN / \uNNNN text; newlines and tabs kept (the terminal, HTML and Markdown use it). */
export function termText(s: unknown): string {
  return String(s).replace(CONTROL, hex).replace(BIDI, hex);
}
