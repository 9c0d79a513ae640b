/**
 * A small builder for Grafana dashboard JSON: panels are described by title, kind, unit and PromQL,
 * and laid out in a grid of rows, so the dashboards stay short to read and review.
 */
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

export function dashboardJson(spec: DashboardSpec): object {
  let x = 0;
  let y = 0;
  const panels = spec.panels.map((p, i) => {
    const w = p.width ?? 12;
    const h = p.kind === 'stat' ? 5 : 9;
    if (x + w > 24) {
      x = 0;
      y += 9;
    }
    const gridPos = { x, y, w, h };
    x += w;
    const instant = p.kind !== 'timeseries';
    return {
      id: i + 1,
      type: p.kind,
      title: p.title,
      ...(p.description ? { description: p.description } : {}),
      ...(p.timeFrom ? { timeFrom: p.timeFrom } : {}),
      datasource: DATASOURCE,
      gridPos,
      fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
      options: p.kind === 'table' ? { showHeader: true } : { reduceOptions: { calcs: ['lastNotNull'] } },
      targets: p.queries.map((q, j) => ({
        refId: String.fromCharCode(65 + j),
        datasource: DATASOURCE,
        expr: q.expr,
        legendFormat: q.legend ?? '__auto',
        instant,
        range: !instant,
        ...(p.kind === 'table' ? { format: 'table' } : {}),
      })),
    };
  });
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: ['sluice'],
    schemaVersion: 39,
    editable: true,
    time: { from: 'now-24h', to: 'now' },
    refresh: '1m',
    templating: {
      list: [
        { name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus' },
        ...spec.variables.map((v) => ({
          name: v.name,
          label: v.label,
          type: 'query',
          datasource: DATASOURCE,
          query: { query: `label_values(${v.metric}, ${v.labelName})`, refId: 'variables' },
          definition: `label_values(${v.metric}, ${v.labelName})`,
          includeAll: true,
          allValue: '.*',
          multi: true,
          current: { text: 'All', value: '$__all' },
          refresh: 2,
        })),
      ],
    },
    panels,
  };
}
