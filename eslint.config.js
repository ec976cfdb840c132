// Lint rules: typescript-eslint's recommended set, plus the few rules that keep the
// codebase honest (no floating promises in a streaming server, no unexplained `any`).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  // bench/.work and test/.work are git-ignored scratch (profiles, experiments).
  { ignores: ["dist/**", "node_modules/**", ".earshot/**", "coverage/**", "bench/.work/**", "test/.work/**", "build/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's test()/describe() return promises the runner itself awaits.
      "@typescript-eslint/no-floating-promises": [
        "error",
        { allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["test", "it", "describe", "suite"] }] },
      ],
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
    },
  },
  {
    files: ["**/*.js"],
    languageOptions: { globals: { console: "readonly", process: "readonly" } },
  },
);
