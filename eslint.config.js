import { globalIgnores } from 'eslint/config'
import globals from 'globals'
import { neostandard, resolveIgnoresFromGitignore } from 'neostandard'

export default [
  globalIgnores(resolveIgnoresFromGitignore()),
  ...neostandard({ ts: true }),
  {
    // `void promise` says a floating promise is meant (a wake-up, a fire-and-forget store call).
    rules: { 'no-void': ['error', { allowAsStatement: true }] },
  },
  {
    // The playground runs in the browser.
    files: ['public/**/*.js'],
    languageOptions: { globals: globals.browser },
  },
]
