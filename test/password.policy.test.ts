// The password rule (core/password/policy.ts): 8 to 1024 characters, not blank, counted as a user
// counts them (code points after NFKC). Where it applies is tested with each caller.
import { describe, expect, it } from "vitest";
import { passwordProblem } from "../src/core/password/policy.js";

describe("password policy", () => {
  it.each([
    ["", "is required"],
    [" ".repeat(8), "must not be blank"],
    ["\u3000".repeat(8), "must not be blank"], // ideographic spaces are spaces after NFKC
    ["1234567", "must be at least 8 characters"],
    ["e\u0301".repeat(4), "must be at least 8 characters"], // 8 UTF-16 units, 4 characters once composed
    ["😀".repeat(4), "must be at least 8 characters"], // 8 UTF-16 units, 4 code points
    ["x".repeat(1025), "must be at most 1024 characters"],
  ])("%j is refused: %s", (password, rule) => {
    expect(passwordProblem(password)?.rule).toBe(rule);
  });

  it.each([["12345678"], ["x".repeat(1024)], ["\ufb01".repeat(4)], ["caf\u00e9-au-lait"]])("%j is accepted", (password) => {
    // "\ufb01" (the fi ligature) is "fi" after NFKC: 4 typed, 8 counted, as argon2 sees them.
    expect(passwordProblem(password)).toBeNull();
  });

  it("an empty password is missing, the others invalid", () => {
    expect(passwordProblem("")?.kind).toBe("missing");
    expect(passwordProblem("short")?.kind).toBe("invalid");
  });
});
