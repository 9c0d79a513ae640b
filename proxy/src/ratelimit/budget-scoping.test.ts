import { describe, expect, it } from 'vitest';
import type { BudgetLimit } from '../config/budgets.ts';
import type { RouteRef } from '../config/route-ref.ts';
import { BudgetEnforcer, type BudgetEvents } from './budget-enforcer.ts';
import { ResilientStore } from './resilient-store.ts';

const events: BudgetEvents = { rejected() {}, remaining() {}, consumed() {}, reservations() {} };

function limit(name: string, scope: BudgetLimit['scope'], match: BudgetLimit['match'] = {}): BudgetLimit {
  return {
    name,
    scope,
    per: 'Consumer',
    match,
    measure: 'TotalTokens',
    amount: 100,
    window: 'Day',
    shadow: false,
    failureMode: 'FailClosed',
    requireIdentity: false,
    defaultMaxOutputTokens: 0,
  };
}

const ref = (name: string, rule: number): RouteRef => ({
  kind: 'HTTPRoute',
  namespace: 'default',
  name,
  rule,
});
const routes = new Map([
  ['chat-0', ref('chat', 0)],
  ['chat-1', ref('chat', 1)],
  ['other-0', ref('other', 0)],
]);
const limits = [
  limit('gateway', { kind: 'Gateway' }),
  limit('whole-route', { kind: 'Route', route: { kind: 'HTTPRoute', namespace: 'default', name: 'chat' } }),
  limit('one-rule', {
    kind: 'Route',
    route: { kind: 'HTTPRoute', namespace: 'default', name: 'chat', rule: 1 },
  }),
  limit('backend', { kind: 'AIBackend', aiBackend: 'default/gpt' }),
  limit('alice-only', { kind: 'Gateway' }, { consumers: ['alice'] }),
  limit('mini-model', { kind: 'Gateway' }, { models: ['gpt-4o-mini'] }),
];
const enforcer = new BudgetEnforcer(
  limits,
  routes,
  new ResilientStore(undefined, { onDegraded() {} }),
  events,
);

const applicable = (
  routeName: string,
  extra: { aiBackend?: string; consumer?: string; model?: string } = {},
) =>
  enforcer
    .applicable({
      routeName,
      aiBackend: extra.aiBackend ?? 'default/claude',
      model: extra.model ?? 'gpt-4o',
      headers: {},
      caller: { consumer: extra.consumer ?? 'bob', team: '' },
    })
    .map((l) => l.name);

describe('budget scoping', () => {
  it('applies Gateway budgets everywhere and route budgets to their route only', () => {
    expect(applicable('chat-0')).toEqual(['gateway', 'whole-route']);
    expect(applicable('other-0')).toEqual(['gateway']);
  });

  it('narrows a route budget to one rule (sectionName), by index, never by name prefix', () => {
    expect(applicable('chat-1')).toEqual(['gateway', 'whole-route', 'one-rule']);
    // A route whose name merely starts like another's is not that route.
    const lookalike = new BudgetEnforcer(
      limits,
      new Map([['chatty-0', ref('chatty', 0)]]),
      new ResilientStore(undefined, { onDegraded() {} }),
      events,
    );
    expect(
      lookalike
        .applicable({
          routeName: 'chatty-0',
          aiBackend: 'x',
          model: 'm',
          headers: {},
          caller: { consumer: 'c', team: '' },
        })
        .map((l) => l.name),
    ).toEqual(['gateway']);
  });

  it('applies AI backend budgets by the backend that serves, and match rules by caller and model', () => {
    expect(applicable('other-0', { aiBackend: 'default/gpt' })).toEqual(['gateway', 'backend']);
    expect(applicable('other-0', { consumer: 'alice' })).toEqual(['gateway', 'alice-only']);
    expect(applicable('other-0', { model: 'gpt-4o-mini' })).toEqual(['gateway', 'mini-model']);
  });

  it('keeps Gateway and backend budgets for a route the config does not name', () => {
    expect(applicable('unknown', { aiBackend: 'default/gpt' })).toEqual(['gateway', 'backend']);
  });
});
