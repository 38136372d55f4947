// One JSON object per line on stdout; AIBT_LOG=silent turns it off (tests).
export type LogFields = Record<string, unknown>;

let silent = process.env.AIBT_LOG === 'silent';

export function setLogSilent(value: boolean): void {
  silent = value;
}

export function logEvent(event: string, fields: LogFields = {}): void {
  if (silent) return;
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), event, ...fields }) + '\n');
}
