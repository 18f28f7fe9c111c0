// The password policy of bhxh-protocol (domain::password_policy), for live feedback
// while typing. The server remains the judge; both are tested against the same vectors
// (crates/protocol/tests/vectors/password_policy.json).

export type Rule = "min_length" | "max_length" | "mixed_case" | "digit" | "symbol" | "not_username";

export function passwordPolicy(password: string, username: string): Rule[] {
  const unmet: Rule[] = [];
  const chars = [...password];
  if (chars.length < 10) unmet.push("min_length");
  if (chars.length > 128) unmet.push("max_length");
  const upper = chars.some((c) => c !== c.toLowerCase());
  const lower = chars.some((c) => c !== c.toUpperCase());
  if (!(upper && lower)) unmet.push("mixed_case");
  if (!chars.some((c) => c >= "0" && c <= "9")) unmet.push("digit");
  if (!chars.some((c) => !/[\p{L}\p{N}]/u.test(c))) unmet.push("symbol");
  const user = username.trim().toLowerCase().normalize("NFC");
  if ([...user].length >= 3 && password.toLowerCase().includes(user)) unmet.push("not_username");
  return unmet;
}
