/**
 * `npm run depcheck` (part of `.ci/run`): the proxy and the operator are separate programs joined only
 * by the proxy's config contract, and neither has import loops (a loop means two modules that can only
 * be understood, tested and changed together).
 */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'Modules in an import loop cannot be read, tested or changed alone.',
      from: { path: '^(proxy|operator|lib|cli)/src/' },
      to: { circular: true },
    },
    {
      name: 'no-folder-cycles',
      severity: 'error',
      comment: 'Folders are the units of the design (routing, ai, guard, ...): they depend one way.',
      scope: 'folder',
      from: { path: '^(proxy|operator|lib|cli)/src/' },
      to: { circular: true },
    },
    {
      name: 'operator-uses-only-the-config-contract',
      severity: 'error',
      comment: 'The operator talks to the proxy through the config IR (proxy/src/config) and nothing else.',
      from: { path: '^operator/src/' },
      to: { path: '^proxy/src/', pathNot: '^proxy/src/config/' },
    },
    {
      name: 'proxy-does-not-import-the-operator',
      severity: 'error',
      from: { path: '^proxy/src/' },
      to: { path: '^(operator|cli)/src/' },
    },
    {
      name: 'config-contract-stands-alone',
      severity: 'error',
      comment: 'The contract is shared by both programs, so it may not pull in either one.',
      from: { path: '^proxy/src/config/' },
      to: { path: '^(proxy|operator|cli)/src/', pathNot: '^proxy/src/config/' },
    },
    {
      name: 'lib-is-a-leaf',
      severity: 'error',
      from: { path: '^lib/src/' },
      to: { path: '^(proxy|operator|cli)/src/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
