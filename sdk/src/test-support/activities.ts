/** The activities the test workflows call; each test file gives the worker its own stubs. */
export interface TestActivities {
  doStep(name: string): Promise<string>;
  undoStep(name: string): Promise<void>;
  /** Throws an ApplicationFailure of `type`. */
  fail(type: string, message: string): Promise<void>;
  /** Takes `ms` of real time. */
  slow(ms: number): Promise<void>;
}
