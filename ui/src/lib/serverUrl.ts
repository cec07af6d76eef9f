// The address of an API profile's server. The password, then the session token, travel to
// it: plain http:// is accepted for this computer only (the shell refuses it too).

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** A sentence saying what is wrong with `raw`, or null when it is a usable address. */
export function serverUrlProblem(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return "Enter the server's address, starting with https://.";
  }
  if (url.protocol === "https:") return null;
  if (url.protocol === "http:") {
    const host = url.hostname.toLowerCase();
    if (LOCAL_HOSTS.has(host) || /^127(\.\d{1,3}){3}$/.test(host)) return null;
    return "Use https://. Over http:// your password and session would cross the network unencrypted (http:// works for this computer only).";
  }
  return "The address must start with https://.";
}
