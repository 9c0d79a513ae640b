import { createFakeLlm, type FakeLlm, type FakeLlmOptions } from '../../tools/fake-llm/fake-llm-server.ts';

export interface RunningFake extends FakeLlm {
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Starts a fake LLM provider on a kernel-chosen loopback port. */
export async function startFake(options: FakeLlmOptions): Promise<RunningFake> {
  const fake = createFakeLlm(options);
  await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
  const address = fake.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return Object.assign(fake, {
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        fake.server.closeAllConnections();
        fake.server.close(() => resolve());
      }),
  });
}
