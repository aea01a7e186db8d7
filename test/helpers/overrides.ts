// Test configs built from defaults, where an override of undefined removes the default (the field is then absent).
export type Overrides<T> = { [K in keyof T]?: T[K] | undefined };

/** `base` with `overrides` applied; a key overridden with undefined is left out, as exactOptionalPropertyTypes wants. */
export function withOverrides<T extends object>(base: T, overrides: Overrides<T>): T {
  const merged: Record<string, unknown> = { ...base, ...overrides };
  for (const key of Object.keys(merged)) if (merged[key] === undefined) delete merged[key];
  return merged as T;
}
