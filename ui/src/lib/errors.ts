// Turns what a command rejects with into words a person understands. The engine's
// `{code, message}` is technical; the code picks the sentence, and the original message (plus
// `detail`) goes in an expandable "Technical details".

import type { ErrorCode, UiError } from "../bindings";

export interface HumanError {
  code: ErrorCode;
  /** One or two sentences: what happened and what to do. */
  message: string;
  /** The engine's own text, for the expandable details; null when it adds nothing. */
  detail: string | null;
}

/** Whether `value` is one of the engine's codes. `SENTENCES` is typed
 *  `Record<ErrorCode, …>`, so the type check fails until it has every code of the generated
 *  bindings: the list of known codes cannot drift from the Rust enum. */
function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(SENTENCES, value);
}

/**
 * Whatever `invoke` rejected with, as a `UiError`: the shell's `{code, message, detail?}`, or a
 * bare string / Error (a missing command, a plugin failure) as `internal`.
 */
export function toUiError(raw: unknown): UiError {
  if (raw && typeof raw === "object" && "message" in raw) {
    const obj = raw as { code?: unknown; message?: unknown; detail?: unknown };
    const message = typeof obj.message === "string" ? obj.message : String(obj.message);
    const err: UiError = { code: isErrorCode(obj.code) ? obj.code : "internal", message };
    if (typeof obj.detail === "string" && obj.detail.trim()) err.detail = obj.detail;
    return err;
  }
  if (typeof raw === "string") return { code: "internal", message: raw };
  return { code: "internal", message: String(raw) };
}

/** The sentence for each code. Codes whose engine message is already plain stay null. */
const SENTENCES: Record<ErrorCode, string | null> = {
  auth_required: "Your sign-in expired — sign in again.",
  not_admin:
    "This account signed in, but it is not a system admin. Sign in with an account that has the system_admin role.",
  unreachable:
    "Can't reach the server. Check the address, that it is running and your network, then try again.",
  database_in_use:
    "Other sessions are connected to the database and would block the restore. Close them, or tick “End other connections first” and try again.",
  busy: "Another backup or restore is already running for this profile (in this app or on the server). Wait for it to finish, or cancel it, then try again.",
  checksum_mismatch:
    "The file's checksum doesn't match the one recorded with the backup, so it was not used. Download it again; if it keeps failing the stored backup is damaged.",
  corrupt_backup:
    "This backup is damaged or incomplete. Nothing was changed. Choose another backup.",
  confirmation_mismatch:
    "The name you typed doesn't match the target database. Type the database name exactly.",
  tool_missing:
    "The PostgreSQL tools (pg_dump, psql) weren't found, or none is new enough for this server. Install the PostgreSQL client tools matching the server's version.",
  storage_auth:
    "The storage account refused the credentials. Check the Azure connection string and that it may access the container.",
  dump_failed: "pg_dump could not dump the database. Nothing was stored. See the details for pg_dump's message.",
  restore_failed:
    "The restore failed and was rolled back — the database is unchanged. See the details for the cause.",
  unsafe_backup:
    "This backup contains a statement that a real pg_dump backup never has, so it may have been tampered with. It was refused before it could run — nothing was changed. Restore another backup and find out who can write to this storage.",
  restore_outcome_unknown:
    "The restore failed at a point where it can't be known whether the database was changed. Check the database; if it is wrong, roll back with the safety backup named in the details.",
  cancelled: "Cancelled. Nothing was changed.",
  keychain_unavailable:
    "The system keychain is not available, so secrets can't be stored or read. Unlock your keychain (or log in to your desktop session) and try again.",
  secrets_locked: null,
  io: "A file could not be read or written. Check the folder exists and you may write to it.",
  internal: "Something went wrong inside the app. Try again; if it persists, the log folder has the details.",
  unsupported: null,
  invalid_name: null,
  invalid_input: null,
  not_found: null,
  config: null,
  already_exists: null,
};

function sentenceCase(text: string): string {
  const trimmed = text.trim();
  if (!trimmed) return trimmed;
  const first = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

/** Where the error happened, when that changes what it means. */
export type ErrorContext = "sign-in" | "general";

/** Sentences that differ while signing in: a 401 there means a wrong password. */
const SIGN_IN_SENTENCES: Partial<Record<ErrorCode, string>> = {
  auth_required: "The email or password was not accepted. Check them and try again.",
  busy: "The server refuses more sign-in attempts for now. Wait a minute and try again.",
};

/** The human message and the expandable technical detail for an error. */
export function humanize(raw: unknown, context: ErrorContext = "general"): HumanError {
  const err = toUiError(raw);
  const sentence = (context === "sign-in" ? SIGN_IN_SENTENCES[err.code] : undefined) ?? SENTENCES[err.code];
  const technical = [err.message, err.detail].filter((s): s is string => !!s && !!s.trim());
  if (sentence === null) {
    // The engine's message is already written for people; keep only extra detail.
    const message = sentenceCase(err.message || "Something went wrong.");
    return { code: err.code, message, detail: err.detail ?? null };
  }
  // `internal` errors from a missing command carry only a message: still show it as detail.
  const detail = technical.length ? technical.join("\n\n") : null;
  return { code: err.code, message: sentence, detail };
}

/** Errors after which the UI should offer to sign in again. */
export function needsSignIn(raw: unknown): boolean {
  return toUiError(raw).code === "auth_required";
}
