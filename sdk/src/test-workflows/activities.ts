/** The activities the test workflows call; each test file gives the worker its own stubs. */
export interface TestActivities {
  sendEmail(to: string, body: string): Promise<void>;
  doStep(name: string): Promise<string>;
  undoStep(name: string): Promise<void>;
  /** Throws an ApplicationFailure of `type`. */
  fail(type: string, message: string): Promise<void>;
  /** Takes `ms` of real time. */
  slow(ms: number): Promise<void>;
  chargeCard(card: string, amountCents: number): Promise<{ receiptId: string }>;
  sendReceipt(to: string, receiptId: string): Promise<void>;
}
