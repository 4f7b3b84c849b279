/** The activities the test workflows call; each test gives the worker its own stubs. */
export interface TestActivities {
  sendEmail(to: string, body: string): Promise<void>;
  chargeCard(card: string, amountCents: number): Promise<{ receiptId: string }>;
  sendReceipt(to: string, receiptId: string): Promise<void>;
}
