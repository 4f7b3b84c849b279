// ESLint for every workspace's TypeScript sources, with type information (typescript-eslint's
// project service finds each file's tsconfig, so types flow across the project references).
// Only the rules that guard the seams are on; style is left to the code's own habits.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const root = path.dirname(fileURLToPath(import.meta.url));

/**
 * Resolves `@hourglass/<pkg>[/<subpath>]` to the package's TypeScript source instead of its dist/,
 * through the package's own `exports` (./dist/x.js is built from src/x.ts). import-x/no-cycle
 * follows imports through this, so a cycle that crosses packages is seen in the sources, and an
 * import of a subpath the package does not export does not resolve at all.
 */
function createWorkspaceResolver() {
  const workspaces = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).workspaces;
  const entries = new Map();
  for (const dir of workspaces) {
    const manifest = JSON.parse(readFileSync(path.join(root, dir, 'package.json'), 'utf8'));
    for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
      const file = typeof target === 'string' ? target : target.default;
      const source = file.replace(/^\.\/dist\//, './src/').replace(/\.js$/, '.ts');
      const specifier = subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`;
      entries.set(specifier, path.join(root, dir, source));
    }
  }
  return {
    interfaceVersion: 3,
    name: 'hourglass-workspaces',
    resolve(modulePath) {
      const file = entries.get(modulePath);
      return file !== undefined && existsSync(file) ? { found: true, path: file } : { found: false };
    },
  };
}

const sources = [
  'services/*/src/**/*.ts',
  'sdk/src/**/*.ts',
  'sdk/examples/*/src/**/*.ts',
  'sdk-testing/src/**/*.ts',
  'tests/conformance/src/**/*.ts',
  'load-tests/src/**/*.ts',
];
const testFiles = ['**/*.test.ts'];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/*.d.ts', '.hourglass/**', '.test-tmp/**', '.test-artifacts/**', 'coverage/**', 'web/.next/**'] },
  {
    files: sources,
    extends: [importX.flatConfigs.typescript],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: root },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { '@typescript-eslint': tseslint.plugin, 'import-x': importX },
    settings: {
      // Other workspace packages are ours, not external, so no-cycle follows them (ignoreExternal).
      'import-x/internal-regex': '^@hourglass/',
      'import-x/resolver-next': [createWorkspaceResolver(), createNodeResolver({ extensions: ['.ts', '.d.ts', '.js', '.json', '.node'], extensionAlias: { '.js': ['.ts', '.js'] } })],
    },
    rules: {
      // A promise nobody awaits loses its rejection (an unhandled rejection stops the process) and
      // its ordering. node:test's test()/describe() are tracked by the runner itself.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      // Cycles are checked through runtime imports (type-only imports are erased by tsc), inside a
      // package and, through the workspace resolver, across packages.
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      // Packages meet only through their package names (`exports`): no reaching into another
      // package's folder by a relative path, nor into its src/ or dist/ by name.
      'import-x/no-relative-packages': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@hourglass/*/*', '!@hourglass/persistence/contract', '!@hourglass/sdk/workflow'],
              message: "Import another package through its package name (its package.json `exports`), never its src/ or dist/ internals.",
            },
          ],
        },
      ],
      '@typescript-eslint/explicit-module-boundary-types': 'error',
    },
  },
  {
    // Test files export nothing that another module calls; everything else still holds.
    files: testFiles,
    rules: { '@typescript-eslint/explicit-module-boundary-types': 'off' },
  },
  {
    // The portal console (Next.js, web/tsconfig.json): the promise rules, with type information.
    // JSX event handlers may return promises-as-void (React ignores them) only through `void`.
    files: ['web/**/*.ts', 'web/**/*.tsx'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: root },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
);
