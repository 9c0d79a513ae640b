/**
 * The `sluice` command at its old place (it moved to `cli/src/main.ts`): scripts and probes written
 * against `node operator/src/cli/main.ts standalone …` keep working instead of failing with "module
 * not found", which looked exactly like a gateway that had died.
 */
import '../../../cli/src/main.ts';
