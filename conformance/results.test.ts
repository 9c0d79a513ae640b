import { describe, expect, it } from 'vitest';
import { failureDetails, summarize } from './results.ts';

/** Shaped like `go test -v` output of the suite: parallel subtests interleave their lines. */
const OUTPUT = `=== RUN   TestConformance
=== RUN   TestConformance/HTTPRouteSimpleSameNamespace
    simple.go:40: making request
=== RUN   TestConformance/HTTPRouteTimeoutBackendRequest
=== RUN   TestConformance/HTTPRouteTimeoutBackendRequest/0_request
=== PAUSE TestConformance/HTTPRouteTimeoutBackendRequest/0_request
=== CONT  TestConformance/HTTPRouteTimeoutBackendRequest/0_request
    timeout.go:72: Making GET request to /backend-timeout
=== NAME  TestConformance/HTTPRouteTimeoutBackendRequest/0_request
    http.go:306: timeout while waiting after 14 attempts, 0/3 successes
=== NAME  TestConformance
    suite.go:10: cleaning up
    --- PASS: TestConformance/HTTPRouteSimpleSameNamespace (1.20s)
    --- FAIL: TestConformance/HTTPRouteTimeoutBackendRequest (0.00s)
        --- FAIL: TestConformance/HTTPRouteTimeoutBackendRequest/0_request (30.01s)
`;

describe('conformance results', () => {
  it('tables every top-level test, failures first', () => {
    expect(summarize(OUTPUT).split('\n')).toEqual([
      'FAIL  HTTPRouteTimeoutBackendRequest  0.0 s',
      'PASS  HTTPRouteSimpleSameNamespace    1.2 s',
      'passed 1, failed 1, skipped 0',
    ]);
  });

  it("quotes what the suite logged for each failing test, and nothing of the passing ones or the suite's own", () => {
    const details = failureDetails(OUTPUT);
    expect(details).toContain('|     http.go:306: timeout while waiting after 14 attempts, 0/3 successes');
    expect(details).toContain('|     timeout.go:72: Making GET request to /backend-timeout');
    expect(details).not.toContain('simple.go');
    expect(details).not.toContain('cleaning up');
    expect(details.split('\n')[0]).toBe('| HTTPRouteTimeoutBackendRequest:');
  });

  it("quotes the suite's own lines when it failed with no test failing (a clean-up or the report)", () => {
    const output = OUTPUT.replaceAll('FAIL', 'PASS')
      .replace(
        'cleaning up\n',
        'cleaning up\n    apply.go:237: error deleting resource: context deadline exceeded\n',
      )
      .replace('    --- PASS: TestConformance/HTTPRouteSimple', '--- FAIL: TestConformance (190.00s)\n$&');
    const details = failureDetails(output);
    expect(details.split('\n')[0]).toBe('| TestConformance (the suite itself):');
    expect(details).toContain('|     apply.go:237: error deleting resource: context deadline exceeded');
    expect(details).toContain('cleaning up');
    expect(details).not.toContain('timeout.go');
  });

  it('says nothing when every test passed', () => {
    expect(failureDetails(OUTPUT.replaceAll('FAIL', 'PASS'))).toBe('');
  });
});
