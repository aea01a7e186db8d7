export { startSimulator, type Simulator, type SimulatorOptions, type Fault, type FaultType, type SimulatorStats, type RecordedRequest } from './server.ts';
export { runSimulatorCommand, DEFAULT_SIMULATOR_PORT } from './command.ts';
export { SCENARIOS, scenarioNames, type Scenario } from './scenarios.ts';
export type { TaskPatch } from './task-table.ts';
