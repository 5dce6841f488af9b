// ESLint flat config. Kept fast: typescript-eslint "recommended" (no type-aware rules);
// `npm run typecheck` (tsc) covers type errors. Formatting is Prettier's job (see .prettierrc.json).
import js from "@eslint/js";
import react from "eslint-plugin-react";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "**/node_modules/",
      "build/",
      "public/build/",
      ".data/",
      ".cache/",
      ".ci/",
      "test-results/",
      "playwright-report/",
      "bench/results/",
      "db/migrations/",
    ],
  },
  {
    linterOptions: { reportUnusedDisableDirectives: "error" },
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ["**/*.{js,jsx,mjs,cjs,ts,tsx}"],
    ...react.configs.flat.recommended,
  },
  {
    files: ["**/*.{js,jsx,mjs,cjs,ts,tsx}"],
    ...react.configs.flat["jsx-runtime"],
  },
  reactHooks.configs.flat.recommended,
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: { ...globals.node, ...globals.browser },
    },
    settings: { react: { version: "18.3" } },
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": [
        "error",
        {
          argsIgnorePattern: "^_",
          varsIgnorePattern: "^_",
          caughtErrorsIgnorePattern: "^_",
          destructuredArrayIgnorePattern: "^_",
          ignoreRestSiblings: true,
        },
      ],
    },
  },
  {
    // Rules that conflict with Prettier (the subset of eslint-config-prettier that applies to the presets above;
    // ESLint 9 / typescript-eslint 8 presets no longer ship stylistic rules, so this is the only one).
    rules: {
      "no-unexpected-multiline": "off",
    },
  },
);
