import type { Scenario } from '../support/scenario.ts';
import { fuzzScenario } from './fuzz.ts';
import { crmFaultsScenario, databaseRestartScenario, redeliveryScenario, terminateBackendsScenario, webKillScenario, workerKillScenario } from './process-faults.ts';
import { securityScenario } from './security.ts';

/** In the order `npm run faults` runs them. */
export const allScenarios: Scenario[] = [
  securityScenario,
  workerKillScenario,
  webKillScenario,
  databaseRestartScenario,
  terminateBackendsScenario,
  crmFaultsScenario,
  redeliveryScenario,
  fuzzScenario,
];
