import type { Redis } from 'ioredis'
import { fleetKeys } from './keys.js'

// What goes over `rpd:fleet:NAME:events`, so members recompute at once instead of at the next poll.
export type FleetEvent =
  | { type: 'join'; id: string }
  | { type: 'leave'; id: string }
  | { type: 'formation'; generation: number }
  | { type: 'decision'; holder: string; token: number }

export function parseFleetEvent(message: string): FleetEvent | undefined {
  try {
    const event = JSON.parse(message) as { type?: unknown }
    if (event && typeof event === 'object' && typeof event.type === 'string') return event as FleetEvent
  } catch {
    // A message some other program put on the channel: not ours to act on.
  }
  return undefined
}

export async function publishFleetEvent(redis: Redis, fleet: string, event: FleetEvent): Promise<void> {
  await redis.publish(fleetKeys(fleet).events, JSON.stringify(event))
}

export interface FleetSubscription {
  close: () => Promise<void>
}

// A subscriber needs its own connection; ioredis resubscribes by itself after a reconnect.
export async function subscribeFleetEvents(
  redis: Redis,
  fleet: string,
  listener: (event: FleetEvent) => void,
): Promise<FleetSubscription> {
  const channel = fleetKeys(fleet).events
  const subscriber = redis.duplicate()
  subscriber.on('error', () => undefined)
  subscriber.on('message', (from: string, message: string) => {
    if (from !== channel) return
    const event = parseFleetEvent(message)
    if (event) listener(event)
  })
  await subscriber.subscribe(channel)
  return {
    close: async () => {
      subscriber.disconnect()
    },
  }
}
