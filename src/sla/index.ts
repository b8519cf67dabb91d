export {SLA_DEFAULTS, LEVELS, SLA_LEVELS, defaultProfile, buildProfile, parseProfile, loadProfile, limitsFor, isSlaLevel} from './profile.js';
export type {SlaLevel, SlaLimits, SlaProfile, SlaLevelSpec, SlaProfileFile} from './profile.js';
export {INVARIANTS, INVARIANT_DESCRIPTIONS, detectLevel, evaluateReport} from './evaluate.js';
export type {InvariantId, SlaRow, SlaVerdict, SlaOp} from './evaluate.js';
export {expandInputs, expandGlob, hasGlobMagic, segmentRegex} from './inputs.js';
export type {ExpandedInputs, InputProblem} from './inputs.js';
export {evaluateFiles, summarise} from './run.js';
export type {SlaOutcome, SlaReportResult, SlaOptions} from './run.js';
export {renderTable, renderJson, renderJunit, writeFileAtomic, stdoutColorLevel, xmlEscape} from './render.js';
