export { InvalidEventPatternException, ValidationException } from './errors.ts';
export {
  type CompiledPattern,
  compileEventPattern,
  matchesEventPattern,
  REQUIRED_EVENT_FIELDS,
  testEventPattern,
} from './event-pattern.ts';
export { runTestPattern } from './test-pattern-output.ts';
