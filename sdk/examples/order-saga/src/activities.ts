/**
 * The order saga's activities. They talk to pretend inventory, payment and shipping services kept
 * in memory; in a real service each would call an API. `createActivities` takes the services so a
 * test can pass its own (or stub the activities outright).
 */
import { ApplicationFailure } from '@temporalio/common';

export interface OrderLine {
  sku: string;
  quantity: number;
}

/** A card number the pretend payment service always declines. */
export const DECLINED_CARD = '4000-0000-0000-0002';

/** The pretend services: what they hold, and a line per call in `journal`. */
export class FakeServices {
  readonly stock = new Map<string, number>([
    ['espresso-machine', 5],
    ['grinder', 5],
    ['beans-1kg', 50],
  ]);
  readonly reservations = new Map<string, OrderLine[]>();
  readonly payments = new Map<string, number>();
  readonly journal: string[] = [];
  private nextId = 1;

  id(prefix: string): string {
    return `${prefix}-${this.nextId++}`;
  }
}

/** What the workflow calls (through `proxyActivities<OrderActivities>`); `createActivities` implements it. */
export interface OrderActivities {
  /** Takes the lines out of stock; fails non-retryably (`OutOfStock`) when there are not enough. */
  reserveInventory(orderId: string, lines: OrderLine[]): Promise<string>;
  /** Puts a reservation's lines back; idempotent, as a compensation must be. */
  releaseInventory(reservationId: string): Promise<void>;
  /** Charges the card; fails non-retryably (`CardDeclined`) for DECLINED_CARD. */
  chargePayment(orderId: string, card: string, amountCents: number): Promise<string>;
  /** Refunds a payment; idempotent. */
  refundPayment(paymentId: string): Promise<void>;
  /** Ships the order; returns the tracking id. */
  shipOrder(orderId: string, address: string): Promise<string>;
}

export function createActivities(services = new FakeServices(), log: (line: string) => void = () => undefined): OrderActivities {
  const note = (line: string): void => {
    services.journal.push(line);
    log(line);
  };
  return {
    async reserveInventory(orderId: string, lines: OrderLine[]): Promise<string> {
      for (const line of lines) {
        const available = services.stock.get(line.sku) ?? 0;
        if (available < line.quantity) {
          throw ApplicationFailure.create({ message: `only ${available} of ${line.sku} in stock, ${line.quantity} wanted`, type: 'OutOfStock', nonRetryable: true });
        }
      }
      for (const line of lines) services.stock.set(line.sku, (services.stock.get(line.sku) ?? 0) - line.quantity);
      const reservationId = services.id('reservation');
      services.reservations.set(reservationId, lines);
      note(`inventory: reserved ${lines.map((l) => `${l.quantity}× ${l.sku}`).join(', ')} for ${orderId} (${reservationId})`);
      return reservationId;
    },

    async releaseInventory(reservationId: string): Promise<void> {
      const lines = services.reservations.get(reservationId);
      if (!lines) return; // already released: compensations must be idempotent
      for (const line of lines) services.stock.set(line.sku, (services.stock.get(line.sku) ?? 0) + line.quantity);
      services.reservations.delete(reservationId);
      note(`inventory: released ${reservationId}`);
    },

    async chargePayment(orderId: string, card: string, amountCents: number): Promise<string> {
      if (card === DECLINED_CARD) {
        throw ApplicationFailure.create({ message: `card ending ${card.slice(-4)} was declined`, type: 'CardDeclined', nonRetryable: true });
      }
      const paymentId = services.id('payment');
      services.payments.set(paymentId, amountCents);
      note(`payment: charged ${(amountCents / 100).toFixed(2)} for ${orderId} (${paymentId})`);
      return paymentId;
    },

    async refundPayment(paymentId: string): Promise<void> {
      const amount = services.payments.get(paymentId);
      if (amount === undefined) return;
      services.payments.delete(paymentId);
      note(`payment: refunded ${(amount / 100).toFixed(2)} (${paymentId})`);
    },

    async shipOrder(orderId: string, address: string): Promise<string> {
      const trackingId = services.id('parcel');
      note(`shipping: ${orderId} to ${address} (${trackingId})`);
      return trackingId;
    },
  };
}
