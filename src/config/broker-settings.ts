/** The type of every queue the gateway declares (`QUEUE_TYPE`). */
export type QueueType = 'quorum' | 'classic';

/** `AMQP_URL` as the list of broker URLs it names (comma-separated; spaces ignored). */
export function amqpUrls(value: string): string[] {
  return value
    .split(',')
    .map((url) => url.trim())
    .filter((url) => url !== '');
}
