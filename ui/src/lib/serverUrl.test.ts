import { describe, expect, it } from "vitest";

import { serverUrlProblem } from "./serverUrl";

describe("serverUrlProblem", () => {
  it("accepts https anywhere and http on this computer only", () => {
    for (const ok of ["https://rythm.example.com", "https://10.0.0.5:8443/base", "http://localhost:3000", "http://127.0.0.1:8080", "http://[::1]:8080"]) {
      expect(serverUrlProblem(ok), ok).toBeNull();
    }
  });
  it("refuses http over the network, other schemes and garbage, saying why", () => {
    expect(serverUrlProblem("http://rythm.example.com")).toMatch(/unencrypted/);
    expect(serverUrlProblem("http://10.0.0.5:3000")).toMatch(/unencrypted/);
    expect(serverUrlProblem("http://localhost.evil.example")).toMatch(/unencrypted/);
    expect(serverUrlProblem("ftp://rythm.example.com")).toMatch(/https/);
    expect(serverUrlProblem("rythm.example.com")).toMatch(/https/);
  });
});
