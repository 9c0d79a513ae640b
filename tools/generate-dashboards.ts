/**
 * Writes the Grafana dashboards into charts/sluice/dashboards/ (`npm run generate:dashboards`); a
 * test fails when the checked-in JSON differs, and another evaluates every query on Prometheus.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderDashboards } from './dashboards/render-dashboards.ts';

for (const [file, text] of renderDashboards())
  writeFileSync(join(import.meta.dirname, '..', 'charts', 'sluice', 'dashboards', file), text);
process.stdout.write('wrote charts/sluice/dashboards/\n');
