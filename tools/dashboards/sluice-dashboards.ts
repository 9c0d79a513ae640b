import type { DashboardSpec } from './grafana-model.ts';

/**
 * Spend over the dashboard's range, exactly: the counter now minus the counter at the start of the
 * range, or the whole counter for series born inside it. Unlike increase(), this does not
 * extrapolate, so the numbers match the provider's usage × price to the cent. (A proxy restart in
 * the range resets its counter; the loss is the spend before the restart.)
 */
function spendInRange(by: string, range = '$__range'): string {
  const series = `sluice_ai_cost_usd_total{team=~"$team"}`;
  return `(sum by (${by}) (${series}) - sum by (${by}) (${series} offset ${range})) or sum by (${by}) (${series})`;
}

const RATE = '$__rate_interval';

export const AI_SPEND: DashboardSpec = {
  uid: 'sluice-ai-spend',
  title: 'Sluice — AI spend',
  description:
    'What every team, consumer, model and backend spends through Sluice, from exact token usage and configured prices.',
  variables: [{ name: 'team', label: 'Team', metric: 'sluice_ai_cost_usd_total', labelName: 'team' }],
  panels: [
    {
      title: 'Spend in range',
      kind: 'stat',
      unit: 'currencyUSD',
      width: 6,
      queries: [{ expr: `sum(${spendInRange('sluice_ai_backend')})`, legend: 'USD' }],
    },
    {
      title: 'Month to date',
      kind: 'stat',
      unit: 'currencyUSD',
      width: 6,
      timeFrom: 'now/M',
      queries: [{ expr: `sum(${spendInRange('sluice_ai_backend')})`, legend: 'USD' }],
    },
    {
      title: 'Projected month (last 24 h run rate)',
      kind: 'stat',
      unit: 'currencyUSD',
      width: 6,
      description: 'Spend per second over the last day × the seconds in this month.',
      queries: [
        {
          expr: `sum(rate(sluice_ai_cost_usd_total{team=~"$team"}[1d])) * 86400 * days_in_month()`,
          legend: 'USD',
        },
      ],
    },
    {
      title: 'Tokens in range',
      kind: 'stat',
      unit: 'short',
      width: 6,
      queries: [
        {
          expr: 'sum by (gen_ai_token_type) (increase(gen_ai_client_token_usage_sum[$__range]))',
          legend: '{{gen_ai_token_type}}',
        },
      ],
    },
    {
      title: 'Spend rate by team (USD/hour)',
      kind: 'timeseries',
      unit: 'currencyUSD',
      queries: [
        {
          expr: `sum by (team) (rate(sluice_ai_cost_usd_total{team=~"$team"}[${RATE}])) * 3600`,
          legend: '{{team}}',
        },
      ],
    },
    {
      title: 'Spend rate by model (USD/hour)',
      kind: 'timeseries',
      unit: 'currencyUSD',
      queries: [
        {
          expr: `sum by (gen_ai_response_model) (rate(sluice_ai_cost_usd_total{team=~"$team"}[${RATE}])) * 3600`,
          legend: '{{gen_ai_response_model}}',
        },
      ],
    },
    {
      title: 'Spend by team',
      kind: 'bargauge',
      unit: 'currencyUSD',
      width: 8,
      queries: [{ expr: spendInRange('team'), legend: '{{team}}' }],
    },
    {
      title: 'Spend by model',
      kind: 'bargauge',
      unit: 'currencyUSD',
      width: 8,
      queries: [{ expr: spendInRange('gen_ai_response_model'), legend: '{{gen_ai_response_model}}' }],
    },
    {
      title: 'Spend by backend',
      kind: 'bargauge',
      unit: 'currencyUSD',
      width: 8,
      queries: [{ expr: spendInRange('sluice_ai_backend'), legend: '{{sluice_ai_backend}}' }],
    },
    {
      title: 'Top consumers',
      kind: 'table',
      unit: 'currencyUSD',
      queries: [{ expr: `topk(10, ${spendInRange('consumer, team')})` }],
    },
    {
      title: 'Tokens per second by type',
      kind: 'timeseries',
      unit: 'short',
      queries: [
        {
          expr: `sum by (gen_ai_token_type) (rate(gen_ai_client_token_usage_sum[${RATE}]))`,
          legend: '{{gen_ai_token_type}}',
        },
      ],
    },
    {
      title: 'Budget remaining',
      kind: 'table',
      unit: 'short',
      description: 'What each budget had left at its last admission, by consumer and team.',
      queries: [
        { expr: 'min by (budget, measure, consumer, team) (sluice_budget_remaining{team=~"$team"})' },
      ],
    },
  ],
};

