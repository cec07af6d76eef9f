// The restore modal's rules: what step 1 states and offers (only what the server does), when
// "Continue" and "Restore" enable, and the options sent to the shell. Pure, so the double
// confirmation is tested without a window.

import type { PartialRestoreOutcome, ProfileMode, RestoreFeatures, RestoreInput, RestoreOutcome, RestoreSummary, RoleInfo } from "../bindings";
import type { PartialChoice } from "./partial";

/** What the engine (direct mode) and our server do around a restore: everything. */
export const ALL_FEATURES: RestoreFeatures = {
  safetyBackup: true,
  skipSafetyBackup: true,
  terminateConnections: true,
  checksConfirmation: true,
  reportsRole: true,
  partialRestore: true,
  contents: true,
};

/** What is being restored: a stored backup, a downloaded file, or a safety backup (roll back). */
export type RestoreSourceKind = "backup" | "local" | "rollback";

export interface RestoreTarget {
  kind: RestoreSourceKind;
  /** The backup's name (or the local file's name). */
  name: string;
  /** Local file path (kind `local`). */
  path?: string;
  /** RFC 3339, when known. */
  createdAt: string | null;
  /** The database the profile restores into, when the UI knows it. */
  database: string | null;
  /** `host:port` (direct) or the API's URL. */
  server: string;
  /** Direct mode can restore into another database and restore local files. */
  direct: boolean;
  /** What happens around the restore; null until the server was asked (API mode). */
  features: RestoreFeatures | null;
  /** A partial restore: the chosen tables or tenant, and their preview when one was run. */
  partial?: { choice: PartialChoice; preview: PartialRestoreOutcome | null };
  /** The role the restore runs as, once asked; null when the server does not say. */
  role?: RoleInfo | null;
}

/** Step 1's warning when the restore runs as a superuser, or null. */
export function superuserWarning(role: RoleInfo | null | undefined): string | null {
  if (!role?.superuser) return null;
  return `The restore runs as ${role.name}, a superuser: the backup's SQL runs with superuser power on the database server, where a tampered backup could do anything. Restore as the database owner's role instead where you can.`;
}

export interface RestoreChoices {
  /** Restore into a new database instead of replacing the profile's (direct mode). */
  intoNew: boolean;
  newDatabase: string;
  terminateConnections: boolean;
  skipSafetyBackup: boolean;
}

export const DEFAULT_CHOICES: RestoreChoices = {
  intoNew: false,
  newDatabase: "",
  terminateConnections: false,
  skipSafetyBackup: false,
};

/** The restore target for a profile, from its settings. */
export function targetFor(
  profile: { mode: ProfileMode },
  kind: RestoreSourceKind,
  name: string,
  createdAt: string | null,
  knownDatabase: string | null,
  path?: string,
): RestoreTarget {
  if (profile.mode.type === "direct") {
    const db = profile.mode.database;
    const t: RestoreTarget = {
      kind,
      name,
      createdAt,
      database: db.database,
      server: `${db.host}:${db.port}`,
      direct: true,
      features: ALL_FEATURES,
    };
    if (path !== undefined) t.path = path;
    return t;
  }
  // API mode: the server restores into its own database; the list may name it (the backup's
  // metadata, or the database the server named when it created a backup).
  const t: RestoreTarget = {
    kind,
    name,
    createdAt,
    database: knownDatabase,
    server: profile.mode.baseUrl,
    direct: false,
    features: null,
  };
  if (path !== undefined) t.path = path;
  return t;
}

const DB_NAME = /^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/;

/** Why a new database name is not acceptable, or null. */
export function newDatabaseProblem(name: string, current: string | null): string | null {
  const n = name.trim();
  if (!n) return "Enter a name for the new database.";
  if (!DB_NAME.test(n)) {
    return "Use up to 63 letters, digits, “_”, “$” or “-”, starting with a letter or “_”.";
  }
  if (current !== null && n === current) {
    return "That is the current database; choose “Replace” instead or pick another name.";
  }
  return null;
}

/** The database the restore writes into, given the choices; null when the server decides. */
export function effectiveDatabase(target: RestoreTarget, choices: RestoreChoices): string | null {
  if (target.direct && choices.intoNew) return choices.newDatabase.trim() || null;
  return target.database;
}

/** Step 1 → step 2 is allowed once the choices are complete. */
export function canContinue(target: RestoreTarget, choices: RestoreChoices): boolean {
  if (target.direct && choices.intoNew) {
    return newDatabaseProblem(choices.newDatabase, target.database) === null;
  }
  return true;
}

/** What step 2 asks the person to type. */
export interface Confirmation {
  text: string;
  /** The target database's name; or, when the UI cannot know it (an API whose listing names
   *  no database, as the RYTHM platform's), the backup's name. */
  kind: "database" | "backup";
}

export function expectedConfirmation(target: RestoreTarget, choices: RestoreChoices): Confirmation {
  const database = effectiveDatabase(target, choices);
  return database !== null ? { text: database, kind: "database" } : { text: target.name, kind: "backup" };
}

/** Does the typed confirmation match? Exact and case-sensitive (databases are); only
 *  surrounding whitespace is forgiven. */
export function confirmationMatches(typed: string, expected: string): boolean {
  const t = typed.trim();
  return t !== "" && t === expected;
}

/** Whether the final "Restore" button is enabled. */
export function canRestore(
  target: RestoreTarget,
  choices: RestoreChoices,
  typed: string,
  running: boolean,
): boolean {
  if (running) return false;
  if (!canContinue(target, choices)) return false;
  return confirmationMatches(typed, expectedConfirmation(target, choices).text);
}

/** The options for `restore_backup` / `restore_local_copy`. */
export function restoreOptions(
  target: RestoreTarget,
  choices: RestoreChoices,
  typed: string,
): RestoreInput {
  const features = target.features ?? ALL_FEATURES;
  const options: RestoreInput = {
    confirm: typed.trim(),
    // Options the server does not have are never sent (they are not offered either).
    skipSafetyBackup: choices.skipSafetyBackup && features.skipSafetyBackup,
    terminateConnections: choices.terminateConnections && features.terminateConnections,
  };
  if (target.direct && choices.intoNew) {
    options.targetDatabase = choices.newDatabase.trim();
    options.create = true;
  }
  return options;
}

/** A safety backup is only taken when something is replaced, and where the server takes one
 *  (the RYTHM platform takes none). */
export function takesSafetyBackup(target: RestoreTarget, choices: RestoreChoices): boolean {
  const features = target.features ?? ALL_FEATURES;
  if (!features.safetyBackup) return false;
  const skipped = choices.skipSafetyBackup && features.skipSafetyBackup;
  return !skipped && !(target.direct && choices.intoNew);
}

/** The options step 1 shows: only those the server does something with. */
export function offeredOptions(target: RestoreTarget): { skipSafetyBackup: boolean; terminateConnections: boolean } {
  const features = target.features ?? ALL_FEATURES;
  return {
    skipSafetyBackup: features.safetyBackup && features.skipSafetyBackup,
    terminateConnections: features.terminateConnections,
  };
}

/** `restore_local_copy` answers with the engine's outcome; the result view reads a summary. */
export function summaryOfLocal(name: string, o: RestoreOutcome): RestoreSummary {
  return {
    name,
    database: o.database,
    safetyBackup: o.safetyBackup,
    message: null,
    bytes: o.bytes,
    checksumVerified: o.checksumVerified,
    terminatedSessions: o.terminatedSessions,
    createdDatabase: o.createdDatabase,
    durationMs: o.durationMs,
    restoredAs: o.restoredAs,
    noSafetyBackup: null,
  };
}
