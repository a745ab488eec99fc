import type { EventResponse, SeriesResponse, SilenceView } from '../api-types.ts';

async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path, { headers: { accept: 'application/json' } });
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const message =
      typeof body === 'object' && body !== null && 'message' in body
        ? String(body.message)
        : response.statusText;
    throw new Error(message);
  }
  return body as T;
}

export function fetchSeries(symbol: string): Promise<SeriesResponse> {
  return getJson(`/api/series?symbol=${encodeURIComponent(symbol)}`);
}

export function fetchEvent(eventId: string): Promise<EventResponse> {
  return getJson(`/api/events/${encodeURIComponent(eventId)}`);
}

export function fetchAlerts(): Promise<import('../api-types.ts').AlertView[]> {
  return getJson('/api/alerts');
}

export function fetchSilences(): Promise<SilenceView[]> {
  return getJson('/api/silences');
}