export const GATEWAY_HEALTH: DashboardSpec = {
  uid: 'sluice-gateway-health',
  title: 'Sluice — gateway health',
  description:
    'Traffic, errors, latency, time to first token, failovers, rate limiting, guards and config reloads.',
  variables: [],
  panels: [
    {
      title: 'Requests per second by status',
      kind: 'timeseries',
      unit: 'reqps',
      queries: [{ expr: `sum by (code) (rate(sluice_http_requests_total[${RATE}]))`, legend: '{{code}}' }],
    },
    {
      title: 'Error ratio (5xx)',
      kind: 'timeseries',
      unit: 'percentunit',
      queries: [
        {
          expr: `(sum(rate(sluice_http_requests_total{code=~"5.."}[${RATE}])) or vector(0)) / sum(rate(sluice_http_requests_total[${RATE}]))`,
          legend: '5xx',
        },
      ],
    },
    {
      title: 'Request latency',
      kind: 'timeseries',
      unit: 's',
      queries: [0.5, 0.95, 0.99].map((q) => ({
        expr: `histogram_quantile(${q}, sum by (le) (rate(sluice_http_request_duration_seconds_bucket[${RATE}])))`,
        legend: `p${q * 100}`,
      })),
    },
    {
      title: 'Time to first token',
      kind: 'timeseries',
      unit: 's',
      queries: [0.5, 0.99].map((q) => ({
        expr: `histogram_quantile(${q}, sum by (le) (rate(gen_ai_server_time_to_first_token_seconds_bucket[${RATE}])))`,
        legend: `p${q * 100}`,
      })),
    },
    {
      title: 'LLM request duration p99 by model',
      kind: 'timeseries',
      unit: 's',
      queries: [
        {
          expr: `histogram_quantile(0.99, sum by (le, gen_ai_request_model) (rate(gen_ai_server_request_duration_seconds_bucket[${RATE}])))`,
          legend: '{{gen_ai_request_model}}',
        },
      ],
    },
    {
      title: 'Upstream attempts by outcome',
      kind: 'timeseries',
      unit: 'reqps',
      queries: [
        { expr: `sum by (outcome) (rate(sluice_ai_attempts_total[${RATE}]))`, legend: '{{outcome}}' },
      ],
    },
    {
      title: 'Failovers',
      kind: 'timeseries',
      unit: 'reqps',
      queries: [
        {
          expr: `sum by (sluice_ai_backend) (rate(sluice_ai_failovers_total[${RATE}]))`,
          legend: '{{sluice_ai_backend}}',
        },
      ],
    },
    {
      title: 'Rate-limited requests',
      kind: 'timeseries',
      unit: 'reqps',
      queries: [
        {
          expr: `sum by (budget, reason) (rate(sluice_ratelimit_rejections_total[${RATE}]))`,
          legend: '{{budget}} {{reason}}',
        },
      ],
    },
    {
      title: 'Guard verdicts',
      kind: 'timeseries',
      unit: 'reqps',
      queries: [
        {
          expr: `sum by (guard, detector, action) (rate(sluice_guard_verdicts_total[${RATE}]))`,
          legend: '{{guard}} {{detector}} {{action}}',
        },
      ],
    },
    {
      title: 'Config reloads in range',
      kind: 'stat',
      unit: 'short',
      queries: [
        { expr: 'sum by (result) (increase(sluice_config_reloads_total[$__range]))', legend: '{{result}}' },
      ],
    },
  ],
};

export const DASHBOARDS = { 'ai-spend': AI_SPEND, 'gateway-health': GATEWAY_HEALTH } as const;
