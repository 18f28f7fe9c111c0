import { describe, expect, it } from "vitest";
import { passwordPolicy } from "../../src/policy";
import vectors from "../../../crates/protocol/tests/vectors/password_policy.json";

describe("the password policy", () => {
  it("agrees with bhxh-protocol on every committed vector", () => {
    expect(vectors.length).toBeGreaterThan(5);
    for (const v of vectors) {
      expect(passwordPolicy(v.password, v.username), `${v.password} / ${v.username}`).toEqual(v.unmet);
    }
  });
});
