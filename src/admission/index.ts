/** The admission pipeline and its built-in stages (see pipeline.ts for the order). */
export { AdmissionPipeline, PHASES, type Phase, type Stage, type Next, type AdmitAnswer, type AdmissionResult, type EntryKind } from './pipeline.js';
export { nodeStage, type NodeStatus, type NodeStageOptions } from './stages/node.js';
export { HaltStage, transportOf } from './stages/halts.js';
export { serverHaltStage } from './stages/server-halt.js';
export { httpRefusal, type HttpRefusal } from './wire.js';
