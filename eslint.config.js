import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'data/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // The /cache page's script runs in the browser, with uPlot loaded before it.
    files: ['web/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: {
        window: 'readonly',
        document: 'readonly',
        fetch: 'readonly',
        setTimeout: 'readonly',
        uPlot: 'readonly',
      },
    },
  },
  // The direction of imports: the cache core and config are leaves, and routes take their deps
  // as an object (only routes/index.ts, the composition point, sees the whole runtime).
  {
    files: ['src/config.ts', 'src/config-rules.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/features/**', '**/plex/**', '**/http/**', '**/db/**', '**/runtime.js'],
              message: 'config.ts is a leaf: the caller hands it what features declare (e.g. the TTL variables).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/cache/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/features/**', '**/plex/**', '**/http/**', '**/db/**', '**/runtime.js', '**/config.js'],
              message: 'The cache core knows nothing of Plex, HTTP, the features or the service wiring.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/http/**/*.ts'],
    ignores: ['src/http/routes/index.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/runtime.js'],
              message: 'Take the deps you use as an object; src/http/routes/index.ts hands them over from the runtime.',
            },
          ],
        },
      ],
    },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
)
