/**
 * Sluice's dashboards as short specs (title, kind, unit, PromQL per panel), built into Grafana JSON
 * with Grafana's own maintained model, the Grafana Foundation SDK: its builders follow Grafana's
 * schema, so panel options, query fields and variables are typed by what Grafana accepts rather than
 * by hand-written JSON.
 */
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';

export interface PanelSpec {
  title: string;
  kind: 'timeseries' | 'stat' | 'table' | 'bargauge';
  unit: string;
  /** One query per series group; `legend` is Grafana's legendFormat. */
  queries: { expr: string; legend?: string }[];
  description?: string;
  /** Panel-level time override, e.g. `now/M` for month to date. */
  timeFrom?: string;
  /** Grid width in 24ths (default 12). */
  width?: number;
}

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  /** Template variables over label values, each usable as `$name` in queries. */
  variables: { name: string; label: string; metric: string; labelName: string }[];
  panels: PanelSpec[];
}

// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's own variable syntax, resolved by Grafana.
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

function panelBuilder(kind: PanelSpec['kind']) {
  const lastValue = () => new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']);
  switch (kind) {
    case 'timeseries':
      return new timeseries.PanelBuilder();
    case 'stat':
      return new stat.PanelBuilder().reduceOptions(lastValue());
    case 'bargauge':
      return new bargauge.PanelBuilder().reduceOptions(lastValue());
    case 'table':
      return new table.PanelBuilder().showHeader(true);
  }
}

export function dashboardJson(spec: DashboardSpec): object {
  const board = new dashboard.DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags(['sluice'])
    .editable()
    .time({ from: 'now-24h', to: 'now' })
    .refresh('1m')
    .withVariable(
      new dashboard.DatasourceVariableBuilder('datasource').label('Prometheus').type('prometheus'),
    );
  for (const v of spec.variables)
    board.withVariable(
      new dashboard.QueryVariableBuilder(v.name)
        .label(v.label)
        .datasource(DATASOURCE)
        .query(`label_values(${v.metric}, ${v.labelName})`)
        .definition(`label_values(${v.metric}, ${v.labelName})`)
        .includeAll(true)
        .allValue('.*')
        .multi(true)
        .current({ text: 'All', value: '$__all' })
        .refresh(dashboard.VariableRefresh.OnTimeRangeChanged),
    );
  // Panels flow left to right in rows 9 high; one that does not fit starts the next row.
  let x = 0;
  let y = 0;
  spec.panels.forEach((p, i) => {
    const w = p.width ?? 12;
    if (x + w > 24) {
      x = 0;
      y += 9;
    }
    const panel = panelBuilder(p.kind)
      .id(i + 1)
      .title(p.title)
      .datasource(DATASOURCE)
      .gridPos({ x, y, w, h: p.kind === 'stat' ? 5 : 9 })
      .unit(p.unit);
    x += w;
    if (p.description) panel.description(p.description);
    if (p.timeFrom) panel.timeFrom(p.timeFrom);
    const instant = p.kind !== 'timeseries';
    p.queries.forEach((q, j) => {
      const query = new prometheus.DataqueryBuilder()
        .refId(String.fromCharCode(65 + j))
        .datasource(DATASOURCE)
        .expr(q.expr)
        .legendFormat(q.legend ?? '__auto');
      if (instant) query.instant();
      else query.range();
      if (p.kind === 'table') query.format(prometheus.PromQueryFormat.Table);
      panel.withTarget(query);
    });
    board.withPanel(panel);
  });
  return board.build();
}
