import { dashboardJson } from './grafana-model.ts';
import { DASHBOARDS } from './sluice-dashboards.ts';

/** File name → JSON text of every dashboard the chart ships. */
export function renderDashboards(): Map<string, string> {
  return new Map(
    Object.entries(DASHBOARDS).map(([name, spec]) => [
      `${name}.json`,
      `${JSON.stringify(dashboardJson(spec), null, 2)}\n`,
    ]),
  );
}
